"""Argument guards of numerics.ste_dynamics.STEModel at their exact boundaries (both sides), and the
self-tests added in session 12 (input laws, tie/underflow case, checkpoints, block sizing)."""

import math

import numpy as np
import pytest

from stecheck.errors import InvalidArgument
from stecheck.numerics import ste_dynamics as sd


@pytest.mark.parametrize("lr", [float("inf"), float("nan"), 0.0, -0.0, -1.0, -float("inf")])
def test_lr_rejected_unless_finite_and_positive(lr):
    # inf fails only the finiteness test and 0 / -1 only the sign test: both conjuncts are needed
    with pytest.raises(InvalidArgument, match="learning-rate constant"):
        sd.STEModel(n=2, m=1, lr=lr)


@pytest.mark.parametrize("lr", [5e-324, 1.0, 1e308])
def test_lr_accepted_when_finite_and_positive(lr):
    assert sd.STEModel(n=2, m=1, lr=lr).lr == lr


@pytest.mark.parametrize("noise", [-5e-324, -1.0, float("inf"), float("nan"), "1", None, [0.5]])
def test_label_noise_rejected(noise):
    # a negative number fails only the sign test, inf/nan only the finiteness test, a string only the type test
    with pytest.raises(InvalidArgument, match="label noise level"):
        sd.STEModel(n=2, m=1, noise=noise)


@pytest.mark.parametrize("noise", [0, 0.0, 5e-324, 2])
def test_label_noise_accepted(noise):
    assert sd.STEModel(n=2, m=1, noise=noise).noise == noise


def test_inputs_audit_passes_and_catches_a_wrong_degree(monkeypatch):
    assert sd.inputs_audit() == []
    sampler, *rest = sd.INPUTS["student-t3"]
    monkeypatch.setitem(sd.INPUTS, "student-t3", (lambda g, s: g.standard_t(4, size=s) / math.sqrt(3), *rest))
    assert any("student-t3" in b for b in sd.inputs_audit())


def test_inputs_audit_catches_a_wrong_scale(monkeypatch):
    sampler, *rest = sd.INPUTS["uniform"]
    monkeypatch.setitem(sd.INPUTS, "uniform", (lambda g, s: g.uniform(-2.0, 2.0, size=s), *rest))
    assert any("uniform" in b for b in sd.inputs_audit())


def test_engine_selftest_passes():
    assert sd.engine_selftest() == []
    assert sd.reference_selftest() == {}


def test_block_size_memory_rule():
    model = sd.STEModel(n=10, m=100, k=4)
    x_bytes = 100 * 4 * 10 * 8
    assert sd._block_size(model, 10**9, None, 48 * 2**20) == 48 * 2**20 // x_bytes
    assert sd._block_size(model, 3, None, 48 * 2**20) == 3
    assert sd._block_size(model, 10**9, None, 1) == 1
    assert isinstance(sd._block_size(model, 10**9, None, 48 * 2**20), int)


def test_block_ranges_accepts_a_single_trial():
    """trials = 1 is the smallest valid cell (one block [0, 1)); 0 is refused."""
    model = sd.STEModel(n=3, m=3, k=2, v=(2.0, 1.0), proxy="identity", schedule="constant", lr=0.5)
    assert sd.block_ranges(model, 1, 10) == [(0, 1)]
    assert sd.block_ranges(model, 1, 10, block_size=4) == [(0, 1)]
    with pytest.raises(InvalidArgument):
        sd.block_ranges(model, 0, 10)


def test_hamming_is_recorded_at_33_checkpoints_as_documented():
    """docs/qste-dynamics.md: the Hamming distance at 33 checkpoints, 0..T evenly spaced (rounded); every step
    when T + 1 <= 33."""
    ck = sd._checkpoints(1000)
    assert ck.size == 33 and ck[0] == 0 and ck[-1] == 1000
    np.testing.assert_array_equal(ck, np.round(np.arange(33) * 1000 / 32).astype(np.int64))
    np.testing.assert_array_equal(sd._checkpoints(5), np.arange(6))
    assert sd._checkpoints(32).size == 33
