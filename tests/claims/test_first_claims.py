"""The first five claims: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""


def test_printed_discrepancies_name_the_measured_numbers(run):
    ex2 = next(c for c in run.claims if c.claim_id == "SBN-EX2")
    assert any("5.2832" in d for d in ex2.discrepancies)
    ex1 = next(c for c in run.claims if c.claim_id == "SBN-EX1")
    assert any("2L(a)" in d or "2*a**2" in d for d in ex1.discrepancies)


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert ("SBN-EX1", "expected-st") in names
    assert ("SBN-B3", "st-bias") in names
