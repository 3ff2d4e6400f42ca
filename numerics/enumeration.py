"""Exact expectations over all ``2^n`` binary states, ``n <= 22``.

Mathematical objects (paper Sec. 2.1, eqs. (3)-(6)), with
``P(x) = prod_i q_i(x_i)``, ``q_i(+1) = p_i``, ``q_i(-1) = 1 - p_i``:

* ``E[L] = sum_x P(x) L(x)``                                   (:func:`expected_loss`);
* the true gradient (eqs. (4)-(6)) with ``p_i = F(a_i)``::

      d E[L] / d a_i = F'(a_i) * (E[L | x_i = +1] - E[L | x_i = -1])
                     = F'(a_i) * sum_x x_i P_{-i}(x_{-i}) L(x),

  ``P_{-i}`` the product of the factors other than ``i``   (:func:`exact_gradient`);
* ``E_x[e(x)]`` for a single-sample estimator ``e`` of :mod:`numerics.estimators`
  (Alg. 1 ST, identity ST, deterministic ST, local expectations eq. (6))
  computed by applying that very estimator code to every state
  (:func:`expected_estimator`).

Algorithm.  States are enumerated in chunks of ``C = 2^k`` states
(``k = min(n, chunk_bits)``, ``chunk_bits <= 16``): coordinate ``i`` is bit
``i`` of the state index.  The low ``k`` bits vary inside a chunk, the high
``n - k`` bits are constant, so ``P(x) = P_high * P_low(x_low)`` with
``P_low`` a Kronecker product built once; per chunk the work is one batched
loss evaluation and a few matrix-vector products.  Chunk results are
accumulated with Neumaier compensated summation.

Rounding error (a-priori bound, returned with every value).  Let ``t_x`` be
the terms summed (e.g. ``P(x) L(x)``), with the loss values *as computed by
the loss object* (the loss's own evaluation error is not included), and the
noise functions ``F, 1 - F, F'`` assumed accurate to ``c_F = 4`` units of
roundoff (``c_F = 1`` for user-given ``p``: one rounding in ``1 - p``).  With
``u = 2^-53``, ``gamma_m = m u / (1 - m u)`` and ``K = 2^(n-k)`` chunks::

    |computed - exact| <= gamma_m * sum_x |t_x|  +  2^n (n + 2) 2^-1074 max_x |L(x)|,
    m = (c_F + 1)(n + 1) + C + K + 8.

(``n`` inexact factors and ``n - 1`` products per ``P(x)``, one product with
``L``, a dot product of length ``C`` in an unknown (BLAS) order, Neumaier
accumulation of ``K`` chunk sums, and the final ``F'`` factor; the second
term covers gradual underflow.  Higham, *Accuracy and Stability*, Lemma 3.1,
Sec. 3.1 and 4.3.)  For ``n = 20`` (``C = 2^16``, ``K = 16``) this is about ``7.3e-12 * sum_x |t_x|``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from proofs_check.errors import InvalidArgument

from ._compensated import gamma, neumaier_add
from ._validation import as_int, as_vector
from .estimators import _as_loss, deterministic_state, get_estimator, prepare
from .noise import Noise

__all__ = [
    "MAX_N",
    "MAX_CHUNK_BITS",
    "ExactResult",
    "expected_loss",
    "exact_loss_and_gradient",
    "exact_gradient",
    "expected_estimator",
]

#: Largest ``n`` for which ``2^n`` states are enumerated.
MAX_N = 22
#: Largest chunk: ``2^16`` states.
MAX_CHUNK_BITS = 16
#: Working relative accuracy of ``F``, ``1 - F`` and ``F'`` in units of ``u`` (see :mod:`numerics.noise`).
C_F = 4
_TINY = 2.0**-1074


class ExactResult(NamedTuple):
    """An exactly enumerated value and an a-priori bound on its rounding error (same shape)."""

    value: Any
    error_bound: Any


def _check_n(n: int) -> None:
    if n > MAX_N:
        raise InvalidArgument(
            f"n={n} binary variables means 2^{n} states, more than exact enumeration handles "
            f"(n <= {MAX_N}). Use Monte Carlo instead: numerics.montecarlo.monte_carlo_mean("
            "numerics.estimators.EstimatorSampler(name, loss, a, noise), n_samples, seed_seq)."
        )


def _m(n: int, C: int, K: int, c_f: int) -> int:
    return (c_f + 1) * (n + 1) + C + K + 8


class _Cube:
    """Chunked enumeration of ``{-1, +1}^n`` with factorised probabilities."""

    def __init__(self, p_plus: np.ndarray, p_minus: np.ndarray, chunk_bits: int):
        n = p_plus.size
        k = min(n, chunk_bits)
        self.n, self.k = n, k
        self.C = 1 << k
        self.K = 1 << (n - k)
        self.p_plus, self.p_minus = p_plus, p_minus
        bits = ((np.arange(self.C)[:, None] >> np.arange(k)) & 1).astype(bool)
        self.X_low = np.where(bits, 1.0, -1.0)
        P_low = np.ones(1)
        for i in range(k):
            P_low = np.concatenate((P_low * p_minus[i], P_low * p_plus[i]))
        self.P_low = P_low
        self._bits_low = bits
        self._D_low: tuple[np.ndarray, np.ndarray] | None = None
        self._X: np.ndarray | None = None

    def D_low(self) -> tuple[np.ndarray, np.ndarray]:
        """``D[s, i] = x_i(s) prod_{j<k, j!=i} q_j(s)`` for the low coordinates, and ``|D|``."""
        if self._D_low is None:
            Q = np.where(self._bits_low, self.p_plus[: self.k], self.p_minus[: self.k])
            loo = _leave_one_out(Q)
            self._D_low = (self.X_low * loo, loo)
        return self._D_low

    def chunk(self, c: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
        """States of chunk ``c``: ``(X, x_high, P_high, LOO_high)``.

        ``X`` is one read-only buffer reused for every chunk (the low columns
        never change), so a loss that tried to modify its input would fail
        loudly instead of corrupting later chunks.
        """
        hb = ((c >> np.arange(self.n - self.k)) & 1).astype(bool)
        q_high = np.where(hb, self.p_plus[self.k :], self.p_minus[self.k :])
        x_high = np.where(hb, 1.0, -1.0)
        if self._X is None:
            self._X = np.empty((self.C, self.n))
            self._X[:, : self.k] = self.X_low
        X = self._X
        X.flags.writeable = True
        X[:, self.k :] = x_high
        X.flags.writeable = False
        P_high = float(np.prod(q_high)) if q_high.size else 1.0
        loo_high = _leave_one_out(q_high[None, :])[0] if q_high.size else q_high
        return X, x_high, P_high, loo_high


def _leave_one_out(Q: np.ndarray) -> np.ndarray:
    """``out[s, i] = prod_{j != i} Q[s, j]`` by prefix/suffix products (no division)."""
    B, k = Q.shape
    out = np.ones((B, k))
    if k > 1:
        out[:, 1:] = np.cumprod(Q[:, :-1], axis=1)
        out[:, :-1] *= np.cumprod(Q[:, :0:-1], axis=1)[:, ::-1]
    return out


def _dot(w: np.ndarray, M: np.ndarray) -> Any:
    """``sum_s w[s] M[s, ...]`` with numpy's own loops (``einsum``), not BLAS.

    Multithreaded BLAS on tiny matrix-vector products is slow on a shared
    machine and its summation order may vary; ``einsum`` is single-threaded
    and deterministic.  (The rounding bound assumes an arbitrary order.)
    """
    return np.einsum("s,s...->...", w, M)


def _chunk_bits(chunk_bits: Any) -> int:
    return as_int(chunk_bits, "chunk_bits", minimum=1, maximum=MAX_CHUNK_BITS)


def _as_probabilities(p: Any) -> np.ndarray:
    p = as_vector(p, "p")
    bad = np.flatnonzero((p < 0.0) | (p > 1.0))
    if bad.size:
        raise InvalidArgument(
            f"p has entries outside [0, 1] at indices {bad[:10].tolist()} (values {p[bad[:10]].tolist()}); "
            "expected probabilities P(x_i = +1). If you have pre-activations a, use exact_gradient(loss, a, noise) "
            "or pass p = noise.cdf(a)."
        )
    return p


def expected_loss(loss: Any, p: Any, *, chunk_bits: int = MAX_CHUNK_BITS) -> ExactResult:
    """``E[L] = sum_x P(x) L(x)`` with ``P(x_i = +1) = p_i``; returns ``ExactResult(float, bound)``.

    Bound: ``gamma_m * sum_x P(x) |L(x)|`` plus the underflow term, ``m`` as in
    the module docstring with ``c_F = 1``.
    """
    p = _as_probabilities(p)
    loss = _as_loss(loss)
    n = p.size
    if loss.n is not None and loss.n != n:
        raise InvalidArgument(f"p has length {n} but {loss!r} is defined on R^{loss.n}; pass {loss.n} probabilities.")
    _check_n(n)
    cube = _Cube(p, 1.0 - p, _chunk_bits(chunk_bits))
    s = c = np.zeros(1)
    abs_sum = 0.0
    max_abs = 0.0
    for k in range(cube.K):
        X, _, P_high, _ = cube.chunk(k)
        L = loss.value(X)
        absL = np.abs(L)
        s, c = neumaier_add(s, c, np.array([P_high * _dot(L, cube.P_low)]))
        abs_sum += P_high * _dot(absL, cube.P_low)
        max_abs = max(max_abs, float(absL.max()))
    bound = gamma(_m(n, cube.C, cube.K, 1)) * abs_sum + _underflow(n, max_abs)
    return ExactResult(float((s + c)[0]), float(bound))


def _underflow(n: int, max_abs: float) -> float:
    return (2.0**n) * (n + 2) * _TINY * max_abs * 1.01


def exact_loss_and_gradient(
    loss: Any, a: Any, noise: Noise | str, *, chunk_bits: int = MAX_CHUNK_BITS
) -> tuple[ExactResult, ExactResult]:
    """``E[L]`` and ``dE[L]/da`` (eqs. (4)-(6)) at ``p = F(a)`` in one pass over the states.

    Returns ``(ExactResult(E[L], bound), ExactResult(grad (n,), bound (n,)))``.
    ``p_i = F(a_i)`` and ``1 - p_i = F(-a_i)`` are evaluated by ``noise``;
    the bounds assume these and ``F'`` accurate to ``c_F = 4`` units of roundoff.
    Gradient bound: ``gamma_m * F'(a_i) * sum_x P_{-i}(x) |L(x)|`` plus underflow.
    """
    loss, a, noise = prepare(loss, a, noise)
    n = a.size
    _check_n(n)
    cube = _Cube(noise.cdf(a), noise.sf(a), _chunk_bits(chunk_bits))
    D, absD = cube.D_low()
    k = cube.k
    zero_n = np.zeros(n + 1)
    s = c = zero_n  # entry 0: E[L]; entries 1..n: dE/dp
    abs_sum = np.zeros(n + 1)
    max_abs = 0.0
    for ci in range(cube.K):
        X, x_high, P_high, loo_high = cube.chunk(ci)
        L = loss.value(X)
        absL = np.abs(L)
        w, w_abs = _dot(L, cube.P_low), _dot(absL, cube.P_low)
        term = np.empty(n + 1)
        term[0] = P_high * w
        term[1 : k + 1] = P_high * _dot(L, D)
        term[k + 1 :] = (w * x_high) * loo_high
        s, c = neumaier_add(s, c, term)
        abs_sum[0] += P_high * w_abs
        abs_sum[1 : k + 1] += P_high * _dot(absL, absD)
        abs_sum[k + 1 :] += w_abs * loo_high
        max_abs = max(max_abs, float(absL.max()))
    total = s + c
    fprime = noise.pdf(a)
    m = _m(n, cube.C, cube.K, C_F)
    under = _underflow(n, max_abs)
    value = ExactResult(float(total[0]), float(gamma(m) * abs_sum[0] + under))
    grad = ExactResult(fprime * total[1:], gamma(m) * fprime * abs_sum[1:] + under * fprime)
    return value, grad


def exact_gradient(loss: Any, a: Any, noise: Noise | str, *, chunk_bits: int = MAX_CHUNK_BITS) -> ExactResult:
    """The true gradient ``d E_{x ~ p(x; a)}[L(x)] / da`` (eqs. (4)-(6)); ``ExactResult(grad (n,), bound (n,))``.

    Computed as ``F'(a_i) (E[L | x_i=+1] - E[L | x_i=-1])`` via leave-one-out
    probability products (no division, so ``F(a_i) in {0, 1}`` is fine).
    """
    return exact_loss_and_gradient(loss, a, noise, chunk_bits=chunk_bits)[1]


def expected_estimator(
    name: str, loss: Any, a: Any, noise: Noise | str, *, chunk_bits: int = MAX_CHUNK_BITS
) -> ExactResult:
    """``E_x[e(x)]`` for the estimator ``name`` of :mod:`numerics.estimators`; ``ExactResult((n,), (n,))``.

    Applies the estimator code to every state and sums ``P(x) e(x)``.  Bound:
    ``gamma_{m+8} * sum_x P(x) |e(x)|`` plus underflow (``+8``: the estimator's
    own roundings; ``e`` uses the loss values/gradients as computed).  For a
    deterministic estimator (``deterministic_st``) the value at ``sign(a)`` is
    returned directly, for any ``n``, with bound ``gamma_{c_F+3} |e|``.
    """
    est = get_estimator(name)
    loss, a, noise = prepare(loss, a, noise)
    n = a.size
    if not est.stochastic:
        e = est.fn(loss, a, noise, deterministic_state(a)[None, :])[0]
        return ExactResult(e, gamma(C_F + 3) * np.abs(e))
    _check_n(n)
    cube = _Cube(noise.cdf(a), noise.sf(a), _chunk_bits(chunk_bits))
    s = c = np.zeros(n)
    abs_sum = np.zeros(n)
    max_abs = 0.0
    for ci in range(cube.K):
        X, _, P_high, _ = cube.chunk(ci)
        E = est.fn(loss, a, noise, X)
        absE = np.abs(E)
        s, c = neumaier_add(s, c, P_high * _dot(cube.P_low, E))
        abs_sum += P_high * _dot(cube.P_low, absE)
        max_abs = max(max_abs, float(absE.max()))
    bound = gamma(_m(n, cube.C, cube.K, C_F) + 8) * abs_sum + _underflow(n, max_abs)
    return ExactResult(s + c, bound)
