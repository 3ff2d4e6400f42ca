"""SBN-ALG1 and SBN-METRICS end to end: pinned verdicts, no errors, no disagreements.

These verdicts are findings, not targets: if a method changes and a verdict
moves, the change must be explained (a bug fixed or a new counterexample).
"""

import pytest

from proofs_check import Verdict
from proofs_check.registry import default_registry
from proofs_check.runner import run_claims

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED

EXPECTED = {
    # id: (verdict as checked, verdict as printed, {method: verdict})
    # ALG1: proved for n <= 2 (every L, generic F); verified by enumeration / backprop beyond
    "SBN-ALG1": (V, V, {"sympy-generic-F": P, "enumeration": V, "backprop-a=W.phi": V}),
    # METRICS: (64)-(65) proved; the implementation of (61), (66), (67) verified
    "SBN-METRICS": (V, V, {"sympy-minimisation": P, "exact-vs-formulas": V, "monte-carlo-vs-exact": V,
                           "linear-L-exact": V}),
}


@pytest.fixture(scope="module")
def run():
    return run_claims(default_registry().select(list(EXPECTED)), seed=0, workers=0)


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_claim_verdicts(run, claim_id):
    res = _claim(run, claim_id)
    assert not [(m.name, m.error) for m in res.methods if m.verdict is Verdict.ERROR]
    checked, printed, per_method = EXPECTED[claim_id]
    assert {m.name: m.verdict for m in res.methods} == per_method
    assert (res.verdict, res.verdict_as_printed) == (checked, printed)
    assert not res.disagreements


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_methods_are_of_different_kinds(run, claim_id):
    kinds = {m.kind for m in _claim(run, claim_id).methods}
    assert len(kinds) >= 2


def test_alg1_records_the_cost_of_the_linearization(run):
    enum = next(m for m in _claim(run, "SBN-ALG1").methods if m.name == "enumeration")
    # (6) is exact to rounding, Alg. 1 = (6)+(7) exactly per state, and ST is biased for these losses
    assert enum.evidence["max_E_form6_gap"] < 1e-12
    assert all(r["max_rel_gap_linearized_form6_vs_st"] == 0.0 for r in enum.evidence["instances"])
    assert enum.evidence["max_st_bias"] > 0.1
    sym = next(m for m in _claim(run, "SBN-ALG1").methods if m.name == "sympy-generic-F")
    assert all(r["st_bias_nonzero_for_this_L"] for r in sym.evidence["instances"])


def test_alg1_backprop_matches_the_sum_form_to_rounding(run):
    bp = next(m for m in _claim(run, "SBN-ALG1").methods if m.name == "backprop-a=W.phi")
    assert max(r["max_rel_gap_backprop_vs_sum_form"] for r in bp.evidence["instances"]) < 1e-13


def test_metrics_discrepancy_on_the_sign_of_66_is_reported(run):
    res = _claim(run, "SBN-METRICS")
    assert any("even in E<G,g>" in d for d in res.discrepancies)
    mc = next(m for m in res.methods if m.name == "monte-carlo-vs-exact")
    assert mc.evidence["intervals_missing_exact"] == 0
    assert ("SBN-METRICS", "ei-exact-vs-mc") in {(res.claim_id, f.name) for m in res.methods for f in m.figures}
