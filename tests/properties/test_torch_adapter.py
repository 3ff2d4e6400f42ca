"""The PyTorch adapter on real PyTorch code (skipped cleanly where torch is not installed)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from stecheck.numerics import enumeration, losses  # noqa: E402
from stecheck.proofs_check.battery import check_estimator  # noqa: E402
from stecheck.proofs_check.battery.core import Problem, Sampler, mean_interval, resolve_bound  # noqa: E402
from stecheck.proofs_check.torch_adapter import from_torch  # noqa: E402

F = torch.nn.functional


def _hard(a, z):
    return torch.where(a >= z, 1.0, -1.0).to(a.dtype)  # x = sign(a - z), sign(0) = +1 (eq. (1))


def st_sigmoid(a, z):
    """Alg. 1 for logistic noise F(a) = sigmoid(2a): the surrogate 2F(a) - 1 has derivative 2F'(a)."""
    soft = 2 * torch.sigmoid(2 * a) - 1
    return _hard(a, z) + (soft - soft.detach())


def st_hardtanh(a, z):
    """Alg. 1 for uniform noise on [-1, 1]: 2F(a) - 1 = hardtanh(a)."""
    soft = F.hardtanh(a)
    return _hard(a, z) + (soft - soft.detach())


def st_wrong_scale(a, z):
    """Deliberately wrong: sigmoid(a) as the surrogate (derivative F'(a/2)/4, not 2F'(a))."""
    soft = torch.sigmoid(a)
    return _hard(a, z) + (soft - soft.detach())


class SignST(torch.autograd.Function):
    """The autograd.Function pattern: forward sign(a - z), backward 2 F'(a) (logistic noise)."""

    @staticmethod
    def forward(ctx, a, z):
        ctx.save_for_backward(a)
        return _hard(a, z)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        s = torch.sigmoid(2 * a)
        return g * 2 * (2 * s * (1 - s)), None


def st_gumbel(a, tau=1.0):
    """ST Gumbel-Softmax by torch itself: two classes with logits (2a, 0), so P(on) = sigmoid(2a) = F(a)."""
    logits = torch.stack([2 * a, torch.zeros_like(a)], dim=-1)
    y = F.gumbel_softmax(logits, tau=tau, hard=True)[..., 0]
    return 2 * y - 1


LOGISTIC = ("logistic",)


def _statuses(spec):
    return {r.check: r.status for r in check_estimator(spec, profile="dev")}


def test_detach_pattern_with_sigmoid_surrogate_passes_what_st_must():
    got = _statuses(from_torch(st_sigmoid, tags=["st"], bound="st", noises=LOGISTIC))
    for c in ("output_contract", "seed_determinism", "linear_exact", "unbiased_multilinear", "ascent_b5"):
        assert got[c] == "PASS", got


def test_autograd_function_pattern_passes_what_st_must():
    got = _statuses(from_torch(SignST.apply, name="SignST", tags=["st"], bound="st", noises=LOGISTIC))
    for c in ("linear_exact", "unbiased_multilinear", "ascent_b5"):
        assert got[c] == "PASS", got


def test_detach_pattern_with_hardtanh_is_alg1_for_uniform_noise():
    got = _statuses(from_torch(st_hardtanh, tags=["st"], bound="st", noises=("uniform",)))
    for c in ("linear_exact", "unbiased_multilinear"):
        assert got[c] == "PASS", got


def test_the_battery_catches_a_wrongly_scaled_surrogate():
    got = _statuses(from_torch(st_wrong_scale, tags=["st"], noises=LOGISTIC))
    assert got["linear_exact"] == "FAIL" and got["unbiased_multilinear"] == "FAIL", got


def test_the_sigmoid_st_equals_stecheck_st_sample_by_sample():
    from stecheck.numerics.estimators import estimate_batch

    spec = from_torch(st_sigmoid, noises=LOGISTIC)
    loss = losses.Multilinear({(0,): 1.0, (0, 1): -0.7, (1, 2): 0.4}, n=3)
    a = np.array([0.3, -0.8, 1.2])
    mine = spec.call(loss, a, "logistic" and __import__("stecheck").numerics.noise.get_noise("logistic"),
                     np.random.default_rng(5), 64)
    ref = estimate_batch("st", loss, a, "logistic", np.random.default_rng(5), 64)
    np.testing.assert_allclose(mine, ref, rtol=1e-12, atol=1e-15)


def test_torch_gumbel_softmax_hard_is_st_gumbel_softmax_in_mean():
    """Its mean at n = 1 agrees with stecheck's exact E[ST-GS(tau)] (quadrature) within a sound interval."""
    spec = from_torch(st_gumbel, tags=["relaxation"], bound="relaxation", noises=LOGISTIC, own_noise=True)
    got = _statuses(spec)
    assert got["output_contract"] == got["seed_determinism"] == got["relaxation_bias_order"] == "PASS", got
    loss = losses.Linear(np.array([1.5]))
    for a, tau in ((0.4, 1.0), (-0.9, 0.5)):
        pr = Problem(loss, np.array([a]), "logistic", tau=tau)
        B, declared = resolve_bound("relaxation", pr)
        mi = mean_interval(Sampler(spec, pr), 1, B, declared, samples=50_000, seed=1, key="torch-stgs")
        exact = enumeration.expected_estimator("st_gumbel_softmax", loss, [a], "logistic", tau=tau)
        v, e = float(exact.value[0]), float(exact.error_bound[0])
        assert mi.low[0] - e <= v <= mi.high[0] + e, (a, tau, v, mi)


def test_torch_is_not_imported_by_the_core():
    import subprocess
    import sys

    code = ("import sys, stecheck, stecheck.testing, stecheck.proofs_check.cli, stecheck.proofs_check.battery; "
            "assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
