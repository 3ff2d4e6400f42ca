"""numerics.losses: values, gradients (vs. central differences), multilinearity, validation."""

import itertools

import numpy as np
import pytest

from stecheck.numerics import losses as L
from stecheck.errors import InvalidArgument, NonFiniteValue

RNG = np.random.default_rng(12345)
N = 5
W = RNG.normal(size=(3, N))
Y = RNG.normal(size=3)


def all_losses():
    return [
        L.Linear(RNG.normal(size=N), 0.3),
        L.SquareSum(),
        L.Quadratic(W, Y),
        L.QuadraticMultilinear(W, Y),
        L.Multilinear({(0, 1): 2.0, (2,): -1.0, (1, 3, 4): 0.5, (): 4.0}, n=N),
        L.Ex2(),
        L.Power(3),
        L.Callable(lambda X: (X**2).sum(axis=1), lambda X: 2 * X, n=N),
    ]


@pytest.mark.parametrize("loss", all_losses(), ids=repr)
def test_gradient_matches_central_differences(loss):
    X = RNG.normal(size=(4, N))
    G = loss.grad(X)
    assert G.shape == (4, N)
    h = 1e-6
    for i in range(N):
        E = np.zeros(N)
        E[i] = h
        fd = (loss.value(X + E) - loss.value(X - E)) / (2 * h)
        np.testing.assert_allclose(G[:, i], fd, rtol=1e-6, atol=1e-6)


def _cube(n):
    return np.array(list(itertools.product([-1.0, 1.0], repeat=n)))


def test_quadratic_multilinear_agrees_on_cube_and_is_multilinear():
    X = _cube(N)
    q, qm = L.Quadratic(W, Y), L.QuadraticMultilinear(W, Y)
    np.testing.assert_allclose(qm.value(X), q.value(X), rtol=1e-13)
    # multilinear: L is affine in each x_i, so the second difference vanishes on R^n
    Z = RNG.normal(size=(6, N))
    for i in range(N):
        E = np.zeros(N)
        E[i] = 0.7
        second = qm.value(Z + E) - 2 * qm.value(Z) + qm.value(Z - E)
        np.testing.assert_allclose(second, 0.0, atol=1e-11)
    assert qm.is_multilinear and not q.is_multilinear


def test_multilinear_value_matches_definition():
    m = L.Multilinear({(0, 2): 1.5, (1,): -2.0, (): 0.25})
    assert m.n == 3
    X = _cube(3)
    np.testing.assert_allclose(m.value(X), 1.5 * X[:, 0] * X[:, 2] - 2 * X[:, 1] + 0.25)


def test_ex2_is_linear_on_the_cube_but_has_another_derivative():
    X = _cube(3)
    np.testing.assert_allclose(L.Ex2().value(X), X.sum(axis=1), atol=1e-14)
    np.testing.assert_allclose(L.Ex2().grad(X), 1 - 2 * np.pi, rtol=1e-14)


def test_power_two_is_constant_on_cube():
    X = _cube(4)
    np.testing.assert_array_equal(L.Power(2).value(X), 4.0)
    np.testing.assert_array_equal(L.Power(2).grad(X), 2 * X)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: L.Multilinear({(0, 0): 1.0}), "repeats an index"),
        (lambda: L.Multilinear({(0, 1): 1.0, (1, 0): 2.0}), "appears twice"),
        (lambda: L.Multilinear({(0, 5): 1.0}, n=3), "n >= 6"),
        (lambda: L.Multilinear([1, 2]), "not a dict"),
        (lambda: L.Power(1.5), "expected an int"),
        (lambda: L.Power(-1), ">= 0"),
        (lambda: L.Quadratic(np.ones((2, 3)), [1.0]), "length 1; expected length 2"),
        (lambda: L.Linear([1.0, np.nan]), "non-finite"),
        (lambda: L.Callable(3, lambda X: X), "not callable"),
    ],
)
def test_bad_construction_is_rejected(make, match):
    with pytest.raises(InvalidArgument, match=match):
        make()


def test_wrong_batch_shape_is_rejected():
    with pytest.raises(InvalidArgument, match=r"expected 3 columns"):
        L.Linear([1.0, 2.0, 3.0]).value(np.ones((2, 4)))
    with pytest.raises(InvalidArgument, match=r"x\[None, :\]"):
        L.SquareSum().value(np.ones(4))


def test_callable_checks_shapes():
    bad = L.Callable(lambda X: X.sum(axis=1, keepdims=True), lambda X: X)
    with pytest.raises(InvalidArgument, match=r"returned shape \(2, 1\)"):
        bad.value(np.ones((2, 3)))


def test_non_finite_loss_names_sample_and_coordinates():
    def value(X):
        with np.errstate(divide="ignore"):
            return np.log(X[:, 0] + 1.0)  # -inf where x_0 = -1

    def grad(X):
        G = np.zeros_like(X)
        with np.errstate(divide="ignore"):
            G[:, 0] = 1.0 / (X[:, 0] + 1.0)
        return G

    loss = L.Callable(value, grad, name="log loss")
    X = np.array([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]])
    with pytest.raises(NonFiniteValue, match=r"sample index 2 at x = \[-1\.\s+1\.\]") as info:
        loss.value(X)
    assert "log loss" in str(info.value)
    with pytest.raises(NonFiniteValue, match=r"sample index 2, coordinates \[0\]"):
        loss.grad(X)


def test_multilinear_n_boundaries():
    # mutation survivors: "n is None" -> "is not None" (an explicit n larger than the highest index must be kept)
    # and the guard "max_index >= n" -> ">" (an index equal to n must be refused)
    import pytest

    from stecheck.errors import InvalidArgument
    from stecheck.numerics import losses as LL

    assert LL.Multilinear({(0,): 1.0}, n=3).n == 3
    assert LL.Multilinear({(0, 2): 1.0}).n == 3
    with pytest.raises(InvalidArgument, match="uses index 1 but n=1"):
        LL.Multilinear({(0, 1): 1.0}, n=1)


def test_power_is_multilinear_exactly_for_k_at_most_1():
    from stecheck.numerics.losses import Power

    assert [Power(k).is_multilinear for k in range(4)] == [True, True, False, False]


def test_multilinear_accepts_one_variable_and_refuses_zero():
    """n = 1 is the smallest valid dimension (L(x) = c0 + c1 x); n = 0 is refused."""
    ml = L.Multilinear({(): 0.5, (0,): 2.0}, n=1)
    assert ml.n == 1
    np.testing.assert_array_equal(ml.value(np.array([[1.0], [-1.0]])), [2.5, -1.5])
    assert L.Multilinear({(0,): 2.0}).n == 1
    with pytest.raises(InvalidArgument):
        L.Multilinear({(): 0.5}, n=0)


def test_linear_has_no_constant_by_default():
    """Linear(c) is L(x) = c . x (Sec. 2.2 I), so L(0) = 0; an explicit c0 is added."""
    lin = L.Linear([1.0, -2.0])
    assert lin.c0 == 0.0
    np.testing.assert_array_equal(lin.value(np.array([[0.0, 0.0], [1.0, 1.0]])), [0.0, -1.0])
    np.testing.assert_array_equal(L.Linear([1.0, -2.0], 0.25).value(np.zeros((1, 2))), [0.25])
