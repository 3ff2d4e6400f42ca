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


def _claim(run, claim_id):
    return next(c for c in run.claims if c.claim_id == claim_id)


def _method(res, name):
    return next(m for m in res.methods if m.name == name)


def test_b1_generic_proofs_and_the_decreasing_counterexample(run):
    b1 = _claim(run, "SBN-B1")
    z3m = _method(b1, "z3-sign-invariance")
    assert z3m.evidence["z3_status"] == "unsat" and "T" in z3m.evidence["query"]
    assert z3m.scope.complete
    chain = _method(b1, "sympy-generic-chain-rule")
    assert chain.evidence["residual"] == "0"
    dec = _method(b1, "z3-decreasing-T")
    assert dec.verdict.value == "REFUTED"
    ce = dec.counterexample
    from fractions import Fraction as Fr
    assert (Fr(ce["a"]) - Fr(ce["z"])) * (Fr(ce["T(a)"]) - Fr(ce["T(z)"])) < 0


def test_b2_every_n_proof_and_the_mc_precision(run):
    b2 = _claim(run, "SBN-B2")
    assert _method(b2, "sympy-every-n").evidence["residual"] == "0"
    mc = _method(b2, "monte-carlo-n40")
    assert mc.evidence["precise_enough_to_decide"] and mc.evidence["max_half_width_over_required"] <= 1


def test_ex2_ratio_is_compared_with_1_minus_2pi(run):
    ex2 = _claim(run, "SBN-EX2")
    assert _method(ex2, "sympy-ratio-pm1").evidence["ratio"] == "1 - 2*pi"
    assert _method(ex2, "sympy-ratio-01").evidence["ratio"] == "1 - 2*pi"
    assert _method(ex2, "monte-carlo").evidence["coordinates_containing_(1-2pi)grad"] == 10


def test_b3_every_n_and_the_polynomial_imprecision(run):
    b3 = _claim(run, "SBN-B3")
    assert _method(b3, "sympy-every-n").evidence["(20)_minus_L"] == "(1 - x_i**2)*W_i.T*W_i"
    assert any(f.category.value == "imprecision" and "polynomial" in f.text for f in b3.findings)
