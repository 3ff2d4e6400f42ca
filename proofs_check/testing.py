"""Property tests for your own gradient estimators, for pytest and Hypothesis (also ``stecheck.testing``).

An *estimator* is any callable ``estimator(loss, a, noise, rng, size)``
returning a ``(size, n)`` float array of single-sample estimates of
``d E[L(x)] / da`` for ``x_i = sign(a_i - z_i)`` (the signature of
:func:`numerics.estimators.estimate_batch` without the name); the full
contract and the tags are in :mod:`proofs_check.battery.estimator`.

Two levels:

* the battery -- :func:`check_estimator`, :func:`parametrize_with_checks` and
  ``stecheck check-estimator module:function`` run every applicable named
  check (Props. B.1, B.2, B.5, Sec. 2.2 I, E.1, the contract) as Hypothesis
  properties with a minimal counterexample and a replay line;
* single assertions -- :func:`assert_unbiased`, :func:`assert_ascent_direction`
  for your own ``@given`` tests::

    from hypothesis import given
    from stecheck.testing import assert_unbiased, multilinear_losses, preactivations

    @given(multilinear_losses(n=4), preactivations(n=4))
    def test_my_estimator_is_unbiased_for_multilinear_losses(loss, a):
        assert_unbiased(my_estimator, loss.build(), a, noise="logistic", bound="st")

Soundness.  Each assertion fails only on evidence: an empirical-Bernstein
interval (Maurer-Pontil 2009, Thm. 4; valid for every sample size, rare
events and zero observed variance included) at family-wise error ``alpha``
(default ``1e-6``) excludes the exact value (enumerated over ``{-1, 1}^n``,
with its rounding bound plus an underflow floor).  It needs a range
``|e_i| <= B_i``: ``bound=`` a name (``"st"``, ``"arm"``, ``"score"``,
``"local_expectations"``, ``"identity"``, ``"relaxation"``), a number, an
array or ``f(problem)``; without one the default bound (which covers every
stecheck estimator with a factor 2 to spare) is used, and values beyond it
make the assertion *inconclusive* (:class:`InconclusiveWarning`), never a
failure.  So a correct estimator within its range fails with probability
``<= alpha`` per assertion, whatever the input.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument

from .battery import (
    BOUNDS,
    CHECKS,
    DEFAULT_ALPHA,
    PROFILES,
    CheckRecord,
    EstimatorContractError,
    EstimatorSpec,
    LossSpec,
    Problem,
    check_estimator,
    estimator,
    load_estimator,
    parametrize_with_checks,
    replay_check,
)
from .battery.core import Sampler, exact_gradient, mean_interval, resolve_bound
from .battery.estimator import as_spec
from .battery.strategies import (
    b5_quadratic_losses,
    linear_losses,
    multilinear_losses,
    non_multilinear_losses,
    preactivations,
)

__all__ = [
    "assert_unbiased",
    "assert_ascent_direction",
    "multilinear_losses",
    "linear_losses",
    "non_multilinear_losses",
    "b5_quadratic_losses",
    "preactivations",
    "InconclusiveWarning",
    "DEFAULT_ALPHA",
    "DEFAULT_CONFIDENCE",
    "BOUNDS",
    "CHECKS",
    "PROFILES",
    "CheckRecord",
    "EstimatorContractError",
    "EstimatorSpec",
    "LossSpec",
    "Problem",
    "check_estimator",
    "estimator",
    "load_estimator",
    "parametrize_with_checks",
    "replay_check",
]

#: Per-call family-wise confidence of the intervals (``1 - DEFAULT_ALPHA``).
DEFAULT_CONFIDENCE = 1 - DEFAULT_ALPHA


class InconclusiveWarning(UserWarning):
    """The data could not decide at this budget or range (no evidence either way)."""


def _setup(estimator_, loss, a, noise, bound, tau):
    if not callable(estimator_) and not isinstance(estimator_, EstimatorSpec):
        raise InvalidArgument(
            f"estimator must be callable as estimator(loss, a, noise, rng, size), got {estimator_!r}")
    if isinstance(loss, LossSpec):
        loss = loss.build()
    spec = as_spec(estimator_)
    pr = Problem(loss, np.asarray(a, dtype=float), noise, tau=tau)
    B, declared = resolve_bound(spec.bound if bound is None else bound, pr)
    return spec, pr, B, declared


def _replay(name, loss, a, noise, samples, seed, bound) -> str:
    return (f"replay: {name}(estimator, {loss!r}, a={np.array2string(np.asarray(a, float), precision=17, separator=', ')}, "
            f"noise={noise.name!r}, samples={samples}, seed={seed}, bound={bound!r})")


def _alpha(confidence, alpha):
    if confidence is not None:
        alpha = 1.0 - float(confidence)
    if not 0.0 < alpha < 1.0:
        raise InvalidArgument(f"alpha={alpha!r}; expected a false-alarm rate in (0, 1), e.g. 1e-6.")
    return alpha


def _undecided(mi, what) -> bool:
    if mi.decided:
        return False
    i = int(np.argmax(mi.exceeded))
    text = f"coordinate {i}: an estimate left the range |e| <= {mi.bound[i]:.6g}"
    if mi.declared:
        raise AssertionError(f"{text} declared with bound=...; the bound or the estimator is wrong")
    warnings.warn(InconclusiveWarning(f"{what}: {text} of the default bound; pass bound=... to decide"), stacklevel=3)
    return True


def assert_unbiased(estimator: Callable[..., Any], loss, a, *, noise="logistic", samples: int = 20_000,
                    seed: int = 0, alpha: float = DEFAULT_ALPHA, confidence: float | None = None,
                    bound: Any = None, tau: float | None = None) -> str:
    """Fail if the estimator's mean is shown to differ from the exact gradient of ``E[L]`` (eqs. (4)-(6), n <= 14).

    Returns ``"pass"`` or ``"inconclusive"``.  False alarm on a correct
    estimator with ``|e_i| <= B_i``: probability ``<= alpha``.
    """
    alpha = _alpha(confidence, alpha)
    spec, pr, B, declared = _setup(estimator, loss, a, noise, bound, tau)
    g, err = exact_gradient(pr)
    mi = mean_interval(Sampler(spec, pr, "assert_unbiased"), pr.n, B, declared, samples=samples, seed=seed,
                       key="proofs_check.testing/assert_unbiased", alpha=alpha)
    if _undecided(mi, "assert_unbiased"):
        return "inconclusive"
    outside = (g + err < mi.low) | (g - err > mi.high)
    if outside.any():
        i = int(np.argmax(outside))
        raise AssertionError(
            f"the estimator is biased: coordinate {i} has exact gradient {g[i]:.6g} outside the "
            f"family-wise 1-{alpha:g} interval [{mi.low[i]:.6g}, {mi.high[i]:.6g}] of its mean "
            f"({int(outside.sum())} of {pr.n} coordinates outside; empirical Bernstein, |e| <= {B[i]:.3g}); "
            f"{_replay('assert_unbiased', loss, pr.a, pr.noise, samples, seed, bound)}")
    return "pass"


def assert_ascent_direction(estimator: Callable[..., Any], loss, a, *, noise="logistic", samples: int = 20_000,
                            seed: int = 0, alpha: float = DEFAULT_ALPHA, confidence: float | None = None,
                            bound: Any = None, tau: float | None = None) -> str:
    """Fail if ``<E[estimate], grad E[L]>`` is shown to be negative (not an ascent direction).

    Where the exact gradient is 0 within its rounding bound the property is
    vacuous: returns ``"vacuous"`` silently.  An interval containing 0 is no
    evidence: :class:`InconclusiveWarning` and ``"inconclusive"``.
    """
    alpha = _alpha(confidence, alpha)
    spec, pr, B, declared = _setup(estimator, loss, a, noise, bound, tau)
    g, err = exact_gradient(pr)
    if not np.any(np.abs(g) > err):
        return "vacuous"
    Bd = float(np.sum(B * np.abs(g)))  # |<e, g>| <= sum_i B_i |g_i|
    mi = mean_interval(Sampler(spec, pr, "assert_ascent_direction", direction=g), 1, np.array([Bd]), declared,
                       samples=samples, seed=seed, key="proofs_check.testing/assert_ascent_direction", alpha=alpha)
    if _undecided(mi, "assert_ascent_direction"):
        return "inconclusive"
    low, high = float(mi.low[0]), float(mi.high[0])
    # the computed g differs from the true one by <= err: <E e, g_true> <= high + sum_i B_i err_i
    slack = float(np.sum(B * err))
    if high + slack < 0:
        raise AssertionError(
            f"not an ascent direction: <E[estimate], grad E[L]> lies in [{low:.6g}, {high:.6g}] "
            f"(family-wise 1-{alpha:g}); {_replay('assert_ascent_direction', loss, pr.a, pr.noise, samples, seed, bound)}")
    if low <= 0:
        warnings.warn(InconclusiveWarning(
            f"<E[estimate], grad E[L]> interval [{low:.6g}, {high:.6g}] contains 0 at {samples} samples; "
            "raise `samples` to decide"), stacklevel=2)
        return "inconclusive"
    return "pass"

