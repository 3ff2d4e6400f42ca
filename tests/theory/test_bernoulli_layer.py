"""Tests of theory.bernoulli_layer: symbolic identities (Prop. B.2) and brute-force numbers."""

import itertools
import math

import numpy as np
import pytest
import sympy

from stecheck.errors import InvalidArgument
from stecheck.theory import bernoulli_layer as bl
from stecheck.theory.noise import get_noise

F = sympy.Function("F")


def _syms(n):
    return sympy.symbols(f"x1:{n + 1}"), sympy.symbols(f"a1:{n + 1}", real=True)


def _generic_multilinear(xs):
    """sum_S c_S prod_{i in S} x_i with one symbolic coefficient per subset."""
    expr = sympy.Integer(0)
    for r in range(len(xs) + 1):
        for subset in itertools.combinations(range(len(xs)), r):
            c = sympy.Symbol("c_" + "".join(str(i + 1) for i in subset), real=True)
            expr += c * sympy.Mul(*[xs[i] for i in subset])
    return expr


@pytest.mark.parametrize("n", [1, 2, 3])
def test_st_unbiased_for_generic_multilinear_loss(n):
    xs, a = _syms(n)
    L = _generic_multilinear(xs)
    assert all(b == 0 for b in bl.st_bias(L, xs, a, F))
    exact = bl.exact_gradient(L, xs, a, F)
    local = bl.local_expectation_gradient(L, xs, a, F)
    assert all(sympy.expand(e - l) == 0 for e, l in zip(exact, local))


def test_linear_loss_st_is_exact_and_deterministic():
    """Section 2.2 I: for linear L the ST estimate does not depend on the sample."""
    xs, a = _syms(2)
    c1, c2 = sympy.symbols("c1 c2")
    L = c1 * xs[0] + c2 * xs[1]
    exact = bl.exact_gradient(L, xs, a, F)
    for pattern in itertools.product((-1, 1), repeat=2):
        assert all(sympy.expand(d - e) == 0 for d, e in zip(bl.deterministic_st_gradient(L, xs, a, F, pattern), exact))


def test_st_biased_for_square_of_sum():
    xs, a = _syms(2)
    bias = bl.st_bias((xs[0] + xs[1]) ** 2, xs, a, F)
    for b, ai in zip(bias, a):
        assert b != 0
        expected = 4 * sympy.Derivative(F(ai), ai) * (2 * F(ai) - 1)
        assert sympy.expand(b - expected) == 0


def test_generic_expected_loss_is_polynomial_in_F():
    xs, a = _syms(1)
    assert bl.expected_loss(xs[0] ** 2, xs, a, F) == 1
    assert sympy.expand(bl.expected_loss(xs[0], xs, a, F) - (2 * F(a[0]) - 1)) == 0


# ----------------------------------------------------------------- brute force


def _sigmoid2(t):
    return 1.0 / (1.0 + math.exp(-2.0 * t))


def _dsigmoid2(t):
    s = _sigmoid2(t)
    return 2.0 * s * (1.0 - s)


def _L_np(x):
    return (x[0] + x[1]) ** 2 + 0.7 * x[0] * x[1] * x[2] + math.sin(x[0] + 2 * x[2])


def _grad_np(x):
    return np.array([
        2 * (x[0] + x[1]) + 0.7 * x[1] * x[2] + math.cos(x[0] + 2 * x[2]),
        2 * (x[0] + x[1]) + 0.7 * x[0] * x[2],
        0.7 * x[0] * x[1] + 2 * math.cos(x[0] + 2 * x[2]),
    ])


def _enumerate(a, fn):
    total = 0.0
    for x in itertools.product((-1.0, 1.0), repeat=len(a)):
        p = 1.0
        for xi, ai in zip(x, a):
            p *= _sigmoid2(ai) if xi > 0 else 1.0 - _sigmoid2(ai)
        total = total + p * fn(np.array(x))
    return total


@pytest.mark.parametrize("seed", [0, 1])
def test_numeric_values_match_enumeration_logistic(seed):
    rng = np.random.default_rng(seed)
    an = rng.normal(scale=0.8, size=3)
    xs, a = _syms(3)
    L = (xs[0] + xs[1]) ** 2 + sympy.Rational(7, 10) * xs[0] * xs[1] * xs[2] + sympy.sin(xs[0] + 2 * xs[2])
    fam = get_noise("logistic")
    at = {ai: float(v) for ai, v in zip(a, an)}

    def num(exprs):
        return np.array([float(e.subs(at)) for e in exprs])

    assert abs(float(bl.expected_loss(L, xs, a, fam).subs(at)) - _enumerate(an, _L_np)) < 1e-12
    h = 1e-6
    fd = np.array([
        (_enumerate(an + h * np.eye(3)[i], _L_np) - _enumerate(an - h * np.eye(3)[i], _L_np)) / (2 * h)
        for i in range(3)
    ])
    dens = np.array([_dsigmoid2(t) for t in an])
    st = 2 * dens * _enumerate(an, _grad_np)
    ident = _enumerate(an, _grad_np)
    assert np.max(np.abs(num(bl.exact_gradient(L, xs, a, fam)) - fd)) < 1e-8
    assert np.max(np.abs(num(bl.local_expectation_gradient(L, xs, a, fam)) - fd)) < 1e-8
    assert np.max(np.abs(num(bl.expected_st_gradient(L, xs, a, fam)) - st)) < 1e-12
    assert np.max(np.abs(num(bl.expected_identity_st_gradient(L, xs, a, fam)) - ident)) < 1e-12
    assert np.max(np.abs(num(bl.st_bias(L, xs, a, fam)) - (st - fd))) < 1e-8
    star = np.sign(an)
    det = 2 * dens * _grad_np(star)
    assert np.max(np.abs(num(bl.deterministic_st_gradient(L, xs, a, fam, tuple(int(s) for s in star))) - det)) < 1e-12
    assert np.max(np.abs(st - fd)) > 1e-3  # this L is not multilinear: the bias is really there


def test_generic_and_concrete_noise_agree():
    xs, a = _syms(2)
    L = xs[0] ** 2 * xs[1] + 3 * xs[0] * xs[1] ** 3
    fam = get_noise("uniform")
    generic = bl.st_bias(L, xs, a, F)
    concrete = bl.st_bias(L, xs, a, fam)
    at = {a[0]: 0.3, a[1]: -0.45}  # inside (-1, 1), where the uniform density is 1/2
    for g, c in zip(generic, concrete):
        assert abs(float(bl.with_noise(g, a, fam, F).subs(at)) - float(c.subs(at))) < 1e-14


def test_invalid_arguments():
    xs, a = _syms(2)
    with pytest.raises(InvalidArgument, match="one a_i per x_i"):
        bl.expected_loss(xs[0], xs, a[:1], F)
    x5, a5 = _syms(5)
    with pytest.raises(InvalidArgument, match="out of range"):
        bl.expected_loss(x5[0], x5, a5, F)
    with pytest.raises(InvalidArgument, match="pre-activations"):
        bl.expected_loss(xs[0] * a[0], xs, a, F)
    with pytest.raises(InvalidArgument, match="NoiseFamily"):
        bl.expected_loss(xs[0], xs, a, "logistic")
    with pytest.raises(InvalidArgument, match="sign_pattern"):
        bl.deterministic_st_gradient(xs[0], xs, a, F, (1, 0))
    with pytest.raises(InvalidArgument, match="distinct"):
        bl.expected_loss(xs[0], xs, xs, F)
