"""Audit of the rounding bounds that make exhaustive enumeration evidence ``Kind.EXACT``.

:mod:`numerics.enumeration` returns every value with an a-priori rounding
bound (its module docstring; Higham, *Accuracy and Stability*, Lemma 3.1)::

    |computed - exact| <= gamma_m * sum_x |t_x|  +  2^n (n + 2) 2^-1074 max_x |L(x)|,
    m = (c_F + 1)(n + 1) + C + K + 8,   gamma_m = m u / (1 - m u),  u = 2^-53,

and the brute force of :mod:`theory.enumeration` (the independent side of the
``stecheck derive`` cross-checks and of the B.5/B.7 counterexample replays)
sums the same ``2^n`` terms with plain floats.  An EXACT verdict rests on both,
so before a claim uses them this audit recomputes, for a small ``n``, the
exact sums in 60-digit ``mpmath`` arithmetic from the very float inputs the
routines use (``F(a)``, ``1 - F(a)``, ``F'(a)`` and the loss values as the
loss object computes them, taken as exact), and checks three things:

1. **the error is within the bound**: ``|computed - exact| <= bound`` for the
   value and every gradient coordinate of
   :func:`numerics.enumeration.exact_loss_and_gradient` (random multilinear
   ``L``, ``n = 6``, chunks of ``2^3`` states so that the chunk accumulation
   runs) and for :func:`numerics.enumeration.expected_loss` in the regime the
   underflow term exists for (``L`` the indicator of the all-ones state,
   ``n = 12``, ``p_i = 10^-30``: ``E[L] = 10^-360`` underflows to 0);
2. **the bound is the documented one**: the returned bound, divided by the
   formula above evaluated in exact rational arithmetic (``fractions``), lies in
   ``[1 - 1e-9, 1.05]`` -- never below the a-priori bound (the ``1e-9`` is the
   float evaluation of the bound itself), never more than 5% above it (a bound
   that silently grew would hide a lost digit; one that shrank is no bound);
   The same two checks hold for the chunked estimator sum of
   :func:`numerics.enumeration.expected_estimator` (ST, one state per estimate, whose bound is
   ``gamma_(m + 8)``: the documented extra 8 of ``expected_transform``), on the same ``L``, ``a`` and chunks;
3. **the brute force agrees**: :func:`theory.enumeration.expected_loss` is
   within ``gamma_{2n + 2^n + 2} * sum_x |t_x|`` of the exact sum with
   ``1 - F(a)`` as it computes it (``n`` products, one subtraction, one product
   with ``L``, a recursive sum of ``2^n`` terms).

The same two checks hold for the gradient where its own underflow term
``2^n (n + 2) 2^-1074 max|L| F'(a_i)`` dominates (:func:`_underflow_gradient`), and
at the boundary of the probability domain, a point mass (:func:`_point_masses`: ``p``
in ``{0, 1}^n``, uniform noise outside its support with ``F' = 0``): ``E[L] = L(x*)``
within the bound, gradient and bound exactly 0.

Any failure is an error of the checker, not of the paper: the caller raises,
so the claim's verdict becomes ERROR.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import mpmath
import numpy as np

from stecheck.errors import SelfCheckFailed
from stecheck.numerics import enumeration, losses
from stecheck.numerics.estimators import st_estimates
from stecheck.numerics.noise import resolve_noise
from stecheck.theory import enumeration as brute

_U = Fraction(1, 2**53)
_TINY = Fraction(1, 2**1074)
#: the tolerance of point 2: returned bound / documented bound in [1 - _LOW, 1 + _HIGH]
_LOW, _HIGH = 1e-9, 0.05


class EnumerationAuditFailed(SelfCheckFailed):
    """The rounding bounds of exhaustive enumeration failed their audit (an error of the checker)."""


def _gamma(m: int) -> Fraction:
    return m * _U / (1 - m * _U)


def _m(n: int, chunk_bits: int, c_f: int) -> int:
    k = min(n, chunk_bits)
    return (c_f + 1) * (n + 1) + 2**k + 2 ** (n - k) + 8


def _mp(v) -> mpmath.mpf:
    """A float or a Fraction as an mpf (exact for floats; a Fraction to the working precision)."""
    if isinstance(v, Fraction):
        return mpmath.mpf(v.numerator) / v.denominator
    return mpmath.mpf(float(v))


def _exact_sums(X, L, p, q, fp):
    """60-digit sums over the states: ``E[L]``, ``sum P |L|``, and per ``i`` ``F'_i sum x_i P_-i L`` and its ``|.|`` form."""
    with mpmath.workdps(60):
        n = len(p)
        p, q = [_mp(v) for v in p], [_mp(v) for v in q]
        val = absval = mpmath.mpf(0)
        g = [mpmath.mpf(0)] * n
        gabs = [mpmath.mpf(0)] * n
        for x, l in zip(X, L):
            fac = [p[i] if x[i] > 0 else q[i] for i in range(n)]
            P = mpmath.fprod(fac)
            lv = mpmath.mpf(float(l))
            val += P * lv
            absval += P * abs(lv)
            for i in range(n):
                loo = mpmath.fprod(fac[:i] + fac[i + 1:])
                g[i] += (1 if x[i] > 0 else -1) * loo * lv
                gabs[i] += loo * abs(lv)
        fp = [_mp(v) for v in fp]
        return val, absval, [fp[i] * g[i] for i in range(n)], [fp[i] * gabs[i] for i in range(n)]


def _frac(v) -> Fraction:
    return Fraction(mpmath.nstr(v, 50, strip_zeros=False)) if isinstance(v, mpmath.mpf) else Fraction(float(v))


def _one(label: str, computed, bound, exact, documented, failures: list) -> dict:
    """Points 1 and 2 for one number."""
    err = abs(Fraction(float(computed)) - _frac(exact))
    b = Fraction(float(bound))
    ratio = float(b / documented) if documented > 0 else float("inf")
    row = {"quantity": label, "computed": float(computed), "exact": mpmath.nstr(exact, 20),
           "abs_error": float(err), "bound": float(bound), "bound_over_documented_formula": ratio}
    if err > b:
        failures.append(f"{label}: |computed - exact| = {float(err):.3e} exceeds the stated bound {float(b):.3e}")
    if not (1 - _LOW <= ratio <= 1 + _HIGH):
        failures.append(f"{label}: stated bound / documented a-priori bound = {ratio:.6g}, "
                        f"expected within [{1 - _LOW}, {1 + _HIGH}]")
    return row


def audit(rng: np.random.Generator, random_loss, *, noise: str = "logistic") -> dict:
    """Run the audit; return its evidence, raise :class:`EnumerationAuditFailed` on any failure."""
    failures: list[str] = []
    rows = []
    nz = resolve_noise(noise)
    # 1 + 2: exact_loss_and_gradient, random multilinear L, n = 6, chunks of 2^3 states
    n, bits = 6, 3
    loss = random_loss(rng, n)
    a = rng.uniform(-1.5, 1.5, size=n)
    value, grad = enumeration.exact_loss_and_gradient(loss, a, nz, chunk_bits=bits)
    X = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    L = loss.value(X)
    p, q, fp = nz.cdf(a), nz.sf(a), nz.pdf(a)
    val, absval, g, gabs = _exact_sums(X, L, p, q, fp)
    gm = _gamma(_m(n, bits, enumeration.C_F))
    under = 2**n * (n + 2) * _TINY * Fraction(float(np.max(np.abs(L))))
    rows.append(_one("E[L] (n=6)", value.value, value.error_bound, val, gm * _frac(absval) + under, failures))
    for i in range(n):
        doc = gm * _frac(gabs[i]) + under * Fraction(float(fp[i]))
        rows.append(_one(f"dE/da_{i} (n=6)", grad.value[i], grad.error_bound[i], g[i], doc, failures))
    # 4: the chunked estimator sum (enumeration.expected_estimator -> _sum_over, one state per estimate: documented
    # extra 8 in gamma_(m + extra)) for ST on the same L, a, chunks of 2^3 states; the per-state estimates as
    # estimators.st_estimates computes them, taken as exact
    est = enumeration.expected_estimator("st", loss, a, nz, chunk_bits=bits)
    E = st_estimates(loss, a, nz, X)
    with mpmath.workdps(60):
        P = [mpmath.fprod(_mp(p[i]) if x[i] > 0 else _mp(q[i]) for i in range(n)) for x in X]
        ex = [mpmath.fsum(P[b] * mpmath.mpf(float(E[b, i])) for b in range(len(X))) for i in range(n)]
        ab = [mpmath.fsum(P[b] * abs(mpmath.mpf(float(E[b, i]))) for b in range(len(X))) for i in range(n)]
    g8 = _gamma(_m(n, bits, enumeration.C_F) + 8)
    under_e = 2**n * (n + 2) * _TINY * Fraction(float(np.max(np.abs(E))))
    for i in range(n):
        rows.append(_one(f"E[ST]_{i} (n=6, chunked)", est.value[i], est.error_bound[i], ex[i],
                         g8 * _frac(ab[i]) + under_e, failures))
    # 3: the brute force of theory.enumeration, with 1 - F(a) as it computes it
    bf = brute.expected_loss(lambda x: float(loss.value(x[None, :])[0]), a, nz.cdf)
    val_b, abs_b, _, _ = _exact_sums(X, L, p, [1.0 - Fraction(float(v)) for v in p], fp)
    tol = _gamma(2 * n + 2**n + 2) * _frac(abs_b)
    err_b = abs(Fraction(bf) - _frac(val_b))
    rows.append({"quantity": "theory.enumeration E[L] (n=6)", "computed": bf, "exact": mpmath.nstr(val_b, 20),
                 "abs_error": float(err_b), "tolerance": float(tol)})
    if err_b > tol:
        failures.append(f"theory.enumeration.expected_loss is off the exact sum by {float(err_b):.3e} "
                        f"> gamma_(2n+2^n+2) sum|t| = {float(tol):.3e}")
    # 1 + 2 in the underflow regime: L = indicator of the all-ones state, p_i = 1e-30, n = 12
    n = 12
    ind = losses.Callable(lambda Z: np.all(Z > 0, axis=1).astype(float), lambda Z: np.zeros_like(Z), n=n,
                          name="indicator of the all-ones state")
    pp = np.full(n, 1e-30)
    res = enumeration.expected_loss(ind, pp)
    with mpmath.workdps(60):
        exact = mpmath.mpf(1e-30) ** n
    doc = _gamma(_m(n, enumeration.MAX_CHUNK_BITS, 1)) * _frac(exact) + 2**n * (n + 2) * _TINY
    rows.append(_one("E[indicator] (n=12, p=1e-30: underflow)", res.value, res.error_bound, exact, doc, failures))
    _underflow_gradient(rows, failures)
    _point_masses(rng, random_loss, rows, failures)
    evidence = {"checks": rows, "tolerance": f"bound / documented formula in [{1 - _LOW}, {1 + _HIGH}]; "
                "error <= bound; brute force within gamma_(2n+2^n+2) sum|t|", "failures": failures}
    if failures:
        raise EnumerationAuditFailed(f"rounding-bound audit of exhaustive enumeration failed: {failures[0]} "
                                     f"({len(failures)} failure(s)); the EXACT evidence cannot be trusted")
    return evidence


def _underflow_gradient(rows: list, failures: list) -> None:
    """Points 1 + 2 for the GRADIENT in the regime its underflow term ``2^n (n + 2) 2^-1074 max|L| F'(a_i)`` dominates:
    ``L = 2^664`` times the indicator of the all-ones state, ``n = 12``, ``F(a_i) = 10^-30`` (logistic), so
    ``sum_x P_-i(x) |L(x)| = 2^664 10^-330`` and the leave-one-out products underflow.  The exact sums are
    closed forms here (one state carries the loss): ``E[L] = 2^664 prod p``, ``dE/da_i = F'(a_i) 2^664 prod_(j != i) p_j``."""
    n, scale = 12, 2.0**664
    nz = resolve_noise("logistic")
    a = np.full(n, float(nz.icdf(1e-30)))
    ind = losses.Callable(lambda Z: scale * np.all(Z > 0, axis=1), lambda Z: np.zeros_like(Z), n=n,
                          name="2^664 x indicator of the all-ones state")
    value, grad = enumeration.exact_loss_and_gradient(ind, a, nz)
    p, fp = nz.cdf(a), nz.pdf(a)
    gm = _gamma(_m(n, enumeration.MAX_CHUNK_BITS, enumeration.C_F))
    under = 2**n * (n + 2) * _TINY * Fraction(scale)
    with mpmath.workdps(60):
        P = [_mp(v) for v in p]
        val = scale * mpmath.fprod(P)
        g = [_mp(fp[i]) * scale * mpmath.fprod(P[:i] + P[i + 1:]) for i in range(n)]
    rows.append(_one("E[L] (n=12, p=1e-30, L=2^664 indicator)", value.value, value.error_bound, val,
                     gm * _frac(val) + under, failures))
    for i in range(n):
        rows.append(_one(f"dE/da_{i} (n=12, p=1e-30: gradient underflow term)", grad.value[i], grad.error_bound[i],
                         g[i], gm * _frac(g[i]) + under * Fraction(float(fp[i])), failures))


def _point_masses(rng: np.random.Generator, random_loss, rows: list, failures: list) -> None:
    """The boundary of the probability domain: a point mass.  ``p`` in ``{0, 1}^n`` (``expected_loss``) and uniform
    noise at ``|a_i| > 1`` (``exact_loss_and_gradient``: ``F(a_i)`` in ``{0, 1}``, ``F'(a_i) = 0``) put all mass on
    one state ``x*``, so ``E[L] = L(x*)`` and ``dE/da = 0`` exactly; the value must be within its bound of ``L(x*)``
    and the gradient and its bound must be exactly 0 (a bound that is not finite, or not 0 where ``F' = 0``, fails)."""
    n = 6
    loss = random_loss(rng, n)
    xs = np.where(rng.random(n) < 0.5, -1.0, 1.0)
    xs[:2] = (-1.0, 1.0)  # both ends of [0, 1] occur
    want = float(loss.value(xs[None, :])[0])
    res = enumeration.expected_loss(loss, (xs + 1.0) / 2.0)
    value, grad = enumeration.exact_loss_and_gradient(loss, 1.5 * xs, resolve_noise("uniform"))
    gm = _gamma(_m(n, enumeration.MAX_CHUNK_BITS, 1))
    X = np.array(list(itertools.product((-1.0, 1.0), repeat=n)))
    under = 2**n * (n + 2) * _TINY * Fraction(float(np.max(np.abs(loss.value(X)))))
    doc = gm * Fraction(abs(want)) + under
    rows.append(_one("E[L] at p in {0,1}^6 (point mass)", res.value, res.error_bound, mpmath.mpf(want), doc, failures))
    doc = _gamma(_m(n, enumeration.MAX_CHUNK_BITS, enumeration.C_F)) * Fraction(abs(want)) + under
    rows.append(_one("E[L], uniform noise at |a| = 1.5 (point mass)", value.value, value.error_bound,
                     mpmath.mpf(want), doc, failures))
    gv, gb = np.asarray(grad.value), np.asarray(grad.error_bound)
    rows.append({"quantity": "dE/da, uniform noise at |a| = 1.5 (F' = 0)", "max_abs": float(np.max(np.abs(gv))),
                 "max_bound": float(np.max(gb)), "expected": 0.0})
    if not (np.all(gv == 0.0) and np.all(gb == 0.0)):
        failures.append(f"dE/da where F'(a) = 0 (uniform noise, |a| = 1.5): value {gv.tolist()}, bound {gb.tolist()}; "
                        "both must be exactly 0")
