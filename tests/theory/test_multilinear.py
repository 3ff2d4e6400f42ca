"""Tests of theory.multilinear against brute-force numpy evaluation on the cube."""

import itertools

import numpy as np
import pytest
import sympy

from stecheck.errors import InvalidArgument
from stecheck.theory.multilinear import (
    binary_points,
    evaluate_on_cube,
    is_multilinear,
    multilinear_coefficients,
    multilinear_from_values,
    multilinear_reduce,
    multilinear_values,
    prove_quadratic_multilinear,
    quadratic_loss,
    quadratic_multilinear,
)

ENCODINGS = ("pm1", "01")


def _xs(n):
    return sympy.symbols(f"x1:{n + 1}")


def _brute_values(expr, xs, encoding):
    """Independent evaluation: itertools over the cube, bit i of the index = coordinate i."""
    lo, hi = (-1, 1) if encoding == "pm1" else (0, 1)
    f = sympy.lambdify(xs, expr, modules="numpy")
    out = []
    for k in range(2 ** len(xs)):
        point = [hi if (k >> i) & 1 else lo for i in range(len(xs))]
        out.append(float(f(*point)))
    return np.array(out)


def test_binary_points_layout():
    pts = binary_points(3)
    assert pts.shape == (8, 3)
    assert list(pts[0]) == [-1, -1, -1] and list(pts[1]) == [1, -1, -1] and list(pts[6]) == [-1, 1, 1]
    assert set(binary_points(2, "01").ravel()) == {0, 1}


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("n", [0, 1, 3, 7, 12])
def test_transform_round_trip_float(encoding, n):
    rng = np.random.default_rng(100 + n)
    v = rng.normal(size=2**n)
    assert np.max(np.abs(multilinear_values(multilinear_coefficients(v, encoding), encoding) - v)) < 1e-12
    c = rng.normal(size=2**n)
    assert np.max(np.abs(multilinear_coefficients(multilinear_values(c, encoding), encoding) - c)) < 1e-12


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_transform_round_trip_exact(encoding):
    rng = np.random.default_rng(7)
    v = np.array([sympy.Rational(int(k), 3) for k in rng.integers(-9, 9, size=32)], dtype=object)
    back = multilinear_values(multilinear_coefficients(v, encoding), encoding)
    assert all(sympy.simplify(a - b) == 0 for a, b in zip(back, v))


def test_walsh_hadamard_matches_the_definition():
    """c_S = 2^-n sum_x f(x) prod_{i in S} x_i, computed with an explicit 2^n x 2^n matrix."""
    n = 5
    rng = np.random.default_rng(3)
    v = rng.normal(size=2**n)
    pts = binary_points(n)
    chars = np.array([[np.prod([pts[k, i] for i in range(n) if (s >> i) & 1]) for k in range(2**n)] for s in range(2**n)])
    assert np.max(np.abs(multilinear_coefficients(v) - chars @ v / 2**n)) < 1e-12


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("n", [1, 2, 4, 5])
def test_random_multilinear_coefficients_recovered_exactly(encoding, n):
    rng = np.random.default_rng(10 * n + len(encoding))
    xs = _xs(n)
    coeffs = [sympy.Integer(int(c)) for c in rng.integers(-5, 6, size=2**n)]
    poly = sum(c * sympy.Mul(*[x for i, x in enumerate(xs) if (s >> i) & 1]) for s, c in enumerate(coeffs))
    got = multilinear_coefficients(evaluate_on_cube(poly, xs, encoding), encoding)
    assert list(got) == coeffs
    assert sympy.expand(multilinear_from_values(evaluate_on_cube(poly, xs, encoding), xs, encoding) - poly) == 0
    assert sympy.expand(multilinear_reduce(poly, xs, encoding) - poly) == 0


def _random_polynomial(rng, xs, terms=6, max_exp=4):
    expr = sympy.Integer(0)
    for _ in range(terms):
        c = sympy.Integer(int(rng.integers(-4, 5)))
        expr += c * sympy.Mul(*[x ** int(rng.integers(0, max_exp + 1)) for x in xs])
    return expr


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reduce_agrees_with_transform_of_values(encoding, seed):
    rng = np.random.default_rng(seed)
    xs = _xs(3 + seed)
    poly = _random_polynomial(rng, xs)
    reduced = multilinear_reduce(poly, xs, encoding)
    assert is_multilinear(reduced, xs)
    values = _brute_values(poly, xs, encoding)
    from_values = multilinear_from_values(values, xs, encoding)
    assert sympy.expand(reduced - from_values) == 0
    assert np.max(np.abs(_brute_values(reduced, xs, encoding) - values)) < 1e-9


def test_reduce_with_symbolic_coefficients():
    x1, x2 = _xs(2)
    w, v = sympy.symbols("w v")
    expr = (w * x1 + v * x2) ** 2 + w * x1**3 * x2**2
    assert sympy.expand(multilinear_reduce(expr, (x1, x2)) - (w**2 + v**2 + 2 * w * v * x1 * x2 + w * x1)) == 0
    assert sympy.expand(multilinear_reduce(expr, (x1, x2), "01") - (w**2 * x1 + v**2 * x2 + 2 * w * v * x1 * x2 + w * x1 * x2)) == 0


def test_reduce_non_polynomial_via_values():
    x1, x2 = _xs(2)
    assert multilinear_reduce(x1 - sympy.sin(2 * sympy.pi * x1), (x1,)) == x1
    expr = sympy.cos(sympy.pi * (x1 + x2) / 2) + sympy.exp(x1)
    reduced = multilinear_reduce(expr, (x1, x2))
    assert is_multilinear(reduced, (x1, x2))
    assert np.max(np.abs(_brute_values(reduced, (x1, x2), "pm1") - _brute_values(expr, (x1, x2), "pm1"))) < 1e-12


def test_is_multilinear():
    x, y, z = sympy.symbols("x y z")
    w = sympy.Symbol("w")
    assert is_multilinear(x * y * z + 3 * x - 1, (x, y, z))
    assert is_multilinear(sympy.sin(w) * x * y, (x, y))
    assert not is_multilinear(x**2, (x,))
    assert not is_multilinear(x**2 - x**2 + y * x**3, (x, y))
    assert not is_multilinear(sympy.sin(x), (x,))
    assert not is_multilinear(1 / (1 + x), (x,))
    assert not is_multilinear(sympy.sqrt(x), (x,))
    assert is_multilinear((x**2 - 1) / (x - 1), (x,))  # cancels to x + 1
    assert is_multilinear(sympy.Integer(5), (x,))


@pytest.mark.parametrize("shape,seed", [((3, 4), 0), ((1, 2), 1), ((5, 3), 2), ((2, 6), 3)])
def test_eq20_equals_quadratic_loss_on_the_cube(shape, seed):
    rng = np.random.default_rng(seed)
    Wn, yn = rng.normal(size=shape), rng.normal(size=shape[0])
    # exact rationals equal to the floats, so that the x_i^2 terms cancel exactly
    W = sympy.Matrix(shape[0], shape[1], lambda r, c: sympy.Rational(Wn[r, c]))
    y = sympy.Matrix([sympy.Rational(v) for v in yn])
    xs = _xs(shape[1])
    expr = quadratic_multilinear(W, y, xs)
    assert is_multilinear(expr, xs)
    f = sympy.lambdify(xs, expr, modules="numpy")
    for point in itertools.product((-1.0, 1.0), repeat=shape[1]):
        x = np.array(point)
        assert abs(f(*x) - np.sum((Wn @ x - yn) ** 2)) < 1e-9
    # off the cube they differ (x_i^2 != 1), so the reformulation is not the same function
    x = np.full(shape[1], 0.5)
    assert abs(f(*x) - np.sum((Wn @ x - yn) ** 2)) > 1e-6


def test_eq20_symbolic_proof():
    W = sympy.Matrix(2, 3, sympy.symbols("w11 w12 w13 w21 w22 w23"))
    y = sympy.Matrix(sympy.symbols("y1 y2"))
    proof = prove_quadratic_multilinear(W, y)
    assert proof.holds and proof.eq20_is_multilinear and proof.difference == 0
    assert not is_multilinear(proof.loss, _xs(3))


def test_eq20_proof_can_fail():
    """Dropping the last sum of (20) leaves a polynomial that is multilinear but not equal."""
    W = sympy.Matrix(2, 2, sympy.symbols("w11 w12 w21 w22"))
    y = sympy.Matrix(sympy.symbols("y1 y2"))
    xs = _xs(2)
    col_sq = sum(W[r, c] ** 2 for r in range(2) for c in range(2))
    mutant = sympy.expand(quadratic_multilinear(W, y, xs) - col_sq)
    assert is_multilinear(mutant, xs)
    assert sympy.expand(mutant - multilinear_reduce(quadratic_loss(W, y, xs), xs)) != 0


def test_invalid_inputs():
    with pytest.raises(InvalidArgument, match="length 2\\^n"):
        multilinear_coefficients(np.zeros(6))
    with pytest.raises(InvalidArgument, match="encoding"):
        multilinear_coefficients(np.zeros(4), "bool")
    with pytest.raises(InvalidArgument, match="1-d"):
        multilinear_coefficients(np.zeros((2, 2)))
    with pytest.raises(InvalidArgument, match="out of range"):
        binary_points(21)
    with pytest.raises(InvalidArgument, match="shape"):
        quadratic_multilinear(sympy.eye(2), sympy.Matrix([1, 2, 3]))
    with pytest.raises(InvalidArgument, match="repeated"):
        multilinear_reduce(sympy.Symbol("x"), (sympy.Symbol("x"), sympy.Symbol("x")))
    with pytest.raises(InvalidArgument, match="2\\^2"):
        multilinear_from_values(np.zeros(8), _xs(2))


@pytest.mark.parametrize("m", [1, 2, 3])
def test_quadratic_loss_accepts_y_as_a_row(m):
    """y given as a row (1 x m) is the same vector as the column (m x 1), for every length m (incl. 2)."""
    W = sympy.Matrix(m, 2, lambda i, j: i + 2 * j + 1)
    y = [sympy.Integer(k + 1) for k in range(m)]
    assert sympy.expand(quadratic_loss(W, sympy.Matrix([y])) - quadratic_loss(W, sympy.Matrix(y))) == 0


def test_a_rational_expression_that_cancels_to_a_polynomial_is_reduced_as_one():
    """(x^2 - 1)/(x - 1) is the polynomial x + 1 after cancellation: multilinear, and its reduction is x + 1 although
    the expression as written is 0/0 at the cube point x = 1 (no claim passes such an expression; the guard of the
    cancellation step is tested here)."""
    x = sympy.Symbol("x")
    expr = (x**2 - 1) / (x - 1)
    assert is_multilinear(expr, [x])
    assert sympy.expand(multilinear_reduce(expr, [x]) - (x + 1)) == 0


def test_quadratic_loss_takes_y_as_a_row_or_a_column():
    """y given as a 1 x k row is read as the k x 1 column (the claims pass columns)."""
    W = sympy.Matrix([[1, 2], [3, 4]])
    col, row = sympy.Matrix([1, -1]), sympy.Matrix([[1, -1]])
    assert sympy.expand(quadratic_loss(W, row) - quadratic_loss(W, col)) == 0
    with pytest.raises(InvalidArgument, match="expected y of length 2"):
        quadratic_loss(W, sympy.Matrix([[1, 2, 3]]))


def test_selftest_passes_and_sees_a_row_y_left_untransposed(monkeypatch):
    """The known-answer self-test covers y given as a row (the claims pass columns): a _check_matrices that keeps
    the row (the mutant ``y.shape[0] != 1``) makes quadratic_loss refuse it, and the self-test says so."""
    from stecheck.theory import multilinear as M

    assert M._selftest() == []
    real = M._check_matrices

    def keep_rows(W, y):
        W2, _ = real(W, y)
        y2 = sympy.Matrix(y)
        if y2.shape != (W2.shape[0], 1):
            raise M.InvalidArgument(f"y has shape {y2.shape}")
        return W2, y2

    monkeypatch.setattr(M, "_check_matrices", keep_rows)
    assert any("y as the row (3 -1)" in b and "raised InvalidArgument" in b for b in M._selftest())
