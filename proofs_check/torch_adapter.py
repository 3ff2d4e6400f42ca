"""PyTorch straight-through estimators as stecheck estimators (optional: ``pip install stecheck[torch]``).

Researchers write an STE as a ``torch.autograd.Function`` with a custom
backward, or as ``x = hard + (soft - soft.detach())``.  :func:`from_torch`
turns the *forward* function that produces the binary state into a stecheck
estimator (:mod:`proofs_check.battery.estimator`): for a batch of ``size``
samples it

1. draws the noise ``z = noise.sample(rng, (size, n))`` (so ``x = sign(a - z)`` is
   the paper's eq. (1) and Prop. B.1's coupling works) -- or, with
   ``own_noise=True``, seeds torch's generator from ``rng`` (for code such as
   ``torch.nn.functional.gumbel_softmax`` that draws its own noise);
2. calls ``x = forward(A, Z)`` (``forward(A)`` if ``own_noise``; ``tau=`` added for a
   ``relaxation``) with ``A`` the pre-activations repeated ``size`` times, float64,
   ``requires_grad=True``;
3. evaluates the stecheck loss on ``x`` through an ``autograd.Function`` whose
   backward is ``loss.grad`` (float64), and back-propagates ``sum_b L(x_b)``;
4. returns ``A.grad``: row ``b`` is the per-sample gradient ``d L(x_b) / d a``
   as the custom backward computes it, shape ``(size, n)``, float64.

Rows are independent because row ``b`` of ``x`` depends only on row ``b`` of
``A`` (true for elementwise binarizers; a forward that mixes rows breaks the
contract and the per-sample gradients).  torch is imported only when an
adapted estimator runs: stecheck's core never needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument

from .battery.estimator import TAGS, EstimatorSpec

__all__ = ["from_torch"]


def _torch():
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without torch
        raise InvalidArgument("the PyTorch adapter needs torch: pip install 'stecheck[torch]' "
                              "(or pip install torch==2.13.0)") from None
    return torch


class _TorchEstimator:
    def __init__(self, forward, own_noise: bool, relaxation: bool):
        self.forward, self.own_noise, self.relaxation = forward, own_noise, relaxation

    def __call__(self, loss, a, noise, rng, size, tau=None):
        torch = _torch()
        a = np.asarray(a, dtype=np.float64)
        n = a.size
        Z = None if self.own_noise else noise.sample(rng, (size, n))
        seed = int(rng.integers(0, 2**63 - 1))
        kwargs = {"tau": tau} if self.relaxation and tau is not None else {}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            A = torch.tensor(np.broadcast_to(a, (size, n)).copy(), dtype=torch.float64, requires_grad=True)
            if self.own_noise:
                X = self.forward(A, **kwargs)
            else:
                X = self.forward(A, torch.from_numpy(np.ascontiguousarray(Z, dtype=np.float64)), **kwargs)
            if not isinstance(X, torch.Tensor) or tuple(X.shape) != (size, n):
                raise InvalidArgument(
                    f"the torch forward returned {type(X).__name__} of shape {tuple(getattr(X, 'shape', ()))}; "
                    f"expected a tensor of shape ({size}, {n}) (one state per row of a).")
            values = _loss_function(torch).apply(X.to(torch.float64), loss)
            values.sum().backward()
        if A.grad is None:
            return np.zeros((size, n))  # x does not depend on a: the backward passes no gradient
        return A.grad.detach().cpu().numpy().astype(np.float64, copy=True)


_LOSS_FN = {}


def _loss_function(torch):
    if "fn" not in _LOSS_FN:
        class _StecheckLoss(torch.autograd.Function):
            """``L(x)`` per row by the stecheck loss; backward ``dL/dx`` by ``loss.grad`` (float64)."""

            @staticmethod
            def forward(ctx, X, loss):
                Xn = X.detach().cpu().numpy().astype(np.float64)
                ctx.loss, ctx.Xn = loss, Xn
                return torch.from_numpy(np.asarray(loss.value(Xn), dtype=np.float64))

            @staticmethod
            def backward(ctx, grad_out):
                G = torch.from_numpy(np.asarray(ctx.loss.grad(ctx.Xn), dtype=np.float64))
                return G * grad_out[:, None], None

        _LOSS_FN["fn"] = _StecheckLoss
    return _LOSS_FN["fn"]


def from_torch(forward: Callable[..., Any], *, name: str | None = None, tags: Any = ("st",), bound: Any = None,
               noises: Any = None, own_noise: bool = False, xfail: Any = None,
               taus: Any = (1.0, 0.5), ref: str | None = None) -> EstimatorSpec:
    """An :class:`EstimatorSpec` for a torch forward ``forward(a, z) -> x`` (see the module docstring).

    ``noises``: the noise families the forward is written for (e.g. ``("logistic",)`` if it
    hard-codes ``sigmoid``); ``own_noise=True``: ``forward(a)`` draws its own noise
    with torch's generator (seeded from the battery's ``rng``); ``ref="module:name"`` of the
    spec makes the battery's replay lines pasteable.
    """
    if not callable(forward):
        raise InvalidArgument(f"forward={forward!r} is not callable; expected forward(a, z) -> x (torch tensors).")
    tags = (tags,) if isinstance(tags, str) else tuple(tags)
    bad = [t for t in tags if t not in TAGS]
    if bad:
        raise InvalidArgument(f"unknown tag(s) {bad}; valid tags are {list(TAGS)}.")
    from .battery.estimator import _validate_xfail

    fn = _TorchEstimator(forward, own_noise, "relaxation" in tags)
    label = name or getattr(forward, "__name__", "torch_estimator")
    return EstimatorSpec(fn=fn, name=label, tags=frozenset(tags), bound=bound,
                         noises=None if noises is None else tuple(noises), xfail=_validate_xfail(xfail),
                         taus=tuple(float(t) for t in taus), ref=ref)
