"""Single-sample gradient estimators of ``d/da E_{x ~ p(x; a)}[L(x)]``.

Model (paper eq. (1)): ``x_i = sign(a_i - z_i)``, ``z_i`` iid with cdf ``F``,
``sign(0) = +1``, so ``P(x_i = +1) = F(a_i)``.  For one sample ``x`` (a row of
``X``) the estimators of the gradient in ``a`` are:

``st``                 Alg. 1 / eq. (9): ``2 F'(a_i) dL/dx_i(x)``.
``identity_st``        ``dL/dx_i(x)`` (the "identity proxy": Alg. 1 with ``2F' := 1``).
``deterministic_st``   ``2 F'(a_i) dL/dx_i(x*)`` with ``x* = sign(a)`` (Sec. 2.2 V);
                       does not depend on the sample.
``local_expectations`` eq. (6): ``F'(a_i) (L(x|x_i=+1) - L(x|x_i=-1))``
                       ``= F'(a_i) x_i (L(x) - L(x^{flip i}))``; unbiased.

Accuracy: each estimate is a closed form of the loss values/gradients (a
few roundings: relative error ``<= 3 eps`` on top of the loss's own error
and the ``<= 4 eps`` working accuracy of ``F'``); the statistical error of an
average of estimates is :mod:`numerics.montecarlo`'s business.
"""

from __future__ import annotations

from collections.abc import Callable as _CallableT
from dataclasses import dataclass
from typing import Any

import numpy as np

from proofs_check.errors import InvalidArgument

from ._validation import as_int, as_vector, check_finite_rows, short_repr
from .losses import Callable, Loss
from .noise import Noise, resolve_noise

__all__ = [
    "Estimator",
    "ESTIMATORS",
    "prepare",
    "deterministic_state",
    "sample_states",
    "st_estimates",
    "identity_st_estimates",
    "deterministic_st_estimates",
    "local_expectations_estimates",
    "get_estimator",
    "estimate_batch",
    "EstimatorSampler",
]


def _as_loss(loss: Any) -> Loss:
    if isinstance(loss, Loss):
        return loss
    value = getattr(loss, "value", None)
    grad = getattr(loss, "grad", None)
    if callable(value) and callable(grad):
        return Callable(value, grad, n=getattr(loss, "n", None), name=repr(loss))
    raise InvalidArgument(
        f"loss={short_repr(loss)} is not a loss: expected an object with value(X) -> (B,) and "
        "grad(X) -> (B, n), e.g. numerics.losses.Quadratic(W, y) or numerics.losses.Callable(f, df)."
    )


def prepare(loss: Any, a: Any, noise: Noise | str) -> tuple[Loss, np.ndarray, Noise]:
    """Validate and normalise ``(loss, a, noise)``: ``a`` a finite 1-D float vector matching ``loss.n``."""
    loss = _as_loss(loss)
    a = as_vector(a, "a")
    if loss.n is not None and loss.n != a.size:
        raise InvalidArgument(
            f"a has length {a.size} but {loss!r} is defined on R^{loss.n}; pass a vector of length {loss.n}."
        )
    return loss, a, resolve_noise(noise)


def _check_X(X: Any, n: int, who: str) -> np.ndarray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise InvalidArgument(f"{who}: X has shape {arr.shape}; expected (B, {n}) with one binary state per row.")
    bad = np.argwhere(np.abs(arr) != 1.0)
    if bad.size:
        b, i = bad[0]
        raise InvalidArgument(
            f"{who}: X[{b}, {i}] = {arr[b, i]!r} is not +-1; expected binary states in {{-1, +1}}^n "
            "(draw them with sample_states)."
        )
    return arr


def deterministic_state(a: Any) -> np.ndarray:
    """``x* = sign(a)`` with ``sign(0) = +1`` (Sec. 2.2 V)."""
    a = as_vector(a, "a")
    return np.where(a >= 0.0, 1.0, -1.0)


def sample_states(rng: np.random.Generator, a: Any, noise: Noise | str, size: int) -> np.ndarray:
    """``size`` iid states ``x = sign(a - z)`` (eq. (1), ``sign(0) = +1``); shape ``(size, n)``."""
    a = as_vector(a, "a")
    noise = resolve_noise(noise)
    size = as_int(size, "size", minimum=1)
    z = noise.sample(rng, (size, a.size))
    return np.where(a >= z, 1.0, -1.0)  # a - z >= 0  <=>  a >= z in IEEE arithmetic


def st_estimates(loss: Any, a: Any, noise: Noise | str, X: Any) -> np.ndarray:
    """Alg. 1: ``2 F'(a_i) dL/dx_i(x)`` for each row ``x`` of ``X``; shape ``(B, n)``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "st_estimates")
    return (2.0 * noise.pdf(a)) * loss.grad(X)


def identity_st_estimates(loss: Any, a: Any, noise: Noise | str, X: Any) -> np.ndarray:
    """Identity ST: ``dL/dx_i(x)`` for each row ``x`` of ``X``; shape ``(B, n)``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "identity_st_estimates")
    return loss.grad(X)


def deterministic_st_estimates(loss: Any, a: Any, noise: Noise | str, X: Any) -> np.ndarray:
    """Deterministic ST ``2 F'(a_i) dL/dx_i(sign(a))``, repeated for each of the ``B`` rows of ``X``."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "deterministic_st_estimates")
    g = (2.0 * noise.pdf(a)) * loss.grad(deterministic_state(a)[None, :])[0]
    return np.broadcast_to(g, X.shape).copy()


def local_expectations_estimates(loss: Any, a: Any, noise: Noise | str, X: Any) -> np.ndarray:
    """Eq. (6): ``F'(a_i) x_i (L(x) - L(x^{flip i}))`` for each row ``x``; costs ``n + 1`` loss batches."""
    loss, a, noise = prepare(loss, a, noise)
    X = _check_X(X, a.size, "local_expectations_estimates")
    base = loss.value(X)
    out = np.empty_like(X)
    work = X.copy()
    for i in range(a.size):
        work[:, i] = -X[:, i]
        out[:, i] = X[:, i] * (base - loss.value(work))
        work[:, i] = X[:, i]
    return out * noise.pdf(a)


@dataclass(frozen=True)
class Estimator:
    """A registered estimator: ``fn(loss, a, noise, X) -> (B, n)``.

    ``stochastic=False`` means the estimate does not depend on the sample
    (its expectation is its value at any state).
    """

    name: str
    fn: _CallableT[..., np.ndarray]
    stochastic: bool
    description: str


#: The estimators by name.
ESTIMATORS: dict[str, Estimator] = {
    e.name: e
    for e in (
        Estimator("st", st_estimates, True, "Alg. 1: 2 F'(a) dL/dx(x), x ~ p(x; a)"),
        Estimator("identity_st", identity_st_estimates, True, "dL/dx(x), x ~ p(x; a)"),
        Estimator("deterministic_st", deterministic_st_estimates, False, "2 F'(a) dL/dx(sign(a))"),
        Estimator(
            "local_expectations",
            local_expectations_estimates,
            True,
            "eq. (6): F'(a_i) (L(x|x_i=+1) - L(x|x_i=-1)), x ~ p(x; a)",
        ),
    )
}


def get_estimator(name: str) -> Estimator:
    """The estimator called ``name`` (one of :data:`ESTIMATORS`)."""
    if not isinstance(name, str) or name not in ESTIMATORS:
        raise InvalidArgument(
            f"unknown estimator {short_repr(name)}; valid names are {sorted(ESTIMATORS)}."
        )
    return ESTIMATORS[name]


def estimate_batch(
    name: str, loss: Any, a: Any, noise: Noise | str, rng: np.random.Generator, size: int
) -> np.ndarray:
    """``size`` iid single-sample estimates of estimator ``name``; shape ``(size, n)``.

    Deterministic estimators draw nothing from ``rng``.
    """
    est = get_estimator(name)
    loss, a, noise = prepare(loss, a, noise)
    size = as_int(size, "size", minimum=1)
    if est.stochastic:
        X = sample_states(rng, a, noise, size)
    else:
        X = np.broadcast_to(deterministic_state(a), (size, a.size))
    out = est.fn(loss, a, noise, X)
    check_finite_rows(out, X, who=f"estimator {name!r}", what="estimate")
    return out


class EstimatorSampler:
    """Picklable ``fn_chunk(rng, size) -> (size, n)`` for :func:`numerics.montecarlo.monte_carlo_mean`."""

    def __init__(self, name: str, loss: Any, a: Any, noise: Noise | str):
        get_estimator(name)
        self.name = name
        self.loss, self.a, self.noise = prepare(loss, a, noise)

    def __call__(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return estimate_batch(self.name, self.loss, self.a, self.noise, rng, size)

    def __repr__(self) -> str:
        return f"EstimatorSampler({self.name!r}, {self.loss!r}, n={self.a.size}, noise={self.noise.name!r})"
