"""Tests of numerics.quadrature: certified balls against closed forms, scoped precision, errors."""

import flint
import mpmath
import pytest
import sympy

from stecheck.numerics.quadrature import (
    PrecisionNotReached,
    acb_integrand,
    flint_precision,
    certified_integral_1d,
    certified_integral_2d,
    estimated_integral_2d,
    to_arb,
    MIN_DIGITS,
)
from stecheck.errors import InvalidArgument


@pytest.fixture(autouse=True)
def precision_is_restored():
    prec, dps = flint.ctx.prec, mpmath.mp.dps
    yield
    assert flint.ctx.prec == prec and mpmath.mp.dps == dps


@pytest.mark.parametrize("digits", [10, 30, 50])
def test_exp_integral_contains_closed_form(digits):
    r = certified_integral_1d(lambda x, a: x.exp(), 0, 1, digits=digits)
    assert r.certified and r.correct_digits >= digits
    assert r.contains(sympy.E - 1)
    # a closed form wrong in the (digits-2)-th digit is outside the ball
    with mpmath.workdps(digits + 20):
        wrong = mpmath.e - 1 + mpmath.mpf(10) ** (-(digits - 2))
    assert r.excludes(wrong)


def test_known_integrals_with_deliberately_wrong_closed_forms():
    # int_0^pi sin = 2
    r = certified_integral_1d(lambda x, a: x.sin(), 0, sympy.pi, digits=30)
    assert r.contains(2) and r.excludes("2.000000000000000000000000000001")
    # int_0^1 4/(1+x^2) = pi ; the classic wrong value 22/7 is excluded
    r = certified_integral_1d(lambda x, a: 4 / (1 + x * x), 0, 1, digits=30)
    assert r.contains(sympy.pi) and r.excludes(sympy.Rational(22, 7))
    # branch point at 0 handled through the analytic flag: int_0^1 sqrt(x) = 2/3
    r = certified_integral_1d(lambda x, a: x.sqrt(analytic=a), 0, 1, digits=30)
    assert r.contains(sympy.Rational(2, 3)) and r.excludes(sympy.Rational(2, 3) + sympy.Rational(1, 10**29))
    # int_{-40}^{40} sech^2(u/2)/4 du = tanh(20) (logistic density)
    r = certified_integral_1d(lambda u, a: 1 / (4 * (u / 2).cosh() ** 2), -40, 40, digits=30)
    assert r.contains(sympy.tanh(20)) and r.excludes(1)


def test_sympy_compiled_integrand():
    y = sympy.Symbol("y")
    f = acb_integrand(3 * y**2 + sympy.log(1 + y) - sympy.Rational(1, 3), y)
    r = certified_integral_1d(f, 0, 1, digits=30)
    assert r.contains(1 + 2 * sympy.log(2) - 1 - sympy.Rational(1, 3))
    with pytest.raises(InvalidArgument, match="not supported or not analytic"):
        acb_integrand(sympy.Abs(y), y)


def test_precision_not_reached_names_the_precision():
    noisy = lambda x, a: x.exp() + flint.acb(flint.arb(0, flint.arb(10) ** -20))  # noqa: E731
    with pytest.raises(PrecisionNotReached, match=r"at 300 bits .* \d+\.\d correct relative digits"):
        certified_integral_1d(noisy, 0, 1, digits=30, max_prec=300)


def test_absolute_target_for_zero_integral():
    r = certified_integral_1d(lambda x, a: x, -1, 1, digits=30, relative=False)
    assert r.contains(0) and r.radius <= mpmath.mpf(10) ** -30


def test_two_dimensional_certified_and_estimated():
    exact = sympy.Ei(1) - sympy.EulerGamma  # int_0^1 int_0^1 e^{xy} = sum 1/(n n!)
    with mpmath.workdps(40):
        exact_mp = mpmath.ei(1) - mpmath.euler
        wrong = exact_mp + mpmath.mpf(10) ** -18
    r = certified_integral_2d(lambda x, y, a: (x * y).exp(), 0, 1, 0, 1, digits=20)
    assert r.certified and r.contains(exact_mp) and r.excludes(wrong)
    e = estimated_integral_2d(lambda x, y: mpmath.exp(x * y), 0, 1, 0, 1, digits=20)
    assert not e.certified and "estimate" in e.method and e.contains(exact_mp)
    with mpmath.workdps(40):
        assert abs(e.value - exact_mp) < mpmath.mpf(10) ** -20
    assert str(exact)  # sympy form kept for the reader


@pytest.mark.parametrize("bad", [4, 0, -3, 2.5, True, "30"])
def test_bad_digits(bad):
    with pytest.raises(InvalidArgument, match="digits="):
        certified_integral_1d(lambda x, a: x, 0, 1, digits=bad)


def test_bad_endpoints_and_integrand():
    with pytest.raises(InvalidArgument, match="not finite"):
        certified_integral_1d(lambda x, a: x, 0, float("inf"))
    with pytest.raises(InvalidArgument, match="not callable"):
        certified_integral_1d(3, 0, 1)
    with pytest.raises(InvalidArgument, match="expected a flint acb"):
        certified_integral_1d(lambda x, a: 1.5, 0, 1)
    with pytest.raises(InvalidArgument, match="non-real"):
        certified_integral_1d(lambda x, a: flint.acb(0, 1), 0, 1)
    assert to_arb(0.5) == flint.arb(0.5)


def test_arb_to_mpf_is_exact_for_wide_mantissas():
    # mutation survivor: "man.bit_length() + 8" -> "- 8" rounds mantissas wider than 72 bits; the conversion
    # checks its own exactness, and here wide mantissas are compared at 2000 bits
    import random

    import flint
    import mpmath

    from stecheck.numerics import quadrature as Q

    rnd = random.Random(1)
    for _ in range(300):
        man = rnd.randint(-(2 ** rnd.randint(1, 300)), 2 ** rnd.randint(1, 300))
        exp = rnd.randint(-500, 500)
        with mpmath.workprec(2000):
            assert Q.arb_to_mpf(flint.arb((man, exp))) == mpmath.ldexp(mpmath.mpf(man), exp)


def test_min_digits_is_the_smallest_accepted():
    # boundary of the digits guard (seed-12 survivor "d < MIN_DIGITS -> d <= MIN_DIGITS"): MIN_DIGITS itself is valid
    r = certified_integral_1d(lambda x, a: x.exp(), 0, 1, digits=MIN_DIGITS)
    assert r.certified and r.correct_digits >= MIN_DIGITS
    with pytest.raises(InvalidArgument, match=f"digits={MIN_DIGITS - 1} is too small"):
        certified_integral_1d(lambda x, a: x.exp(), 0, 1, digits=MIN_DIGITS - 1)


@pytest.mark.parametrize("make", [
    lambda y: sympy.Abs(y),                    # a one-argument function that is not analytic
    lambda y: sympy.Min(y, sympy.sin(y)),      # two arguments
    lambda y: sympy.Function("f")() + y,       # an undefined function of no argument
    lambda y: sympy.Function("g")(y),          # an undefined function of one argument
    lambda y: sympy.besselj(0, y),             # a two-argument special function
])
def test_sympy_compiler_refuses_what_is_not_a_supported_unary_function(make):
    y = sympy.Symbol("y")
    with pytest.raises(InvalidArgument, match="not supported or not analytic"):
        acb_integrand(make(y), y)


def test_sympy_compiler_every_supported_unary_function():
    y = sympy.Symbol("y")
    for fn in (sympy.exp, sympy.sin, sympy.cos, sympy.sinh, sympy.cosh, sympy.tanh, sympy.tan, sympy.erf, sympy.log):
        r = certified_integral_1d(acb_integrand(fn((1 + y) / 2), y), 0, 1, digits=20)
        with mpmath.workdps(40):
            ref = mpmath.quad(sympy.lambdify(y, fn((1 + y) / 2), "mpmath"), [0, 1])
            assert abs(r.value - ref) <= r.radius + mpmath.mpf(10) ** -30, fn


def test_flint_precision_restores_and_lets_exceptions_through():
    saved = flint.ctx.prec
    with pytest.raises(ZeroDivisionError):
        with flint_precision(saved + 77):
            assert flint.ctx.prec == saved + 77
            raise ZeroDivisionError
    assert flint.ctx.prec == saved


def test_until_digits_doubles_the_working_precision_and_asks_for_tolerance_2_to_the_8_minus_prec():
    """_until_digits' schedule as documented: precisions start, 2 start, 4 start, ... up to limit, and at precision
    p the integrator is asked for tol = 2^-(p - 8)."""
    from stecheck.numerics import quadrature as q

    seen = []

    def integrate(tol):
        p = flint.ctx.prec
        seen.append((p, tol))
        # the enclosure 1 +- 2^-(p/8): 8 correct digits first at p = 256 (2^-32 = 2.3e-10; 2^-16 at p = 128 is not)
        return flint.acb(flint.arb(1, flint.arb(2) ** (-(p // 8))))

    res = q._until_digits(integrate, digits=8, relative=False, start=64, limit=1024, method="m", where="w", hint="h")
    assert [p for p, _ in seen] == [64, 128, 256] and res.prec == 256
    for p, tol in seen:
        assert tol.is_exact() and tol == flint.arb(2) ** (8 - p)
    seen.clear()
    with pytest.raises(PrecisionNotReached):
        q._until_digits(integrate, digits=60, relative=False, start=64, limit=200, method="m", where="w", hint="h")
    assert [p for p, _ in seen] == [64, 128, 200]
