"""numerics.deep: exact gradient of a chain of stochastic binary layers, and deep ST (Sec. 4)."""

import itertools

import numpy as np
import pytest

from stecheck.numerics import deep
from stecheck.numerics import enumeration as en
from stecheck.numerics import losses as L
from stecheck.numerics.montecarlo import monte_carlo_mean
from stecheck.numerics.noise import get_noise
from stecheck.numerics.seeding import make_rng, task_seed
from stecheck.errors import InvalidArgument

RNG = np.random.default_rng(5)
X0 = RNG.normal(size=3)
WS = [RNG.normal(size=(3, 3)), 0.7 * RNG.normal(size=(2, 3))]
BS = [0.3 * RNG.normal(size=3), 0.3 * RNG.normal(size=2)]
LOSS = L.Quadratic(RNG.normal(size=(2, 2)), RNG.normal(size=2))


def brute_expected_loss(chain, loss):
    """sum over all joint hidden states of prod_l P(x^l | x^(l-1)) L(x^D), by itertools."""
    noise, lo = chain.noise, (-1.0 if chain.encoding == "pm1" else 0.0)
    total = 0.0
    for states in itertools.product(*[list(itertools.product([lo, 1.0], repeat=n)) for n in chain.widths]):
        prev, prob = chain.x0, 1.0
        for W, b, s in zip(chain.Ws, chain.bs, states):
            a = W @ prev + b
            s = np.array(s)
            prob *= np.prod(np.where(s == 1.0, noise.cdf(a), noise.sf(a)))
            prev = s
        total += prob * loss.value(prev[None])[0]
    return total


@pytest.mark.parametrize("encoding", ["pm1", "01"])
def test_exact_gradient_matches_finite_differences_of_brute_force(encoding):
    chain = deep.DeepChain(WS, BS, X0, "logistic", encoding=encoding)
    value, grad = deep.exact_gradient_deep(chain, LOSS)
    assert value.value == pytest.approx(brute_expected_loss(chain, LOSS), rel=1e-12)
    theta, h = chain.params(), 1e-5
    for k in range(0, theta.size, 3):  # every third parameter keeps the test fast
        e = np.zeros_like(theta)
        e[k] = h
        fd = (brute_expected_loss(chain.with_params(theta + e), LOSS)
              - brute_expected_loss(chain.with_params(theta - e), LOSS)) / (2 * h)
        assert grad.value[k] == pytest.approx(fd, rel=1e-6, abs=1e-8)
    assert np.all(grad.error_bound >= 0) and np.max(grad.error_bound) < 1e-10


def test_one_layer_reduces_to_single_layer_enumeration():
    W, b, x0 = WS[0], BS[0], X0
    loss = L.Quadratic(RNG.normal(size=(2, 3)), RNG.normal(size=2))
    chain = deep.DeepChain([W], [b], x0, "gaussian")
    a = W @ x0 + b
    g = en.exact_gradient(loss, a, "gaussian").value
    _, grad = deep.exact_gradient_deep(chain, loss)
    np.testing.assert_allclose(grad.value, np.concatenate([np.outer(g, x0).ravel(), g]), rtol=1e-12, atol=1e-14)
    st = en.expected_estimator("st", loss, a, "gaussian").value
    np.testing.assert_allclose(deep.expected_deep_st(chain, loss).value[-3:], st, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("variant", ["st", "identity_st"])
def test_expected_deep_st_matches_monte_carlo(variant):
    chain = deep.DeepChain(WS, BS, X0, "logistic", encoding="01")
    exact = deep.expected_deep_st(chain, LOSS, variant=variant)
    res = monte_carlo_mean(deep.DeepSTSampler(chain, LOSS, variant=variant), 40_000,
                           task_seed(9, f"deep/{variant}"), confidence=0.999, simultaneous=True)
    assert np.all((res.low <= exact.value) & (exact.value <= res.high))


def test_deep_st_unbiased_when_every_linearisation_is_exact_and_biased_otherwise():
    """Uniform noise with all |a| < 1 (F affine), one unit in the last layer, linear loss: the
    linearisations (16) are exact, so E[deep ST] == exact gradient; with logistic noise it is biased."""
    Ws = [0.2 * RNG.normal(size=(3, 2)), 0.2 * RNG.normal(size=(1, 3))]
    bs = [0.1 * RNG.normal(size=3), np.array([0.05])]
    x0 = np.array([0.5, -0.5])
    lin = L.Linear([1.7])
    for noise, unbiased in (("uniform", True), ("logistic", False)):
        chain = deep.DeepChain(Ws, bs, x0, noise)
        _, g = deep.exact_gradient_deep(chain, lin)
        st = deep.expected_deep_st(chain, lin)
        gap = np.max(np.abs(st.value - g.value))
        if unbiased:
            assert np.all(np.abs(st.value - g.value) <= st.error_bound + g.error_bound)
        else:
            assert gap > 1e-4


def test_deterministic_variant_and_layout():
    chain = deep.DeepChain(WS, BS, X0, "triangular")
    out = deep.deep_st_estimates(chain, LOSS, make_rng(task_seed(1, "d")), 4, variant="deterministic_st")
    assert out.shape == (4, chain.n_params) and np.ptp(out, axis=0).max() == 0.0
    np.testing.assert_array_equal(deep.expected_deep_st(chain, LOSS, variant="deterministic_st").value, out[0])
    Ws, bs = chain.unflatten(chain.params())
    assert all(np.array_equal(u, v) for u, v in zip(Ws + bs, chain.Ws + chain.bs))
    # the last-layer bias gradient of deep ST is single-layer ST at the sampled a^(D)
    s = deep.deep_st_estimates(chain, L.Linear([1.0, -1.0]), make_rng(task_seed(1, "e")), 3)
    assert np.all(np.abs(s[:, -2:]) <= 2 * get_noise("triangular").pdf(0.0) + 1e-15)


def test_bad_inputs():
    with pytest.raises(InvalidArgument, match="takes 3 inputs"):
        deep.DeepChain([np.ones((2, 4))], [np.zeros(2)], X0, "logistic")
    with pytest.raises(InvalidArgument, match="same length"):
        deep.DeepChain(WS, BS[:1], X0, "logistic")
    chain = deep.DeepChain(WS, BS, X0, "logistic")
    with pytest.raises(InvalidArgument, match="last layer"):
        deep.exact_gradient_deep(chain, L.Linear([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidArgument, match="variant"):
        deep.expected_deep_st(chain, LOSS, variant="arm")
    wide = deep.DeepChain([np.ones((13, 3))], [np.zeros(13)], X0, "logistic")
    with pytest.raises(InvalidArgument, match="widths"):
        deep.exact_gradient_deep(wide, L.SquareSum())
    with pytest.raises(InvalidArgument, match="Monte Carlo"):
        deep.expected_deep_st(deep.DeepChain([np.ones((12, 3)), np.ones((11, 12))], [np.zeros(12), np.zeros(11)],
                                             X0, "logistic"), L.SquareSum())
