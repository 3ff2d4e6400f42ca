"""The Monte Carlo hot path (kernels on drawn states, cache-sized blocks, fused scale, fast extrema) changes no number."""

import numpy as np
import pytest

from stecheck.errors import NonFiniteValue
from stecheck.numerics import estimators as E
from stecheck.numerics import losses as L
from stecheck.numerics.estimators import EstimatorSampler, estimate_batch, sample_states
from stecheck.numerics.montecarlo import RunningMoments, _column_extremum
from stecheck.numerics.seeding import make_rng, task_seed


def _problem(n, m=None, seed=0):
    rng = np.random.default_rng(seed)
    m = n if m is None else m
    return rng.normal(size=(m, n)) / np.sqrt(n), rng.normal(size=m), rng.normal(size=n)


@pytest.mark.parametrize("n", [3, 64, 100])
@pytest.mark.parametrize("size", [1, 17, 700, 2048, 2600, 4096 + 5])
@pytest.mark.parametrize("name", ["st", "identity_st", "st_weights"])
@pytest.mark.parametrize("noise", ["logistic", "gaussian", "uniform", "triangular"])
def test_blocked_kernel_equals_the_estimator_in_one_piece(n, size, name, noise):
    """Bit for bit: the public estimator on states drawn in one piece from the same stream."""
    W, y, a = _problem(n)
    loss = L.Quadratic(W, y)
    seed = task_seed(5, f"blocks/{n}/{size}/{noise}")
    got = estimate_batch(name, loss, a, noise, make_rng(seed), size)
    X = sample_states(make_rng(seed), a, noise, size)
    want = E.ESTIMATORS[name].fn(loss, a, noise, X)
    assert got.shape == (size, n) and np.array_equal(got, want)
    assert np.array_equal(EstimatorSampler(name, loss, a, noise)(make_rng(seed), size), want)


@pytest.mark.parametrize("encoding", ["pm1", "01"])
@pytest.mark.parametrize("loss_name", ["quadratic", "multilinear", "linear", "callable"])
def test_blocked_path_with_every_loss_and_encoding(monkeypatch, encoding, loss_name):
    monkeypatch.setattr(E, "BLOCK_CELLS", 40)  # blocks of 8 rows for n = 5
    W, y, a = _problem(5, 4, seed=2)
    loss = {"quadratic": L.Quadratic(W, y), "multilinear": L.QuadraticMultilinear(W, y),
            "linear": L.Linear(y[:1].repeat(5) + a), "callable": L.Callable(lambda X: (X**3).sum(1),
                                                                              lambda X: 3 * X**2, n=5)}[loss_name]
    seed = task_seed(1, "small-blocks")
    got = estimate_batch("st", loss, a, "logistic", make_rng(seed), 203, encoding=encoding)
    X = sample_states(make_rng(seed), a, "logistic", 203, encoding)
    assert np.array_equal(got, E.st_estimates(loss, a, "logistic", X, encoding=encoding))


def test_fused_scaled_gradient_is_bit_identical():
    W, y, a = _problem(64)
    X = sample_states(make_rng(task_seed(0, "x")), a, "logistic", 999)
    s = np.random.default_rng(1).uniform(0.01, 3.0, 64)
    for loss in (L.Quadratic(W, y), L.QuadraticMultilinear(W, y)):
        want = s * loss.grad(X)
        assert np.array_equal(loss._scaled_grad(X, s), want)
        out = np.empty_like(want)
        assert loss._scaled_grad(X, s, out) is out and np.array_equal(out, want)


def test_non_finite_estimate_in_a_later_block_names_its_index_in_the_batch(monkeypatch):
    monkeypatch.setattr(E, "BLOCK_CELLS", 20)  # blocks of 10 rows for n = 2
    calls = []

    def grad(X):
        calls.append(len(X))
        G = np.ones_like(X)
        if sum(calls) > 20:  # the third block
            G[3, 1] = np.inf
        return G

    loss = L.Callable(lambda X: X.sum(1), grad, n=2)
    with pytest.raises(NonFiniteValue, match=r"sample index 23, coordinates \[1\] at x = .*rows 20\.\.29 of a batch "
                                             r"of 50"):
        estimate_batch("identity_st", loss, np.zeros(2), "logistic", make_rng(task_seed(0, "nf")), 50)


@pytest.mark.parametrize("shape", [(1, 1), (7, 3), (2048, 64), (2049, 64), (100, 1500), (33, 16)])
def test_column_extrema_equal_numpy_reductions(shape):
    Y = np.random.default_rng(3).normal(size=shape) * 10.0 ** np.random.default_rng(4).integers(-30, 30, size=shape)
    for op in (np.minimum, np.maximum):
        assert np.array_equal(_column_extremum(Y, op), op.reduce(Y, axis=0))
    Y[-1, 0] = np.nan
    assert np.isnan(_column_extremum(Y, np.minimum)[0]) and np.isnan(_column_extremum(Y, np.maximum)[0])
    m = RunningMoments.from_samples(np.nan_to_num(Y))
    assert np.array_equal(m.minimum, np.nan_to_num(Y).min(0)) and np.array_equal(m.maximum, np.nan_to_num(Y).max(0))


@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (7, 3), (2048, 64), (2049, 64), (640, 64), (100, 1500), (32, 16)])
def test_chunk_moment_passes_keep_their_bounds(shape):
    """The faster passes of RunningMoments.from_samples: deviations bit for bit ``Y - mean``; column sums within
    the ``gamma_{size-1} sum|y|`` bound of a sequential sum (checked against math.fsum, correctly rounded)."""
    import math

    from stecheck.numerics._compensated import gamma
    from stecheck.numerics.montecarlo import _column_sum, _deviations

    rng = np.random.default_rng(5)
    Y = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 8, size=shape) + 1e3
    mean = Y.sum(axis=0) / shape[0]
    assert np.array_equal(_deviations(Y, mean), Y - mean)
    s = _column_sum(Y)
    for j in range(shape[1]):
        exact = math.fsum(Y[:, j])
        assert abs(s[j] - exact) <= gamma(max(shape[0] - 1, 1)) * np.abs(Y[:, j]).sum()
    m = RunningMoments.from_samples(Y)
    if shape[0] > 1:
        np.testing.assert_allclose(m.variance, Y.var(axis=0, ddof=1), rtol=1e-9)


@pytest.mark.parametrize("n", [64, 100])
@pytest.mark.parametrize("noise", ["logistic", "gaussian", "uniform", "triangular"])
def test_blocked_kernel_at_exactly_two_blocks_equals_the_estimator_in_one_piece(n, noise):
    """The boundary of the blocked path: size = 2 * (BLOCK_CELLS // n) is two blocks of the minimum size; the
    result is the one-piece evaluation bit for bit (so either path may take the boundary)."""
    W, y, a = _problem(n)
    loss = L.Quadratic(W, y)
    size = 2 * (E.BLOCK_CELLS // n)
    seed = task_seed(6, f"blocks-boundary/{n}/{noise}")
    got = estimate_batch("st", loss, a, noise, make_rng(seed), size)
    X = sample_states(make_rng(seed), a, noise, size)
    assert got.shape == (size, n) and np.array_equal(got, E.st_estimates(loss, a, noise, X))
