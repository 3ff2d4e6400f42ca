"""Property tests for your own gradient estimators and pinned claim checks, for pytest and Hypothesis.

An *estimator* here is any callable ``estimator(loss, a, noise, rng, size)``
returning a ``(size, n)`` array of single-sample gradient estimates of
``d E[L(x)] / da`` for ``x_i = sign(a_i - z_i)`` (the signature of
:func:`numerics.estimators.estimate_batch` without the name).  Example::

    from hypothesis import given
    from stecheck.proofs_check.testing import assert_unbiased, multilinear_losses, preactivations

    @given(multilinear_losses(n=4), preactivations(n=4))
    def test_my_estimator_is_unbiased_for_multilinear_losses(loss, a):
        assert_unbiased(my_estimator, loss, a, noise="logistic")

Each assertion compares a seeded Monte Carlo interval with the exact value
computed by enumerating ``{-1, 1}^n`` and fails only on evidence: the
interval (family-wise over coordinates, at ``confidence``) excludes the
claimed value.  Because Hypothesis runs many examples, the default confidence
is ``1 - 1e-6`` per call.  A failure message carries everything needed to
replay it (the loss, ``a``, the noise, the seed, the interval).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from stecheck.numerics import enumeration, losses
from stecheck.numerics.montecarlo import monte_carlo_mean
from stecheck.numerics.noise import resolve_noise
from stecheck.numerics.seeding import task_seed

from stecheck.errors import InvalidArgument

__all__ = [
    "assert_unbiased",
    "assert_ascent_direction",
    "multilinear_losses",
    "preactivations",
    "InconclusiveWarning",
    "DEFAULT_CONFIDENCE",
]

#: Per-call family-wise confidence of the Monte Carlo intervals.
DEFAULT_CONFIDENCE = 1 - 1e-6


class InconclusiveWarning(UserWarning):
    """The Monte Carlo interval could not decide at this budget (no evidence either way)."""


class _Sampler:
    """Picklable ``fn_chunk`` for the Monte Carlo engine; optionally projects each estimate on a direction."""

    def __init__(self, estimator, loss, a, noise, direction=None):
        self.estimator, self.loss, self.a, self.noise, self.direction = estimator, loss, a, noise, direction

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        out = np.asarray(self.estimator(self.loss, self.a, self.noise, rng, size), dtype=float)
        if out.shape != (size, self.a.size):
            raise InvalidArgument(
                f"the estimator returned shape {out.shape}; expected ({size}, {self.a.size}) "
                "(one row of gradient estimates per sample)"
            )
        return out if self.direction is None else out @ self.direction[:, None]


def _monte_carlo(estimator, loss, a, noise, samples, seed, confidence, direction=None):
    if not callable(estimator):
        raise InvalidArgument(f"estimator must be callable as estimator(loss, a, noise, rng, size), got {estimator!r}")
    a = np.asarray(a, dtype=float)
    noise = resolve_noise(noise)
    mc = monte_carlo_mean(_Sampler(estimator, loss, a, noise, direction), samples,
                          task_seed(seed, "proofs_check.testing"), confidence=confidence, simultaneous=True)
    return a, noise, mc


def _replay(name, loss, a, noise, samples, seed) -> str:
    return (f"replay: {name}(estimator, {loss!r}, a={np.array2string(a, precision=17, separator=', ')}, "
            f"noise={noise.name!r}, samples={samples}, seed={seed})")


def assert_unbiased(estimator: Callable[..., Any], loss, a, *, noise="logistic", samples: int = 20_000,
                    seed: int = 0, confidence: float = DEFAULT_CONFIDENCE) -> None:
    """Fail if the estimator's mean is shown to differ from the exact gradient of E[L] (n <= 22).

    The exact gradient is enumerated (:func:`numerics.enumeration.exact_gradient`);
    the estimator's mean gets a CLT interval at family-wise ``confidence``.
    """
    a, noise, mc = _monte_carlo(estimator, loss, a, noise, samples, seed, confidence)
    exact_result = enumeration.exact_gradient(loss, a, noise)
    exact, bound = np.asarray(exact_result.value), np.asarray(exact_result.error_bound)
    outside = (exact + bound < mc.low) | (exact - bound > mc.high)  # the exact value is known to +- its rounding bound
    if outside.any():
        i = int(np.argmax(outside))
        raise AssertionError(
            f"the estimator is biased: coordinate {i} has exact gradient {exact[i]:.6g} outside the "
            f"{confidence} family-wise interval [{mc.low[i]:.6g}, {mc.high[i]:.6g}] of its mean "
            f"({int(outside.sum())} of {a.size} coordinates outside); {_replay('assert_unbiased', loss, a, noise, samples, seed)}"
        )


def assert_ascent_direction(estimator: Callable[..., Any], loss, a, *, noise="logistic", samples: int = 20_000,
                            seed: int = 0, confidence: float = DEFAULT_CONFIDENCE) -> None:
    """Fail if <E[estimate], grad E[L]> is shown to be negative (the expected estimate is not an ascent direction).

    The inner product of the exact gradient with each sample is averaged; its
    interval below zero is evidence of failure.  An interval containing zero
    is no evidence: an :class:`InconclusiveWarning` is issued and the check passes.
    """
    exact = np.asarray(enumeration.exact_gradient(loss, np.asarray(a, dtype=float), noise).value)
    a, noise, mc = _monte_carlo(estimator, loss, a, noise, samples, seed, confidence, direction=exact)
    low, high = float(mc.low[0]), float(mc.high[0])
    if high < 0:
        raise AssertionError(
            f"not an ascent direction: <E[estimate], grad E[L]> lies in [{low:.6g}, {high:.6g}] "
            f"(family-wise {confidence}); {_replay('assert_ascent_direction', loss, a, noise, samples, seed)}"
        )
    if low <= 0:
        warnings.warn(InconclusiveWarning(
            f"<E[estimate], grad E[L]> interval [{low:.6g}, {high:.6g}] contains 0 at {samples} samples; "
            "raise `samples` to decide"), stacklevel=2)


def multilinear_losses(n: int, *, max_order: int = 3):
    """Hypothesis strategy: multilinear losses ``sum_S c_S prod_{i in S} x_i`` on ``n`` units (Prop. B.2)."""
    from itertools import combinations

    from hypothesis import strategies as st

    if not 1 <= n <= 22:
        raise InvalidArgument(f"n must be in 1..22 (the exact gradient is enumerated), got {n!r}")
    monomials = [S for k in range(0, min(max_order, n) + 1) for S in combinations(range(n), k)]
    coeff = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
    return st.dictionaries(st.sampled_from(monomials), coeff, min_size=1, max_size=min(12, len(monomials))).map(
        lambda d: losses.Multilinear(d, n=n))


def preactivations(n: int, *, bound: float = 3.0):
    """Hypothesis strategy: pre-activation vectors ``a`` in ``[-bound, bound]^n``."""
    from hypothesis import strategies as st

    return st.lists(st.floats(-bound, bound, allow_nan=False, allow_infinity=False), min_size=n, max_size=n).map(
        lambda v: np.array(v, dtype=float))
