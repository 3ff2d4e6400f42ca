"""Tests of theory.enumeration (the numeric reference) against closed forms worked by hand."""

import math

import numpy as np
import pytest

from stecheck.errors import InvalidArgument
from stecheck.theory import enumeration as en


def cdf(a):
    return 1.0 / (1.0 + np.exp(-2.0 * np.asarray(a)))


def pdf(a):
    s = cdf(a)
    return 2.0 * s * (1.0 - s)


def test_states_layout():
    X = en.states(3)
    assert X.shape == (8, 3) and list(X[1]) == [1, -1, -1] and list(X[4]) == [-1, -1, 1]
    with pytest.raises(InvalidArgument):
        en.states(0)


def test_probabilities_sum_to_one_and_factorize():
    a = np.array([0.3, -1.2, 0.7])
    X, P = en.state_probabilities(a, cdf)
    assert abs(P.sum() - 1) < 1e-15
    k = 5  # bits 0 and 2 set: x = (+1, -1, +1)
    assert abs(P[k] - cdf(0.3) * (1 - cdf(-1.2)) * cdf(0.7)) < 1e-15


def test_linear_loss_closed_forms():
    """L = c.x: E[L] = sum c_i (2F(a_i) - 1), gradient 2 c_i F'(a_i), and ST equals it exactly."""
    rng = np.random.default_rng(5)
    a, c = rng.normal(size=4), rng.normal(size=4)
    assert abs(en.expected_loss(lambda x: c @ x, a, cdf) - np.sum(c * (2 * cdf(a) - 1))) < 1e-12
    exact = 2 * c * pdf(a)
    assert np.max(np.abs(en.exact_gradient_fd(lambda x: c @ x, a, cdf) - exact)) < 1e-8
    assert np.max(np.abs(en.expected_st(lambda x: c, a, cdf, pdf) - exact)) < 1e-12


def test_square_loss_example1():
    a = np.array([0.4])
    assert abs(en.expected_loss(lambda x: x[0] ** 2, a, cdf) - 1) < 1e-15
    st = en.expected_st(lambda x: 2 * x, a, cdf, pdf)[0]
    s = 1 / (1 + math.exp(-0.8))
    assert abs(st - 4 * 2 * s * (1 - s) * (2 * s - 1)) < 1e-12
