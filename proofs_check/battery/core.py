"""Sound statistics for estimator property tests: ranges, intervals and exact values.

Mathematical object.  An *estimator* ``e`` is a random vector whose mean
should equal (or relate to) the true gradient ``g = d E_{x ~ p(x; a)}[L(x)] / da``
(paper eq. (1), eqs. (4)-(6)).  Every statistical decision here is a
two-sided interval for ``E[e]`` at family-wise error ``alpha`` (default
``1e-6``, over the ``n`` coordinates by Bonferroni) that is valid for **every**
sample size and every distribution with values in ``[-B_i, B_i]``:

* Maurer & Pontil (2009), Thm. 4, empirical Bernstein
  (:func:`numerics.montecarlo.empirical_bernstein_interval`):
  ``|mean - mu| <= sqrt(2 V ln(4/alpha') / N) + 7 R ln(4/alpha') / (3 (N - 1))``,
  ``R = 2 B_i``.  Unlike the CLT interval it stays valid when a rare event is
  never sampled or the observed variance is 0 (the second term is the price of
  not seeing the tail; e.g. ``R ln(4/alpha)/N`` ~ 0.2 % of the range at ``N = 20 000``).

The range ``B_i`` is what makes this sound.  It comes from the estimator's
declared ``bound`` (see :data:`BOUNDS`), computed from the loss on the cube
(``Lspan = max L - min L``, ``Gmax_i = max |dL/dx_i|``) and the noise at ``a``
(``F'(a_i)``, ``p_i``, ``q_i``).  An observed value beyond a *declared* bound
is a contract failure (the declaration is false); beyond the *default* bound
it makes the decision INCONCLUSIVE (no false alarm, no evidence).

Exact values are enumerated (:mod:`numerics.enumeration`) with their a-priori
rounding bound plus :data:`UNDERFLOW_FLOOR`, an absolute term for gradual
underflow: every operation that underflows errs by at most ``2^-1075`` in
absolute value, and no computation here performs ``10^20`` operations, so the
accumulated underflow error is below ``10^20 * 2^-1074 < 1e-300``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument, SelfCheckFailed
from stecheck.numerics import enumeration
from stecheck.numerics.encodings import span
from stecheck.numerics.montecarlo import empirical_bernstein_interval, monte_carlo_mean
from stecheck.numerics.noise import Noise, resolve_noise
from stecheck.numerics.seeding import task_seed

__all__ = [
    "DEFAULT_ALPHA",
    "UNDERFLOW_FLOOR",
    "Problem",
    "BOUNDS",
    "EstimatorContractError",
    "MeanInterval",
    "mean_interval",
    "exact_gradient",
    "example_seed",
]

#: Per-assertion false-alarm rate on a correct estimator (family-wise over coordinates).
DEFAULT_ALPHA = 1e-6
#: Absolute slack covering gradual underflow (see the module docstring).
UNDERFLOW_FLOOR = 1e-300
#: Largest ``n`` whose cube is enumerated for the range statistics.
MAX_CUBE_N = 14


class EstimatorContractError(InvalidArgument):
    """The estimator broke its contract (shape, dtype, finiteness, declared range); one line with the fix."""


@dataclass(frozen=True, eq=False)
class Problem:
    """One test problem: a loss, pre-activations ``a`` and a noise, with cube statistics for the ranges.

    ``lspan = max_x L(x) - min_x L(x)`` and ``gmax[i] = max_x |dL/dx_i(x)|``
    over ``x in {-1, 1}^n`` (for a multilinear ``L``, ``dL/dx_i`` is
    multilinear in the other coordinates, so ``gmax`` also bounds it on the
    whole box ``[-1, 1]^n``, which relaxed estimators evaluate).
    """

    loss: Any
    a: np.ndarray
    noise: Noise
    tau: float | None = None
    lspan: float = field(init=False)
    gmax: np.ndarray = field(init=False)

    def __post_init__(self):
        a = np.asarray(self.a, dtype=float)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "noise", resolve_noise(self.noise))
        n = a.size
        if n > MAX_CUBE_N:
            raise InvalidArgument(f"n={n}: the battery enumerates the cube for its ranges (n <= {MAX_CUBE_N}).")
        idx = np.arange(1 << n)
        X = np.where((idx[:, None] >> np.arange(n)) & 1, 1.0, -1.0)
        L = np.asarray(self.loss.value(X), dtype=float)
        G = np.asarray(self.loss.grad(X), dtype=float)
        object.__setattr__(self, "lspan", float(L.max() - L.min()))
        object.__setattr__(self, "gmax", np.abs(G).max(axis=0))

    @property
    def n(self) -> int:
        return self.a.size

    @property
    def fprime(self) -> np.ndarray:
        return self.noise.pdf(self.a)

    @property
    def p(self) -> np.ndarray:
        return self.noise.cdf(self.a)

    @property
    def q(self) -> np.ndarray:
        return self.noise.sf(self.a)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(num == 0.0, 0.0, np.where(den > 0.0, num / np.where(den > 0, den, 1.0), np.inf))


def _bound_st(pr: Problem) -> np.ndarray:  # Alg. 1: c F'(a_i) dL/dx_i(x)
    return span("pm1") * pr.fprime * pr.gmax


def _bound_identity(pr: Problem) -> np.ndarray:  # dL/dx_i(x)
    return pr.gmax.copy()


def _bound_local(pr: Problem) -> np.ndarray:  # eq. (6): F'(a_i) (L(on) - L(off))
    return pr.fprime * pr.lspan


def _bound_arm(pr: Problem) -> np.ndarray:  # F'/(pq) (L(x1) - L(x2)) (u - 1/2)
    return 0.5 * _ratio(pr.fprime, pr.p * pr.q) * pr.lspan


def _bound_score(pr: Problem) -> np.ndarray:  # REINFORCE-LOO: |L - b| <= Lspan, |score| <= F'/min(p, q)
    return _ratio(pr.fprime, np.minimum(pr.p, pr.q)) * pr.lspan


def _bound_relaxation(pr: Problem) -> np.ndarray:  # GS / ST-GS: c F'(u)/tau dL/dx(y), F' <= F'(0) = 1/2
    tau = 1.0 if pr.tau is None else pr.tau
    return span("pm1") * float(pr.noise.pdf(0.0)) * pr.gmax / tau


def _bound_default(pr: Problem) -> np.ndarray:
    """Covers every built-in estimator with a factor >= 2 to spare: ``2 F'/min(p,q) (Lspan + Gmax) / min(tau, 1)``."""
    tau = 1.0 if pr.tau is None else min(pr.tau, 1.0)
    return 2.0 * _ratio(pr.fprime, np.minimum(pr.p, pr.q)) * (pr.lspan + pr.gmax) / tau


#: Named almost-sure bounds ``|e_i| <= B_i(problem)``, one per estimator family of :mod:`numerics.estimators`.
BOUNDS = {
    "st": _bound_st,
    "identity": _bound_identity,
    "local_expectations": _bound_local,
    "arm": _bound_arm,
    "score": _bound_score,
    "relaxation": _bound_relaxation,
    "default": _bound_default,
}


def resolve_bound(bound: Any, pr: Problem) -> tuple[np.ndarray, bool]:
    """``(B (n,), declared)`` for ``bound`` = ``None`` (default), a name of :data:`BOUNDS`, a number, an array or ``f(problem)``."""
    if bound is None or bound == "default":
        return _bound_default(pr), False
    if isinstance(bound, str):
        if bound not in BOUNDS:
            raise InvalidArgument(f"unknown bound {bound!r}; valid names are {sorted(BOUNDS)}, a number or f(problem).")
        return BOUNDS[bound](pr), True
    value = bound(pr) if callable(bound) else bound
    B = np.broadcast_to(np.asarray(value, dtype=float), (pr.n,)).copy()
    if np.any(np.isnan(B)) or np.any(B < 0):
        raise InvalidArgument(f"bound gave {B!r}; expected |e_i| <= B_i with B_i >= 0 (one number or n of them).")
    return B, True


def example_seed(*parts: Any) -> int:
    """A stable 63-bit seed from the repr of ``parts`` (the same example always gets the same stream)."""
    return int.from_bytes(hashlib.sha256(repr(parts).encode()).digest()[:8], "little") >> 1


class Sampler:
    """``fn_chunk(rng, size) -> (size, n)`` for the Monte Carlo engine; validates the estimator's output."""

    def __init__(self, spec, pr: Problem, check: str = "", direction: np.ndarray | None = None, noise=None):
        self.spec, self.pr, self.check, self.direction = spec, pr, check, direction
        self.noise = pr.noise if noise is None else noise

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        out = self.spec.call(self.pr.loss, self.pr.a, self.noise, rng, size, tau=self.pr.tau, check=self.check)
        return out if self.direction is None else out @ self.direction[:, None]


@dataclass(frozen=True)
class MeanInterval:
    """``P(low <= E[e] <= high) >= 1 - alpha`` jointly over coordinates; ``decided`` False if the range was exceeded."""

    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n: int
    alpha: float
    bound: np.ndarray
    declared: bool
    exceeded: np.ndarray  # coordinates whose observed values left [-B, B]

    @property
    def decided(self) -> bool:
        return not bool(self.exceeded.any())


def mean_interval(sampler, dim: int, bound: np.ndarray, declared: bool, *, samples: int, seed: int, key: str,
                  alpha: float = DEFAULT_ALPHA) -> MeanInterval:
    """Empirical-Bernstein interval (Maurer-Pontil Thm. 4) for the mean of ``sampler``, family-wise ``1 - alpha``.

    Coordinates whose bound is infinite get ``(-inf, inf)``.  If any observed
    value leaves ``[-B_i, B_i]`` the result is not ``decided``.
    """
    mc = monte_carlo_mean(sampler, samples, task_seed(seed, key), confidence=0.5)
    mom = mc.moments
    B = np.broadcast_to(np.asarray(bound, dtype=float), (dim,))
    exceeded = (np.maximum(np.abs(mom.minimum), np.abs(mom.maximum)) > B * (1 + 1e-12) + UNDERFLOW_FLOOR)
    finite = np.isfinite(B) & ~exceeded
    low = np.full(dim, -np.inf)
    high = np.full(dim, np.inf)
    if finite.any():
        Bf = np.where(finite, B, 0.0)
        Bf = Bf * (1 + 1e-12) + UNDERFLOW_FLOOR
        clipped = type(mom)(mom.count, mom.total, mom.comp, mom.m2,
                            np.maximum(mom.minimum, -Bf), np.minimum(mom.maximum, Bf))
        # alpha over all dim coordinates (Bonferroni), whether or not each is finite
        lo, hi = empirical_bernstein_interval(clipped, (-Bf, Bf), 1.0 - alpha, simultaneous=True)
        # the per-coordinate level the library derives from confidence = 1 - alpha (the same float64 rounding)
        audit_bernstein(clipped, (-Bf, Bf), (1.0 - (1.0 - alpha)) / dim, lo, hi, np.flatnonzero(finite))
        low = np.where(finite, lo - UNDERFLOW_FLOOR, low)
        high = np.where(finite, hi + UNDERFLOW_FLOOR, high)
    return MeanInterval(mom.mean, low, high, mom.count, alpha, B.copy(), declared, exceeded)


def audit_bernstein(mom, value_range, alpha: float, lo: np.ndarray, hi: np.ndarray, coords=None) -> float:
    """An empirical Bernstein interval recomputed from its recorded moments in mpmath (40 digits), independently of
    :func:`numerics.montecarlo.empirical_bernstein_interval`: per coordinate ``j`` in ``coords`` (default all)
    ``mean -+ (sqrt(2 V L / N) + 7 R L / (3 (N - 1)) + gamma_{N+2} max|Y|)`` with ``V = M2 / (N - 1)``,
    ``R = b_j - a_j`` (``value_range = (a, b)``), ``L = ln(4 / alpha)`` (``alpha`` per coordinate, Bonferroni
    already applied; Maurer & Pontil 2009, Thm. 4, two-sided) and ``gamma_k = k u / (1 - k u)``, ``u = 2^-53``
    (Higham, Lemma 3.1; the rounding bound of the mean).  Tolerance per endpoint: ``16 u (|mean| + half)`` (the
    float64 half-width is a dozen correctly rounded operations on the same inputs, the endpoint one more), far below
    the rounding term ``gamma_{N+2} max|Y| >= N u max|Y|`` the interval must contain.  Returns the largest
    ``|difference| / tolerance``; a disagreement raises :class:`SelfCheckFailed` (the interval is not the stated
    one)."""
    import mpmath

    a_r, b_r = (np.broadcast_to(np.asarray(t, dtype=float), (mom.dim,)) for t in value_range)
    worst = 0.0
    with mpmath.workdps(40):
        u = mpmath.ldexp(1, -53)
        N = mom.count
        L = mpmath.log(4 / mpmath.mpf(alpha))
        k = (N + 2) * u
        gam = k / (1 - k)
        for j in (range(mom.dim) if coords is None else coords):
            mean = (mpmath.mpf(float(mom.total[j])) + mpmath.mpf(float(mom.comp[j]))) / N
            V = mpmath.mpf(float(mom.m2[j])) / (N - 1)
            big = max(abs(mpmath.mpf(float(mom.minimum[j]))), abs(mpmath.mpf(float(mom.maximum[j]))))
            R = mpmath.mpf(float(b_r[j])) - mpmath.mpf(float(a_r[j]))
            half = mpmath.sqrt(2 * V * L / N) + 7 * R * L / (3 * (N - 1)) + gam * big
            tol = 16 * u * (abs(mean) + half)
            for name, got, want in (("low", lo[j], mean - half), ("high", hi[j], mean + half)):
                err = abs(mpmath.mpf(float(got)) - want)
                worst = max(worst, float(err / tol))
                if not err <= tol:
                    raise SelfCheckFailed(
                        f"the empirical Bernstein {name} end of coordinate {j} is {float(got)!r}, but its recorded "
                        f"moments give {float(want)!r} (mpmath, tolerance {float(tol):.3g}); fix "
                        "numerics.montecarlo.empirical_bernstein_interval.")
    return worst


def exact_gradient(pr: Problem) -> tuple[np.ndarray, np.ndarray]:
    """``(g, err)``: the enumerated true gradient (eqs. (4)-(6)) and its rounding bound plus :data:`UNDERFLOW_FLOOR`."""
    res = enumeration.exact_gradient(pr.loss, pr.a, pr.noise)
    return np.asarray(res.value, dtype=float), np.asarray(res.error_bound, dtype=float) + UNDERFLOW_FLOOR


def fmt(v: Any) -> str:
    return np.array2string(np.asarray(v, dtype=float), precision=6, separator=", ")


def fmt_exact(v: Any) -> str:
    return "[" + ", ".join(repr(float(x)) for x in np.asarray(v, dtype=float).ravel()) + "]"
