"""Vectorized loss functions ``L : R^n -> R`` evaluated on binary states.

The paper's ST estimator (Sec. 2.1, eqs. (7)-(9), Alg. 1) needs a loss that
is a *differentiable* function on ``R^n`` which we evaluate on
``x in {-1, +1}^n``; its bias analysis (Sec. 2.2 I, Prop. B.3) turns on
whether ``L`` is multilinear.  Every loss here is an object with

* ``value(X) -> (B,)``  -- ``L`` at each row of ``X`` (shape ``(B, n)``),
* ``grad(X) -> (B, n)`` -- ``dL/dx`` at each row,
* ``n`` -- the required dimension, or ``None`` if any ``n`` works,
* ``is_multilinear`` -- ``True``/``False`` as a polynomial identity on
  ``R^n`` (``None``: unknown), which is what "ST is unbiased" depends on.

Both methods check their output for NaN/inf and raise
:class:`~proofs_check.errors.NonFiniteValue` naming the sample index and the
coordinates; nothing non-finite is returned silently.

Accuracy.  ``value`` and ``grad`` are closed forms evaluated in float64;
their rounding error is the usual forward error of the formula
(e.g. ``Quadratic``: ``|fl(L) - L| <= gamma_{m+n+2} * sum_k (|W||x| + |y|)_k^2``
with ``gamma_k = k eps / (1 - k eps)``).  Callers that need rigorous bounds
(:mod:`numerics.enumeration`) state them relative to the computed values.
"""

from __future__ import annotations

import math
from collections.abc import Callable as _CallableT
from collections.abc import Mapping
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

from ._validation import as_int, as_matrix, as_vector, check_batch, check_finite_rows, short_repr

__all__ = [
    "Loss",
    "Linear",
    "SquareSum",
    "Quadratic",
    "QuadraticMultilinear",
    "Multilinear",
    "Ex2",
    "Power",
    "Callable",
]


class Loss:
    """Base class: validation and non-finite checks around ``_value``/``_grad``."""

    #: Required number of variables, or ``None`` for any ``n >= 1``.
    n: int | None = None
    #: Whether ``L`` is a multilinear polynomial on ``R^n`` (``None`` = unknown).
    is_multilinear: bool | None = None

    def value(self, X: Any) -> np.ndarray:
        """``L(x)`` for each row ``x`` of ``X`` (shape ``(B, n)``); returns shape ``(B,)``."""
        arr = check_batch(X, self.n, who=f"{self!r}.value")
        out = self._value(arr)
        check_finite_rows(out, arr, who=f"{self!r}.value", what="loss value")
        return out

    def grad(self, X: Any) -> np.ndarray:
        """``dL/dx`` for each row ``x`` of ``X`` (shape ``(B, n)``); returns shape ``(B, n)``."""
        _losses_selftest()
        arr = check_batch(X, self.n, who=f"{self!r}.grad")
        out = self._grad(arr)
        check_finite_rows(out, arr, who=f"{self!r}.grad", what="gradient entry")
        return out

    def _value(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _grad(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scaled_grad(self, X: np.ndarray, scale: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``scale * dL/dx`` at each row of a float64 batch ``X`` the caller built itself (hot path).

        Bit-identical to ``scale * self.grad(X)``, written into ``out`` if given.
        A subclass may fuse the scaling into its last operation and skip the
        finiteness check of :meth:`grad`; the caller must then check the
        product (the Monte Carlo estimators do, naming the sample).
        """
        _losses_selftest()
        return np.multiply(scale, self._grad_unchecked(X), out=out)

    def _grad_unchecked(self, X: np.ndarray) -> np.ndarray:
        """``dL/dx`` without the finiteness check of :meth:`grad` (the caller checks, naming the sample in
        its own batch); a subclass that overrides :meth:`grad` itself keeps it."""
        return self._grad(X) if type(self).grad is Loss.grad else self.grad(X)


class Linear(Loss):
    """``L(x) = c . x + c0`` (paper Sec. 2.2 I: ST is exact, zero variance)."""

    is_multilinear = True

    def __init__(self, c: Any, c0: float = 0.0):
        self.c = as_vector(c, "c")
        self.c0 = float(as_vector(c0, "c0", size=1)[0])
        self.n = self.c.size

    def __repr__(self) -> str:
        return f"Linear(c={short_repr(self.c)}, c0={self.c0!r})"

    def _value(self, X):
        return X @ self.c + self.c0

    def _grad(self, X):
        return np.broadcast_to(self.c, X.shape).copy()


class SquareSum(Loss):
    """``L(x) = (sum_i x_i)^2`` -- not multilinear on ``R^n`` (has ``x_i^2`` terms)."""

    is_multilinear = False

    def __repr__(self) -> str:
        return "SquareSum()"

    def _value(self, X):
        s = X.sum(axis=1)
        return s * s

    def _grad(self, X):
        s = X.sum(axis=1, keepdims=True)
        return np.broadcast_to(2.0 * s, X.shape).copy()


def _column_norms_sq(W: np.ndarray) -> np.ndarray:
    return np.einsum("ki,ki->i", W, W)


class Quadratic(Loss):
    """``L(x) = ||W x - y||^2`` (Yin et al. 2019; paper Sec. 2.2 I), ``W`` of shape ``(m, n)``."""

    is_multilinear = False

    def __init__(self, W: Any, y: Any):
        self.W = as_matrix(W, "W")
        self.y = as_vector(y, "y", size=self.W.shape[0])
        self.n = self.W.shape[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(W.shape={self.W.shape})"

    def _residual(self, X):
        return X @ self.W.T - self.y

    def _value(self, X):
        r = self._residual(X)
        return np.einsum("bk,bk->b", r, r)

    def _grad(self, X):
        return 2.0 * (self._residual(X) @ self.W)

    def _scaled_grad(self, X, scale, out=None):
        _losses_selftest()
        # scale * (2 (r W)) with one pass less: 2 * scale is exact (a power-of-2 factor), so
        # round((r W) * (2 scale)) = round(scale * (2 (r W))) bit for bit; no temporary beyond r.
        if type(self)._grad is not Quadratic._grad:  # a subclass changed the gradient (e.g. QuadraticMultilinear)
            return super()._scaled_grad(X, scale, out)
        r = X @ self.W.T
        r -= self.y
        g = np.matmul(r, self.W, out=out)
        g *= 2.0 * scale
        return g


class QuadraticMultilinear(Quadratic):
    """Multilinear extension of ``||Wx - y||^2`` (Prop. B.3, eq. (20)).

    ``L(x) = ||W x - y||^2 - sum_i x_i^2 ||W_{:,i}||^2 + sum_i ||W_{:,i}||^2``:
    the ``x_i^2`` terms are removed, so ``L`` is multilinear on ``R^n`` and
    coincides with :class:`Quadratic` on ``{-1, +1}^n``.
    """

    is_multilinear = True

    def __init__(self, W: Any, y: Any):
        super().__init__(W, y)
        self._colsq = _column_norms_sq(self.W)
        self._colsq_sum = float(self._colsq.sum())

    def _value(self, X):
        return super()._value(X) - (X * X) @ self._colsq + self._colsq_sum

    def _grad(self, X):
        return super()._grad(X) - 2.0 * X * self._colsq


class Multilinear(Loss):
    """``L(x) = sum_S c_S prod_{i in S} x_i`` for a dict ``{S: c_S}`` of index tuples.

    ``S = ()`` is the constant term.  Indices within one ``S`` must be distinct
    (a repeated index would not be multilinear) and each monomial may appear
    only once (``(0, 1)`` and ``(1, 0)`` are the same monomial).  ``n``
    defaults to ``1 + max index``; pass it to allow unused trailing variables.
    """

    is_multilinear = True

    def __init__(self, coeffs: Mapping[tuple[int, ...], float], n: int | None = None):
        if not isinstance(coeffs, Mapping):
            raise InvalidArgument(
                f"coeffs={short_repr(coeffs)} is not a dict; expected a mapping {{(i, j, ...): c}} "
                "from tuples of variable indices to coefficients, e.g. {(0, 1): 2.0, (): 1.0}."
            )
        terms: dict[tuple[int, ...], float] = {}
        max_index = -1
        for key, c in coeffs.items():
            if not isinstance(key, tuple):
                raise InvalidArgument(
                    f"coeffs key {short_repr(key)} is not a tuple of indices; write (i,) for a single index."
                )
            idx = tuple(as_int(i, f"index in monomial {key!r}", minimum=0) for i in key)
            if len(set(idx)) != len(idx):
                raise InvalidArgument(
                    f"monomial {key!r} repeats an index; a multilinear polynomial has each variable at most "
                    "once per monomial (x_i^2 = 1 on binary states: drop the pair)."
                )
            canon = tuple(sorted(idx))
            if canon in terms:
                raise InvalidArgument(
                    f"monomial {key!r} appears twice in coeffs (as the same set of indices {canon}); "
                    "add the coefficients into one entry."
                )
            terms[canon] = float(as_vector(c, f"coefficient of {key!r}", size=1)[0])
            if idx:
                max_index = max(max_index, max(idx))
        if n is None:
            if max_index < 0:
                raise InvalidArgument("coeffs has only a constant term; pass n=... to say how many variables.")
            n = max_index + 1
        n = as_int(n, "n", minimum=1)
        if max_index >= n:
            raise InvalidArgument(f"coeffs uses index {max_index} but n={n}; pass n >= {max_index + 1}.")
        self.coeffs = terms
        self.n = n

    def __repr__(self) -> str:
        return f"Multilinear({len(self.coeffs)} terms, n={self.n})"

    def _value(self, X):
        out = np.zeros(X.shape[0])
        for S, c in self.coeffs.items():
            out += c * (np.prod(X[:, list(S)], axis=1) if S else 1.0)
        return out

    def _grad(self, X):
        G = np.zeros_like(X)
        B = X.shape[0]
        for S, c in self.coeffs.items():
            k = len(S)
            if k == 0:
                continue
            cols = X[:, list(S)]
            # leave-one-out products via prefix/suffix products (no division: x_i may be 0)
            prefix = np.ones((B, k))
            suffix = np.ones((B, k))
            if k > 1:
                prefix[:, 1:] = np.cumprod(cols[:, :-1], axis=1)
                suffix[:, :-1] = np.cumprod(cols[:, :0:-1], axis=1)[:, ::-1]
            G[:, list(S)] += c * prefix * suffix
        return G


class Ex2(Loss):
    """``L(x) = sum_i (x_i - sin(2 pi x_i))``.

    On ``{-1, +1}^n`` it equals the linear function ``sum_i x_i`` (so the true
    gradient of ``E[L]`` is ``2 F'(a)``), but its derivative
    ``1 - 2 pi cos(2 pi x_i) = 1 - 2 pi`` at binary points differs: the ST
    estimate depends on how ``L`` is extended off the cube.
    """

    is_multilinear = False

    def __repr__(self) -> str:
        return "Ex2()"

    def _value(self, X):
        return (X - np.sin(2.0 * math.pi * X)).sum(axis=1)

    def _grad(self, X):
        return 1.0 - 2.0 * math.pi * np.cos(2.0 * math.pi * X)


class Power(Loss):
    """``L(x) = sum_i x_i^k`` for an integer ``k >= 0``; ``k = 2`` is the paper's counter-example (Sec. 2.2 I)."""

    def __init__(self, k: int):
        self.k = as_int(k, "k", minimum=0)
        self.is_multilinear = self.k <= 1

    def __repr__(self) -> str:
        return f"Power({self.k})"

    def _value(self, X):
        return (X**self.k).sum(axis=1)

    def _grad(self, X):
        if self.k == 0:
            return np.zeros_like(X)
        return self.k * X ** (self.k - 1)


class Callable(Loss):
    """Wrap user functions ``value_fn(X) -> (B,)`` and ``grad_fn(X) -> (B, n)``.

    The wrapper checks the output shapes and finiteness (naming the sample
    index and coordinates of the first NaN/inf).
    """

    def __init__(
        self,
        value_fn: _CallableT[[np.ndarray], Any],
        grad_fn: _CallableT[[np.ndarray], Any],
        *,
        n: int | None = None,
        name: str = "user loss",
        is_multilinear: bool | None = None,
    ):
        for label, fn in (("value_fn", value_fn), ("grad_fn", grad_fn)):
            if not callable(fn):
                raise InvalidArgument(
                    f"{label}={short_repr(fn)} is not callable; expected a function X (B, n) -> array."
                )
        self.value_fn = value_fn
        self.grad_fn = grad_fn
        self.n = None if n is None else as_int(n, "n", minimum=1)
        self.name = str(name)
        self.is_multilinear = is_multilinear

    def __repr__(self) -> str:
        return f"Callable({self.name!r})"

    def _call(self, fn, X, expected_shape, label):
        try:
            out = np.asarray(fn(X.copy()), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(
                f"{self!r}.{label} returned something that is not a float array ({exc}); "
                f"expected an array of shape {expected_shape}."
            ) from None
        if out.shape != expected_shape:
            raise InvalidArgument(
                f"{self!r}.{label} returned shape {out.shape} for X of shape {X.shape}; expected "
                f"{expected_shape}. Make the function vectorized over the rows of X."
            )
        return out

    def _value(self, X):
        return self._call(self.value_fn, X, (X.shape[0],), "value_fn")

    def _grad(self, X):
        return self._call(self.grad_fn, X, X.shape, "grad_fn")


# ------------------------------------------------------------------ gradient self-test (once per process)

#: Data of the self-test's losses (dyadic: every value at the self-test's dyadic points is exact in float64).
_ST_W = ((1.0, -2.0, 0.0, 3.0, 1.0), (0.5, 1.0, -1.0, 0.0, 2.0), (-1.0, 0.0, 2.0, 1.0, -0.5))
_ST_Y = (0.5, -1.0, 2.0)
_ST_ML = {(0,): 1.5, (2, 1): -2.0, (0, 3, 4): 0.75, (1, 2, 3, 4): 1.25, (): 0.5}
_ST_C, _ST_C0 = (1.0, -2.0, 0.5, 3.0, -1.0), 0.25


def _selftest_losses() -> list[tuple[str, Loss, bool]]:
    """The losses of the self-test: ``(label, loss, exact)``; ``exact``: a polynomial of degree <= 2 in each
    variable, so the central difference with step 1 is its partial derivative exactly."""
    W, y = np.array(_ST_W), np.array(_ST_Y)
    return [("Linear", Linear(list(_ST_C), _ST_C0), True), ("SquareSum", SquareSum(), True),
            ("Quadratic", Quadratic(W, y), True), ("QuadraticMultilinear", QuadraticMultilinear(W, y), True),
            ("Multilinear", Multilinear(dict(_ST_ML), n=5), True), ("Power(0)", Power(0), True),
            ("Power(1)", Power(1), True), ("Power(2)", Power(2), True), ("Power(3)", Power(3), False),
            ("Power(4)", Power(4), False), ("Ex2", Ex2(), False)]


def _reference_value(label: str, x: tuple) -> Any:
    """``L(x)`` of the self-test's loss ``label`` written apart from the classes, in :class:`fractions.Fraction`
    (exact) for the polynomials and in ``mpmath`` at 30 digits for ``Ex2``: the gradient check cannot see an
    error of ``_value`` that is constant in ``x`` (a dropped or negated constant term)."""
    from fractions import Fraction

    q = [Fraction(v) for v in x]
    W, y = [[Fraction(v) for v in row] for row in _ST_W], [Fraction(v) for v in _ST_Y]
    quad = sum(((sum((w * xi for w, xi in zip(row, q)), Fraction(0)) - yk) ** 2 for row, yk in zip(W, y)),
               Fraction(0))
    if label == "Linear":
        return sum((Fraction(c) * xi for c, xi in zip(_ST_C, q)), Fraction(_ST_C0))
    if label == "SquareSum":
        return sum(q, Fraction(0)) ** 2
    if label == "Quadratic":
        return quad
    if label == "QuadraticMultilinear":  # eq. (20): the x_i^2 terms replaced by 1
        col = [sum((row[i] ** 2 for row in W), Fraction(0)) for i in range(len(q))]
        return quad + sum(((1 - xi * xi) * c for xi, c in zip(q, col)), Fraction(0))
    if label == "Multilinear":
        total = Fraction(0)
        for S, c in _ST_ML.items():
            term = Fraction(c)
            for i in S:
                term *= q[i]
            total += term
        return total
    if label.startswith("Power("):
        k = int(label[6:-1])
        return sum((xi**k for xi in q), Fraction(0))
    import mpmath

    with mpmath.workdps(30):
        return float(sum(mpmath.mpf(v) - mpmath.sin(2 * mpmath.pi * mpmath.mpf(v)) for v in x))


#: Points of the self-test: off the cube (0, 2, -3, 1/2: a gradient that is right only at x = +-1, e.g. a product
#: divided where it should be multiplied, shows) and one binary point; every row's coordinate sum is non-zero.
_SELFTEST_X = np.array([[2.0, -3.0, 0.5, 0.0, 1.0], [-1.0, 1.0, -1.0, 1.0, 1.0], [0.0, 2.0, -0.5, -2.0, 3.0]])
#: A point off the dyadic grid for the multilinearity check of the self-test (``sin(2 pi x_i) != 0`` for every ``i``).
_SELFTEST_GENERIC = np.array([[0.3, -0.7, 1.2, 0.45, -1.3]])


def _selftest_failures() -> list[str]:
    """Every loss's ``grad`` against a difference of its own ``value`` (a separately written formula) at the
    points :data:`_SELFTEST_X`, coordinate by coordinate:

    * losses of degree <= 2 in each variable (linear, quadratic, multilinear, ``x^k`` for ``k <= 2``): the central
      difference ``(L(x + e_i) - L(x - e_i)) / 2`` is ``dL/dx_i(x)`` exactly; with the dyadic data here every value
      is exact in float64, so the tolerance is only ``1e-12 (1 + |L(x)|)``;
    * ``Power(3)``, ``Power(4)``, ``Ex2``: the central difference with step ``h = 1e-5``, whose error is at most
      ``h^2 / 6 max |L'''| + 4 eps max |L| / h`` (below ``1e-6`` here), compared with tolerance ``1e-5 (1 + |g|)``;
    * :meth:`Loss._scaled_grad` against ``scale * grad`` bit for bit, as its docstring states (a scale that is not
      a power of two);
    * every loss's ``value`` at the same points against :func:`_reference_value` (the formula written apart, in
      exact rationals; ``Ex2`` in 30-digit ``mpmath``), to ``1e-12 (1 + |L(x)|)``: the gradient check above is
      blind to an error of the value that does not depend on ``x`` (a constant term dropped or negated);
    * the flag ``is_multilinear`` (what "ST is unbiased" rests on) against the second differences
      ``D_i(x) = L(x + h e_i) - 2 L(x) + L(x - h e_i)``, ``h = 1/2``, at the points :data:`_SELFTEST_X` and the
      generic point :data:`_SELFTEST_GENERIC` (where ``sin(2 pi x_i) != 0``, so that ``Ex2``'s shows): a loss
      affine in each variable (multilinear) has ``D_i = 0`` exactly, so a flag ``True`` needs every
      ``|D_i| <= 1e-12 (1 + |L(x + h e_i)| + 2 |L(x)| + |L(x - h e_i)|)`` (rounding of the three values), and a flag
      ``False`` needs one ``D_i`` above that (here ``D_i`` is ``2 h^2 = 1/2`` or more for the polynomials of
      degree 2 in ``x_i``, ``6 x_i h^2`` for ``x^3``, ``4 sin(2 pi x_i)`` for ``Ex2``).

    Returns the failures (empty when all pass).  About a millisecond."""
    bad = []
    X = _SELFTEST_X
    B, n = X.shape
    scale = np.array([0.3, -1.7, 2.0, 0.1, 5.5])
    for label, loss, exact in _selftest_losses():
        h = 1.0 if exact else 1e-5
        g = loss._grad(X)
        if g.shape != (B, n):
            bad.append(f"{label}.grad returned shape {g.shape} for {B} points of R^{n}")
            continue
        for i in range(n):
            step = np.zeros(n)
            step[i] = h
            fd = (loss._value(X + step) - loss._value(X - step)) / (2.0 * h)
            tol = 1e-12 * (1.0 + np.abs(loss._value(X))) if exact else 1e-5 * (1.0 + np.abs(g[:, i]))
            if not np.all(np.abs(g[:, i] - fd) <= tol):
                bad.append(f"{label}.grad, coordinate {i}, at the points {X.tolist()}: {g[:, i].tolist()}; the "
                           f"central difference of its value gives {fd.tolist()}")
                break
        sg = loss._scaled_grad(X.copy(), scale)
        if not np.array_equal(sg, scale * g):
            bad.append(f"{label}._scaled_grad differs from scale * grad (bit for bit expected): {sg.tolist()} vs "
                       f"{(scale * g).tolist()}")
        got = loss._value(X)
        want = np.array([float(_reference_value(label, tuple(row))) for row in X.tolist()])
        if not np.all(np.abs(got - want) <= 1e-12 * (1.0 + np.abs(want))):
            bad.append(f"{label}.value at the points {X.tolist()}: {got.tolist()}; the formula evaluated apart "
                       f"(exact rationals) gives {want.tolist()}")
        P = np.concatenate((X, _SELFTEST_GENERIC))
        flat = True
        for i in range(n):
            step = np.zeros(n)
            step[i] = 0.5
            up, mid, down = loss._value(P + step), loss._value(P), loss._value(P - step)
            flat = flat and bool(np.all(np.abs(up - 2.0 * mid + down)
                                        <= 1e-12 * (1.0 + np.abs(up) + 2.0 * np.abs(mid) + np.abs(down))))
        if loss.is_multilinear is not flat:
            bad.append(f"{label}.is_multilinear is {loss.is_multilinear!r} but its second differences in single "
                       f"coordinates (step 1/2) at the points {P.tolist()} are {'all' if flat else 'not all'} 0: "
                       f"expected {flat}")
    return bad


#: :func:`_selftest_failures` once per process, at the first gradient (its own gradients skip the check); a
#: failure raises :class:`~stecheck.errors.SelfCheckFailed` (a loss's gradient is not the derivative of its value).
_losses_selftest = OncePerProcess(
    _selftest_failures, what="numerics.losses fails its gradient self-test",
    remedy="A loss's _grad must be the derivative of its _value: fix numerics/losses.py.")
