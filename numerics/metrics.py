"""Accuracy metrics of a gradient estimator against the true gradient (paper eqs. (18), (61)-(67)).

Mathematical objects, for an estimate ``G`` (random, one draw of an
estimator of :mod:`numerics.estimators`) and the true gradient ``g``
(``d E[L] / d a``, e.g. :func:`numerics.enumeration.exact_gradient`):

* expected cosine similarity (eqs. (18), (61)): ``ECS = E[<G, g> / (|G| |g|)]``;
  convention: a draw with ``G = 0`` contributes cosine 0 (the paper does not
  say; Gumbel-Softmax at small tau gives ``G = 0`` in floating point), and
  ``g = 0`` raises (the cosine is undefined);
* proxy objective of a step ``-alpha G`` (eq. (63)):
  ``E[<g, -alpha G> + |alpha G|^2 / (2 eps)]``, minimised by
  ``alpha* = eps E<G, g> / E|G|^2`` (eq. (64)) with value
  ``-(eps/2) E<G, g>^2 / E|G|^2`` (eq. (65)); :func:`optimal_step_derivation`
  redoes this with sympy;
* expected improvement (eq. (66)): ``EI = -E<G, g> / sqrt(E|G|^2)``
  (negative is good: a predicted decrease; positive means systematic ascent);
* root mean squared error (eq. (67)): ``RMSE = sqrt(E|G - g|^2)``.

All five are functions of four means of per-sample terms
``(cos, <G, g>, |G|^2, |G - g|^2)`` (:func:`per_sample_terms`).

Errors.  Each metric comes with an interval ``[low, high]``:

* from samples (:func:`metrics_from_samples`, :func:`monte_carlo_metrics`,
  the latter via :func:`numerics.montecarlo.monte_carlo_mean`): CLT intervals
  for the four means, Bonferroni-simultaneous (``alpha / 4`` each), pushed
  through each metric by interval arithmetic over the box of means (each
  metric is monotone in each mean on the box, so its range is attained at a
  corner).  All intervals hold *jointly* with asymptotic probability
  ``>= confidence``.  ``g`` is taken as exact: its own error is not included
  (if ``g`` comes from Monte Carlo, e.g. ARM-1000 as in the paper, widen by hand);
* exactly (:func:`exact_metrics`; ARM: all but the cosine, see there): the four means by enumeration
  (:func:`numerics.enumeration.expected_transform`) with their a-priori
  rounding bounds, or for the Gumbel-Softmax pair at ``n = 1`` by quadrature
  with QUADPACK's error *estimate*; the same interval arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.selftest import OncePerProcess

from ._validation import as_vector, check_finite_rows
from .montecarlo import RunningMoments, clt_interval, monte_carlo_mean
from .estimators import EstimatorSampler, get_estimator, prepare
from .noise import Noise

__all__ = [
    "TERMS",
    "per_sample_terms",
    "MetricValue",
    "EstimatorMetrics",
    "metrics_from_means",
    "metrics_from_samples",
    "MetricTermSampler",
    "monte_carlo_metrics",
    "exact_metrics",
    "optimal_step_derivation",
]

#: The per-sample terms whose means determine every metric.
TERMS = ("cos", "inner", "sq_norm", "sq_err")


def _as_g(g: Any, d: int | None = None) -> np.ndarray:
    g = as_vector(g, "g", size=d)
    if not np.any(g != 0.0):
        raise InvalidArgument(
            "g (the true gradient) is zero; the cosine similarity (61) is undefined. Choose a point a where "
            "the gradient of E[L] is non-zero."
        )
    return g


def per_sample_terms(G: Any, g: Any) -> np.ndarray:
    """``(B, 4)``: per row ``G_b``: ``cos(G_b, g)`` (0 if ``G_b = 0``), ``<G_b, g>``, ``|G_b|^2``, ``|G_b - g|^2``."""
    G = np.asarray(G, dtype=np.float64)
    if G.ndim != 2:
        raise InvalidArgument(f"G has shape {G.shape}; expected (B, d) with one estimate per row.")
    g = _as_g(g, G.shape[1])
    check_finite_rows(G, None, who="per_sample_terms", what="estimate")
    inner = G @ g
    sq = np.einsum("bj,bj->b", G, G)
    norm = np.sqrt(sq)
    gnorm = float(np.sqrt(g @ g))
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(norm > 0.0, inner / (norm * gnorm), 0.0)
    cos = np.clip(cos, -1.0, 1.0)
    D = G - g
    err = np.einsum("bj,bj->b", D, D)
    return np.stack([cos, inner, sq, err], axis=1)


class MetricValue(NamedTuple):
    """A metric and its interval ``[low, high]`` (see the module docstring for its meaning)."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class EstimatorMetrics:
    """ECS (61), EI (66), RMSE (67), optimal step (64) and its objective (65), with intervals.

    ``method`` is ``"exact"`` (enumeration, intervals = rounding bounds),
    ``"quadrature"`` (intervals = QUADPACK error estimates) or ``"clt"``
    (Monte Carlo, joint asymptotic coverage ``confidence``); ``n_samples``
    is 0 unless sampled; ``zero_fraction`` is the fraction of draws with
    ``G = 0`` (sampled only; ``nan`` otherwise).
    """

    cosine: MetricValue
    improvement: MetricValue
    rmse: MetricValue
    optimal_step: MetricValue
    optimal_objective: MetricValue
    means: dict[str, MetricValue]
    eps: float
    method: str
    confidence: float | None
    n_samples: int = 0
    zero_fraction: float = float("nan")


def _corners(f, xl, xh, yl, yh):
    vals = [float(f(x, y)) for x in (xl, xh) for y in (yl, yh)]
    return min(vals), max(vals)


def _ratio(x: float, y: float, power: float) -> float:
    """``x / y**power`` with ``y >= 0``; ``x = 0`` gives 0, ``y = 0`` gives ``+-inf``."""
    if x == 0.0:
        return 0.0
    if y <= 0.0:
        return float(np.copysign(np.inf, x))
    return x / y**power


#: Known answers of :func:`_ratio` (its docstring): ``x = 0`` gives 0, a zero ``y`` (either sign, Python or numpy
#: float) gives ``copysign(inf, x)``, otherwise ``x / y**power``; the zeros are the boundary the sampled boxes
#: rarely hit (a lower bound of ``|G|^2`` clipped to 0).
_RATIO_CASES = (
    ((0.0, 0.0, 1.0), 0.0), ((2.0, 0.0, 1.0), np.inf), ((-2.0, 0.0, 0.5), -np.inf), ((3.0, -0.0, 1.0), np.inf),
    ((np.float64(3.0), np.float64(-0.0), 1.0), np.inf), ((np.float64(-3.0), np.float64(0.0), 1.0), -np.inf),
    ((np.float64(-1.0), -0.0, 0.5), -np.inf), ((6.0, 4.0, 0.5), 3.0), ((3.0, 2.0, 1.0), 1.5),
    ((np.float64(-1.0), np.float64(0.25), 0.5), -2.0),
)


def _ratio_failures() -> list[str]:
    """:func:`_ratio` against :data:`_RATIO_CASES`: the mismatches and exceptions (a fault of this module)."""
    failures = []
    for (x, y, power), want in _RATIO_CASES:
        try:
            with np.errstate(all="ignore"):
                got = _ratio(x, y, power)
        except Exception as exc:  # noqa: BLE001 - any exception is a failure of the known answer
            failures.append(f"_ratio({x!r}, {y!r}, {power}) raised {type(exc).__name__}: {exc}")
            continue
        if not got == want:
            failures.append(f"_ratio({x!r}, {y!r}, {power}) = {got!r}, expected {want!r}")
    return failures


#: :func:`_ratio_failures` once per process (first :func:`metrics_from_means`); a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed`.
_ratio_selftest = OncePerProcess(_ratio_failures, what="numerics.metrics._ratio fails its known answers",
                                 remedy="Fix numerics/metrics.py.")


def metrics_from_means(
    value: Any, low: Any, high: Any, *, eps: float = 1.0, method: str, confidence: float | None,
    n_samples: int = 0, zero_fraction: float = float("nan"),
) -> EstimatorMetrics:
    """Metrics from the four means ``(cos, <G,g>, |G|^2, |G-g|^2)``, their values and a box ``[low, high]``."""
    _ratio_selftest()
    v, lo, hi = (np.asarray(t, dtype=np.float64).reshape(4) for t in (value, low, high))
    eps = float(eps)
    if not (np.isfinite(eps) and eps > 0.0):
        raise InvalidArgument(f"eps={eps!r}: the step-size scale in (62)-(65) must be a finite number > 0.")
    c, x, y, e = v
    yl, yh = max(lo[2], 0.0), max(hi[2], 0.0)
    xl, xh = lo[1], hi[1]
    cos = MetricValue(float(c), float(max(lo[0], -1.0)), float(min(hi[0], 1.0)))
    ei_f = lambda xx, yy: -_ratio(xx, yy, 0.5)  # noqa: E731
    ei = MetricValue(float(ei_f(x, y)), *_corners(ei_f, xl, xh, yl, yh))
    st_f = lambda xx, yy: eps * _ratio(xx, yy, 1.0)  # noqa: E731
    step = MetricValue(float(st_f(x, y)), *_corners(st_f, xl, xh, yl, yh))
    x2l = 0.0 if xl <= 0.0 <= xh else min(xl * xl, xh * xh)
    x2h = max(xl * xl, xh * xh)
    ob_f = lambda xx2, yy: -0.5 * eps * _ratio(xx2, yy, 1.0)  # noqa: E731
    obj = MetricValue(float(ob_f(x * x, y)), *_corners(ob_f, x2l, x2h, yl, yh))
    rmse = MetricValue(float(np.sqrt(max(e, 0.0))), float(np.sqrt(max(lo[3], 0.0))), float(np.sqrt(max(hi[3], 0.0))))
    means = {t: MetricValue(float(v[j]), float(lo[j]), float(hi[j])) for j, t in enumerate(TERMS)}
    return EstimatorMetrics(cos, ei, rmse, step, obj, means, eps, method, confidence, n_samples, zero_fraction)


def _from_moments(moments: RunningMoments, confidence: float, eps: float, zero_fraction: float) -> EstimatorMetrics:
    low, high = clt_interval(moments, confidence, simultaneous=True)
    return metrics_from_means(moments.mean, low, high, eps=eps, method="clt", confidence=float(confidence),
                              n_samples=moments.count, zero_fraction=zero_fraction)


def metrics_from_samples(G: Any, g: Any, *, confidence: float = 0.99, eps: float = 1.0) -> EstimatorMetrics:
    """Metrics of the iid estimates ``G (B, d)`` (``B >= 2``) against ``g``; joint CLT intervals."""
    T = per_sample_terms(G, g)
    zero = float(np.mean(T[:, 2] == 0.0))
    return _from_moments(RunningMoments.from_samples(T, who="per-sample metric terms"), confidence, eps, zero)


class MetricTermSampler:
    """Picklable ``fn_chunk(rng, size) -> (size, 5)``: :func:`per_sample_terms` of fresh estimates, plus a
    0/1 column ``G == 0``, for :func:`numerics.montecarlo.monte_carlo_mean`."""

    def __init__(self, name: str, loss: Any, a: Any, noise: Noise | str, g: Any, *, encoding: str = "pm1", **params):
        self.sampler = EstimatorSampler(name, loss, a, noise, encoding=encoding, **params)
        self.g = _as_g(g, self.sampler.a.size)

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        T = per_sample_terms(self.sampler(rng, size), self.g)
        return np.concatenate([T, (T[:, 2:3] == 0.0).astype(np.float64)], axis=1)

    def __repr__(self) -> str:
        return f"MetricTermSampler({self.sampler!r})"


def monte_carlo_metrics(
    name: str, loss: Any, a: Any, noise: Noise | str, g: Any, n_samples: int, seed_seq: np.random.SeedSequence,
    *, encoding: str = "pm1", confidence: float = 0.99, eps: float = 1.0, chunk_size: int = 4096,
    map: Any = map,  # noqa: A002
    **params: Any,
) -> EstimatorMetrics:
    """Metrics of estimator ``name`` from ``n_samples`` reproducible draws (chunked, any ``map``)."""
    sampler = MetricTermSampler(name, loss, a, noise, g, encoding=encoding, **params)
    res = monte_carlo_mean(sampler, n_samples, seed_seq, chunk_size=chunk_size, map=map,
                           confidence=confidence, simultaneous=True)
    m = res.moments
    if np.shape(res.mean) != (5,):
        raise SelfCheckFailed(f"numerics.metrics.monte_carlo_metrics: the Monte Carlo means have shape "
                              f"{np.shape(res.mean)}; expected (5,), the four per-sample metric terms and the 0/1 "
                              "column G == 0 that MetricTermSampler documents (a wrong column count also changes "
                              "the simultaneous intervals). Fix MetricTermSampler.__call__ in numerics/metrics.py.")
    four = RunningMoments(m.count, m.total[:4], m.comp[:4], m.m2[:4], m.minimum[:4], m.maximum[:4])
    return _from_moments(four, confidence, eps, float(res.mean[4]))


def exact_metrics(
    name: str, loss: Any, a: Any, noise: Noise | str, g: Any = None, *, encoding: str = "pm1", eps: float = 1.0,
    **params: Any,
) -> EstimatorMetrics:
    """Metrics of estimator ``name`` by exact enumeration of its sampling law (or quadrature, GS at ``n = 1``).

    ``g`` defaults to the exact gradient :func:`numerics.enumeration.exact_gradient` (same encoding).
    ARM: EI, RMSE, step and objective exact (:func:`numerics.enumeration.expected_arm_moments`); its
    expected cosine is not enumerable (non-linear in the continuous ``u``) and is returned as
    ``MetricValue(nan, -1, 1)``: use :func:`monte_carlo_metrics` for it.
    """
    from . import enumeration as en

    get_estimator(name)
    loss, a, noise = prepare(loss, a, noise)
    if g is None:
        g = en.exact_gradient(loss, a, noise, encoding=encoding).value
    g = _as_g(g, a.size)
    if get_estimator(name).sample == "uniform":  # ARM: exact second moments, cosine not enumerable
        res = en.expected_arm_moments(loss, a, noise, g, encoding=encoding, **params)
        v = np.concatenate([[np.nan], res.value])
        b = np.concatenate([[np.inf], res.error_bound])
        out = metrics_from_means(v, v - b, v + b, eps=eps, method="exact", confidence=None)
        return replace(out, cosine=MetricValue(float("nan"), -1.0, 1.0),
                       means={**out.means, "cos": MetricValue(float("nan"), -1.0, 1.0)})
    res = en.expected_transform(name, loss, a, noise, _TermsOf(g), encoding=encoding, **params)
    method = "quadrature" if isinstance(res, en.QuadratureResult) else "exact"
    v, b = np.asarray(res.value), np.asarray(res.error_bound)
    return metrics_from_means(v, v - b, v + b, eps=eps, method=method, confidence=None)


class _TermsOf:
    """``E -> per_sample_terms(E, g)`` (picklable)."""

    def __init__(self, g: np.ndarray):
        self.g = g

    def __call__(self, E: np.ndarray) -> np.ndarray:
        return per_sample_terms(E, self.g)


def optimal_step_derivation():
    """Sympy: minimise (63) ``-alpha A + alpha^2 Q / (2 eps)`` over ``alpha`` (``A = E<G,g>``, ``Q = E|G|^2 > 0``).

    Returns ``(alpha_star, objective_at_alpha_star, second_derivative)``; the
    printed (64)-(65) are ``eps A / Q`` and ``-(eps/2) A^2 / Q``.
    """
    import sympy

    alpha, A = sympy.symbols("alpha A", real=True)
    eps, Q = sympy.symbols("epsilon Q", positive=True)
    objective = -alpha * A + alpha**2 * Q / (2 * eps)
    (alpha_star,) = sympy.solve(sympy.diff(objective, alpha), alpha)
    return alpha_star, sympy.simplify(objective.subs(alpha, alpha_star)), sympy.diff(objective, alpha, 2)
