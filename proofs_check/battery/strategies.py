"""Hypothesis strategies for the battery: losses as replayable data, pre-activations, noises.

Every loss is drawn as a :class:`LossSpec` (plain data with a ``repr`` that
is valid Python), so a failing example can be printed as a replay line and
rebuilt with :meth:`LossSpec.build`.  Coefficients are never subnormal or
tiny: a coefficient is 0 or has magnitude in ``[min_coeff, max_coeff]``
(default ``[1e-3, 3]``); pass ``min_coeff=0`` to allow any float.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.numerics import losses
from stecheck.numerics.noise import get_noise

__all__ = ["LossSpec", "coefficients", "multilinear_losses", "linear_losses", "non_multilinear_losses",
           "b5_quadratic_losses", "b7_quadratic_losses", "b8_quadratic_losses", "preactivations", "noises"]


@dataclass(frozen=True)
class LossSpec:
    """A loss as data: ``kind`` in {linear, multilinear, square_sum, quadratic}, ``n`` and ``params``.

    * ``linear``: ``params = (c_0, ..., c_{n-1}, c0)``, ``L = c . x + c0``;
    * ``multilinear``: ``params = ((S, c_S), ...)``, ``L = sum_S c_S prod_{i in S} x_i``;
    * ``square_sum``: ``L = (sum_i x_i)^2`` (not multilinear);
    * ``quadratic``: ``params = (b, Q)``, ``L = b . x + x^T Q x / 2`` (``Q`` symmetric, tuples of rows).
    """

    kind: str
    n: int
    params: tuple = ()

    def build(self):
        if self.kind == "linear":
            return losses.Linear(np.array(self.params[: self.n]), self.params[self.n])
        if self.kind == "multilinear":
            return losses.Multilinear({tuple(S): c for S, c in self.params}, n=self.n)
        if self.kind == "square_sum":
            return _Fixed(losses.SquareSum(), self.n)
        if self.kind == "quadratic":
            b, Q = self.params
            return QuadraticForm(np.array(b), np.array(Q))
        raise InvalidArgument(f"unknown loss kind {self.kind!r}; valid: linear, multilinear, square_sum, quadratic.")

    @property
    def multilinear(self) -> bool:
        return self.kind in ("linear", "multilinear")


class _Fixed(losses.Loss):
    """A loss defined for any ``n``, fixed to ``n`` variables (so the battery knows ``n``)."""

    def __init__(self, inner, n):
        self.inner, self.n, self.is_multilinear = inner, n, inner.is_multilinear

    def __repr__(self):
        return f"{self.inner!r}[n={self.n}]"

    def _value(self, X):
        return self.inner.value(X)

    def _grad(self, X):
        return self.inner.grad(X)


class QuadraticForm(losses.Loss):
    """``L(x) = b . x + x^T Q x / 2`` with ``Q`` symmetric; ``dL/dx_i = b_i + (Q x)_i``, Lipschitz ``|Q_ii|`` in ``x_i``."""

    def __init__(self, b, Q):
        self.b, self.Q = np.asarray(b, float), np.asarray(Q, float)
        self.n = self.b.size
        self.is_multilinear = bool(np.all(np.diag(self.Q) == 0))

    def __repr__(self):
        return f"QuadraticForm(n={self.n})"

    def _value(self, X):
        return X @ self.b + 0.5 * np.einsum("bi,ij,bj->b", X, self.Q, X)

    def _grad(self, X):
        return self.b + X @ self.Q


def coefficients(*, min_coeff: float = 1e-3, max_coeff: float = 3.0, allow_zero: bool = False):
    """Floats with magnitude in ``[min_coeff, max_coeff]`` (no subnormal or tiny values unless ``min_coeff=0``)."""
    from hypothesis import strategies as st

    if min_coeff <= 0:
        base = st.floats(-max_coeff, max_coeff, allow_nan=False, allow_infinity=False)
    else:
        mag = st.floats(min_coeff, max_coeff, allow_nan=False, allow_infinity=False, allow_subnormal=False)
        base = st.tuples(st.sampled_from((-1.0, 1.0)), mag).map(lambda t: t[0] * t[1])
    return st.one_of(st.just(0.0), base) if allow_zero else base


def _check_n(n: int) -> None:
    if not isinstance(n, int) or not 1 <= n <= 12:
        raise InvalidArgument(f"n must be an int in 1..12 (the battery enumerates the cube), got {n!r}")


def multilinear_losses(n: int, *, max_order: int = 3, min_coeff: float = 1e-3, max_coeff: float = 3.0):
    """Multilinear ``LossSpec``s ``sum_S c_S prod_{i in S} x_i`` on ``n`` units (Prop. B.2)."""
    from hypothesis import strategies as st

    _check_n(n)
    monomials = [S for k in range(0, min(max_order, n) + 1) for S in combinations(range(n), k)]
    coeff = coefficients(min_coeff=min_coeff, max_coeff=max_coeff)
    return st.dictionaries(st.sampled_from(monomials), coeff, min_size=1, max_size=min(12, len(monomials))).map(
        lambda d: LossSpec("multilinear", n, tuple(sorted(d.items()))))


def linear_losses(n: int, *, min_coeff: float = 1e-3, max_coeff: float = 3.0):
    """Linear ``LossSpec``s ``c . x + c0`` (Sec. 2.2 I); every ``c_i`` nonzero."""
    from hypothesis import strategies as st

    _check_n(n)
    coeff = coefficients(min_coeff=min_coeff, max_coeff=max_coeff)
    return st.tuples(st.lists(coeff, min_size=n, max_size=n), coefficients(allow_zero=True)).map(
        lambda t: LossSpec("linear", n, tuple(t[0]) + (t[1],)))


def non_multilinear_losses(n: int, *, min_coeff: float = 1e-3, max_coeff: float = 3.0):
    """``(sum x)^2`` and quadratic forms with a nonzero diagonal (not multilinear on ``R^n``)."""
    from hypothesis import strategies as st

    _check_n(n)
    coeff = coefficients(min_coeff=min_coeff, max_coeff=max_coeff, allow_zero=True)

    def quad(t):
        b, M = t
        Q = (np.array(M).reshape(n, n) + np.array(M).reshape(n, n).T) / 2
        Q[0, 0] = Q[0, 0] if Q[0, 0] != 0 else 1.0
        return LossSpec("quadratic", n, (tuple(b), tuple(map(tuple, Q.tolist()))))

    quads = st.tuples(st.lists(coeff, min_size=n, max_size=n), st.lists(coeff, min_size=n * n, max_size=n * n)).map(quad)
    return st.one_of(st.just(LossSpec("square_sum", n)), quads)


def preactivations(n: int, *, bound: float = 3.0, noise: str | None = None):
    """Pre-activation vectors in ``[-bound, bound]^n`` (strictly inside a bounded noise support), no subnormals."""
    from hypothesis import strategies as st

    if noise is not None:
        hi = get_noise(noise).support[1]
        if np.isfinite(hi):
            bound = min(bound, 0.9 * hi)
    mag = st.one_of(st.just(0.0), st.floats(1e-3, bound, allow_nan=False, allow_subnormal=False))
    x = st.tuples(st.sampled_from((-1.0, 1.0)), mag).map(lambda t: t[0] * t[1] if t[1] else 0.0)
    return st.lists(x, min_size=n, max_size=n).map(lambda v: tuple(float(t) for t in v))


def noises(names):
    """One of the named noise families."""
    from hypothesis import strategies as st

    return st.sampled_from(tuple(names))


def b5_quadratic_losses(n: int, a: Any, noise: str):
    """Quadratic ``LossSpec``s meeting Prop. B.5's condition ``|E[g_i]| >= |Q_ii|`` at ``(a, noise)``.

    Built, not filtered: draw ``Q`` and margins ``t_i >= 0`` and signs ``s_i``,
    then set ``b_i = -(Q mu)_i + s_i (|Q_ii| + t_i)`` with ``mu = E[x] = 2F(a) - 1``,
    so that ``E[g_i] = b_i + (Q mu)_i = s_i (|Q_ii| + t_i)``.
    """
    from hypothesis import strategies as st

    mu = 2.0 * get_noise(noise).cdf(np.asarray(a, float)) - 1.0
    coeff = coefficients(allow_zero=True)

    def build(t):
        M, margins, signs = t
        Q = np.array(M).reshape(n, n)
        Q = (Q + Q.T) / 2
        b = -(Q @ mu) + np.array(signs) * (np.abs(np.diag(Q)) + np.array(margins))
        return LossSpec("quadratic", n, (tuple(b.tolist()), tuple(map(tuple, Q.tolist()))))

    return st.tuples(st.lists(coeff, min_size=n * n, max_size=n * n),
                     st.lists(st.floats(0.0, 2.0, allow_subnormal=False), min_size=n, max_size=n),
                     st.lists(st.sampled_from((-1.0, 1.0)), min_size=n, max_size=n)).map(build)


def b7_quadratic_losses(n: int, a: Any, noise: str):
    """Quadratic ``LossSpec``s meeting Prop. B.7's condition (34) ``|g_i(x*)| >= 2 (1 - p*) L`` at ``(a, noise)``.

    As :func:`b8_quadratic_losses` without B.8's extra ``+ L``: ``b_i = -(Q x*)_i + s_i (2 (1 - p*) L + t_i)``.
    """
    return _deterministic_quadratic_losses(n, a, noise, extra_lipschitz=0.0)


def b8_quadratic_losses(n: int, a: Any, noise: str):
    """Quadratic ``LossSpec``s meeting Prop. B.8's condition ``|g_i(x*)| >= 2 (1 - p*) L + L`` at ``(a, noise)``.

    ``x* = sign(a)`` (``sign(0) = +1``), ``p* = P(x = x*) = prod_i max(p_i, q_i)``, ``L = max_i sum_j |Q_ij|``
    the Lipschitz constant of every ``g_i = b_i + (Q x)_i`` in the infinity norm.  Built: ``b_i = -(Q x*)_i +
    s_i ((3 - 2 p*) L + t_i)``, ``t_i >= 0``.
    """
    return _deterministic_quadratic_losses(n, a, noise, extra_lipschitz=1.0)


def _deterministic_quadratic_losses(n: int, a: Any, noise: str, *, extra_lipschitz: float):
    """``b_i = -(Q x*)_i + s_i ((2 (1 - p*) + extra_lipschitz) L + t_i)``: ``|g_i(x*)| >= (2 (1 - p*) + extra) L``."""
    from hypothesis import strategies as st

    nz = get_noise(noise)
    av = np.asarray(a, float)
    xs = np.where(av >= 0, 1.0, -1.0)
    pstar = float(np.prod(np.maximum(nz.cdf(av), nz.sf(av))))
    coeff = coefficients(allow_zero=True)

    def build(t):
        M, margins, signs = t
        Q = np.array(M).reshape(n, n)
        Q = (Q + Q.T) / 2
        L = float(np.abs(Q).sum(axis=1).max())
        b = -(Q @ xs) + np.array(signs) * ((2.0 - 2.0 * pstar + extra_lipschitz) * L + np.array(margins))
        return LossSpec("quadratic", n, (tuple(b.tolist()), tuple(map(tuple, Q.tolist()))))

    return st.tuples(st.lists(coeff, min_size=n * n, max_size=n * n),
                     st.lists(st.floats(0.0, 2.0, allow_subnormal=False), min_size=n, max_size=n),
                     st.lists(st.sampled_from((-1.0, 1.0)), min_size=n, max_size=n)).map(build)
