"""SBN-B5, SBN-B7, SBN-B8 end to end: the verdicts their evidence supports.

As checked (every parameter drives one unit; B.7/B.8 with g_i Lipschitz in all
of x) the propositions are PROVED (z3, two units) and VERIFIED (enumeration,
linear programs); as printed ("for any a(phi)", (23) without |.|, Lipschitz in
x_i only) they are REFUTED.  These verdicts are findings, not targets: if one
moves, the change must be explained.
"""

import pytest

from proofs_check import Verdict
from proofs_check.registry import default_registry
from proofs_check.runner import run_claims

P, R = Verdict.PROVED, Verdict.REFUTED

EXPECTED = {
    "SBN-B5": (P, R),
    "SBN-B7": (P, R),
    "SBN-B8": (P, R),
}


@pytest.fixture(scope="module")
def run():
    return run_claims(default_registry().select(list(EXPECTED)), seed=0, workers=0)


def _res(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_claim_verdicts(run, claim_id):
    res = _res(run, claim_id)
    assert not [(m.name, m.error) for m in res.methods if m.verdict is Verdict.ERROR]
    assert (res.verdict, res.verdict_as_printed) == EXPECTED[claim_id], [(m.name, m.verdict) for m in res.methods]
    assert not res.disagreements


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_checked_methods_of_several_kinds_all_support(run, claim_id):
    res = _res(run, claim_id)
    checked = [m for m in res.methods if m.role == "checked"]
    assert all(m.verdict.supports for m in checked), [(m.name, m.verdict) for m in checked]
    assert {m.kind.value for m in checked} >= {"smt", "exact", "optimization"}


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_every_refutation_carries_a_counterexample(run, claim_id):
    res = _res(run, claim_id)
    assert res.replay.startswith(f"stecheck run {claim_id} --seed 0")
    for m in res.methods:
        if m.verdict is R:
            assert m.counterexample, m.name


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_shared_parameter_counterexample_meets_the_condition(run, claim_id):
    m = next(m for m in _res(run, claim_id).methods if m.name == "shared-parameter search")
    ce = m.counterexample
    assert m.verdict is R
    assert ce["condition_margin"] >= 0 and ce["scalar_product"] < 0
    assert len(ce["c (a = a0 + c phi)"]) >= 2   # one parameter driving several units


def test_b5_coupled_counterexample_numbers(run):
    m = next(m for m in _res(run, "SBN-B5").methods if m.name == "coupled counterexample")
    assert m.counterexample["scalar_product"] == pytest.approx(-0.56, abs=1e-6)
    assert m.counterexample["condition_23_margin"] == pytest.approx(0.2, abs=1e-9)


def test_b5_necessity_is_constructed_at_every_level(run):
    m = next(m for m in _res(run, "SBN-B5").methods if m.name == "lp construction (necessity)")
    assert all(r["constructed"] and r["scalar_product"] < 0 for r in m.evidence["constructions"])


def test_printed_discrepancies_are_reported(run):
    b5 = _res(run, "SBN-B5")
    assert any("vacuous" in d for d in b5.discrepancies)
    b7 = _res(run, "SBN-B7")
    assert any("B7-(37)-coordinate-lipschitz" in d for d in b7.discrepancies)
