"""Exact expectations over all ``2^n`` binary states, ``n <= 22``.

Mathematical objects (paper Sec. 2.1, eqs. (3)-(6)), with
``P(x) = prod_i q_i(x_i)``, ``q_i(+1) = p_i``, ``q_i(-1) = 1 - p_i``:

* ``E[L] = sum_x P(x) L(x)``                                   (:func:`expected_loss`);
* the true gradient (eqs. (4)-(6)) with ``p_i = F(a_i)``::

      d E[L] / d a_i = F'(a_i) * (E[L | x_i = +1] - E[L | x_i = -1])
                     = F'(a_i) * sum_x x_i P_{-i}(x_{-i}) L(x),

  ``P_{-i}`` the product of the factors other than ``i``   (:func:`exact_gradient`);
* ``E[e]`` for every single-sample estimator ``e`` of :mod:`numerics.estimators`
  (:func:`expected_estimator`) and ``E[T(e)]`` for a function ``T`` of the
  estimate, e.g. the per-sample terms of :mod:`numerics.metrics`
  (:func:`expected_transform`), computed by applying that very estimator code
  to every outcome of its random input:

  - state estimators (ST, identity ST, local expectations, Alg. 2): the
    ``2^n`` states;
  - ARM: ``u_i`` falls in one of 3 intervals ``[0, m), [m, 1-m), [1-m, 1]``
    (``m = min(p, q)``), which fix both antithetic states; given the
    intervals the estimate is affine in each ``u_i`` and the ``u_i`` are
    independent, so ``E`` is the sum over the ``3^n`` interval patterns of
    (probability x estimate at the interval midpoints) -- exact, ``n <= 13``;
  - REINFORCE with ``K`` states: ``E[e]`` by linearity and independence,
    ``E[(L - b) s]`` (constant ``b``) or ``E[L s] - E[L] E[s]`` (leave-one-out),
    each a ``2^n`` sum; ``E[T(e)]`` for non-linear ``T`` over the ``2^(nK)``
    tuples (``nK <= 22``);
  - Gumbel-Softmax / ST-GS (continuous noise): for ``n = 1`` by 1-D adaptive
    quadrature (:func:`scipy.integrate.quad`) in ``u = (a - z)/tau``, returned as
    :class:`QuadratureResult` whose ``error_bound`` is QUADPACK's error
    *estimate* (not a guarantee); ``n > 1`` raises: use Monte Carlo
    (:mod:`numerics.montecarlo` with :class:`numerics.estimators.EstimatorSampler`).
    A quadrature QUADPACK flags (divergent, slowly convergent, roundoff-limited: an
    ``IntegrationWarning``) or that returns a non-finite value raises
    :class:`stecheck.errors.QuadratureDiverged` instead of returning a meaningless number.

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

import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from stecheck.errors import InvalidArgument, QuadratureDiverged
from stecheck.selftest import OncePerProcess

from ._compensated import gamma, neumaier_add
from ._validation import as_int, as_vector
from .encodings import check_encoding, encode
from .estimators import (
    _arm_factor,
    _as_loss,
    deterministic_state,
    get_estimator,
    prepare,
    reinforce_score,
    resolve_params,
)
from .noise import Noise

__all__ = [
    "MAX_N",
    "MAX_CHUNK_BITS",
    "ExactResult",
    "expected_loss",
    "exact_loss_and_gradient",
    "exact_gradient",
    "expected_estimator",
    "expected_transform",
    "QuadratureResult",
    "MAX_N_ARM",
    "expected_arm_moments",
]

#: Largest ``n`` for which ``2^n`` states are enumerated.
MAX_N = 22
#: Largest ``n`` for ARM's ``3^n`` interval patterns.
MAX_N_ARM = 13
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
        loudly instead of corrupting later chunks.  ``c`` outside ``0 .. K - 1`` is refused: its bits would alias a
        chunk in range (``K`` is chunk 0 again), so a sum over a shifted range would count one chunk twice and
        drop another, or (over ``1 .. K``) only reorder the sum, unseen.
        """
        if not 0 <= c < self.K:
            raise InvalidArgument(f"chunk index {c} is out of range: the cube has chunks 0 .. {self.K - 1}; "
                                  f"sum over chunks first .. first + count - 1 within that range.")
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


def expected_loss(loss: Any, p: Any, *, chunk_bits: int = MAX_CHUNK_BITS, encoding: str = "pm1") -> ExactResult:
    """``E[L] = sum_x P(x) L(x)`` with ``P(x_i = +1) = p_i``; returns ``ExactResult(float, bound)``.

    Bound: ``gamma_m * sum_x P(x) |L(x)|`` plus the underflow term, ``m`` as in
    the module docstring with ``c_F = 1``.
    """
    _check_sums()
    p = _as_probabilities(p)
    loss = _as_loss(_reencode(loss, encoding))
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


def _reencode(loss: Any, encoding: str) -> Any:
    """A ``{0,1}``-state loss as the equal ``+-1``-state loss (:class:`numerics.encodings.Reencoded`)."""
    if check_encoding(encoding) == "pm1":
        return loss
    from .encodings import Reencoded

    return Reencoded(_as_loss(loss), source="01")


def accumulate_chunks(cube: "_Cube", loss: Any, first: int, count: int):
    """Neumaier sums over chunks ``first .. first + count - 1`` of ``cube``: ``(s, c, abs_sum, max_abs)``.

    Entry 0 of ``s + c`` is the chunks' share of ``E[L]``, entries ``1..n`` of
    ``dE[L]/dp`` (eq. (5)); ``abs_sum`` holds the same sums with ``|L|`` (for the
    rounding bounds) and ``max_abs`` the largest ``|L(x)|`` seen.  Used whole by
    :func:`exact_loss_and_gradient` and block by block by
    :mod:`numerics.enumeration_blocks`.
    """
    D, absD = cube.D_low()
    n, k = cube.n, cube.k
    s = c = np.zeros(n + 1)
    abs_sum = np.zeros(n + 1)
    max_abs = 0.0
    for ci in range(first, first + count):
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
    return s, c, abs_sum, max_abs


def exact_loss_and_gradient(
    loss: Any, a: Any, noise: Noise | str, *, chunk_bits: int = MAX_CHUNK_BITS, encoding: str = "pm1"
) -> tuple[ExactResult, ExactResult]:
    """``E[L]`` and ``dE[L]/da`` (eqs. (4)-(6)) at ``p = F(a)`` in one pass over the states.

    Returns ``(ExactResult(E[L], bound), ExactResult(grad (n,), bound (n,)))``.
    ``p_i = F(a_i)`` and ``1 - p_i = F(-a_i)`` are evaluated by ``noise``;
    the bounds assume these and ``F'`` accurate to ``c_F = 4`` units of roundoff.
    Gradient bound: ``gamma_m * F'(a_i) * sum_x P_{-i}(x) |L(x)|`` plus underflow.
    ``encoding="01"``: ``loss`` takes states in ``{0,1}^n`` (evaluated at ``(1 + x)/2``, exact).
    """
    _check_sums()
    loss = _reencode(loss, encoding)
    loss, a, noise = prepare(loss, a, noise)
    n = a.size
    _check_n(n)
    cube = _Cube(noise.cdf(a), noise.sf(a), _chunk_bits(chunk_bits))
    s, c, abs_sum, max_abs = accumulate_chunks(cube, loss, 0, cube.K)  # entry 0: E[L]; entries 1..n: dE/dp
    total = s + c
    fprime = noise.pdf(a)
    m = _m(n, cube.C, cube.K, C_F)
    under = _underflow(n, max_abs)
    value = ExactResult(float(total[0]), float(gamma(m) * abs_sum[0] + under))
    grad = ExactResult(fprime * total[1:], gamma(m) * fprime * abs_sum[1:] + under * fprime)
    return value, grad


def exact_gradient(
    loss: Any, a: Any, noise: Noise | str, *, chunk_bits: int = MAX_CHUNK_BITS, encoding: str = "pm1"
) -> ExactResult:
    """The true gradient ``d E_{x ~ p(x; a)}[L(x)] / da`` (eqs. (4)-(6)); ``ExactResult(grad (n,), bound (n,))``.

    Computed as ``F'(a_i) (E[L | x_i=+1] - E[L | x_i=-1])`` via leave-one-out
    probability products (no division, so ``F(a_i) in {0, 1}`` is fine).
    """
    return exact_loss_and_gradient(loss, a, noise, chunk_bits=chunk_bits, encoding=encoding)[1]


class QuadratureResult(NamedTuple):
    """A value by adaptive quadrature and QUADPACK's error *estimate* (same shape).

    The estimate is not a bound: it assumes the integrand is resolved by the
    Gauss-Kronrod rule (smooth on each sub-interval, no unseen spikes).
    """

    value: Any
    error_bound: Any


def _identity(E: np.ndarray) -> np.ndarray:
    return E


def _as_rows(V: Any, B: int) -> np.ndarray:
    """``T``'s output as ``(B, k)`` (a ``(B,)`` result is one column)."""
    V = np.asarray(V, dtype=np.float64)
    if V.shape[:1] != (B,) or V.ndim > 2:
        raise InvalidArgument(f"transform returned shape {V.shape} for {B} estimates; expected ({B},) or ({B}, k).")
    return V.reshape(B, -1)


class _Product:
    """Chunked enumeration of ``prod_j {0..c-1}`` with factorised probabilities ``probs (N, c)``."""

    def __init__(self, probs: np.ndarray, chunk_bits: int):
        N, c = probs.shape
        k = min(N, int(math.floor(chunk_bits / math.log2(c) + 1e-12)))
        self.N, self.c, self.k = N, c, k
        self.C = c**k
        self.K = c ** (N - k)
        self.probs = probs
        idx = np.arange(self.C)
        self.O_low = np.stack([(idx // c**j) % c for j in range(k)], axis=1) if k else np.zeros((1, 0), int)
        P = np.ones(self.C)
        for j in range(k):
            P = P * probs[j, self.O_low[:, j]]
        self.P_low = P

    def chunks(self):
        hi = self.N - self.k
        for ci in range(self.K):
            digits = np.array([(ci // self.c**j) % self.c for j in range(hi)], dtype=int)
            P_high = float(np.prod(self.probs[self.k + np.arange(hi), digits])) if hi else 1.0
            O = np.empty((self.C, self.N), dtype=int)
            O[:, : self.k] = self.O_low
            O[:, self.k :] = digits
            yield O, P_high * self.P_low


#: Chunk sums of the self-test :func:`_sums_selftest`, indexed by the high coordinates ``(x_1, x_2)`` in chunk order
#: (bit ``j`` of the chunk index is coordinate ``k + j``): ``2^60, 1, -2^60, 1``.  A plain running sum of
#: ``L / 4`` loses both ``1/4`` (``2^58 + 1/4`` rounds to ``2^58``); only the compensation ``c`` keeps them.
_SUMS_TABLE = {(-1.0, -1.0): 2.0**60, (1.0, -1.0): 1.0, (-1.0, 1.0): -(2.0**60), (1.0, 1.0): 1.0}


def _sums_selftest() -> list[str]:
    """The compensated chunk sums of :func:`expected_loss`, :func:`exact_loss_and_gradient` and
    :func:`_sum_over` (the result ``s + c``, not the plain running sum ``s``) against exact rational sums, and
    :class:`_Product` in its branch without low coordinates (``k = 0``: three outcomes and ``chunk_bits = 1``).

    Mathematical objects: at ``n = 3``, ``p = F(0) = 1/2`` (logistic noise: ``F(0) = 1/2``, ``F'(0) = 1/2``
    exactly), ``L(x) = T(x_2, x_3)`` from :data:`_SUMS_TABLE` and ``chunk_bits = 1`` (4 chunks of 2 states),
    ``E[L] = sum_x L(x) / 8`` and ``dE/da_i = F'(0) sum_x L(x) x_i / 4``, both by brute force in
    :class:`fractions.Fraction`; ``sum_O P(O) V(O)`` over :class:`_Product` with the same table (``c = 2``);
    and over ``{0, 1, 2}^2`` with probabilities ``(1/4, 1/2, 1/4)``, ``(1/2, 1/4, 1/4)`` and ``V(o) = o_1 + 4 o_2 - 1``
    at ``chunk_bits = 1`` (``k = 0``, 9 chunks of one pattern) and ``16`` (one chunk of 9).  Tolerance 0: every
    term is a dyadic product computed exactly, every rounding error of the running sum is captured exactly by the
    Neumaier step (Fast2Sum) and the compensations add exactly, so ``s + c`` is the exact sum; dropping or
    subtracting ``c`` is off by ``1/2`` at least, which the a-priori bounds (about ``2^60 gamma_m``) would hide.
    Returns what disagrees, ``[]`` if nothing.  About a millisecond."""
    from fractions import Fraction

    from .losses import Callable
    from .noise import NOISES

    def table(X):
        return np.array([_SUMS_TABLE[(float(r[1]), float(r[2]))] for r in X])

    loss = Callable(table, lambda X: np.zeros_like(X), n=3, name="self-test table")
    states = [np.array([x0, x1, x2]) for x2 in (-1.0, 1.0) for x1 in (-1.0, 1.0) for x0 in (-1.0, 1.0)]
    vals = [Fraction(_SUMS_TABLE[(x[1], x[2])]) for x in states]
    want_e = sum(vals, Fraction(0)) / 8
    want_g = [Fraction(1, 2) * sum((v * int(x[i]) for v, x in zip(vals, states)), Fraction(0)) / 4 for i in range(3)]
    bad = []
    e = expected_loss(loss, np.full(3, 0.5), chunk_bits=1)
    if Fraction(float(e.value)) != want_e:
        bad.append(f"expected_loss of the table loss at p = 1/2 (4 chunks) = {e.value!r}, expected {float(want_e)!r}")
    val, grad = exact_loss_and_gradient(loss, np.zeros(3), NOISES["logistic"], chunk_bits=1)
    if Fraction(float(val.value)) != want_e or [Fraction(float(g)) for g in grad.value] != want_g:
        bad.append(f"exact_loss_and_gradient of the table loss at a = 0 (4 chunks) = ({val.value!r}, "
                   f"{grad.value.tolist()}), expected ({float(want_e)!r}, {[float(g) for g in want_g]})")
    got, _ = _sum_over(_Product(np.full((3, 2), 0.5), 1),
                       lambda O: table(2.0 * O - 1.0)[:, None], 1, 0, 3)
    if Fraction(float(got[0])) != want_e:
        bad.append(f"_sum_over of the table over (c = 2, 4 chunks) = {got.tolist()}, expected {float(want_e)!r}")
    probs = np.array([[0.25, 0.5, 0.25], [0.5, 0.25, 0.25]])
    want_v = sum((Fraction(probs[0, o1]) * Fraction(probs[1, o2]) * (o1 + 4 * o2 - 1)
                  for o1 in range(3) for o2 in range(3)), Fraction(0))
    for cb in (1, 16):
        try:
            got, _ = _sum_over(_Product(probs, cb), lambda O: (O[:, 0] + 4.0 * O[:, 1] - 1.0)[:, None], 1, 0, 2)
        except (ValueError, IndexError) as exc:
            bad.append(f"_sum_over of 3^2 patterns at chunk_bits = {cb} raised {type(exc).__name__}: {exc}")
            continue
        if Fraction(float(got[0])) != want_v:
            bad.append(f"_sum_over of V(o) = o_1 + 4 o_2 - 1 over 3^2 patterns at chunk_bits = {cb} = {got.tolist()},"
                       f" expected {float(want_v)!r}")
    return bad


#: :func:`_sums_selftest` once per process (at the first enumerated sum); a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed`.
_check_sums = OncePerProcess(
    _sums_selftest, what="numerics.enumeration's compensated chunk sums fail their self-test",
    remedy="The result of a Neumaier sum is s + c (running sum plus compensation), and _Product must enumerate "
           "every pattern once: fix numerics/enumeration.py.")


def _arm_outcomes(a: np.ndarray, noise: Noise):
    """Per coordinate: interval probabilities ``(m, 1 - 2m, m)`` and midpoints ``(m/2, 1/2, 1 - m/2)``."""
    _check_arm(noise)
    p, q = noise.cdf(a), noise.sf(a)
    m = np.minimum(p, q)
    probs = np.stack([m, np.maximum(1.0 - 2.0 * m, 0.0), m], axis=1)
    mids = np.stack([0.5 * m, np.full_like(m, 0.5), 1.0 - 0.5 * m], axis=1)
    return p, q, probs, mids




def _arm_selftest(noise: Noise) -> list[str]:
    """ARM's exact expectations (the interval patterns with ``u_i`` at its interval's midpoint) against two
    computations apart from them, at ``n = 2`` with one coordinate of each kind (``p > q`` and ``p < q``) and a
    loss that is not multilinear, so that a coordinate in the middle interval meets a difference ``d != 0`` of the
    other's (at ``n = 1`` ``d = 0`` there, and the claims' inputs do not show a wrong middle point):

    - ``E[e]`` against :func:`exact_gradient` (ARM is unbiased; the states are enumerated there, no ``u``), within
      the sum of the two rounding bounds;
    - ``E<e, g>``, ``E|e|^2``, ``E|e - g|^2`` (:func:`expected_arm_moments`) against the sampled estimator
      :func:`~stecheck.numerics.estimators.arm_estimates` integrated over ``u in [0, 1]^2`` by 2-point
      Gauss-Legendre on each of the 3 x 3 pieces where the states are constant (``e`` is affine in ``u`` there, its
      square quadratic: the rule is exact), to ``1e-12`` relative;
    - ``E[e | O]`` for each of the 9 patterns (:func:`_arm_chunk`, the midpoint rule) against the same sampled
      estimator averaged by that Gauss-Legendre rule over the pattern's box alone, to ``1e-12`` relative: the
      pattern sums above are blind to an error that is odd under the reflection ``u -> 1 - u`` (e.g. ``u + 1/2``
      for ``u - 1/2``: the reflected pattern has the same probability and the opposite ``d``, so it cancels in
      ``E[e]`` and ``E<e, g>``).

    ``noise`` is the caller's family when it is a registered one (already audited, so the test adds no audit),
    else the logistic.  Returns what disagrees, ``[]`` if nothing."""
    from .estimators import arm_estimates
    from .losses import Quadratic
    from .noise import NOISES

    loss = Quadratic([[1.0, 2.0], [0.5, -1.0]], [0.3, -0.7])
    a = np.array([0.8, -0.4])
    noise = noise if NOISES.get(getattr(noise, "name", None)) == noise else NOISES["logistic"]
    bad = []
    e = expected_estimator("arm", loss, a, noise)
    g = exact_gradient(loss, a, noise)
    if not np.all(np.abs(e.value - g.value) <= e.error_bound + g.error_bound):
        bad.append(f"E[ARM] = {e.value.tolist()} but the exact gradient is {g.value.tolist()} "
                   f"(bounds {e.error_bound.tolist()}, {g.error_bound.tolist()})")
    mom = expected_arm_moments(loss, a, noise, g.value)
    p = noise.cdf(a)
    m = np.minimum(p, 1.0 - p)
    t = np.array([0.5 - 0.5 / math.sqrt(3.0), 0.5 + 0.5 / math.sqrt(3.0)])
    pieces = [np.array([0.0, mi, 1.0 - mi, 1.0]) for mi in m]
    nodes = [np.concatenate([lo + (hi - lo) * t for lo, hi in zip(e_[:-1], e_[1:])]) for e_ in pieces]
    weights = [np.repeat(np.diff(e_) / 2.0, 2) for e_ in pieces]
    U = np.array([[u1, u2] for u1 in nodes[0] for u2 in nodes[1]])
    W = np.array([w1 * w2 for w1 in weights[0] for w2 in weights[1]])
    E = arm_estimates(loss, a, noise, U)
    quad = np.array([W @ (E @ g.value), W @ np.einsum("bi,bi->b", E, E), W @ np.sum((E - g.value) ** 2, axis=1)])
    if not np.allclose(mom.value, quad, rtol=1e-12, atol=1e-14):
        bad.append(f"ARM's exact moments (E<e,g>, E|e|^2, E|e-g|^2) = {mom.value.tolist()} but the sampled estimator "
                   f"integrated over u by Gauss-Legendre gives {quad.tolist()}")
    prep_loss, prep_a, prep_noise = prepare(loss, a, noise)
    p_, q_, _, mids = _arm_outcomes(prep_a, prep_noise)
    O = np.array([[o1, o2] for o1 in range(3) for o2 in range(3)])
    cond = _arm_chunk(prep_loss, prep_a, prep_noise, O, "pm1", p_, q_, mids)
    box = np.array([[2 * o1 + j1, 2 * o2 + j2] for o1, o2 in O for j1 in range(2) for j2 in range(2)])
    Ub = np.stack([nodes[0][box[:, 0]], nodes[1][box[:, 1]]], axis=1)
    Wb = (weights[0][box[:, 0]] * weights[1][box[:, 1]]).reshape(9, 4)
    Eb = arm_estimates(loss, a, noise, Ub).reshape(9, 4, 2)
    ref = np.einsum("bk,bki->bi", Wb, Eb) / Wb.sum(axis=1)[:, None]
    if not np.allclose(cond, ref, rtol=1e-12, atol=1e-14):
        bad.append(f"ARM's per-pattern means E[e | O] (midpoint rule, patterns {O.tolist()}) = {cond.tolist()} but the "
                   f"sampled estimator averaged over each pattern's box by Gauss-Legendre gives {ref.tolist()}")
    return bad


#: :func:`_arm_selftest` once per process (with the first call's noise family); a mismatch raises
#: :class:`~stecheck.errors.SelfCheckFailed`.
_check_arm = OncePerProcess(
    _arm_selftest, what="ARM's exact enumeration fails its self-test",
    remedy="The interval patterns, midpoints or states of numerics.enumeration._arm_outcomes/_arm_chunk disagree "
           "with numerics.estimators.arm_estimates.")


def _arm_chunk(loss, a, noise, O, encoding, p, q, mids):
    """ARM's estimate for interval pattern ``O`` (the code of ``arm_estimates`` with the states fixed by ``O``)."""
    big = p >= q  # then m = q: intervals u<q | q<=u<p | u>=p
    on1 = np.where(big, O >= 1, O == 2)  # u > q
    on2 = np.where(big, O <= 1, O == 0)  # u < p
    U = np.take_along_axis(np.broadcast_to(mids, (O.shape[0],) + mids.shape), O[:, :, None], axis=2)[:, :, 0]
    d = loss.value(encode(on1, encoding)) - loss.value(encode(on2, encoding))
    return _arm_factor(a, noise, p, q) * (d[:, None] * (U - 0.5))


def _sum_over(product: _Product, values_of, k_out: int, c_extra: int, n_inexact: int):
    _check_sums()
    s = c = np.zeros(k_out)
    abs_sum = np.zeros(k_out)
    max_abs = 0.0
    for O, P in product.chunks():
        V = values_of(O)
        absV = np.abs(V)
        s, c = neumaier_add(s, c, _dot(P, V))
        abs_sum += _dot(P, absV)
        max_abs = max(max_abs, float(absV.max()))
    m = (C_F + 1) * (n_inexact + 1) + product.C + product.K + 8 + c_extra
    bound = gamma(m) * abs_sum + _underflow(product.N, max_abs)
    return s + c, bound


#: Largest step in ``u`` between neighbouring evaluation points ``z = a - tau u`` that the 1-D quadrature accepts:
#: the estimator recomputes ``u = (a - z) / tau`` from the double ``z``, so ``u`` is resolved only to
#: ``spacing(z) / tau``; the relaxation varies on a scale of 1 in ``u``.
GS_U_RESOLUTION = 1e-9


def gs_min_tau(a0: float) -> float:
    """The smallest temperature at which :func:`_quad_n1` resolves the relaxation at pre-activation ``a0``.

    Points ``z = a0 - tau u`` with ``|u| <= 40`` (where the relaxation varies) are doubles near ``a0``, spaced
    ``spacing(|a0|)``; ``u`` is then known to ``spacing(|a0|) / tau``, which must be ``<= GS_U_RESOLUTION``.
    Below this ``tau`` the evaluation points collapse onto a few doubles (at ``tau = 1e-30`` all onto ``a0``) and
    the quadrature integrates a step function: a wrong value with a tiny error estimate.  ``a0 = 0`` has no floor
    beyond the smallest normal number (``z = -tau u`` is exact to relative ``2^-53``)."""
    return max(float(np.spacing(abs(float(a0)))) / GS_U_RESOLUTION, float(np.finfo(np.float64).tiny))


def _quad_n1(est, loss, a, noise, transform, encoding, params) -> QuadratureResult:
    """``E[T(e)]`` for a Gumbel-Softmax-type estimator at ``n = 1`` by quadrature in ``u = (a - z)/tau``.

    ``E[T(e)] = int T(e(z = a - tau u)) f_Z(a - tau u) tau du`` over ``R``, split at
    ``u = 0`` (ST-GS jumps there), ``u = a/tau`` (peak of ``f_Z``) and ``u = +-1, +-10, +-40``
    (where the relaxation varies, on a scale of 1 in ``u`` for every tau).  QUADPACK's
    warnings or a non-finite value raise :class:`~stecheck.errors.QuadratureDiverged`.
    """
    from scipy import integrate

    tau = params["tau"]
    a0 = float(a[0])
    floor = gs_min_tau(a0)
    if not tau >= floor:
        why = (f"tau = {tau:g} is below {floor:.2g}, the smallest temperature resolvable at a = {a0:g} "
               f"(z = a - tau u resolves u only to spacing(a)/tau = {float(np.spacing(abs(a0))) / tau:.2g})")
        exc = QuadratureDiverged(f"the quadrature of E[T(e)] for {est.name!r} cannot be evaluated: {why}; use "
                                 f"tau >= {floor:.2g} or Monte Carlo")
        exc.reason, exc.verb, exc.min_tau = why, "cannot resolve the relaxation", floor
        raise exc

    def values(u: float) -> np.ndarray:
        z = a0 - tau * u
        e = est.fn(loss, a, noise, np.array([[z]]), encoding=encoding, **params)
        return np.asarray(transform(e), dtype=np.float64).reshape(1, -1)[0] * (float(noise.pdf(z)) * tau)

    k_out = values(0.5).size
    # the relaxation s(u) varies on |u| <~ 40 whatever tau is (s(1 - s) < 5e-18 beyond): cut there too, or an
    # interval of length a/tau (3e4 at tau = 1e-5) hides the spike from the Gauss-Kronrod nodes and quad returns
    # a wrong value with a tiny error estimate
    cuts = sorted({0.0, a0 / tau, -1.0, 1.0, -10.0, 10.0, -40.0, 40.0})
    edges = [-np.inf] + cuts + [np.inf]
    val = np.zeros(k_out)
    err = np.zeros(k_out)
    for j in range(k_out):
        for lo, hi in zip(edges[:-1], edges[1:]):
            if lo == hi:
                continue
            # ST-GS's integrand jumps at u = 0: never let an interval's interior contain it
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", integrate.IntegrationWarning)
                v, e = integrate.quad(lambda u: values(u)[j], lo, hi, limit=200, epsabs=1e-13, epsrel=1e-11)
            failed = [w for w in caught if issubclass(w.category, integrate.IntegrationWarning)]
            for w in caught:  # anything else passes through unchanged
                if w not in failed:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
            if failed or not (math.isfinite(v) and math.isfinite(e)):
                why = ("QUADPACK: " + " ".join(str(failed[0].message).split()).rstrip(".")) if failed else \
                    f"the integral is {v} with error estimate {e}"
                verb = "diverges" if "diverg" in why or not failed else "does not converge"
                exc = QuadratureDiverged(
                    f"the quadrature of E[T(e)] for {est.name!r} at tau = {tau:g}, a = {a0:g} {verb} on "
                    f"u in ({lo:g}, {hi:g}) ({why}); no value is returned. Use a larger "
                    "tau or Monte Carlo (numerics.montecarlo with numerics.estimators.EstimatorSampler)")
                exc.reason, exc.verb = why, verb
                raise exc
            val[j] += v
            err[j] += e
    return QuadratureResult(val, err)


def expected_transform(
    name: str,
    loss: Any,
    a: Any,
    noise: Noise | str,
    transform: Any = None,
    *,
    encoding: str = "pm1",
    chunk_bits: int = MAX_CHUNK_BITS,
    **params: Any,
) -> ExactResult | QuadratureResult:
    """``E[T(e)]`` over the sampling law of estimator ``name``; ``T(E (B, n)) -> (B, k)`` (default: identity).

    Enumerated exactly (see the module docstring for each estimator kind),
    bound ``gamma_{m + extra} * sum P |T(e)|`` plus underflow; for the
    Gumbel-Softmax pair at ``n = 1`` a :class:`QuadratureResult`.
    """
    est = get_estimator(name)
    loss, a, noise = prepare(loss, a, noise)
    encoding = check_encoding(encoding)
    params = resolve_params(est, noise, params)
    T = _identity if transform is None else transform
    if not callable(T):
        raise InvalidArgument(f"transform={transform!r} is not callable; expected T(E (B, n)) -> (B, k).")
    n = a.size
    cb = _chunk_bits(chunk_bits)
    if est.sample == "none":
        x = deterministic_state(a, encoding)[None, :]
        v = np.asarray(T(est.fn(loss, a, noise, x, encoding=encoding, **params)), dtype=np.float64).reshape(1, -1)[0]
        return ExactResult(v, gamma(C_F + 8) * np.abs(v))
    if est.sample == "noise":
        if n != 1:
            raise InvalidArgument(
                f"{name!r} has a continuous random input (the logistic noise z); its expectation is computed by "
                f"1-D quadrature only for n = 1, got n = {n}. For n > 1 use Monte Carlo: "
                f"numerics.montecarlo.monte_carlo_mean(numerics.estimators.EstimatorSampler({name!r}, loss, a, "
                "noise, tau=...), n_samples, seed_seq)."
            )
        return _quad_n1(est, loss, a, noise, T, encoding, params)
    if est.sample == "uniform":
        if transform is not None:
            raise InvalidArgument(
                "arm: E[T(e)] is enumerated exactly only for T = identity (the estimate is affine in each u_i "
                "given the interval pattern, so u_i may be replaced by its interval midpoint). For the metrics use "
                "expected_arm_moments (exact E<e,g>, E|e|^2, E|e-g|^2); the expected cosine needs Monte Carlo."
            )
        if n > MAX_N_ARM:
            raise InvalidArgument(
                f"n={n}: ARM's exact expectation enumerates 3^{n} interval patterns, more than n <= {MAX_N_ARM} "
                "allows. Use Monte Carlo (numerics.estimators.EstimatorSampler('arm', ...))."
            )
        p, q, probs, mids = _arm_outcomes(a, noise)
        fn = lambda O: _as_rows(T(_arm_chunk(loss, a, noise, O, encoding, p, q, mids)), O.shape[0])  # noqa: E731
        k_out = fn(np.zeros((1, n), dtype=int)).shape[1]
        val, bound = _sum_over(_Product(probs, cb), fn, k_out, 16, n)
        return ExactResult(val, bound)
    if est.sample == "states":
        K = params["samples"]
        N = n * K
        if N > MAX_N:
            raise InvalidArgument(
                f"reinforce with samples={K} at n={n}: E[T(e)] enumerates 2^{N} tuples of states (n*K <= {MAX_N}). "
                "Use Monte Carlo, or expected_estimator (which uses linearity for E[e] itself)."
            )
        pq = np.stack([noise.sf(a), noise.cdf(a)], axis=1)
        probs = np.tile(pq, (K, 1))

        def fn(O):
            S = encode(O == 1, encoding).reshape(O.shape[0], K, n)
            return _as_rows(T(est.fn(loss, a, noise, S, encoding=encoding, **params)), O.shape[0])

        k_out = fn(np.ones((1, N), dtype=int)).shape[1]
        val, bound = _sum_over(_Product(probs, cb), fn, k_out, 12, N)
        return ExactResult(val, bound)
    # one state per estimate
    _check_n(n)
    probs = np.stack([noise.sf(a), noise.cdf(a)], axis=1)

    def fn(O):
        X = encode(O == 1, encoding)
        return _as_rows(T(est.fn(loss, a, noise, X, encoding=encoding, **params)), O.shape[0])

    k_out = fn(np.ones((1, n), dtype=int)).shape[1]
    val, bound = _sum_over(_Product(probs, cb), fn, k_out, 8, n)
    return ExactResult(val, bound)


def _expected_reinforce(loss, a, noise, encoding, params, cb) -> ExactResult:
    """``E[REINFORCE]`` by linearity: ``E[(L - b) s]`` or, leave-one-out, ``E[L s] - E[L] E[s]``."""
    n = a.size
    _check_n(n)
    probs = np.stack([noise.sf(a), noise.cdf(a)], axis=1)
    b = 0.0 if params["baseline"] == "loo" else params["baseline"]

    def fn(O):
        X = encode(O == 1, encoding)
        Lv = loss.value(X) - b
        s = reinforce_score(a, noise, X, encoding=encoding)
        return np.concatenate([Lv[:, None] * s, Lv[:, None], s], axis=1)

    val, bound = _sum_over(_Product(probs, cb), fn, 2 * n + 1, 10, n)
    Ls, EL, Es = val[:n], val[n], val[n + 1 :]
    bLs, bL, bs = bound[:n], bound[n], bound[n + 1 :]
    if params["baseline"] != "loo":
        return ExactResult(Ls, bLs)
    return ExactResult(Ls - EL * Es, bLs + abs(EL) * bs + bL * np.abs(Es) + bL * bs + gamma(3) * np.abs(EL * Es))


def expected_estimator(
    name: str, loss: Any, a: Any, noise: Noise | str, *, chunk_bits: int = MAX_CHUNK_BITS,
    encoding: str = "pm1", **params: Any,
) -> ExactResult | QuadratureResult:
    """``E[e]`` for the estimator ``name`` of :mod:`numerics.estimators`; ``ExactResult((n,), (n,))``.

    Applies the estimator code to every outcome of its random input and sums
    ``P(outcome) e(outcome)`` (REINFORCE with ``K`` states: by linearity, see
    the module docstring).  Bound: ``gamma_{m+8} * sum P |e|`` plus underflow
    (``+8``: the estimator's own roundings; ``e`` uses the loss values/
    gradients as computed).  For a deterministic estimator
    (``deterministic_st``) the value at ``sign(a)`` is returned directly, for
    any ``n``.  Gumbel-Softmax / ST-GS: :class:`QuadratureResult` for ``n = 1``;
    ``n > 1`` raises (use Monte Carlo).
    """
    est = get_estimator(name)
    if est.sample == "states":
        loss, a, noise = prepare(loss, a, noise)
        encoding = check_encoding(encoding)
        params = resolve_params(est, noise, params)
        return _expected_reinforce(loss, a, noise, encoding, params, _chunk_bits(chunk_bits))
    return expected_transform(name, loss, a, noise, None, encoding=encoding, chunk_bits=chunk_bits, **params)


def expected_arm_moments(
    loss: Any, a: Any, noise: Noise | str, g: Any, *, encoding: str = "pm1", chunk_bits: int = MAX_CHUNK_BITS
) -> ExactResult:
    """``(E<e, g>, E|e|^2, E|e - g|^2)`` for ARM exactly; ``ExactResult((3,), (3,))``.

    Given the interval pattern ``O``, ``e_i = d(O) f_i (u_i - 1/2)`` with ``u_i``
    uniform on its interval (independent), so ``E[e_i | O] = d f_i (mid_i - 1/2)``
    and ``E[e_i^2 | O] = d^2 f_i^2 ((mid_i - 1/2)^2 + len_i^2 / 12)``; summed over
    the ``3^n`` patterns with their probabilities.
    """
    est = get_estimator("arm")
    loss, a, noise = prepare(loss, a, noise)
    encoding = check_encoding(encoding)
    resolve_params(est, noise, {})
    n = a.size
    g = as_vector(g, "g", size=n)
    if n > MAX_N_ARM:
        raise InvalidArgument(f"n={n}: ARM's exact moments enumerate 3^{n} patterns (n <= {MAX_N_ARM}); use Monte Carlo.")
    p, q, probs, mids = _arm_outcomes(a, noise)
    m = np.minimum(p, q)
    lens = np.stack([m, np.maximum(1.0 - 2.0 * m, 0.0), m], axis=1)
    w2 = (mids - 0.5) ** 2 + lens**2 / 12.0  # (n, 3)
    gg = float(g @ g)

    def fn(O):
        E1 = _arm_chunk(loss, a, noise, O, encoding, p, q, mids)  # E[e | O]
        big = p >= q
        on1 = np.where(big, O >= 1, O == 2)
        on2 = np.where(big, O <= 1, O == 0)
        d = loss.value(encode(on1, encoding)) - loss.value(encode(on2, encoding))
        df = d[:, None] * _arm_factor(a, noise, p, q)
        W2 = np.take_along_axis(np.broadcast_to(w2, (O.shape[0],) + w2.shape), O[:, :, None], axis=2)[:, :, 0]
        inner = E1 @ g
        sq = np.einsum("bi,bi->b", df * df, W2)
        return np.stack([inner, sq, sq - 2.0 * inner + gg], axis=1)

    val, bound = _sum_over(_Product(probs, _chunk_bits(chunk_bits)), fn, 3, 24, n)
    return ExactResult(val, bound)
