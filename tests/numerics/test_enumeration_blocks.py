"""Exact enumeration in fixed blocks (beyond n = 22): same values within the bound, bit-identical for any worker count."""

from __future__ import annotations

import numpy as np
import pytest

from stecheck.errors import InvalidArgument
from stecheck.numerics import losses as L
from stecheck.numerics.enumeration import exact_loss_and_gradient
from stecheck.numerics.enumeration_blocks import MAX_N_BLOCKS, exact_loss_and_gradient_blocks


def _problem(n, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.normal(0.0, 1.0 / np.sqrt(n), size=(n, n))
    return L.Quadratic(W, rng.normal(size=n)), rng.normal(size=n)


@pytest.mark.parametrize(("n", "chunk_bits", "block_bits"), [(10, 4, 3), (12, 5, 6), (9, 9, 6), (11, 3, 0)])
def test_agrees_with_the_serial_enumeration_within_both_bounds(n, chunk_bits, block_bits):
    loss, a = _problem(n)
    v1, g1 = exact_loss_and_gradient(loss, a, "logistic", chunk_bits=chunk_bits)
    v2, g2 = exact_loss_and_gradient_blocks(loss, a, "logistic", chunk_bits=chunk_bits, block_bits=block_bits)
    assert abs(v1.value - v2.value) <= v1.error_bound + v2.error_bound
    assert np.all(np.abs(g1.value - g2.value) <= g1.error_bound + g2.error_bound)
    assert v2.error_bound >= v1.error_bound  # the two-level fold only adds 2B units to m
    assert 0 < v2.error_bound < 1e-10 * max(1.0, abs(v2.value))


def test_a_multilinear_loss_gives_the_known_exact_gradient():
    """For L(x) = c . x the exact gradient is 2 F'(a) c and E[L] = c . (2F(a) - 1): an independent closed form."""
    from stecheck.numerics.noise import get_noise

    n = 11
    rng = np.random.default_rng(3)
    c, a = rng.normal(size=n), rng.normal(size=n)
    noise = get_noise("logistic")
    value, grad = exact_loss_and_gradient_blocks(L.Linear(c), a, "logistic", chunk_bits=4, block_bits=3)
    assert abs(value.value - float(c @ (2 * noise.cdf(a) - 1))) <= value.error_bound + 4e-16 * np.abs(c).sum()
    assert np.all(np.abs(grad.value - 2 * noise.pdf(a) * c) <= grad.error_bound + 4e-16 * np.abs(c))


def test_past_n_22_is_accepted_and_beyond_the_limit_refused():
    loss, a = _problem(23)
    with pytest.raises(InvalidArgument, match="n <= 22"):
        exact_loss_and_gradient(loss, a, "logistic")
    loss, a = _problem(MAX_N_BLOCKS + 1)
    with pytest.raises(InvalidArgument, match=f"n <= {MAX_N_BLOCKS}"):
        exact_loss_and_gradient_blocks(loss, a, "logistic")


@pytest.mark.cluster
def test_bit_identical_in_process_and_on_one_or_two_workers():
    from stecheck.numerics.distributed import local_client

    loss, a = _problem(14)
    ref = exact_loss_and_gradient_blocks(loss, a, "logistic", chunk_bits=8, block_bits=4)
    for workers in (1, 2):
        with local_client(workers) as client:
            got = exact_loss_and_gradient_blocks(loss, a, "logistic", chunk_bits=8, block_bits=4, client=client)
        assert got[0].value == ref[0].value and got[0].error_bound == ref[0].error_bound
        assert np.array_equal(got[1].value, ref[1].value) and np.array_equal(got[1].error_bound, ref[1].error_bound)
