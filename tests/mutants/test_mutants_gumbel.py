"""The Gumbel-Softmax checks can say no: each checked method, given a false premise, REFUTES.

A mutant is the same check function with one premise replaced by a false one
(a wrong c1, a wrong rate exponent, a wrong limit ratio, a loss for which the
property fails, a logit where the bias vanishes).
"""

import functools

import pytest
import sympy

from stecheck.proofs_check import Verdict
from stecheck.proofs_check.claim import MethodContext, Tier
from stecheck.proofs_check.claims import sbn_gumbel as g
from stecheck.numerics.seeding import task_seed
from stecheck.theory import gumbel_softmax as gs

ETA, TAU, Y = gs.ETA, gs.TAU, gs.Y
C = gs.taylor_coefficients(2)


def _ctx(name="mutant"):
    return MethodContext("MUTANT", name, 0, task_seed(0, f"MUTANT/{name}"), Tier.QUICK)


MUTANTS = {
    # SBN-E1
    "e1 series: c1 with the wrong sign": functools.partial(g.check_e1_series_symbolic, c1=-C[1]),
    "e1 series: c2 halved": functools.partial(g.check_e1_series_symbolic, c2=C[2] / 2),
    "e1 remainder: c1 with the wrong sign": functools.partial(g.check_e1_remainder_quadrature, c1=-C[1]),
    "e1 remainder: c2 halved": functools.partial(g.check_e1_remainder_quadrature, c2=C[2] / 2),
    "e1 limit: d y1/d eta without the 1/tau (as (88))": functools.partial(g.check_e1_limit_symbolic, tau_power=0),
    "e1 bias rate: O(tau^2)": functools.partial(g.check_e1_bias_rate_quadrature, rate=2.0),
    "e1 bias rate: b1 10% too large (magnitude)": functools.partial(g.check_e1_bias_rate_quadrature, b1_scale=1.1),
    "e1 cubic Monte Carlo: the sampler uses L = y^2": functools.partial(g.check_e1_cubic_montecarlo, loss_power=2),
    "e1 linear: a quadratic L (the tau term does not vanish)": functools.partial(g.check_e1_linear_symbolic, loss=Y**2),
    "e1 linear: at eta = log(2 + sqrt 3) (c2 = 0)": functools.partial(
        g.check_e1_linear_symbolic, eta=sympy.log(2 + sympy.sqrt(3))),
    "e1 linear Monte Carlo: ST instead of GS": functools.partial(g.check_e1_linear_montecarlo, estimator="st"),
    "e1 printed: c1 with denominator (e^eta + 1)^2": functools.partial(
        g.check_e1_printed_coefficients, c1=C[1] / (sympy.exp(ETA) + 1)),
    # SBN-E2
    "e2 sympy: rate C^(2/tau)": functools.partial(g.check_e2_symbolic, exponent=2),
    "e2 sympy: rate tau^-2 C^(1/tau)": functools.partial(g.check_e2_symbolic, power=2),
    "e2 arb: rate C^(2/tau)": functools.partial(g.check_e2_arb, exponent=2),
    "e2 arb: rate tau^-2 C^(1/tau)": functools.partial(g.check_e2_arb, power=2),
    "e2 estimator code: rate tau^-2 C^(1/tau)": functools.partial(g.check_e2_estimator_code, power=2),
    # SBN-E3
    "e3 sympy: asymptote p tau l (factor 1)": functools.partial(g.check_e3_symbolic, lead_factor=1),
    "e3 arb: asymptote p tau l (factor 1)": functools.partial(g.check_e3_arb, lead_factor=1),
    "e3 monte carlo: printed threshold s(1-s) >= eps": functools.partial(g.check_e3_montecarlo, printed_threshold=True),
    "e3 bound: tau log(1/eps) / 4": functools.partial(
        g.check_e3_bound, bound=lambda tau, eps: 0.25 * tau * __import__("math").log(1 / eps)),
    # SBN-E4
    "e4 sympy: variance O(1)": functools.partial(g.check_e4_symbolic, growth=0),
    "e4 variance rate: O(1)": functools.partial(g.check_e4_variance_rate, growth=0.0),
    "e4 variance rate: O(1/tau^2)": functools.partial(g.check_e4_variance_rate, growth=2.0),
    "e4 variance rate: leading coefficient p(eta) A0 doubled": functools.partial(g.check_e4_variance_rate,
                                                                                 lead_scale=2.0),
    "e4 monte carlo: O(1)": functools.partial(g.check_e4_montecarlo, growth=0.0),
    "e4 expansion: c1 A1 term with the wrong sign": functools.partial(
        g.check_e4_expansion_quadrature,
        coefficients=(lambda m: (m[0], -m[1], m[2]))(gs.second_moment_coefficients(gs.DEFAULT_LOSS, 2))),
    # SBN-STGS
    "stgs sympy: limit 1/2 in {0,1}": functools.partial(
        g.check_stgs_symbolic, ratios={"01": sympy.Rational(1, 2), "pm1": 1, "pm1-mixed": sympy.Rational(1, 2)}),
    "stgs quadrature: limit 1/2 in {0,1} and +-1": functools.partial(
        g.check_stgs_quadrature, ratios={"01": sympy.Rational(1, 2), "pm1": sympy.Rational(1, 2),
                                         "pm1-mixed": sympy.Rational(1, 2)}),
    "stgs monte carlo: limit 1/2": functools.partial(
        g.check_stgs_montecarlo, ratios={"01": sympy.Rational(1, 2), "pm1": sympy.Rational(1, 2)}),
    "stgs nonlinear sympy: quadratic L (limit 1)": functools.partial(g.check_stgs_nonlinear_symbolic, loss=Y**2),
    "stgs nonlinear quadrature: quadratic L": functools.partial(g.check_stgs_nonlinear_quadrature, loss=Y**2),
    "stgs variance quadrature: quadratic L (ST not deterministic)": functools.partial(
        g.check_stgs_variance_quadrature, loss=Y**2),
    "stgs variance monte carlo: quadratic L": functools.partial(g.check_stgs_variance_montecarlo, loss_coeffs=2),
}


@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_refuted(name):
    out = MUTANTS[name](_ctx(name))
    assert out.verdict is Verdict.REFUTED, (name, out.verdict, out.evidence)
    assert out.counterexample


def test_e1_zero_bias_logit_refutes_bias_at_fixed_tau():
    # at eta*(0.5) ~ 1.524 the certified E[G_0.5] equals the true gradient (linear L): the check must refute there
    eta = g.zero_bias_eta("0.5")
    assert abs(float(eta) - 1.52396477) < 1e-6
    out = g.check_e1_linear_quadrature(_ctx(), points=[(eta, "0.5")])
    assert out.verdict is Verdict.REFUTED


def test_e3_printed_rate_holds_for_the_printed_threshold():
    # the printed-rate check can come out the other way: with the event s(1-s) >= eps it is O(tau log 1/eps)
    out = g.check_e3_printed_rate(_ctx(), printed_threshold=True)
    assert out.verdict is Verdict.VERIFIED


def test_stgs_printed_half_holds_in_the_mixed_convention_only():
    out = g.check_stgs_printed_half(_ctx())
    mixed = next(r for r in out.evidence["rows"] if r["encoding"] == "pm1-mixed")
    assert out.verdict is Verdict.REFUTED and abs(mixed["ratio"] - 0.5) < 1e-3


@pytest.mark.parametrize("claim", g.CLAIMS, ids=lambda c: c.id)
def test_every_checked_method_has_a_mutant(claim):
    covered = {getattr(f, "func", f).__name__ for f in MUTANTS.values()} | {"check_e1_linear_quadrature",
                                                                              "check_e1_linear_every_tau"}
    for m in claim.methods:
        if m.role == "checked":
            assert getattr(m.check, "func", m.check).__name__ in covered, m.name


def test_e1_remainder_refutes_a_ten_percent_error_in_c2():
    out = g.check_e1_remainder_quadrature(_ctx(), c2=C[2] * sympy.Rational(11, 10))
    assert out.verdict is Verdict.REFUTED


def test_e4_expansion_refutes_a_wrong_tau_term():
    m = gs.second_moment_coefficients(gs.DEFAULT_LOSS, 2)
    out = g.check_e4_expansion_quadrature(_ctx(), coefficients=(m[0], m[1], m[2] / 2))
    assert out.verdict is Verdict.REFUTED


def test_e1_every_tau_proof_does_not_apply_away_from_the_mode():
    # at eta = 3 the pointwise inequality p(eta - x) < p(eta) fails: the all-tau argument must not prove anything
    assert g.check_e1_linear_every_tau(_ctx(), eta=3).verdict is not Verdict.PROVED
    assert g.check_e1_linear_every_tau(_ctx()).verdict is Verdict.PROVED


def test_e1_every_eta_reading_is_refuted_by_a_sign_change():
    out = g.check_e1_every_eta(_ctx())
    signs = [e["certified_sign"] for e in out.evidence["certified_bias_at_ends"]]
    assert out.verdict is Verdict.REFUTED and sorted(signs) == [-1, 1]


@pytest.mark.parametrize("check", [g.check_e1_linear_montecarlo, g.check_e1_cubic_montecarlo, g.check_e3_montecarlo,
                                   g.check_e4_montecarlo, g.check_stgs_montecarlo], ids=lambda f: f.__name__)
def test_monte_carlo_too_wide_is_inconclusive(check):
    # each Monte Carlo method states the precision it needs; with 300 samples its intervals are too wide
    out = check(_ctx(), samples=300)
    assert out.verdict is Verdict.INCONCLUSIVE, (check.__name__, out.verdict, out.evidence)
    assert check(_ctx()).verdict is Verdict.VERIFIED


def test_e3_fixed_eps_path_holds_for_the_printed_threshold():
    assert g.check_e3_printed_rate(_ctx(), path="tau", printed_threshold=True).verdict is Verdict.VERIFIED


def test_stgs_printed_half_holds_in_the_mixed_convention():
    assert g.check_stgs_printed_half(_ctx(), encodings=("pm1-mixed",)).verdict is Verdict.VERIFIED


def test_logistic_third_derivative_bound_is_proved_and_tight():
    """The arb bound on sup|p'''| lies above the sampled maximum of |p'''| (mpmath) and within 6% of it."""
    import mpmath

    p3 = lambda x: mpmath.diff(lambda t: mpmath.exp(-t) / (1 + mpmath.exp(-t)) ** 2, x, 3)  # noqa: E731
    sampled = max(abs(p3(mpmath.mpf(i) / 100)) for i in range(-400, 401))
    bound = g._logistic_p3_sup()
    assert sampled <= bound <= 1.06 * sampled


@pytest.mark.parametrize("loss", [gs.DEFAULT_LOSS, Y**2 + Y**3 / 3], ids=str)
def test_stgs_series_matches_quadrature_for_a_nonlinear_loss(loss):
    rows = g._stgs_series_vs_quadrature(loss)
    assert {r["encoding"] for r in rows} == set(gs.ENCODINGS) and len(rows) == 12
    assert all(r["abs_remainder"] <= r["allowed"] for r in rows)
    # the bound is tight enough to matter: in {0,1} the realized remainder is a large part of it
    assert max(r["abs_remainder"] / r["allowed"] for r in rows if r["encoding"] == "01") > 0.5


_STGS_EXPANSION = gs.stgs_expansion


@pytest.mark.parametrize("wrong", [
    # L' evaluated at the +-1 states in the {0,1} encoding
    lambda loss, enc, order: _STGS_EXPANSION(loss, "pm1-mixed" if enc == "01" else enc, order),
    # the +-1 backward factor 2 dropped
    lambda loss, enc, order: _STGS_EXPANSION(loss, "pm1-mixed" if enc == "pm1" else enc, order),
    # e_2 one percent too large
    lambda loss, enc, order: tuple(e * (sympy.Rational(101, 100) if k == 2 else 1)
                                   for k, e in enumerate(_STGS_EXPANSION(loss, enc, order))),
], ids=["01-at-pm1-states", "pm1-without-factor-2", "e2-one-percent-off"])
def test_stgs_series_audit_refuses_a_wrong_expansion(monkeypatch, wrong):
    from stecheck.errors import SelfCheckFailed

    monkeypatch.setattr(g.gs, "stgs_expansion", wrong)
    with pytest.raises(SelfCheckFailed, match="stgs_expansion"):
        g._stgs_series_vs_quadrature(gs.DEFAULT_LOSS)
