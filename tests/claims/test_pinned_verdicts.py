"""Every registered claim decides, with the verdict its evidence supports (seed 0, quick tier).

These verdicts are findings, not targets: if a method changes and a verdict
moves, the change must be explained (a bug fixed or a new counterexample).
One battery for all claims: verdict pair, no ERROR, no disagreement, every
REFUTED method with a counterexample, a replay line, and every part of a
claim checked by methods of at least two kinds. Claim-specific numbers are
tested in the per-topic files beside this one.
"""


import pytest

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.registry import default_registry

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED
I = Verdict.INCONCLUSIVE

EXPECTED = {
    # id: (verdict as checked, verdict as printed)
    "SBN-B1": (V, R),      # invariance proved; hand-designed proxies change; printed "monotone" too wide
    "SBN-B2": (V, V),      # unbiased proved (n <= 3) + verified; linear exact; biased example found
    "SBN-EX1": (P, R),     # appendix prints 2L(a)-1 for 2F(a)-1
    "SBN-EX2": (P, R),     # printed derivative "-1" is 1-2pi
    "SBN-B3": (V, V),
    "SBN-E1": (P, P),      # c1, c2 derived = printed (c2 as reconstructed); bias O(tau)
    "SBN-E2": (P, P),      # (87) and the rate (1/tau) C^(1/tau), tight
    "SBN-E3": (V, R),      # 1/tau missing in (88); (91) sign and factor 2
    "SBN-E4": (V, R),      # variance grows like 1/tau, printed "O(1)"
    "SBN-STGS": (V, R),    # linear L: limit ratio 1 ({0,1} and +-1), not 1/2
    "SBN-PGD": (P, P),     # eps' = 4 eps proved (sympy, z3); trajectories equal
    "SBN-P1": (V, R),      # prox = latent step verified; (14) at Alg. 2's rate off by 2
    "SBN-P2": (P, R),      # (58) a composite MD step only while eps lambda < 1; KL(.||1/2) = -H + log 2
    "SBN-INIT": (P, P),    # Jacobian of line 5 at 0 is I ("F'(0) = 2" is extraction damage: a discrepancy)
    "SBN-PROXY": (P, R),   # Htanh / tanh / ApproxSign(a/2) proved; the printed triangular density is no density
    "SBN-COR-B1": (P, R),  # T(z) uniform, line 5 constant 2: "just identity" off by the +-1 factor 2
    "SBN-ALG1": (V, V),    # (6) exact, ST = (6) + (7), (9) its chain rule: proved n <= 2, verified beyond
    "SBN-METRICS": (V, V),  # (64)-(65) proved; (61), (66), (67) verified
    "SBN-B4": (P, R),      # holds when no parameter drives two units; fails for shared parameters
    "SBN-B6": (V, R),      # Lipschitz O(n^-1/2) (flip constant ~ n^-1), bias shrinks; printed (33) false
    "SBN-B5": (P, R),      # one parameter per unit: proved; "for any a(phi)" refuted
    "SBN-B7": (P, R),
    "SBN-B8": (P, R),
    "QSTE-POP": (P, P),    # closed forms = textbook moments, MC and quadrature agree; sign proved
    "QSTE-LR": (P, P),     # schedules classified; 1/(t+1)^2 cannot reach w* (movement bound)
    "SBN-F1": (V, V),      # each published-code step is a (107) step (sign rate <= 1%); same trajectory: no (imprecision)
    "SBN-F2": (P, P),      # rescaling proved; with BayesBiNN's fixed +-10 init the result depends on tau/N (imprecision)
    "SBN-TABLE1": (I, I),  # quick tier: noises equivalent (TOST), train acc >= 99%; ensemble gain +0.25 pt not significant
    "SBN-BITS": (I, I),    # quick tier: ST beats identity/det ST; no significant ECS trend over bits; det-ST gap undecided
}

#: Where a claim's verdict alone would hide which method carries it.
METHOD_VERDICTS = {
    "SBN-ALG1": {"sympy-generic-F": P, "enumeration": V, "backprop-a=W.phi": V},
    "SBN-METRICS": {"sympy-minimisation": P, "exact-vs-formulas": V, "monte-carlo-vs-exact": V, "linear-L-exact": V},
}


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def test_every_registered_claim_is_pinned():
    assert set(default_registry().ids()) == set(EXPECTED)


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_claim_verdicts(run, claim_id):
    res = _claim(run, claim_id)
    assert not [(m.name, m.error) for m in res.methods if m.verdict is Verdict.ERROR]
    assert (res.verdict, res.verdict_as_printed) == EXPECTED[claim_id], [(m.name, m.verdict) for m in res.methods]
    assert not res.disagreements
    for name, verdict in METHOD_VERDICTS.get(claim_id, {}).items():
        assert next(m for m in res.methods if m.name == name).verdict is verdict, name


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_every_refutation_carries_a_counterexample_and_a_replay_line(run, claim_id):
    res = _claim(run, claim_id)
    assert res.replay.startswith(f"stecheck run {claim_id} --seed 0")
    for m in res.methods:
        if m.verdict is R:
            assert m.counterexample, m.name


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_checked_methods_are_of_at_least_two_kinds(run, claim_id):
    kinds = {m.kind for m in _claim(run, claim_id).methods if m.role == "checked"}
    assert len(kinds) >= 2, kinds
