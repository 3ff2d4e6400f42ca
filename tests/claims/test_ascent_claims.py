"""SBN-B5, SBN-B7, SBN-B8: the measured numbers, discrepancies and figures behind their verdicts.

As checked (every parameter drives one unit; B.7/B.8 with g_i Lipschitz in all
of x) the propositions are PROVED (z3, two units) and VERIFIED (enumeration,
linear programs); as printed ("for any a(phi)", (23) without |.|, Lipschitz in
x_i only) they are REFUTED.  These verdicts are findings, not targets: if one
moves, the change must be explained.
"""


import pytest

from stecheck.proofs_check import Verdict

P, R = Verdict.PROVED, Verdict.REFUTED


def _res(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


@pytest.mark.parametrize("claim_id", ["SBN-B5", "SBN-B7", "SBN-B8"])
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
