"""SBN Appendix E (Gumbel-Softmax) claims: the measured numbers, discrepancies and figures behind their verdicts.

Verdicts are pinned in test_pinned_verdicts.py.
"""

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.verdict import Category

P, V, R = Verdict.PROVED, Verdict.VERIFIED, Verdict.REFUTED


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def test_printed_discrepancies_name_the_measured_numbers(run):
    e3 = " ".join(_claim(run, "SBN-E3").discrepancies)
    assert "ratio -0.50" in e3 and "1/tau" in e3
    e4 = _claim(run, "SBN-E4")
    assert "O(1/tau)" in " ".join(e4.discrepancies) and "32.7" in " ".join(e4.discrepancies)
    assert all(f.category is Category.MISPRINT for f in e4.findings)      # "O(1)" is extraction damage
    stgs = " ".join(_claim(run, "SBN-STGS").discrepancies)
    assert "0.99999" in stgs and "0.5000" in stgs


def test_reading_verdicts(run):
    assert _claim(run, "SBN-E1").reading_verdicts == {"some-eta": P, "every-eta": R}
    assert _claim(run, "SBN-E3").reading_verdicts == {"joint": R, "tau-to-0": R, "eps-to-0": V}
    assert _claim(run, "SBN-STGS").reading_verdicts == {"01": R, "pm1": R, "pm1-mixed": V}


def test_measured_numbers(run):
    stgs = _claim(run, "SBN-STGS").methods
    lim = next(m for m in stgs if m.name == "sympy-limit").evidence["derived_limit_ratios"]
    assert lim == {"01": "1", "pm1": "1", "pm1-mixed": "1/2"}
    e1 = next(m for m in _claim(run, "SBN-E1").methods if m.name == "quadrature-bias-rate").evidence
    assert 0.8 < e1["bias_orders"]["1"] < 1.2          # bias ~ b1 tau at eta = 1 (L = y^3)
    assert 1.8 < e1["linear_eta0_bias_order"] < 2.2    # L = y, eta = 0: bias ~ b2 tau^2
    assert all(abs(r["first_order_gap"]) <= r["remainder_bound"] for r in e1["rows"])   # magnitudes, not only orders
    e4 = next(m for m in _claim(run, "SBN-E4").methods if m.name == "quadrature-variance-rate").evidence
    assert all(abs(g - 1) < 0.1 for g in e4["growth_exponents"].values())


def test_e1_printed_coefficients_are_a_reconstruction_not_a_confirmation(run):
    m = next(m for m in _claim(run, "SBN-E1").methods if m.name == "printed-c1-c2-fragments")
    assert m.verdict is V and "reconstruction" in m.evidence["note"]
    assert m.category is Category.MISPRINT


def test_figures_are_produced(run):
    names = {(c.claim_id, f.name) for c in run.claims for m in c.methods for f in m.figures}
    assert {("SBN-E1", "bias-vs-tau"), ("SBN-E4", "variance-vs-tau"), ("SBN-STGS", "stgs-ratio-vs-tau")} <= names
