"""Tests of theory.examples (SBN Examples 1 and 2) against plain numeric computation."""

import math

import pytest
import sympy

from stecheck.theory.examples import (
    EX1_PRINTED_APPENDIX,
    EX1_PRINTED_SECTION_2_2,
    EX2_PRINTED_DERIVATIVE,
    F_GENERIC,
    compare_example1_printed,
    example1,
    example2,
    substitute_noise,
)
from stecheck.theory.noise import A, NOISE_FAMILIES


def test_example1_values():
    ex = example1()
    assert ex.expected_loss == 1
    assert ex.true_gradient == 0
    assert ex.multilinear_form == 1
    Fp = sympy.Derivative(F_GENERIC(A), A)
    assert sympy.expand(ex.expected_st_gradient - 4 * Fp * (2 * F_GENERIC(A) - 1)) == 0


@pytest.mark.parametrize("name", sorted(NOISE_FAMILIES))
def test_example1_st_gradient_matches_enumeration(name):
    fam = NOISE_FAMILIES[name]
    pdf, cdf, _ = fam.numpy_functions()
    f = sympy.lambdify(A, substitute_noise(example1().expected_st_gradient, fam), modules=["scipy", "numpy"])
    for a0 in (-1.3, -0.4, 0.25, 0.9, 1.6):
        p = float(cdf(a0))
        # E[2F'(a) * dL/dx] with dL/dx = 2x, summed over x = +1 (prob p) and x = -1
        st = 2 * float(pdf(a0)) * (p * 2.0 + (1 - p) * (-2.0))
        assert abs(float(f(a0)) - st) < 1e-12
    assert float(f(-0.5)) < 0 < float(f(0.5))  # sign changes with a


def test_example1_printed_forms():
    section, appendix = compare_example1_printed("logistic")
    assert section.agrees and section.difference == 0 and section.witness is None
    assert section.printed == EX1_PRINTED_SECTION_2_2
    assert not appendix.agrees and appendix.printed == EX1_PRINTED_APPENDIX
    a0, derived, printed = appendix.witness
    # recompute both at the witness independently
    s = 1 / (1 + math.exp(-2 * float(a0)))
    dens = 2 * s * (1 - s)
    assert abs(float(derived) - 4 * dens * (2 * s - 1)) < 1e-12
    assert abs(float(printed) - 4 * dens * (2 * float(a0) ** 2 - 1)) < 1e-12
    assert abs(float(derived) - float(printed)) > 1e-3


def test_example2_values():
    ex = example2()
    assert ex.difference_pm1 == 2 and ex.difference_01 == 1
    assert ex.derivative_at_minus1 == ex.derivative_at_0 == ex.derivative_at_1 == 1 - 2 * sympy.pi
    assert ex.derivative_at_1 != EX2_PRINTED_DERIVATIVE
    assert ex.multilinear_form_pm1 == sympy.Symbol("x") and ex.multilinear_form_01 == sympy.Symbol("x")
    assert sympy.simplify(ex.ratio_pm1 - (1 - 2 * sympy.pi)) == 0 and ex.opposite_direction
    Fp = sympy.Derivative(F_GENERIC(A), A)
    assert sympy.expand(ex.exact_gradient_pm1 - 2 * Fp) == 0
    assert sympy.expand(ex.exact_gradient_01 - Fp) == 0
    assert ex.scale_matching_printed_derivative == 1 / sympy.pi


def test_example2_numbers():
    def L(x, c=1.0):
        return x - c * math.sin(2 * math.pi * x)

    h = 1e-6
    for x0 in (-1.0, 0.0, 1.0):
        fd = (L(x0 + h) - L(x0 - h)) / (2 * h)
        assert abs(fd - (1 - 2 * math.pi)) < 1e-6
        c = float(example2().scale_matching_printed_derivative)
        assert abs((L(x0 + h, c) - L(x0 - h, c)) / (2 * h) - (-1.0)) < 1e-6
    # expected ST / exact gradient for logistic noise, by enumeration and finite differences
    ex = example2("logistic")
    for a0 in (-0.7, 0.2, 1.1):
        s = 1 / (1 + math.exp(-2 * a0))
        dens = 2 * s * (1 - s)
        st = 2 * dens * (s * (1 - 2 * math.pi * math.cos(2 * math.pi)) + (1 - s) * (1 - 2 * math.pi * math.cos(-2 * math.pi)))

        def EL(t):
            q = 1 / (1 + math.exp(-2 * t))
            return q * L(1.0) + (1 - q) * L(-1.0)

        exact = (EL(a0 + h) - EL(a0 - h)) / (2 * h)
        assert abs(float(ex.expected_st_gradient_pm1.subs(A, a0)) - st) < 1e-12
        assert abs(float(ex.exact_gradient_pm1.subs(A, a0)) - exact) < 1e-8
        assert st * exact < 0
