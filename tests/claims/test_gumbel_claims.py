"""SBN Appendix E (Gumbel-Softmax) claims end to end: each decides, with the verdict its evidence supports.

These verdicts are findings, not targets: if a method changes and a verdict
moves, the change must be explained (a bug fixed or a new counterexample).
"""

import pytest

from proofs_check import Verdict
from proofs_check.registry import default_registry
from proofs_check.runner import run_claims

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED

EXPECTED = {
    # id: (verdict as checked, verdict as printed)
    "SBN-E1": (P, P),    # c1, c2 derived = printed (c2 as reconstructed); bias O(tau); linear L biased at eta = 0
    "SBN-E2": (P, P),    # (87) and the rate (1/tau) C^(1/tau), tight
    "SBN-E3": (V, R),    # 1/tau missing in (88): P ~ 2p tau (log 1/eps + log 1/tau); (91) sign and factor 2
    "SBN-E4": (V, R),    # variance grows like 1/tau, printed "O(1)"
    "SBN-STGS": (V, R),  # linear L: limit ratio 1 ({0,1} and +-1), not 1/2
}


@pytest.fixture(scope="module")
def run():
    return run_claims(default_registry().select(list(EXPECTED)), seed=0, workers=0)


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_claim_verdicts(run, claim_id):
    res = _claim(run, claim_id)
    errors = [(m.name, m.error) for m in res.methods if m.verdict is Verdict.ERROR]
    assert not errors
    assert (res.verdict, res.verdict_as_printed) == EXPECTED[claim_id], [(m.name, m.verdict) for m in res.methods]
    assert not res.disagreements


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_at_least_two_checked_methods_of_different_kinds(claim_id):
    claim = default_registry().get(claim_id)
    kinds = {m.kind for m in claim.methods if m.role == "checked"}
    assert len(kinds) >= 2, kinds


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_every_refutation_carries_a_counterexample_and_a_replay_line(run, claim_id):
    res = _claim(run, claim_id)
    assert res.replay.startswith(f"stecheck run {claim_id} --seed 0")
    for m in res.methods:
        if m.verdict is R:
            assert m.counterexample, m.name
            if m.role == "printed":
                assert m.discrepancies, m.name


def test_printed_discrepancies_name_the_measured_numbers(run):
    e3 = " ".join(_claim(run, "SBN-E3").discrepancies)
    assert "ratio -0.50" in e3 and "1/tau" in e3
    e4 = " ".join(_claim(run, "SBN-E4").discrepancies)
    assert "O(1/tau)" in e4 and "32.7" in e4
    stgs = " ".join(_claim(run, "SBN-STGS").discrepancies)
    assert "0.99999" in stgs and "0.5000" in stgs


def test_measured_numbers(run):
    stgs = _claim(run, "SBN-STGS").methods
    lim = next(m for m in stgs if m.name == "sympy-limit").evidence["derived_limit_ratios"]
    assert lim == {"01": "1", "pm1": "1", "pm1-mixed": "1/2"}
    e1 = next(m for m in _claim(run, "SBN-E1").methods if m.name == "quadrature-bias-rate").evidence
    assert 0.8 < e1["bias_orders"]["1"] < 1.2          # bias ~ b1 tau at eta = 1 (L = y^3)
    assert 1.8 < e1["linear_eta0_bias_order"] < 2.2    # L = y, eta = 0: bias ~ b2 tau^2
    e4 = next(m for m in _claim(run, "SBN-E4").methods if m.name == "quadrature-variance-rate").evidence
    assert all(abs(g - 1) < 0.1 for g in e4["growth_exponents"].values())


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert {("SBN-E1", "bias-vs-tau"), ("SBN-E4", "variance-vs-tau"), ("SBN-STGS", "stgs-ratio-vs-tau")} <= names
