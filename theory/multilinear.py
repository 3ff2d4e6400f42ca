"""Multilinear (pseudo-Boolean polynomial) forms of functions of binary variables.

Mathematical object: every function ``f: {-1,1}^n -> R`` (or ``{0,1}^n -> R``)
has a unique multilinear representation ``f(x) = sum_S c_S prod_{i in S} x_i``
(SBN appendix B.2, the paragraph before Prop. B.3, citing Boros & Hammer 2002).
On ``{-1,1}`` the coefficients are the Walsh-Hadamard (Fourier) coefficients,
on ``{0,1}`` the Moebius coefficients.  SBN Prop. B.2 says Alg. 1 is unbiased for
multilinear L; Prop. B.3, eq. (20) gives the multilinear form of
``||W x - y||^2``, implemented here by :func:`quadratic_multilinear`.

Conventions (shared with :mod:`theory.bernoulli_layer`): a point of the cube is
indexed by ``k = sum_i bit_i 2^i``; bit ``i`` set means ``x_i = +1`` (``pm1``) resp.
``x_i = 1`` (``01``); clear means ``-1`` resp. ``0``.  A coefficient array is
indexed the same way by the subset ``S`` (bit ``i`` set iff ``i in S``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sympy

from stecheck.errors import InvalidArgument
from stecheck.selftest import OncePerProcess

__all__ = [
    "ENCODINGS",
    "MAX_N",
    "binary_points",
    "is_multilinear",
    "multilinear_reduce",
    "multilinear_coefficients",
    "multilinear_values",
    "multilinear_from_values",
    "evaluate_on_cube",
    "quadratic_loss",
    "quadratic_multilinear",
    "QuadraticMultilinearProof",
    "prove_quadratic_multilinear",
]

ENCODINGS = ("pm1", "01")
#: Largest n for the dense transforms (2^20 values).
MAX_N = 20


def _check_encoding(encoding: str) -> str:
    if encoding not in ENCODINGS:
        raise InvalidArgument(
            f"encoding={encoding!r} is not supported; expected one of {ENCODINGS} "
            f"('pm1' for x in {{-1,1}}, '01' for x in {{0,1}})."
        )
    return encoding


def _check_symbols(xs: Sequence[sympy.Symbol]) -> tuple[sympy.Symbol, ...]:
    xs = tuple(xs)
    if not all(isinstance(x, sympy.Symbol) for x in xs):
        raise InvalidArgument(
            f"xs must be a sequence of sympy Symbols, got {xs!r}; "
            f"create them with sympy.symbols('x1:4')."
        )
    if len(set(xs)) != len(xs):
        raise InvalidArgument(f"xs contains repeated symbols: {xs!r}; pass distinct symbols.")
    return xs


def _check_n(n: int) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 0 <= n <= MAX_N:
        raise InvalidArgument(
            f"number of binary variables n={n!r} is out of range; expected an int in "
            f"[0, {MAX_N}] (the dense transform holds 2^n values)."
        )
    return int(n)


def binary_points(n: int, encoding: str = "pm1") -> np.ndarray:
    """All ``2^n`` points of the cube as an ``(2^n, n)`` int array, row ``k`` = point ``k``."""
    n = _check_n(n)
    _check_encoding(encoding)
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return (2 * bits - 1) if encoding == "pm1" else bits


def _as_value_array(values) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidArgument(
            f"values must be a 1-d array of length 2^n, got shape {arr.shape}; "
            f"flatten it, with bit i of the index giving coordinate i."
        )
    size = arr.shape[0]
    n = size.bit_length() - 1
    if size == 0 or 2**n != size:
        raise InvalidArgument(
            f"values must have length 2^n, got length {size}; "
            f"evaluate the function on all points of the cube (see binary_points)."
        )
    _check_n(n)
    if arr.dtype == object:
        # exact path: sympy numbers/expressions, so that /2 stays rational
        return np.array([sympy.sympify(v) for v in arr], dtype=object)
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise InvalidArgument(
            f"values must be real numbers (or sympy objects in an object array), got "
            f"dtype {arr.dtype}; convert them with np.asarray(values, dtype=float)."
        )
    return arr.astype(float)


def _butterfly(arr: np.ndarray, encoding: str, inverse: bool) -> np.ndarray:
    """Apply the 1-d two-point transform along every axis of the ``(2,)*n`` view."""
    n = arr.shape[0].bit_length() - 1
    half = sympy.Rational(1, 2) if arr.dtype == object else 0.5
    cube = arr.reshape((2,) * n) if n else arr.reshape(())
    for axis in range(n):
        v0 = np.take(cube, 0, axis=axis)
        v1 = np.take(cube, 1, axis=axis)
        if encoding == "pm1":
            # f = c0 + c1 x with x = -1 (index 0), +1 (index 1)
            if inverse:  # coefficients -> values: v(-1) = c0 - c1, v(+1) = c0 + c1
                new = (v0 - v1, v0 + v1)
            else:  # values -> coefficients: c0 = (v0 + v1)/2, c1 = (v1 - v0)/2
                new = ((v0 + v1) * half, (v1 - v0) * half)
        else:
            # f = c0 + c1 x with x = 0 (index 0), 1 (index 1)
            new = (v0, v0 + v1) if inverse else (v0, v1 - v0)
        cube = np.stack(new, axis=axis)
    # index bit i <-> axis n-1-i in C order, for values and coefficients alike
    return cube.reshape(-1)


def multilinear_coefficients(values, encoding: str = "pm1") -> np.ndarray:
    """Coefficients ``c_S`` of the multilinear form of the function with these cube values.

    ``values[k]`` is the value at cube point ``k`` (bit ``i`` of ``k`` set means
    ``x_i = +1`` resp. ``1``).  ``pm1``: Walsh-Hadamard transform,
    ``c_S = 2^-n sum_x f(x) prod_{i in S} x_i``; ``01``: Moebius transform,
    ``c_S = sum_{T subset S} (-1)^{|S|-|T|} f(1_T)``.  Vectorized, O(n 2^n).
    A float array gives floats; an object array of sympy values is transformed exactly.
    """
    _check_encoding(encoding)
    return _butterfly(_as_value_array(values), encoding, inverse=False)


def multilinear_values(coefficients, encoding: str = "pm1") -> np.ndarray:
    """Inverse of :func:`multilinear_coefficients`: cube values from coefficients."""
    _check_encoding(encoding)
    return _butterfly(_as_value_array(coefficients), encoding, inverse=True)


def _monomial(xs: Sequence[sympy.Symbol], mask: int) -> sympy.Expr:
    return sympy.Mul(*[x for i, x in enumerate(xs) if (mask >> i) & 1])


def multilinear_from_values(values, xs: Sequence[sympy.Symbol], encoding: str = "pm1") -> sympy.Expr:
    """The multilinear sympy expression in ``xs`` taking ``values`` on the cube."""
    _check_selftest()
    xs = _check_symbols(xs)
    coeffs = multilinear_coefficients(values, encoding)
    if len(coeffs) != 2 ** len(xs):
        raise InvalidArgument(
            f"got {len(coeffs)} values for {len(xs)} symbols; expected 2^{len(xs)} = "
            f"{2 ** len(xs)} values, one per cube point."
        )
    terms = []
    for mask, c in enumerate(coeffs):
        c = sympy.nsimplify(c) if isinstance(c, float) and float(c).is_integer() else sympy.sympify(c)
        if c != 0:
            terms.append(c * _monomial(xs, mask))
    return sympy.Add(*terms)


def evaluate_on_cube(expr: sympy.Expr, xs: Sequence[sympy.Symbol], encoding: str = "pm1") -> np.ndarray:
    """Exact values of ``expr`` at all ``2^n`` cube points (object array of sympy values)."""
    xs = _check_symbols(xs)
    pts = binary_points(len(xs), encoding)
    expr = sympy.sympify(expr)
    return np.array(
        [expr.xreplace(dict(zip(xs, map(sympy.Integer, p)))) for p in pts], dtype=object
    )


def _polynomial_or_none(expr: sympy.Expr, xs: tuple[sympy.Symbol, ...]):
    if not xs:
        return None
    for candidate in (expr, sympy.cancel(expr) if not expr.is_polynomial(*xs) else None):
        if candidate is not None and candidate.is_polynomial(*xs):
            return sympy.Poly(sympy.expand(candidate), *xs)
    return None


def multilinear_reduce(expr, xs: Sequence[sympy.Symbol], encoding: str = "pm1") -> sympy.Expr:
    """The unique multilinear form of ``expr`` on the cube ``{-1,1}^n`` or ``{0,1}^n``.

    Polynomials in ``xs`` (coefficients may be symbolic) are reduced monomial by
    monomial: ``x_i^k -> x_i^(k mod 2)`` (``pm1``, since ``x_i^2 = 1``) or
    ``x_i^k -> x_i`` for ``k >= 1`` (``01``, since ``x_i^2 = x_i``).
    Other expressions are evaluated exactly at every cube point and transformed
    with :func:`multilinear_from_values`.
    """
    _check_encoding(encoding)
    xs = _check_symbols(xs)
    expr = sympy.sympify(expr)
    _check_n(len(xs))
    poly = _polynomial_or_none(expr, xs)
    if poly is None:
        if not xs:
            return expr
        return multilinear_from_values(evaluate_on_cube(expr, xs, encoding), xs, encoding)
    terms = []
    for exps, coeff in poly.terms():
        if encoding == "pm1":
            reduced = [e % 2 for e in exps]
        else:
            reduced = [min(e, 1) for e in exps]
        terms.append(coeff * sympy.Mul(*[x**e for x, e in zip(xs, reduced)]))
    return sympy.expand(sympy.Add(*terms))


def is_multilinear(expr, xs: Sequence[sympy.Symbol]) -> bool:
    """True iff ``expr`` is a polynomial in ``xs`` whose every term has degree <= 1 in each ``x_i``.

    The test is on the expression as given (after expansion and cancellation),
    not on its values on the cube: ``x**2`` and ``sin(x)`` are not multilinear
    even though they agree with multilinear functions on ``{-1,1}``.
    """
    xs = _check_symbols(xs)
    expr = sympy.sympify(expr)
    if not xs:
        return True
    poly = _polynomial_or_none(expr, xs)
    if poly is None:
        return False
    return all(max(exps, default=0) <= 1 for exps, _ in poly.terms())


def _check_matrices(W, y) -> tuple[sympy.Matrix, sympy.Matrix]:
    try:
        W = sympy.Matrix(W)
        y = sympy.Matrix(y)
    except (TypeError, ValueError, sympy.SympifyError) as exc:
        raise InvalidArgument(
            f"W and y must be convertible to sympy matrices ({exc}); pass e.g. "
            f"sympy.Matrix([[1, 2], [3, 4]]) and sympy.Matrix([1, 0])."
        ) from None
    if y.shape[0] == 1:  # a row is taken as the column (a 1 x 1 y is its own transpose)
        y = y.T
    if y.shape != (W.shape[0], 1):
        raise InvalidArgument(
            f"y has shape {y.shape} but W has shape {W.shape}; expected y of length "
            f"{W.shape[0]} (one entry per row of W)."
        )
    return W, y


def _default_xs(n: int) -> tuple[sympy.Symbol, ...]:
    return tuple(sympy.symbols(f"x1:{n + 1}")) if n else ()


def quadratic_loss(W, y, xs: Sequence[sympy.Symbol] | None = None) -> sympy.Expr:
    """``||W x - y||^2`` as a sympy expression in ``xs`` (default ``x1..xn``)."""
    W, y = _check_matrices(W, y)
    xs = _default_xs(W.shape[1]) if xs is None else _check_symbols(xs)
    if len(xs) != W.shape[1]:
        raise InvalidArgument(
            f"got {len(xs)} symbols for W with {W.shape[1]} columns; pass one symbol per column."
        )
    r = W * sympy.Matrix(xs) - y
    return sum((ri**2 for ri in r), sympy.Integer(0))


def quadratic_multilinear(W, y, xs: Sequence[sympy.Symbol] | None = None) -> sympy.Expr:
    """SBN Prop. B.3, eq. (20): ``||Wx - y||^2 - sum_i x_i^2 ||W_:,i||^2 + sum_i ||W_:,i||^2``.

    Built term by term as printed, then expanded, so the returned polynomial
    shows its multilinearity (the ``x_i^2`` terms cancel).  ``W`` (k x n) and
    ``y`` (length k) may have symbolic entries.  Give numeric entries exactly
    (Integer/Rational): with sympy Floats the cancellation leaves rounding
    residue (``1e-17 x_i^2``), and the result is then not exactly multilinear.
    """
    _check_selftest()
    W, y = _check_matrices(W, y)
    xs = _default_xs(W.shape[1]) if xs is None else _check_symbols(xs)
    loss = quadratic_loss(W, y, xs)
    col_sq = [sum((W[r, i] ** 2 for r in range(W.shape[0])), sympy.Integer(0)) for i in range(W.shape[1])]
    correction = -sum((x**2 * c for x, c in zip(xs, col_sq)), sympy.Integer(0)) + sum(col_sq, sympy.Integer(0))
    return sympy.expand(loss + correction)


def _selftest() -> list[str]:
    """Known answers worked out by hand, for the inputs the claims do not pass (they give float values and the
    default symbols): :func:`multilinear_from_values` on ``n = 1`` with symbolic values ``(s, t)`` (the form is
    ``(s + t)/2 + (t - s)/2 x``), with integer-valued floats (``2 + x``, Integer coefficients) and with sympy Floats
    (kept as Floats, ``2.5 + 1.0 x``); :func:`quadratic_loss` / :func:`quadratic_multilinear` for ``W = (1 2)``,
    ``y = 3``, whose (20) is ``14 + 4 x1 x2 - 6 x1 - 12 x2`` (``(x1 + 2 x2 - 3)^2`` with ``x_i^2 = 1``),
    :func:`quadratic_loss` with ``y`` given as a row (``1 x 2``, taken as the column ``(3, -1)``: ``(x1 - 3)^2 +
    (2 x2 + 1)^2``; the claims pass columns), and the
    reduction of :func:`prove_quadratic_multilinear`, in the default symbols and in given ones.  Compared structurally (``==``), so Integer against Float shows.
    Returns what disagrees, ``[]`` if nothing."""
    s, t, x, u, v = sympy.symbols("s t x u v")
    x1, x2 = _default_xs(2)
    F = sympy.Float
    cases = [
        ("multilinear_from_values([s, t], [x])", lambda: multilinear_from_values(np.array([s, t], dtype=object), [x]),
         (s + t) / 2 + (t - s) / 2 * x),
        ("multilinear_from_values([1.0, 3.0], [x])", lambda: multilinear_from_values(np.array([1.0, 3.0]), [x]),
         sympy.Integer(2) + x),
        ("multilinear_from_values([Float(1.5), Float(3.5)], [x])",
         lambda: multilinear_from_values(np.array([F("1.5"), F("3.5")], dtype=object), [x]), F("2.5") + F("1.0") * x),
        ("quadratic_loss((1 2), 3)", lambda: sympy.expand(quadratic_loss([[1, 2]], [3])),
         sympy.expand((x1 + 2 * x2 - 3) ** 2)),
        ("quadratic_loss((1 2), 3, (u, v))", lambda: sympy.expand(quadratic_loss([[1, 2]], [3], (u, v))),
         sympy.expand((u + 2 * v - 3) ** 2)),
        ("quadratic_loss((1 0; 0 2), y as the row (3 -1))",
         lambda: sympy.expand(quadratic_loss([[1, 0], [0, 2]], sympy.Matrix([[3, -1]]))),
         sympy.expand((x1 - 3) ** 2 + (2 * x2 + 1) ** 2)),
        ("quadratic_multilinear((1 2), 3)", lambda: quadratic_multilinear([[1, 2]], [3]),
         14 + 4 * x1 * x2 - 6 * x1 - 12 * x2),
        ("quadratic_multilinear((1 2), 3, (u, v))", lambda: quadratic_multilinear([[1, 2]], [3], (u, v)),
         14 + 4 * u * v - 6 * u - 12 * v),
        ("prove_quadratic_multilinear((1 2), 3).reduced", lambda: prove_quadratic_multilinear([[1, 2]], [3]).reduced,
         14 + 4 * x1 * x2 - 6 * x1 - 12 * x2),
        ("prove_quadratic_multilinear((1 2), 3, (u, v)).reduced",
         lambda: prove_quadratic_multilinear([[1, 2]], [3], (u, v)).reduced, 14 + 4 * u * v - 6 * u - 12 * v),
    ]
    bad = []
    for what, got_fn, want in cases:
        try:
            got = got_fn()
        except Exception as exc:  # noqa: BLE001 - any failure of a known-answer case is reported as such
            bad.append(f"{what} raised {type(exc).__name__}: {exc}")
            continue
        if got != want:
            bad.append(f"{what} = {got}, expected {want}")
    return bad


#: :func:`_selftest` once per process; a mismatch raises :class:`~stecheck.errors.SelfCheckFailed`.
_check_selftest = OncePerProcess(
    _selftest, what="theory.multilinear fails its known-answer self-test",
    remedy="The coefficient conversion of multilinear_from_values or the symbols of quadratic_loss/"
           "quadratic_multilinear are wrong: fix them before using a result.")


@dataclass(frozen=True)
class QuadraticMultilinearProof:
    """Outcome of :func:`prove_quadratic_multilinear` (symbolic, exact)."""

    loss: sympy.Expr
    eq20: sympy.Expr
    reduced: sympy.Expr
    difference: sympy.Expr
    eq20_is_multilinear: bool

    @property
    def holds(self) -> bool:
        """Eq. (20) is multilinear and equals the reduction of ``||Wx-y||^2``."""
        return self.eq20_is_multilinear and self.difference == 0


def prove_quadratic_multilinear(W, y, xs: Sequence[sympy.Symbol] | None = None, *,
                                candidate: sympy.Expr | None = None) -> QuadraticMultilinearProof:
    """Prove eq. (20) is multilinear and equals ``multilinear_reduce(||Wx-y||^2)``.

    By uniqueness of the multilinear form, this shows eq. (20) coincides with
    ``||Wx - y||^2`` on every point of ``{-1,1}^n``.  ``candidate`` replaces eq. (20) by another expression in
    ``xs`` (negative controls: the same proof must fail for a wrong candidate).
    """
    W, y = _check_matrices(W, y)
    xs = _default_xs(W.shape[1]) if xs is None else _check_symbols(xs)
    loss = quadratic_loss(W, y, xs)
    eq20 = quadratic_multilinear(W, y, xs) if candidate is None else sympy.expand(sympy.sympify(candidate))
    reduced = multilinear_reduce(loss, xs, "pm1")
    difference = sympy.expand(eq20 - reduced)
    return QuadraticMultilinearProof(loss, eq20, reduced, difference, is_multilinear(eq20, xs))
