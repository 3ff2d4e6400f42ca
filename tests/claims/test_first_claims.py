"""The first five claims end to end: each decides, with the verdict its evidence supports.

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
    "SBN-B1": (V, R),   # invariance proved; hand-designed proxies shown to change; printed "monotone" too wide
    "SBN-B2": (V, V),   # unbiased proved (n<=3) + verified; linear exact; biased example found
    "SBN-EX1": (P, R),  # appendix prints 2L(a)-1 for 2F(a)-1
    "SBN-EX2": (P, R),  # printed derivative "-1" is 1-2pi
    "SBN-B3": (V, V),
}


@pytest.fixture(scope="module")
def run():
    return run_claims(default_registry().select(list(EXPECTED)), seed=0, workers=0)


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_claim_verdicts(run, claim_id):
    res = next(c for c in run.claims if c.claim_id == claim_id)
    errors = [(m.name, m.error) for m in res.methods if m.verdict is Verdict.ERROR]
    assert not errors
    assert (res.verdict, res.verdict_as_printed) == EXPECTED[claim_id], [(m.name, m.verdict) for m in res.methods]
    assert not res.disagreements


@pytest.mark.parametrize("claim_id", list(EXPECTED))
def test_every_refutation_carries_a_counterexample_and_a_replay_line(run, claim_id):
    res = next(c for c in run.claims if c.claim_id == claim_id)
    assert res.replay.startswith(f"stecheck run {claim_id} --seed 0")
    for m in res.methods:
        if m.verdict is R:
            assert m.counterexample, m.name


def test_printed_discrepancies_name_the_measured_numbers(run):
    ex2 = next(c for c in run.claims if c.claim_id == "SBN-EX2")
    assert any("5.2832" in d for d in ex2.discrepancies)
    ex1 = next(c for c in run.claims if c.claim_id == "SBN-EX1")
    assert any("2L(a)" in d or "2*a**2" in d for d in ex1.discrepancies)


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert ("SBN-EX1", "expected-st") in names
    assert ("SBN-B3", "st-bias") in names
