"""Tests of theory.gumbel_softmax and theory.gumbel_catalog (SBN appendix E).

Exact expectations come from certified quadrature (>= 30 digits); the series
must match them with a remainder shrinking at the derived order, and mutants
of the coefficients must fail the same test.
"""

import flint
import mpmath
import pytest
import sympy

from stecheck.numerics.quadrature import certified_integral_1d, flint_precision
from stecheck.errors import InvalidArgument
from stecheck.theory import gumbel_softmax as gs
from stecheck.theory.derivations import derive, get_derivation

ETAS = (-2, "-0.5", 0, 1, 3)
TAUS = ("0.5", "0.1", "0.02")


@pytest.fixture(scope="module")
def gs_rows():
    return gs.series_remainders("gs", ETAS, TAUS, gs.DEFAULT_LOSS)


def _num(expr, eta):
    return float(expr.subs(gs.ETA, sympy.Rational(str(eta))).evalf(30))


# ----------------------------------------------------------------- symbolic


def test_integral_representation_80():
    d = gs.derive_integral_representation()
    assert d["integrand_v"] == d["integrand_80"] or sympy.cancel(d["integrand_v"] - d["integrand_80"]) == 0


def test_taylor_coefficients_match_sympy_series():
    u = sympy.Symbol("u")
    ser = sympy.series(gs.logistic_pdf(gs.ETA - gs.TAU * u), gs.TAU, 0, 4).removeO()
    cs = gs.taylor_coefficients(3)
    for k in range(4):
        diff = ser.coeff(gs.TAU, k) - cs[k] * u**k
        for eta in (-1.3, 0.4, 2.0):
            assert abs(float(diff.subs({gs.ETA: eta, u: 0.7}))) < 1e-14


def test_c1_c2_against_printed():
    c = gs.taylor_coefficients(2)
    for eta in (-2, 0.5, 3):
        assert abs(_num(c[1] - gs.C1_PRINTED, eta)) < 1e-25
        assert abs(_num(c[2] - gs.C2_PRINTED_READING, eta)) < 1e-25
    # c1 = -p'(eta), c2 = p''(eta)/2
    p = gs.logistic_pdf(gs.ETA)
    assert abs(_num(c[1] + sympy.diff(p, gs.ETA), 0.7)) < 1e-25
    assert abs(_num(c[2] - sympy.diff(p, gs.ETA, 2) / 2, 0.7)) < 1e-25


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_logit_moments_against_quadrature(k):
    Lp = sympy.diff(gs.DEFAULT_LOSS, gs.Y)
    exact = gs.logit_moment(Lp, k)

    def f(u, a):  # int_R L'(sigma(u)) u^k sigma(u) sigma(-u) du, tail < 3 * 100^k e^-100
        s = 1 / (1 + (-u).exp())
        return 3 * s * s * u**k * s * (1 - s)

    r = certified_integral_1d(f, -100, 100, digits=25, relative=False)
    assert r.contains(exact), (k, exact, r)


def test_half_logit_moments_by_sympy():
    v = sympy.Symbol("v", positive=True)
    h = gs._half_logit_moments(2)
    for k in (1, 2):
        val = sympy.Integral((sympy.log(v) - sympy.log(1 - v)) ** k, (v, sympy.Rational(1, 2), 1))
        assert abs(float(val.evalf(20) - h[k].evalf(20))) < 1e-15
    assert h[1] == sympy.log(2) and sympy.simplify(h[2] - sympy.pi**2 / 6) == 0


def test_linear_loss_bias_is_even_in_tau():
    b = gs.bias_coefficients(gs.LINEAR_LOSS, 3)
    assert b[1] == 0 and b[3] == 0
    assert sympy.cancel(b[2] - gs.taylor_coefficients(2)[2] * sympy.pi**2 / 3) == 0


def test_stgs_limits():
    assert gs.stgs_limit_ratio(gs.LINEAR_LOSS, "01") == 1
    assert gs.stgs_limit_ratio(gs.LINEAR_LOSS, "pm1") == 1
    assert gs.stgs_limit_ratio(gs.LINEAR_LOSS, "pm1-mixed") == sympy.Rational(1, 2)
    assert gs.stgs_limit_ratio(gs.Y**2, "01") == 1
    assert gs.stgs_limit_ratio(gs.DEFAULT_LOSS, "01") == sympy.Rational(3, 2)


def test_vanishing_rate_87():
    d = gs.derive_vanishing_rate()
    assert d["limit_ratio"] == 1
    assert sympy.simplify(d["derivative"] - d["printed_87"]) == 0


def test_large_gradient_probability_88_91():
    # closed form vs certified quadrature of the logistic density over |eta - z| <= tau l
    P = gs.large_gradient_probability("0.5", "0.01", "1e-3")
    with flint_precision(200):
        s_star = (1 - (1 - 4 * flint.arb("1e-3") * flint.arb("0.01")).sqrt()) / 2
        ell = ((1 - s_star) / s_star).log()
        lo, hi = flint.arb("0.5") - flint.arb("0.01") * ell, flint.arb("0.5") + flint.arb("0.01") * ell
    q = certified_integral_1d(lambda z, a: 1 / (4 * (z / 2).cosh() ** 2), lo, hi, digits=30)
    assert q.ball.overlaps(P)
    ratios = [float((gs.large_gradient_probability(0, t, "1e-6") / gs.large_gradient_asymptote(0, t, "1e-6")).mid())
              for t in ("0.1", "0.01", "0.001")]
    assert abs(ratios[2] - 1) < abs(ratios[1] - 1) < abs(ratios[0] - 1) < 0.2
    assert gs.large_gradient_probability(0, "0.1", 10) == 0  # threshold above 1/4 tau
    with pytest.raises(InvalidArgument, match="eps="):
        gs.large_gradient_probability(0, "0.1", 0)


# ----------------------------------------------------------------- series vs certified quadrature


def test_gs_series_remainder_is_tau_cubed(gs_rows):
    orders = gs.remainder_orders(gs_rows)
    assert all(o >= 2.5 for o in orders.values()), orders
    # and R(tau) - b3 tau^3 = O(tau^4) (the derived c3 is right too)
    b3 = gs.bias_coefficients(gs.DEFAULT_LOSS, 3)[3]
    for r in gs_rows:
        tau = float(r.tau)
        if tau <= 0.1:
            assert abs(float(r.remainder.mid()) - _num(b3, r.eta) * tau**3) <= 2 * tau**4, (r.eta, r.tau)
    for r in gs_rows:  # the exact values carry >= 30 correct digits
        assert r.exact.rad() <= abs(r.exact.mid()) * flint.arb(10) ** -30


def test_wrong_c1_fails_the_same_test():
    b = list(gs.bias_coefficients(gs.DEFAULT_LOSS, 2))
    b[1] = b[1] / 2
    rows = gs.series_remainders("gs", ETAS, TAUS, gs.DEFAULT_LOSS, coefficients=b)
    orders = gs.remainder_orders(rows)
    assert any(o < 1.5 for o in orders.values()), orders


def test_wrong_sign_c2_fails():
    b = list(gs.bias_coefficients(gs.LINEAR_LOSS, 2))
    b[2] = -b[2]
    rows = gs.series_remainders("gs", (1,), ("0.1", "0.02"), gs.LINEAR_LOSS, coefficients=b)
    assert gs.remainder_orders(rows)[1] < 2.5


def test_second_moment_remainder_is_tau_squared():
    rows = gs.series_remainders("second-moment", (-2, 1), ("0.1", "0.02"), gs.DEFAULT_LOSS)
    assert all(o >= 1.5 for o in gs.remainder_orders(rows).values())
    m = list(gs.second_moment_coefficients(gs.DEFAULT_LOSS, 2))
    m[0] = m[0] * sympy.Rational(11, 10)
    bad = gs.series_remainders("second-moment", (1,), ("0.1", "0.02"), gs.DEFAULT_LOSS, coefficients=m)
    assert gs.remainder_orders(bad)[1] < 0


@pytest.mark.parametrize("encoding", gs.ENCODINGS)
def test_stgs_expectation_against_expansion(encoding):
    e = gs.stgs_expansion(gs.DEFAULT_LOSS, encoding, 2)
    for tau in ("0.1", "0.02"):
        exact = gs.expected_stgs_gradient(1, tau, gs.DEFAULT_LOSS, encoding=encoding)
        t = float(tau)
        series = sum(_num(c, 1) * t**k for k, c in enumerate(e))
        assert abs(float(exact.value) - series) < 5 * t**3


def test_stgs_linear_equals_gs():
    a = gs.expected_stgs_gradient("0.3", "0.1", gs.LINEAR_LOSS, encoding="01")
    b = gs.expected_gs_gradient("0.3", "0.1", gs.LINEAR_LOSS)
    assert a.ball.overlaps(b.ball)


# ----------------------------------------------------------------- input validation


@pytest.mark.parametrize("tau", [0, -0.1, "-1", float("nan")])
def test_bad_tau(tau):
    with pytest.raises(InvalidArgument, match="tau="):
        gs.expected_gs_gradient(0, tau)


@pytest.mark.parametrize("digits", [4, 0, 2.0])
def test_bad_digits(digits):
    with pytest.raises(InvalidArgument, match="digits="):
        gs.expected_gs_gradient(0, "0.1", digits=digits)


def test_bad_loss_and_encoding():
    with pytest.raises(InvalidArgument, match="single variable x1"):
        gs.as_loss("x1 + x2")
    with pytest.raises(InvalidArgument, match="polynomial"):
        gs.bias_coefficients(sympy.exp(gs.Y), 3)
    with pytest.raises(InvalidArgument, match="encoding="):
        gs.expected_stgs_gradient(0, "0.1", encoding="pm")
    assert gs.as_loss("x1**3") == gs.DEFAULT_LOSS


def test_precision_left_alone():
    prec, dps = flint.ctx.prec, mpmath.mp.dps
    gs.expected_gs_gradient(1, "0.1", digits=20)
    assert flint.ctx.prec == prec and mpmath.mp.dps == dps


# ----------------------------------------------------------------- catalog


def test_catalog_gs_series(tmp_path):
    res = derive("gs-series", cache_dir=tmp_path)
    eta = sympy.Symbol("eta", real=True)
    assert res.result["c1"].free_symbols == {eta} and res.result["c2"].free_symbols == {eta}
    assert any("mutant" in c for c in res.checks) and res.notes
    for name in ("gs-second-moment", "stgs-limit", "gs-vanishing"):
        assert get_derivation(name).equation.startswith("SBN")


@pytest.mark.parametrize("loss, sup", [(gs.Y**2, 2), ((1 - gs.Y) ** 2, 2), (gs.Y**3 - gs.Y, 2)])
def test_sup_bound_covers_the_unit_interval_and_is_tight(loss, sup):
    """The bisection bound M of sup_{[0,1]} |L'| (tail bounds of the GS integrals) is a bound: M >= sup, attained
    at an end point here (y = 1, y = 0, y = 1), so every ball must reach both ends; and it is tight to the ball
    radius 1/128: M <= sup + sup|L''| / 64 (64 balls of radius 1/128 cover exactly [0, 1])."""
    from stecheck.numerics.quadrature import acb_integrand

    with flint_precision(128):
        M = gs._sup_abs_on_unit(acb_integrand(sympy.diff(loss, gs.Y), gs.Y))
    second = max(abs(float(sympy.diff(loss, gs.Y, 2).subs(gs.Y, t))) for t in (0, 1))
    assert sup <= float(M.upper()) <= sup + second / 64 + 1e-12


def test_tail_audit_refuses_a_cutoff_computed_from_a_smaller_bound(monkeypatch):
    # planted (seed-12 survivor): the cutoff of E[G_tau^2] computed from M^2 tau instead of M^2 / tau; the tail
    # bound is still added to the radius, but it exceeds what the cutoff was chosen for
    real = gs._cutoff
    monkeypatch.setattr(gs, "_cutoff", lambda digits, bound, eta, decay: real(digits, bound * 1e-4, eta, decay))
    with pytest.raises(ArithmeticError, match="cutoff"):
        gs.gs_second_moment("0.37", "0.013", digits=15)


def test_tail_audit_passes_for_the_library_cutoffs():
    for tau in ("0.5", "0.01"):
        assert gs.gs_second_moment("-0.41", tau, digits=15).certified
        assert gs.expected_gs_gradient("-0.41", tau, digits=15).certified


def test_a_tail_bound_below_the_realized_tail_is_an_error(monkeypatch):
    # planted: the tail bound of E[G_tau^2] scaled down (e.g. M^2 e^-2U / (4 tau) -> M^2 e^-2U tau / 4)
    monkeypatch.setattr(gs, "_audit_tail", lambda tail, digits, eta, method: tail * 1e-6)
    with pytest.raises(ArithmeticError, match="realized tail"):
        gs.gs_second_moment("0.29", "0.021", digits=15)


def test_audit_tail_accepts_a_tail_exactly_at_its_target_and_refuses_one_ulp_above():
    # guard "float(tail.upper()) <= target": the promise is "<=", so a tail equal to the target passes
    import math

    for digits, eta in ((5, "0"), (30, "-3.5")):
        e = flint.arb(eta)
        target = 10.0 ** -(digits + 8) * math.exp(-abs(float(e.mid())) - 5)
        assert gs._audit_tail(flint.arb(target), digits, e, "t") is not None
        with pytest.raises(ArithmeticError, match="exceeds"):
            gs._audit_tail(flint.arb(math.nextafter(target, math.inf)), digits, e, "t")


def test_realized_tail_check_accepts_equality_and_refuses_a_realized_tail_above_the_bound():
    # guard "realized.lower() <= tail.upper()": a realized tail equal to the bound is consistent with it
    x = flint.arb(2) ** -40
    gs._check_realized_tail(x, x, 30, "t")
    gs._check_realized_tail(flint.arb(0), x, 30, "t")
    with pytest.raises(ArithmeticError, match="below the realized tail"):
        gs._check_realized_tail(x + flint.arb(2) ** -90, x, 30, "t")


def test_cutoff_is_the_smallest_sufficient_integer_for_both_decays():
    # the cutoff (checked inside _cutoff against an exponential-domain search) for the second moment (decay 2)
    # is about half the first moment's, never the same or larger
    for digits in (5, 30):
        for bound in ("0.25", "1", "37.5", "1e6"):
            for eta in ("0", "-3.5"):
                c1 = gs._cutoff(digits, flint.arb(bound), flint.arb(eta), 1)
                c2 = gs._cutoff(digits, flint.arb(bound), flint.arb(eta), 2)
                assert c2 < c1 and abs(2 * c2 - c1) <= 2


def test_exact_self_test_passes_and_quadrature_self_test_passes():
    from stecheck.numerics import quadrature

    assert quadrature._selftest_failures() == []
    assert gs._exact_selftest_failures() == []


# --------------------------------------------------------------------------- session 13: checks that can say no


def test_check_cutoff_refuses_an_off_by_one_away_from_a_tie_and_accepts_it_at_the_tie():
    """eta = 0.5: smallest U = ceil(23 ln 10 + 5.5) = 59 with an exponent margin of 0.54 (no tie): 58 and 60 are
    refused. (The tie test before session 13, B e^(-U) <= target (1 + 1e-12), held for every U and accepted 60.)
    At the near tie eta = 1.040542861136947 both 59 and 60 pass, 61 does not."""
    one = flint.arb(1)
    gs._check_cutoff(59, 15, one, flint.arb(0.5), 1)
    for bad in (58, 60):
        with pytest.raises(gs.SelfCheckFailed, match="near tie"):
            gs._check_cutoff(bad, 15, one, flint.arb(0.5), 1)
    tie = flint.arb(1.040542861136947)
    gs._check_cutoff(59, 15, one, tie, 1)
    gs._check_cutoff(60, 15, one, tie, 1)
    with pytest.raises(gs.SelfCheckFailed):
        gs._check_cutoff(61, 15, one, tie, 1)


def test_exact_self_test_sees_a_cutoff_check_that_accepts_everything(monkeypatch):
    monkeypatch.setattr(gs, "_check_cutoff", lambda *args: None)
    assert any("_check_cutoff" in f for f in gs._exact_selftest_failures())


def test_exact_self_test_sees_a_tail_audit_that_accepts_everything_or_refuses_everything(monkeypatch):
    monkeypatch.setattr(gs, "_audit_tail", lambda tail, digits, eta, method: tail)
    assert any("_audit_tail" in f for f in gs._exact_selftest_failures())

    def refuse(tail, digits, eta, method):
        raise ArithmeticError("refused")

    monkeypatch.setattr(gs, "_audit_tail", refuse)
    try:  # the self-test's own certified values are refused too when they are not memoized yet
        failures = gs._exact_selftest_failures()
    except ArithmeticError:
        return
    assert any("_audit_tail" in f for f in failures)


@pytest.mark.parametrize("value", [3 * (1 + 2.0**-20), 3 * (1 - 2.0**-20)])
def test_exact_self_test_refuses_a_sup_bound_off_by_more_than_its_rounding(monkeypatch, value):
    monkeypatch.setattr(gs, "_sup_abs_on_unit", lambda f: flint.arb(value))
    assert any("_sup_abs_on_unit(3 y^2)" in f for f in gs._exact_selftest_failures())


def test_exact_self_test_sees_a_wrong_stgs_encoding_factor(monkeypatch):
    real = gs.expected_stgs_gradient

    def wrong(eta, tau, loss, *, encoding, digits):
        r = real(eta, tau, loss, encoding=encoding, digits=digits)
        return r if encoding == "01" else gs.QuadratureResult(value=r.value / 2, radius=r.radius, digits=r.digits,
                                                              method=r.method, certified=True, prec=r.prec,
                                                              relative=True, ball=r.ball / 2)

    monkeypatch.setattr(gs, "expected_stgs_gradient", wrong)
    assert [f for f in gs._exact_selftest_failures() if f.startswith("E[ST-GS] (pm1)")]


def test_remainder_orders_needs_two_taus_and_works_with_exactly_two():
    def row(tau, rem):
        return gs.RemainderRow(1, tau, None, None, flint.arb(rem), None, 3)

    orders = gs.remainder_orders([row("0.1", 1e-3), row("0.2", 8e-3)])
    assert orders[1] == pytest.approx(3.0, rel=1e-12)  # log(8e-3 / 1e-3) / log(2)
    with pytest.raises(InvalidArgument, match="at least two tau"):
        gs.remainder_orders([row("0.1", 1e-3)])


def test_series_order_has_no_default():
    for fn, args in ((gs.stgs_expansion, (gs.LINEAR_LOSS, "01")), (gs.bias_coefficients, (gs.LINEAR_LOSS,)),
                     (gs.second_moment_coefficients, (gs.LINEAR_LOSS,)), (gs.taylor_coefficients, ())):
        with pytest.raises(TypeError):
            fn(*args)


@pytest.mark.parametrize("wrong", [
    lambda value, radius, ref, err: err > mpmath.mpf(10) ** -19 or abs(value - ref) > radius + err + mpmath.mpf(10) ** -18,
    lambda value, radius, ref, err: err > mpmath.mpf(10) ** -18 or abs(value - ref) > radius + err + mpmath.mpf(10) ** -19,
    lambda value, radius, ref, err: abs(value - ref) > radius - err + mpmath.mpf(10) ** -19,
])
def test_exact_self_test_checks_its_own_comparison(monkeypatch, wrong):
    """Session 13: the reference comparison of the exact self-test is run on controls; a looser one is reported."""
    assert gs._exact_selftest_failures() == []
    monkeypatch.setattr(gs, "_outside_reference", wrong)
    assert any("the self-test's comparison" in f for f in gs._exact_selftest_failures())


@pytest.mark.parametrize("order", [13, -1, True, 2.0, "2"])
def test_taylor_coefficients_reject_an_order_outside_0_12(order):
    # each part of the guard alone: a non-int, a bool, an int outside [0, 12]
    with pytest.raises(InvalidArgument, match="order="):
        gs.taylor_coefficients(order)
    assert len(gs.taylor_coefficients(12)) == 13 and len(gs.taylor_coefficients(0)) == 1
