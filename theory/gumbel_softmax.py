"""Gumbel-Softmax (GS) and ST Gumbel-Softmax for one binary unit (SBN appendix E).

The model (SBN eqs. (70)-(77), reconstructed from the derivations):

* one binary unit with logit ``eta``; ``z`` is standard logistic noise
  (``z = Gamma_0 - Gamma_1``, difference of two Gumbel variables), density
  ``p(z) = e^-z / (1 + e^-z)^2``, so ``P(x1 = 1) = sigma(eta)``;
* the {0,1} state ``x1 = [eta - z >= 0]`` (eq. (72));
* the relaxed state ``y1 = sigma_tau(eta - z) = sigma((eta - z)/tau)``, ``tau > 0``
  (eq. (73));
* a loss ``L(y)`` of one real variable, extended from {0,1} to [0, 1];
* the GS estimator ``G_tau = d/d eta L(sigma_tau(eta - z))
  = L'(y1) y1 (1 - y1) / tau`` (eqs. (77), (79));
* the true gradient ``d/d eta E[L(x1)] = (L(1) - L(0)) p(eta)``.

What is derived here (sympy) and checked (certified quadrature, flint/Arb):

(a) eq. (80): with ``v = sigma_tau(eta - z)``,
    ``E[G_tau] = int_0^1 L'(v) p(eta - tau logit v) dv``
    (:func:`derive_integral_representation`);
(b) eqs. (84)-(86): ``p(eta - tau u) = sum_k c_k(eta) u^k tau^k`` with
    ``c_k = (-1)^k p^(k)(eta) / k!``, hence
    ``E[G_tau] = true + c1 I1 tau + c2 I2 tau^2 + c3 I3 tau^3 + ...`` where
    ``I_k = int_0^1 L'(v) logit(v)^k dv`` (:func:`taylor_coefficients`,
    :func:`bias_coefficients`); ``I_k`` for polynomial ``L'`` in closed form
    from ``int_0^1 v^m (v/(1-v))^s dv = B(m+1+s, 1-s)``;
(c) eqs. (92)-(97): ``E[G_tau^2] = (1/tau) int_0^1 L'(v)^2 v(1-v) p(eta - tau logit v) dv
    = p A0 / tau + c1 A1 + c2 A2 tau + O(tau^2)`` with
    ``A_k = int_0^1 L'(v)^2 v (1-v) logit(v)^k dv`` (:func:`second_moment_coefficients`);
(d) eqs. (98)-(100): ST-GS ``L'(x1) d y1/d eta``; its expectation is
    ``L'(1) J+ + L'(0) J-`` with ``J+ = int_{1/2}^1 p(eta - tau logit v) dv``,
    ``J- = int_0^{1/2} ...``, both ``-> p(eta)/2`` (:func:`stgs_expansion`), in
    the {0,1} encoding, the +-1 encoding (``s = 2 x1 - 1``, relaxed
    ``2 y1 - 1``) and a "mixed" +-1 variant (forward ``s``, backward through
    ``y1``);
(e) eq. (87): ``d/dx sigma_tau(x) = p(x/tau)/tau ~ (1/tau) e^{-|x|/tau}``
    (:func:`derive_vanishing_rate`);
(f) eqs. (88)-(91): ``P(|G_tau| >= eps)`` for ``L(y) = y``, i.e.
    ``s(1 - s)/tau >= eps`` with ``s = sigma_tau(eta - z)``: exactly
    ``sigma(eta + tau l) - sigma(eta - tau l)``, ``l = logit(1 - s*)``,
    ``s* = (1 - sqrt(1 - 4 eps tau))/2`` (:func:`large_gradient_probability`),
    asymptotically ``2 p(eta) tau l`` (:func:`large_gradient_asymptote`).

Exact expectations are computed by certified quadrature in the variable
``u = (eta - z)/tau`` (so ``v = sigma(u)``), which removes the endpoint
singularities of (80): e.g. ``E[G_tau] = int_R L'(sigma(u)) sigma(u) sigma(-u)
p(eta - tau u) du``.  The line is truncated to ``|u| <= U`` and the tail is
bounded rigorously (``sigma(u) sigma(-u) <= e^-|u|``, ``p <= 1/4``,
``|L'| <= M`` on [0, 1], ``M`` an Arb bound); the returned radius is the
quadrature radius plus the tail bound.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import flint
import mpmath
import sympy

from stecheck.numerics.quadrature import (
    PrecisionNotReached,
    QuadratureResult,
    arb_to_mpf,
    flint_precision,
    start_precision,
    acb_integrand,
    certified_integral_1d,
    meets_digits,
    to_arb,
)
from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.selftest import OncePerProcess

from .parsing import parse_loss

__all__ = [
    "ETA", "TAU", "V", "U", "Z", "Y", "XD",
    "DEFAULT_LOSS", "LINEAR_LOSS", "ENCODINGS",
    "logistic_pdf", "sigma_tau", "as_loss",
    "C1_PRINTED", "C2_PRINTED_READING", "C2_PRINTED_FRAGMENT",
    "derive_integral_representation", "taylor_coefficients", "logit_moment",
    "bias_coefficients", "second_moment_coefficients", "stgs_expansion", "stgs_limit_ratio",
    "derive_vanishing_rate", "true_gradient",
    "large_gradient_probability", "large_gradient_asymptote", "PRINTED_91",
    "expected_gs_gradient", "gs_second_moment", "expected_stgs_gradient",
    "RemainderRow", "series_remainders", "remainder_orders",
]

ETA = sympy.Symbol("eta", real=True)
TAU = sympy.Symbol("tau", positive=True)
V = sympy.Symbol("v", positive=True)  # in (0, 1)
U = sympy.Symbol("u", real=True)
Z = sympy.Symbol("z", real=True)
Y = sympy.Symbol("y", real=True)  # state / relaxed state (argument of L)
XD = sympy.Symbol("x", positive=True)  # eta - z in Prop. E.2 (x > 0 by symmetry)
_W = sympy.Symbol("w", positive=True)  # e^eta
_S = sympy.Symbol("s")

#: A nonlinear loss whose bias has non-zero tau, tau^2 and tau^3 terms for eta != 0.
DEFAULT_LOSS = Y**3
LINEAR_LOSS = Y
ENCODINGS = ("01", "pm1", "pm1-mixed")


def logistic_pdf(t: sympy.Expr) -> sympy.Expr:
    """Standard logistic density ``e^-t / (1 + e^-t)^2`` (symmetric: equals ``e^t/(1+e^t)^2``)."""
    return sympy.exp(-t) / (1 + sympy.exp(-t)) ** 2


def sigma_tau(t: sympy.Expr, tau: sympy.Expr = TAU) -> sympy.Expr:
    """``sigma(t / tau) = 1 / (1 + e^{-t/tau})`` (eq. (73))."""
    return 1 / (1 + sympy.exp(-t / tau))


def _logit(v):
    return sympy.log(v) - sympy.log(1 - v)


_P_ETA_W = _W / (1 + _W) ** 2  # p(eta) in w = e^eta

#: Printed c1 of eq. (85) as read: ``p_z(eta) (e^eta - 1)/(e^eta + 1)``.  The
#: extraction kept "Pz (η) eη+1" (the denominator); the numerator ``e^eta - 1``
#: is the reading consistent with the fraction layout.
C1_PRINTED = logistic_pdf(ETA) * (sympy.exp(ETA) - 1) / (sympy.exp(ETA) + 1)
#: The printed c2 of eq. (85) is illegible in the extracted text.
C2_PRINTED_FRAGMENT = "pz (η) -累++：；+1"
#: The reading of the printed c2 consistent with the legible fragments ('-', '+', '+1').
C2_PRINTED_READING = (
    logistic_pdf(ETA) * (sympy.exp(2 * ETA) - 4 * sympy.exp(ETA) + 1) / (2 * (sympy.exp(ETA) + 1) ** 2)
)


# --------------------------------------------------------------------------- validation


def as_loss(loss: Any) -> sympy.Expr:
    """A loss ``L(y)`` as a sympy expression in :data:`Y`.

    Accepts a sympy expression whose only free symbol is ``y`` (or ``x1``), or
    text such as ``"x1**3"`` (parsed by :func:`theory.parsing.parse_loss`;
    the single variable must be ``x1``).
    """
    if isinstance(loss, str):
        expr, n = parse_loss(loss)
        if n != 1 or expr.free_symbols != {sympy.Symbol("x1")}:
            raise InvalidArgument(
                f"loss {loss!r} must depend on the single variable x1 only (one binary unit); "
                "e.g. 'x1**3' or '2*x1 - 1'."
            )
        return expr.subs(sympy.Symbol("x1"), Y)
    if isinstance(loss, sympy.Expr):
        syms = loss.free_symbols
        if syms == {sympy.Symbol("x1")}:
            return loss.subs(sympy.Symbol("x1"), Y)
        if syms <= {Y}:
            return loss
        bad = {s for s in syms if s.name == "y"}
        hint = " (use theory.gumbel_softmax.Y, a real Symbol('y'))" if bad else ""
        raise InvalidArgument(
            f"loss {loss} has free symbols {sorted(map(str, syms))}; expected an expression in y only{hint}."
        )
    raise InvalidArgument(
        f"loss {loss!r} of type {type(loss).__name__} is not a loss; expected a sympy expression in "
        "theory.gumbel_softmax.Y or text in x1 such as 'x1**3'."
    )


def _as_tau(tau: Any) -> flint.arb:
    try:
        t = to_arb(tau)
    except InvalidArgument as exc:
        raise InvalidArgument(f"tau={tau!r}: {exc} Expected a temperature tau > 0, e.g. tau=0.1.") from None
    if not (t > 0):
        raise InvalidArgument(
            f"tau={tau!r} is not a positive temperature; expected tau > 0 (the relaxation "
            "sigma((eta - z)/tau) needs tau > 0). Pass e.g. tau=0.1; the limit tau -> 0 is in the series."
        )
    return t


def _as_eta(eta: Any) -> flint.arb:
    try:
        return to_arb(eta)
    except InvalidArgument as exc:
        raise InvalidArgument(f"eta={eta!r}: {exc} Expected a finite real logit, e.g. eta=0.5.") from None


def _as_encoding(encoding: Any) -> str:
    if encoding not in ENCODINGS:
        raise InvalidArgument(
            f"encoding={encoding!r} is not known; expected one of {ENCODINGS} "
            "('01': x in {0,1}; 'pm1': s = 2x - 1 with relaxed 2y - 1; 'pm1-mixed': forward s, backward y)."
        )
    return encoding


# --------------------------------------------------------------------------- (a) eq. (80)


def derive_integral_representation() -> dict[str, sympy.Expr]:
    """Eqs. (77)-(80) for a generic loss ``L``: chain rule, then ``z = eta - tau logit(v)``.

    Returns ``gs_gradient`` (77), ``factorized`` (79), ``integrand_v`` (the
    transformed integrand, simplified) and ``integrand_80`` (the printed
    ``L'(v) p(eta - tau logit v)``); raises ``AssertionError`` if the
    transformed integrand differs from (80).
    """
    L = sympy.Function("L")
    Lp = sympy.Function("Lprime")  # stands for L'
    y1 = sigma_tau(ETA - Z)
    grad = sympy.diff(L(y1), ETA).replace(
        lambda e: isinstance(e, sympy.Subs), lambda e: Lp(e.point[0])
    ).replace(lambda e: isinstance(e, sympy.Derivative), lambda e: Lp(e.args[0].args[0]))
    factorized = Lp(y1) * y1 * (1 - y1) / TAU
    assert sympy.cancel(grad - factorized) == 0, "eq. (79) does not follow from the chain rule"
    z_of_v = ETA - TAU * _logit(V)
    y1_v = sympy.simplify(y1.subs(Z, z_of_v))
    assert y1_v == V, f"sigma_tau(eta - z(v)) simplified to {y1_v}, not v"
    jac = sympy.diff(z_of_v, V)  # dz/dv = -tau / (v (1 - v)); orientation flips the limits
    zv = sympy.Dummy("z")  # keep p(z) opaque while the Jacobian cancels, then substitute z(v)
    integrand_v = sympy.cancel((Lp(y1_v) * y1_v * (1 - y1_v) / TAU) * sympy.Function("p")(zv) * (-jac))
    integrand_v = integrand_v.replace(sympy.Function("p"), lambda arg: logistic_pdf(arg)).subs(zv, z_of_v)
    integrand_80 = Lp(V) * logistic_pdf(ETA - TAU * _logit(V))
    assert sympy.cancel(integrand_v - integrand_80) == 0, "substitution does not give eq. (80)"
    return {
        "gs_gradient": grad,
        "factorized": factorized,
        "jacobian_dz_dv": sympy.simplify(jac),
        "integrand_v": integrand_v,
        "integrand_80": integrand_80,
    }


# --------------------------------------------------------------------------- (b) eqs. (84)-(86)


@functools.lru_cache(maxsize=None)
def _c_w(k: int) -> sympy.Expr:
    """``c_k`` as a rational function of ``w = e^eta``: ``(-1)^k/k! (w d/dw)^k p``."""
    e = _P_ETA_W
    for _ in range(k):
        e = sympy.cancel(_W * sympy.diff(e, _W))
    return sympy.factor((-1) ** k * e / sympy.factorial(k))


def taylor_coefficients(order: int) -> tuple[sympy.Expr, ...]:
    """``(c_0, ..., c_order)`` with ``p(eta - tau u) = sum_k c_k(eta) u^k tau^k + O(tau^{order+1})``.

    ``c_0 = p(eta)``; ``c_k = (-1)^k p^(k)(eta)/k!`` (Taylor's theorem in
    ``tau``), simplified as rational functions of ``e^eta``.
    """
    if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= 12:
        raise InvalidArgument(f"order={order!r} is not an int in [0, 12]; pass e.g. order=3.")
    return tuple(_c_w(k).subs(_W, sympy.exp(ETA)) for k in range(order + 1))


@functools.lru_cache(maxsize=None)
def _pi_s_over_sin(order: int) -> tuple[sympy.Expr, ...]:
    ser = sympy.series(sympy.pi * _S / sympy.sin(sympy.pi * _S), _S, 0, order + 1).removeO()
    return tuple(sympy.expand(ser).coeff(_S, j) for j in range(order + 1))


def logit_moment(poly: sympy.Expr, k: int) -> sympy.Expr:
    """``int_0^1 q(v) logit(v)^k dv`` for a polynomial ``q`` in :data:`Y` (closed form).

    From ``int_0^1 v^m (v/(1-v))^s dv = B(m+1+s, 1-s)
    = prod_{j=1}^m (j+s) * (pi s / sin(pi s)) / (m+1)!``, differentiated ``k``
    times at ``s = 0``.
    """
    q = sympy.Poly(sympy.expand(poly), Y)
    series = _pi_s_over_sin(k)
    total = sympy.Integer(0)
    for (m,), a in q.terms():
        prod = sympy.expand(sympy.prod([j + _S for j in range(1, m + 1)]))
        coeff_k = sum(prod.coeff(_S, i) * series[k - i] for i in range(k + 1))
        total += a * sympy.factorial(k) * coeff_k / sympy.factorial(m + 1)
    return sympy.nsimplify(sympy.expand(total)) if total.is_Rational else sympy.expand(total)


def _require_polynomial_derivative(L: sympy.Expr) -> sympy.Expr:
    Lp = sympy.diff(L, Y)
    if not Lp.is_polynomial(Y):
        raise InvalidArgument(
            f"the series coefficients need a polynomial L'(y); got L'(y) = {Lp}. Use a polynomial loss "
            "(e.g. y**3), or compare with the exact expectation by quadrature instead."
        )
    return Lp


def true_gradient(loss: Any = DEFAULT_LOSS, encoding: str = "01") -> sympy.Expr:
    """``d/d eta E[L(state)]`` with ``P(x1 = 1) = sigma(eta)``.

    {0,1}: ``(L(1) - L(0)) p(eta)``; +-1 (state ``s = 2 x1 - 1``):
    ``(L(1) - L(-1)) p(eta)``.
    """
    L = as_loss(loss)
    enc = _as_encoding(encoding)
    lo = 0 if enc == "01" else -1
    return sympy.factor((L.subs(Y, 1) - L.subs(Y, lo)) * _P_ETA_W.subs(_W, sympy.exp(ETA)))


def bias_coefficients(loss: Any, order: int) -> tuple[sympy.Expr, ...]:
    """``(b_0, ..., b_order)``: ``E[G_tau] = sum_k b_k(eta) tau^k + O(tau^{order+1})``, eq. (86).

    ``b_k = c_k(eta) * I_k`` with ``I_k = int_0^1 L'(v) logit(v)^k dv``;
    ``b_0`` is the true gradient ``(L(1) - L(0)) p(eta)``.
    """
    L = as_loss(loss)
    Lp = _require_polynomial_derivative(L)
    cs = taylor_coefficients(order)
    return tuple(sympy.factor(cs[k] * logit_moment(Lp, k)) for k in range(order + 1))


def second_moment_coefficients(loss: Any, order: int) -> tuple[sympy.Expr, ...]:
    """``(m_{-1}, m_0, ..., m_{order-1})``: ``E[G_tau^2] = sum_k m_{k-1} tau^{k-1} + O(tau^order)``.

    Eqs. (92)-(97): ``m_{k-1} = c_k(eta) A_k``, ``A_k = int_0^1 L'(v)^2 v(1-v) logit(v)^k dv``.
    """
    L = as_loss(loss)
    Lp = _require_polynomial_derivative(L)
    cs = taylor_coefficients(order)
    weight = sympy.expand(Lp**2 * Y * (1 - Y))
    return tuple(sympy.factor(cs[k] * logit_moment(weight, k)) for k in range(order + 1))


# --------------------------------------------------------------------------- (d) eqs. (98)-(100)


@functools.lru_cache(maxsize=None)
def _half_logit_moments(order: int) -> tuple[sympy.Expr, ...]:
    """``int_{1/2}^1 logit(v)^k dv = int_0^inf u^k sigma(u) sigma(-u) du`` for k = 0..order.

    Closed form: ``1/2`` for ``k = 0``, ``k! (1 - 2^{1-k}) zeta(k)`` for ``k >= 1``
    (``ln 2`` for ``k = 1``), from ``sigma(u) sigma(-u) = sum_n (-1)^{n+1} n e^{-n u}``.
    The ``k <= 2`` values are re-derived by sympy integration in the tests.
    """
    out = [sympy.Rational(1, 2)]
    for k in range(1, order + 1):
        out.append(sympy.log(2) if k == 1 else sympy.factorial(k) * (1 - sympy.Integer(2) ** (1 - k)) * sympy.zeta(k))
    return tuple(sympy.simplify(e) for e in out)


def stgs_expansion(loss: Any, encoding: str, order: int) -> tuple[sympy.Expr, ...]:
    """``(e_0, ..., e_order)``: ``E[ST-GS] = sum_k e_k(eta) tau^k + O(tau^{order+1})``.

    {0,1}: ``E = L'(1) J+ + L'(0) J-`` (eqs. (99)-(100)) with
    ``J+- = int p(eta - tau logit v) dv`` over ``[1/2, 1]`` / ``[0, 1/2]``, so
    ``J+- = p/2 +- c1 ln2 tau + c2 (pi^2/6) tau^2 + ...``.  +-1: the loss
    ``L(s)``, ``s = 2 x1 - 1``; backward through ``2 y1 - 1`` (``pm1``, factor 2)
    or through ``y1`` (``pm1-mixed``, factor 1); ``L'`` at ``s = +-1``.
    """
    L = as_loss(loss)
    enc = _as_encoding(encoding)
    Lp = sympy.diff(L, Y)
    hi, lo = (1, 0) if enc == "01" else (1, -1)
    factor = 2 if enc == "pm1" else 1
    cs = taylor_coefficients(order)
    h = _half_logit_moments(order)
    d_hi, d_lo = Lp.subs(Y, hi), Lp.subs(Y, lo)
    # J+ = sum c_k tau^k h_k ; J- = sum c_k tau^k (-1)^k h_k (logit is odd about 1/2)
    return tuple(
        sympy.factor(factor * cs[k] * h[k] * (d_hi + (-1) ** k * d_lo)) for k in range(order + 1)
    )


def stgs_limit_ratio(loss: Any = LINEAR_LOSS, encoding: str = "01") -> sympy.Expr:
    """``lim_{tau -> 0} E[ST-GS] / (true gradient)`` (a function of nothing for a linear loss)."""
    e0 = stgs_expansion(loss, encoding, order=0)[0]
    true = true_gradient(loss, "01" if encoding == "01" else "pm1")
    if sympy.simplify(true) == 0:
        raise InvalidArgument(f"the true gradient of loss {as_loss(loss)} is 0; the ratio is undefined.")
    return sympy.simplify(e0 / true)


# --------------------------------------------------------------------------- (e) eq. (87)


def derive_vanishing_rate() -> dict[str, sympy.Expr]:
    """Prop. E.2, eq. (87), for fixed ``x = eta - z > 0`` (``x < 0`` by symmetry of ``p``).

    Returns ``derivative`` (``d/dx sigma_tau(x)``), ``printed_87``
    (``p(x/tau)/tau``), ``rate`` (``(1/tau) C^{1/tau}``, ``C = e^-x``) and
    ``limit_ratio`` (``lim_{tau->0+} derivative / rate``, derived: 1).
    """
    deriv = sympy.diff(sigma_tau(XD), XD)
    printed = logistic_pdf(XD / TAU) / TAU
    assert sympy.simplify(deriv - printed) == 0, "eq. (87): d sigma_tau/dx != p(x/tau)/tau"
    rate = sympy.exp(-XD) ** (1 / TAU) / TAU
    ratio = sympy.simplify(printed / rate)
    lim = sympy.limit(ratio, TAU, 0, "+")
    return {"derivative": deriv, "printed_87": printed, "rate": rate, "ratio": ratio, "limit_ratio": lim}


# --------------------------------------------------------------------------- (f) eqs. (88)-(91)

#: Eq. (91) as printed, ``p_Z(eta) tau logit(s*)``, with the printed threshold ``s(1 - s) >= eps``
#: (an expression in ETA, TAU and the symbol ``eps``).
_EPS = sympy.Symbol("eps", positive=True)
_S_STAR_PRINTED = (1 - sympy.sqrt(1 - 4 * _EPS)) / 2
PRINTED_91 = logistic_pdf(ETA) * TAU * _logit(_S_STAR_PRINTED)


def _threshold(tau: flint.arb, eps: Any, printed: bool) -> flint.arb:
    try:
        e = to_arb(eps)
    except InvalidArgument as exc:
        raise InvalidArgument(f"eps={eps!r}: {exc} Expected a threshold 0 < eps, e.g. eps=1e-6.") from None
    if not (e > 0):
        raise InvalidArgument(f"eps={eps!r} is not positive; expected a gradient threshold eps > 0, e.g. eps=1e-6.")
    return e if printed else e * tau


def large_gradient_probability(eta: Any, tau: Any, eps: Any, *, printed_threshold: bool = False,
                               digits: int = 30) -> flint.arb:
    """Exact ``P(d/d eta sigma_tau(eta - z) >= eps)`` for logistic ``z`` (an Arb ball, closed form).

    ``d/d eta sigma_tau(eta - z) = s(1 - s)/tau`` with ``s = sigma_tau(eta - z)``, so the event is
    ``s(1 - s) >= eps tau``; ``printed_threshold=True`` uses the printed (88)-(89) ``s(1 - s) >= eps``
    (which drops the ``1/tau``).  The set is ``|eta - z| <= tau l``, ``l = logit(1 - s*)``; for a
    threshold ``> 1/4`` the probability is 0.
    """
    digits = _check_digits(digits)
    with flint_precision(start_precision(digits) + 64):
        t, e = _as_tau(tau), _as_eta(eta)
        thr = _threshold(t, eps, printed_threshold)
        if thr > flint.arb(1) / 4:
            return flint.arb(0)
        s_star = (1 - (1 - 4 * thr).sqrt()) / 2
        ell = ((1 - s_star) / s_star).log()
        sig = lambda x: 1 / (1 + (-x).exp())  # noqa: E731
        return sig(e + t * ell) - sig(e - t * ell)


def large_gradient_asymptote(eta: Any, tau: Any, eps: Any, *, printed_threshold: bool = False,
                             digits: int = 30) -> flint.arb:
    """The first-order term ``2 p(eta) tau l`` of :func:`large_gradient_probability` (tau -> 0)."""
    digits = _check_digits(digits)
    with flint_precision(start_precision(digits) + 64):
        t, e = _as_tau(tau), _as_eta(eta)
        thr = _threshold(t, eps, printed_threshold)
        s_star = (1 - (1 - 4 * thr).sqrt()) / 2
        ell = ((1 - s_star) / s_star).log()
        return 2 * _p(flint.acb(e)).real * t * ell


# --------------------------------------------------------------------------- exact values (quadrature)


def _sig(u: flint.acb) -> flint.acb:
    return 1 / (1 + (-u).exp())


def _w(u: flint.acb) -> flint.acb:
    """``sigma(u) sigma(-u) = 1 / (4 cosh^2(u/2))``."""
    c = (u / 2).cosh()
    return 1 / (4 * c * c)


def _p(t: flint.acb) -> flint.acb:
    c = (t / 2).cosh()
    return 1 / (4 * c * c)


def _sup_abs_on_unit(f) -> flint.arb:
    """An Arb upper bound of ``|f|`` on [0, 1] (by bisection into 64 balls)."""
    best = flint.arb(0)
    for i in range(64):
        ball = flint.acb(flint.arb(flint.fmpq(2 * i + 1, 128), flint.fmpq(1, 128)))
        val = f(ball, False)
        if not val.is_finite():
            raise InvalidArgument(
                "L'(y) is not bounded on [0, 1] (its enclosure is infinite); expected a loss with a bounded "
                "derivative on [0, 1] (the GS integrals may diverge otherwise)."
            )
        best = max(best, flint.arb(abs(val).upper()))
    # soundness: the bound must dominate |f| at the 129 points k/128 (endpoints included), each evaluated at an
    # exact point rather than on a ball; a bisection that misses part of [0, 1] fails here where |f| peaks there
    for k in range(129):
        val = f(flint.acb(flint.arb(flint.fmpq(k, 128))), False)
        if not abs(val).lower() <= best:
            raise SelfCheckFailed(f"_sup_abs_on_unit: the bound {best} of |L'| on [0, 1] is below |L'({k}/128)| = "
                                  f"{abs(val)}; the bisection does not cover [0, 1]. Fix theory/gumbel_softmax.py.")
    return best


def _cutoff(digits: int, bound: flint.arb, eta: flint.arb, decay: int) -> int:
    """The smallest integer ``U >= 0`` with ``B e^(-decay U) <= 10^-(digits+8) e^(-|eta|-5)``, ``B = max(bound, 1)``.

    Checked on every call by :func:`_check_cutoff` (a search over ``U = 0, 1, ...`` in the exponential domain):
    a ``U`` that misses the target breaks the tail bound; one above the smallest wastes work and changes the
    enclosure."""
    logb = math.log(max(float(bound.upper()), 1.0))
    cut = int(math.ceil(((digits + 8) * math.log(10) + logb + abs(float(eta.mid())) + 5) / decay))
    _check_cutoff(cut, digits, bound, eta, decay)
    return cut


def _check_cutoff(cut: int, digits: int, bound: flint.arb, eta: flint.arb, decay: int) -> None:
    """Raise :class:`~stecheck.errors.SelfCheckFailed` (a fault of this module) unless ``cut`` is the smallest
    integer ``U >= 0`` with ``B e^(-decay U) <= target = 10^-(digits+8) e^(-|eta|-5)`` (``B = max(bound, 1)``), found
    by a search over ``U = 0, 1, ...`` in 30-digit mpmath, or is that ``U`` plus one at a near tie: the float formula
    of :func:`_cutoff` (relative error ~1e-15) may round ``x / decay`` up past an integer it lies just below, which
    happens only when ``B e^(-decay U) >= target (1 - 10^-12)``, i.e. ``U`` meets the target by a relative margin
    below ``1e-12``.  (Before session 13 the tie test read ``B e^(-decay U) <= target (1 + 10^-12)``, which holds for
    every ``U`` the search returns, so any ``U + 1`` was accepted.)"""
    with mpmath.workdps(30):
        big = max(mpmath.mpf(float(bound.upper())), 1)
        target = mpmath.mpf(10) ** (-(digits + 8)) * mpmath.exp(-abs(mpmath.mpf(float(eta.mid()))) - 5)
        meets = lambda u: big * mpmath.exp(-decay * u) <= target  # noqa: E731
        smallest = 0
        while not meets(smallest):
            smallest += 1
        # the float formula may round up past an exact boundary: smallest then meets the target within 1e-12
        near_tie = cut == smallest + 1 and big * mpmath.exp(-decay * smallest) >= target * (1 - mpmath.mpf(10) ** -12)
    if cut != smallest and not near_tie:
        raise SelfCheckFailed(f"_cutoff(digits={digits}, bound={float(bound.upper()):.6g}, eta={float(eta.mid()):.6g}, "
                              f"decay={decay}) = {cut}, but the smallest U with bound e^(-decay U) <= 10^-(digits+8) "
                              f"e^(-|eta|-5) is {smallest} (and {cut} is not that U plus one at a near tie). Fix the "
                              "cutoff formula in theory/gumbel_softmax.py.")


def _audit_tail(tail: flint.arb, digits: int, eta: flint.arb, method: str) -> flint.arb:
    """The promise of :func:`_cutoff`, checked on the tail actually added: ``tail <= 10^-(digits+8) e^(-|eta|-5)``.

    Each caller's tail is ``bound e^(-decay U) / c`` (``c`` in {2, 4}) with the ``bound`` it passed to
    :func:`_cutoff`, which chose ``U`` so that ``bound e^(-decay U) <= 10^-(digits+8) e^(-|eta|-5)``; a tail above
    that means the cutoff was computed from another bound than the tail's (the eight guard digits are then eaten,
    or the precision check fails).  Raises ArithmeticError (a fault of this module)."""
    target = 10.0 ** -(digits + 8) * math.exp(-abs(float(eta.mid())) - 5)
    if not float(tail.upper()) <= target:
        raise ArithmeticError(f"{method}: the tail bound {float(tail.upper()):.3g} beyond the cutoff exceeds the "
                              f"{target:.3g} the cutoff was chosen for; the cutoff's bound and the tail disagree.")
    return tail


def _check_realized_tail(realized: flint.arb, tail: flint.arb, hi: Any, method: str) -> None:
    """Raise ArithmeticError unless the realized tail's lower end is ``<=`` the tail bound's upper end (a tail
    bound below a realized part of the tail is wrong, whatever its derivation says)."""
    if not realized.lower() <= tail.upper():
        raise ArithmeticError(f"{method}: the tail bound {float(tail.upper()):.3g} beyond |u| = {hi} is below the "
                              f"realized tail on the next unit interval alone ({float(realized.lower()):.3g}); "
                              "the tail bound is wrong.")


def _truncated(integrand, lo, hi, *, digits, tail: flint.arb, method: str) -> QuadratureResult:
    """Certified integral over [lo, hi] plus a rigorous ``tail`` added to the radius."""
    core = certified_integral_1d(integrand, lo, hi, digits=digits + 3)
    # the tail bound against the realized tail: |int_hi^(hi+1) f| + |int_(lo-1)^lo f| <= int_{|u| > U} |f| must not
    # exceed it (a bound below the realized value is wrong, whatever its derivation says)
    near = []
    for a, b in ((hi, hi + 1), (lo - 1, lo)):
        try:
            near.append(certified_integral_1d(integrand, a, b, digits=5).ball)
        except PrecisionNotReached:  # a side where f is (nearly) 0, e.g. L'(0) = 0: it adds nothing to a lower bound
            pass
    with flint_precision(core.prec + 16):
        realized = sum((abs(r) for r in near), flint.arb(0))
        _check_realized_tail(realized, tail, hi, method)
        ball = core.ball + flint.arb(0, tail.upper())
        if not meets_digits(ball, digits, relative=True):
            raise PrecisionNotReached(
                f"{method}: {digits} correct digits requested but the truncated integral {ball} "
                f"(tail bound {tail.upper()}) does not reach them at {core.prec} bits; lower digits."
            )
        return QuadratureResult(
            value=arb_to_mpf(ball.mid()), radius=arb_to_mpf(ball.rad()), digits=digits,
            method=f"{method}; arb quadrature on [{lo}, {hi}] + rigorous tail bound", certified=True,
            prec=core.prec, relative=True, ball=ball,
        )


def _check_digits(digits: Any) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 5:
        raise InvalidArgument(
            f"digits={digits!r} is not an integer >= 5; expected the number of certified digits "
            "(default 30). Pass digits=30, or at least digits=5."
        )
    return digits


def _memo(fn):
    """Memoize an exact-value routine on hashable arguments (results are immutable)."""
    cached = functools.lru_cache(maxsize=512)(fn)

    @functools.wraps(fn)
    def wrapper(eta, tau, loss, digits, *rest):
        try:
            return cached(eta, tau, loss, digits, *rest)
        except TypeError:  # unhashable argument (e.g. a flint ball): compute without the cache
            return fn(eta, tau, loss, digits, *rest)

    return wrapper


#: Self-test point: eta = 3/10, tau = 1/2, L = y^3 + y^2 (L'(0) = 0, L'(1) = 5, L'(-1) = 1: the three states differ).
_SELFTEST_ETA, _SELFTEST_TAU, _SELFTEST_LOSS = "0.3", "0.5", Y**3 + Y**2


def _outside_reference(value, radius, ref, err) -> bool:
    """The comparison of :func:`_exact_selftest_failures`: ``True`` (a mismatch) when mpmath's error estimate
    ``err`` of the reference exceeds ``1e-19`` or ``|value - ref| > radius + err + 1e-19`` (``1e-19``: the rounding
    of 22-digit arithmetic, which mpmath's estimate leaves out)."""
    return err > mpmath.mpf(10) ** -19 or abs(value - ref) > radius + err + mpmath.mpf(10) ** -19


def _exact_selftest_failures() -> list[str]:
    """Each certified expectation against an independent mpmath value at one point, and the ``|L'|`` bound
    against a known supremum, or ``[]``.

    The references integrate over the logistic noise ``z`` itself (tanh-sinh, 22 digits, split at ``z = eta``):
    ``E[G] = int L'(s) s(1-s)/tau p(z) dz``, ``E[G^2] = int (L'(s) s(1-s)/tau)^2 p(z) dz`` with
    ``s = sigma((eta - z)/tau)``, and ``E[ST-GS] = factor int L'(x1(z)) s(1-s)/tau p(z) dz`` with ``x1 = hi`` for
    ``z < eta`` and ``lo`` otherwise (both encodings) -- not the substituted, truncated ``u``-integrals with tail
    bounds that the routines compute.  Each certified ball (15 digits) must contain the reference up to its
    quadrature error estimate plus ``1e-19`` (the rounding of 22-digit arithmetic, which mpmath's estimate leaves
    out); a wrong term count, cutoff, tail constant, state value or encoding factor shows.  The comparison itself
    is run on controls first (a reference ``0.5e-19`` beyond the allowance accepted, ``2e-19`` beyond refused).

    Also :func:`_cutoff` on a near tie that the claims' inputs never hit: at ``digits = 15``, ``B = 1``,
    ``decay = 1`` and ``eta = 1.040542861136947`` (about 1e-15 below ``59 - 5 - 23 ln 10``) the smallest ``U``
    is 59 (50-digit mpmath), while the float formula rounds up to 60; ``_cutoff`` must accept that rounding
    (return 59 or 60) instead of raising.

    Negative controls (each check of a promise must be able to say no; the claims' inputs only ever pass them):
    :func:`_check_cutoff` must refuse ``U - 1`` and ``U + 1`` away from a tie (``eta = 0.5``: the smallest
    ``U = ceil(23 ln 10 + 5.5) = 59``, exponent margin 0.54, far from 1e-12) and ``U + 2`` at the tie, accept
    ``U + 1 = 60`` where ``U = 59`` meets the target by a relative margin of ``5e-13`` and refuse it at ``2e-12``
    (the near-tie rule's ``1e-12`` from both sides);
    :func:`_audit_tail` must refuse a tail ``1e-9`` relative above ``10^-23 e^(-0.3-5)`` (computed here in
    mpmath; the float target has relative error ~1e-15) and accept one ``1e-9`` below; the bound test on
    ``_sup_abs_on_unit(3 y^2)`` must refuse ``3 (1 - 2^-40)`` and ``3 (1 + 2^-24)`` and accept the ends ``3`` and
    ``3 (1 + 2^-25)`` of its interval.
    """
    L = _SELFTEST_LOSS
    Lp = sympy.lambdify(Y, sympy.diff(L, Y), "mpmath")
    failures = []
    tie_eta = 1.040542861136947
    with mpmath.workdps(50):
        tie_smallest = int(mpmath.ceil(23 * mpmath.log(10) + 5 + mpmath.mpf(tie_eta)))
        plain_smallest = int(mpmath.ceil(23 * mpmath.log(10) + 5 + mpmath.mpf(0.5)))
        # U = 59 meets the target by a relative margin 1 - e^(-delta) ~ delta: 5e-13 (inside the 1e-12 of a near tie)
        # and 2e-12 (outside it)
        margin_eta = {d: float(59 - 5 - 23 * mpmath.log(10) - mpmath.mpf(d)) for d in ("5e-13", "2e-12")}
        tail_target = float(mpmath.mpf(10) ** -23 * mpmath.exp(-mpmath.mpf(0.3) - 5))
    try:
        tie_cut = _cutoff(15, flint.arb(1), flint.arb(tie_eta), 1)
    except SelfCheckFailed as exc:
        tie_cut = f"SelfCheckFailed ({exc})"
    if tie_smallest != 59 or tie_cut not in (tie_smallest, tie_smallest + 1):
        failures.append(f"_cutoff(15, 1, eta={tie_eta!r}, 1) = {tie_cut}; expected the exact smallest U = 59 "
                        f"(50-digit mpmath: {tie_smallest}) or 60 (the float formula's rounding at this near tie)")

    def cutoff_accepted(cut, eta):
        try:
            _check_cutoff(cut, 15, flint.arb(1), flint.arb(eta), 1)
        except SelfCheckFailed:
            return False
        return True

    verdicts = {(u, eta): cutoff_accepted(u, eta) for u, eta in ((plain_smallest - 1, 0.5), (plain_smallest, 0.5),
                                                                 (plain_smallest + 1, 0.5), (tie_smallest, tie_eta),
                                                                 (tie_smallest + 1, tie_eta),
                                                                 (tie_smallest + 2, tie_eta),
                                                                 (60, margin_eta["5e-13"]), (60, margin_eta["2e-12"]),
                                                                 (59, margin_eta["2e-12"]))}
    want = {(plain_smallest - 1, 0.5): False, (plain_smallest, 0.5): True, (plain_smallest + 1, 0.5): False,
            (tie_smallest, tie_eta): True, (tie_smallest + 1, tie_eta): True, (tie_smallest + 2, tie_eta): False,
            (60, margin_eta["5e-13"]): True, (60, margin_eta["2e-12"]): False, (59, margin_eta["2e-12"]): True}
    if plain_smallest != 59 or verdicts != want:
        failures.append(f"_check_cutoff(U, 15, 1, eta, 1) accepts {verdicts}; expected {want} (the smallest U is "
                        f"{plain_smallest} at eta = 0.5, no tie; U + 1 only at the near tie eta = {tie_eta!r})")
    tail_verdicts = []
    for rel in (1 - 1e-9, 1 + 1e-9):
        try:
            _audit_tail(flint.arb(tail_target * rel), 15, flint.arb(0.3), "selftest")
            tail_verdicts.append(True)
        except ArithmeticError:
            tail_verdicts.append(False)
    if tail_verdicts != [True, False]:
        failures.append(f"_audit_tail(15, eta = 0.3) accepts the tails (1 -+ 1e-9) x {tail_target:.6g}: "
                        f"{tail_verdicts}; expected [True, False] (the target 10^-23 e^(-5.3), 50-digit mpmath)")
    # the |L'| bound on [0, 1]: for L' = 3y^2 (increasing) the 64 balls that cover exactly [0, 1] bound it by
    # 3 y^2 on the last ball [63/64, 1], i.e. sup = 3 up to its 30-bit magnitude rounding (2^-25 allowed); balls
    # reaching past 1 give more (65 balls: 3.09), balls missing part of [0, 1] less (also caught inside
    # _sup_abs_on_unit by its point values)

    def sup_ok(b):
        return b >= 3 and b <= 3 * (1 + flint.arb(2) ** -25)

    with flint_precision(128):
        bound = _sup_abs_on_unit(acb_integrand(3 * Y**2, Y))
        controls = [3 * (1 - flint.arb(2) ** -40), 3 * (1 + flint.arb(2) ** -24)]  # outside: refused
        ends = [flint.arb(3), 3 * (1 + flint.arb(2) ** -25)]  # the two ends of the interval, exact: accepted
        verdicts = [sup_ok(b) for b in (bound, *controls, *ends)]
        if verdicts != [True, False, False, True, True]:
            failures.append(f"_sup_abs_on_unit(3 y^2) = {bound}, expected sup_[0,1] 3 y^2 = 3 (up to 2^-25 relative: "
                            "the bound is a 30-bit upper magnitude); the test must accept it, refuse 3 (1 - 2^-40) and "
                            f"3 (1 + 2^-24) and accept 3 and 3 (1 + 2^-25): it gives {verdicts} (expected [True, False, "
                            "False, True, True])")
    with mpmath.workdps(22):
        eta, tau = mpmath.mpf(_SELFTEST_ETA), mpmath.mpf(_SELFTEST_TAU)

        def grad(z):
            s = 1 / (1 + mpmath.exp(-(eta - z) / tau))
            return s * (1 - s) / tau

        def dens(z):
            return 1 / (4 * mpmath.cosh(z / 2) ** 2)

        def split(fn_below, fn_above):
            lo_part, e1 = mpmath.quad(fn_below, [-mpmath.inf, eta], error=True)
            hi_part, e2 = mpmath.quad(fn_above, [eta, mpmath.inf], error=True)
            return lo_part + hi_part, e1 + e2

        def quad(fn):
            return split(fn, fn)

        refs = {
            "E[G_tau]": (quad(lambda z: Lp(1 / (1 + mpmath.exp(-(eta - z) / tau))) * grad(z) * dens(z)),
                         lambda: expected_gs_gradient(_SELFTEST_ETA, _SELFTEST_TAU, L, digits=15)),
            "E[G_tau^2]": (quad(lambda z: (Lp(1 / (1 + mpmath.exp(-(eta - z) / tau))) * grad(z)) ** 2 * dens(z)),
                           lambda: gs_second_moment(_SELFTEST_ETA, _SELFTEST_TAU, L, digits=15)),
        }
        for enc, (hi, lo, factor) in (("01", (1, 0, 1)), ("pm1", (1, -1, 2))):
            # x1 = hi where z < eta and lo where z > eta: one integrand on each side of the split, no branch
            refs[f"E[ST-GS] ({enc})"] = (
                split(lambda z, hi=hi, factor=factor: factor * Lp(hi) * grad(z) * dens(z),
                      lambda z, lo=lo, factor=factor: factor * Lp(lo) * grad(z) * dens(z)),
                lambda enc=enc: expected_stgs_gradient(_SELFTEST_ETA, _SELFTEST_TAU, L, encoding=enc, digits=15))
        refused = _outside_reference
        # the comparison itself must say no (value 0.1, radius 1e-16, error 5e-20, 22 digits resolve 1e-23): a
        # reference 0.5e-19 beyond radius + error is accepted, 2e-19 beyond refused on both sides; an error estimate
        # of exactly 1e-19 accepted, 2e-19 refused; a distance of exactly radius + error + 1e-19 accepted
        v0, r0, e0, q = mpmath.mpf("0.1"), mpmath.mpf("1e-16"), mpmath.mpf("5e-20"), mpmath.mpf(10) ** -19
        controls = [refused(v0, r0, v0 + s * (r0 + e0 + k * q), e0) for s in (1, -1) for k in (mpmath.mpf("0.5"), 2)]
        controls += [refused(v0, r0, v0, q), refused(v0, r0, v0, 2 * q)]
        # the end itself: at value 0 the distance to ref = r0 + e0 + q is that sum exactly (the same roundings)
        controls.append(refused(mpmath.mpf(0), r0, r0 + e0 + q, e0))
        if controls != [False, True, False, True, False, True, False]:
            failures.append(f"the self-test's comparison |value - ref| <= radius + error + 1e-19 (error <= 1e-19) "
                            f"gives {controls} on its controls; expected [False, True, False, True, False, True, False]")
        for name, ((ref, err), compute) in refs.items():
            r = compute()
            if refused(r.value, r.radius, ref, err):
                failures.append(f"{name} at eta = {_SELFTEST_ETA}, tau = {_SELFTEST_TAU}, L = {L}: certified {r}, "
                                f"mpmath over z {mpmath.nstr(ref, 20)} (error estimate {mpmath.nstr(err, 3)})")
    return failures


#: :func:`_exact_selftest_failures` once per process, at the first exact expectation; a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed` (a fault of this module).
_exact_selftest = OncePerProcess(
    _exact_selftest_failures,
    what="theory.gumbel_softmax: a certified expectation misses its independent reference",
    remedy="Fix the quadrature setup in theory/gumbel_softmax.py.")


def expected_gs_gradient(eta: Any, tau: Any, loss: Any = DEFAULT_LOSS, *, digits: int = 30) -> QuadratureResult:
    """``E_z[G_tau] = int_R L'(sigma(u)) sigma(u) sigma(-u) p(eta - tau u) du`` (certified).

    Tail for ``|u| > U``: at most ``M e^-U / 2`` (``M >= sup |L'|`` on [0, 1]).
    Results are memoized per process.
    """
    digits = _check_digits(digits)
    _exact_selftest()
    _as_tau(tau), _as_eta(eta)  # validate before the memo (True == 1 as a key)
    return _expected_gs(eta, tau, as_loss(loss), digits)


@_memo
def _expected_gs(eta, tau, L, digits) -> QuadratureResult:
    with flint_precision(start_precision(digits) + 32):
        t, e = _as_tau(tau), _as_eta(eta)
        fLp = acb_integrand(sympy.diff(L, Y), Y)
        M = _sup_abs_on_unit(fLp)
        cut = _cutoff(digits, M, e, 1)
        tail = _audit_tail(M * flint.arb(-cut).exp() / 2, digits, e, "E[G_tau] (GS, eq. (78))")

    def f(u, analytic):
        return fLp(_sig(u), analytic) * _w(u) * _p(e - t * u)

    return _truncated(f, -cut, cut, digits=digits, tail=tail, method="E[G_tau] (GS, eq. (78))")


def gs_second_moment(eta: Any, tau: Any, loss: Any = DEFAULT_LOSS, *, digits: int = 30) -> QuadratureResult:
    """``E_z[G_tau^2] = (1/tau) int_R L'(sigma(u))^2 (sigma(u) sigma(-u))^2 p(eta - tau u) du`` (eq. (94)).

    Tail for ``|u| > U``: at most ``M^2 e^{-2U} / (4 tau)``.  Memoized per process.
    """
    digits = _check_digits(digits)
    _exact_selftest()
    _as_tau(tau), _as_eta(eta)  # validate before the memo (True == 1 as a key)
    return _second_moment(eta, tau, as_loss(loss), digits)


@_memo
def _second_moment(eta, tau, L, digits) -> QuadratureResult:
    with flint_precision(start_precision(digits) + 32):
        t, e = _as_tau(tau), _as_eta(eta)
        fLp = acb_integrand(sympy.diff(L, Y), Y)
        M = _sup_abs_on_unit(fLp)
        cut = _cutoff(digits, M * M / t, e, 2)
        tail = _audit_tail(M * M * flint.arb(-2 * cut).exp() / (4 * t), digits, e, "E[G_tau^2] (GS, eq. (94))")

    def f(u, analytic):
        g = fLp(_sig(u), analytic) * _w(u)
        return g * g * _p(e - t * u) / t

    return _truncated(f, -cut, cut, digits=digits, tail=tail, method="E[G_tau^2] (GS, eq. (94))")


def expected_stgs_gradient(
    eta: Any, tau: Any, loss: Any = LINEAR_LOSS, *, encoding: str = "01", digits: int = 30
) -> QuadratureResult:
    """``E_z[ST-GS]``: ``factor * (L'(hi) J+ + L'(lo) J-)``, ``J+ = int_0^inf sigma sigma(-.) p(eta - tau u) du``.

    (``u > 0`` iff ``z < eta`` iff ``x1 = 1``.)  Each half-line is truncated at
    ``U`` with tail at most ``e^-U / 4``.  ``encoding``: see :data:`ENCODINGS`.
    """
    digits = _check_digits(digits)
    _exact_selftest()
    L = as_loss(loss)
    enc = _as_encoding(encoding)
    Lp = sympy.diff(L, Y)
    hi, lo = (1, 0) if enc == "01" else (1, -1)
    factor = 2 if enc == "pm1" else 1
    with flint_precision(start_precision(digits) + 32):
        t, e = _as_tau(tau), _as_eta(eta)
        d_hi, d_lo = to_arb(Lp.subs(Y, hi)), to_arb(Lp.subs(Y, lo))
        M = factor * max(abs(d_hi).upper(), abs(d_lo).upper(), flint.arb(1))
        cut = _cutoff(digits, flint.arb(M), e, 1)
        tail = _audit_tail(flint.arb(M) * flint.arb(-cut).exp() / 2, digits, e, f"E[ST-GS] ({enc})")

    def f(u, analytic):
        # L'(x1) jumps at u = 0 (x1 = [u >= 0]); it is a constant on each half-line, so each half is
        # the meromorphic integral of sigma(u) sigma(-u) p(eta - tau u), scaled afterwards
        return _w(u) * _p(e - t * u)

    parts = []
    for coeff, (a, b) in ((d_hi, (0, cut)), (d_lo, (-cut, 0))):
        if coeff == 0:
            continue
        parts.append((coeff * factor, certified_integral_1d(f, a, b, digits=digits + 3)))
    with flint_precision(start_precision(digits) + 48):
        ball = flint.arb(0)
        prec = 0
        for coeff, part in parts:
            ball += coeff * part.ball
            prec = max(prec, part.prec)
        ball += flint.arb(0, tail.upper())
        if not meets_digits(ball, digits, relative=True):
            raise PrecisionNotReached(
                f"E[ST-GS] ({enc}): {digits} digits requested but got {ball} at {prec} bits; lower digits."
            )
        return QuadratureResult(
            value=arb_to_mpf(ball.mid()), radius=arb_to_mpf(ball.rad()), digits=digits,
            method=f"E[ST-GS] ({enc}, eqs. (99)-(100)); arb quadrature on both half-lines + tail bound",
            certified=True, prec=prec, relative=True, ball=ball,
        )


# --------------------------------------------------------------------------- series vs exact


@dataclass(frozen=True)
class RemainderRow:
    """One grid point: ``exact`` (ball), ``series`` value, ``remainder`` ball and ``remainder / tau^power``."""

    eta: Any
    tau: Any
    exact: Any
    series: Any
    remainder: Any
    scaled: Any  # remainder / tau^power (arb)
    power: int


def _eval_arb(expr: sympy.Expr, eta: flint.arb) -> flint.arb:
    f = acb_integrand(expr, ETA)
    return f(flint.acb(eta), False).real


def series_remainders(
    kind: str,
    etas: Sequence[Any],
    taus: Sequence[Any],
    loss: Any = DEFAULT_LOSS,
    *,
    coefficients: Sequence[sympy.Expr] | None = None,
    digits: int = 30,
) -> list[RemainderRow]:
    """Exact value (certified quadrature) minus the truncated series, on a grid.

    ``kind="gs"``: ``E[G_tau] - (b0 + b1 tau + b2 tau^2)``, scaled by ``tau^3``;
    ``kind="second-moment"``: ``E[G_tau^2] - (m_{-1}/tau + m_0 + m_1 tau)``,
    scaled by ``tau^2``.  ``coefficients`` overrides the series coefficients
    (e.g. a deliberately wrong ``b1``) to show the test can fail.
    """
    if kind not in ("gs", "second-moment"):
        raise InvalidArgument(f"kind={kind!r} is not known; expected 'gs' or 'second-moment'.")
    weight = None
    if coefficients is None:
        coefficients = bias_coefficients(loss, 2) if kind == "gs" else second_moment_coefficients(loss, 2)
        Lp = sympy.diff(as_loss(loss), Y)
        weight = Lp if kind == "gs" else sympy.expand(Lp**2 * Y * (1 - Y))
    coefficients = tuple(coefficients)
    if len(coefficients) != 3:
        raise InvalidArgument(f"expected 3 series coefficients, got {len(coefficients)}.")
    rows = []
    for eta in etas:
        for tau in taus:
            if kind == "gs":
                exact = expected_gs_gradient(eta, tau, loss, digits=digits)
                shift, power = 0, 3
            else:
                exact = gs_second_moment(eta, tau, loss, digits=digits)
                shift, power = -1, 2
            with flint_precision(exact.prec + 32):
                e, t = _as_eta(eta), _as_tau(tau)
                ser = sum((_eval_arb(c, e) * t ** (k + shift) for k, c in enumerate(coefficients)), flint.arb(0))
                rem = exact.ball - ser
                scaled = rem / t**power
                if weight is not None:
                    _check_scaled_remainder(kind, eta, tau, e, t, scaled, weight, coefficients)
                rows.append(RemainderRow(eta, tau, exact.ball, ser, rem, scaled, power))
    return rows


def _series_terms_arb(weight: sympy.Expr, eta: flint.arb, count: int) -> list[flint.arb]:
    """``c_k(eta) * int_0^1 weight(v) logit(v)^k dv`` for ``k < count``, in arb power-series arithmetic.

    Independent of :func:`bias_coefficients` / :func:`second_moment_coefficients` (sympy): ``c_k`` are the
    Taylor coefficients of ``p(eta - h)`` from the arb series of ``e^x / (1 + e^x)^2``, and the moments are
    ``k!`` times the ``s^k`` coefficient of ``B(m + 1 + s, 1 - s) = Gamma(m + 1 + s) Gamma(1 - s) / (m + 1)!``
    (arb series of the Gamma function), summed over the monomials ``v^m`` of ``weight``.
    """
    q = sympy.Poly(sympy.expand(weight), Y)
    s = flint.arb_series([0, 1], prec=count)
    moments = [flint.arb(0)] * count
    for (m,), a in q.terms():
        a = sympy.Rational(a)
        g = ((s + (m + 1)).gamma() * (1 - s).gamma()).coeffs()
        g = g + [flint.arb(0)] * (count - len(g))
        for k in range(count):
            moments[k] += flint.arb(int(a.p)) / int(a.q) * math.factorial(k) * g[k] / math.factorial(m + 1)
    x = flint.arb_series([eta, 1], prec=count)
    ex = x.exp()
    p = (ex / ((1 + ex) * (1 + ex))).coeffs()
    p = p + [flint.arb(0)] * (count - len(p))
    return [(-1) ** k * p[k] * moments[k] for k in range(count)]


#: Tolerance factor of :func:`_check_scaled_remainder`: the scaled remainder may differ from its next three
#: series terms by ``REMAINDER_TAIL_FACTOR * tau^3 * (|n_0| + |n_1| + |n_2| + |n_3|)``.
REMAINDER_TAIL_FACTOR = 10


def _check_scaled_remainder(kind, eta, tau, e, t, scaled, weight, coefficients) -> None:
    """The scaled remainder of the paper's series against the next series terms, computed independently.

    With the default coefficients, ``R(tau) / tau^power = n_0 + n_1 tau + n_2 tau^2 + O(tau^3)`` where
    ``n_j = c_{3+j}(eta) M_{3+j}`` are the next coefficients of the same series (eq. (86) for ``kind="gs"``,
    eqs. (92)-(97) for the second moment), computed by :func:`_series_terms_arb` (arb power series, not the
    sympy path and not the quadrature).  The same computation must reproduce the three coefficients the
    remainder subtracts (to 1e-12 relative).  For ``tau <= 0.1`` the check requires
    ``|R / tau^power - (n_0 + n_1 tau + n_2 tau^2)| <= REMAINDER_TAIL_FACTOR * tau^3 * (|n_0| + ... + |n_3|)``
    (a stated tolerance for the O(tau^3) term, whose leading coefficient is ``n_3``; not a proved bound), so
    a wrong remainder, scaling power, quadrature value or series coefficient raises
    :class:`~stecheck.errors.SelfCheckFailed`.  Skipped for ``tau > 0.1`` (outside the asymptotic range).
    """
    terms = _series_terms_arb(weight, e, 7)
    for k, c in enumerate(coefficients):
        got = _eval_arb(c, e)
        if abs(got - terms[k]) > flint.arb("1e-12") * (abs(terms[k]) + flint.arb("1e-30")):
            raise SelfCheckFailed(
                f"series_remainders({kind!r}): at eta={eta} the series coefficient {k} is {float(got.mid()):.15g} "
                f"(sympy path) but the arb power-series computation gives {float(terms[k].mid()):.15g}; expected "
                "agreement to 1e-12 relative. taylor_coefficients / logit_moment in theory/gumbel_softmax.py is wrong."
            )
    if not t <= flint.arb("0.1"):
        return
    n = terms[3:7]  # n_0 .. n_3, as the tolerance states
    scale = sum((abs(x) for x in n), flint.arb(0))
    resid = scaled - (n[0] + n[1] * t + n[2] * t**2)
    tol = REMAINDER_TAIL_FACTOR * t**3 * scale
    if abs(resid) > tol:
        raise SelfCheckFailed(
            f"series_remainders({kind!r}): at eta={eta}, tau={tau} the scaled remainder {float(scaled.mid()):.6g} "
            f"differs from its next three series terms {float((n[0] + n[1] * t + n[2] * t**2).mid()):.6g} by "
            f"{float(abs(resid).mid()):.3g}; expected at most {float(tol.upper()):.3g} "
            f"({REMAINDER_TAIL_FACTOR} tau^3 (|n_0| + ... + |n_3|)). The quadrature, the series coefficients "
            "or the scaling of the remainder in theory/gumbel_softmax.py is wrong; run tests/theory/test_gumbel_softmax.py."
        )


def remainder_orders(rows: Sequence[RemainderRow]) -> dict[Any, float]:
    """Per ``eta``: the empirical order ``log(|R(t1)|/|R(t2)|)/log(t1/t2)`` for the two smallest ``tau``.

    ``inf`` if the smaller remainder is 0 to the certified precision.
    """
    by_eta: dict[Any, list[RemainderRow]] = {}
    for r in rows:
        by_eta.setdefault(r.eta, []).append(r)
    out = {}
    for eta, rs in by_eta.items():
        rs = sorted(rs, key=lambda r: float(to_arb(r.tau).mid()))
        if len(rs) < 2:
            raise InvalidArgument(f"eta={eta!r}: need at least two tau values to estimate an order.")
        small, large = rs[0], rs[1]
        r1, r2 = abs(float(large.remainder.mid())), abs(float(small.remainder.mid()))
        t1, t2 = float(to_arb(large.tau).mid()), float(to_arb(small.tau).mid())
        out[eta] = math.inf if r2 == 0 else math.log(r1 / r2) / math.log(t1 / t2)
    return out
