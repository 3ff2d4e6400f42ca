"""Plain numpy brute force over {-1,1}^n: the independent side of every cross-check.

Mathematical object: for ``x_i = sign(a_i - z_i)`` independent with
``P(x_i = +1) = F(a_i)`` (SBN eq. (1)) and a loss given as a numpy function,

* ``E[L](a) = sum_x prod_i p(x_i) L(x)`` (SBN eq. (3)),
* its gradient in ``a`` by central finite differences (no formula from the
  paper is used, so this checks eqs. (4)-(6) rather than assuming them),
* the expected ST estimate ``E[2 F'(a_i) dL/dx_i(x)]`` (Alg. 1),

all by summing over the ``2^n`` states with floats.  Nothing here uses sympy,
so it can refute the symbolic derivations of :mod:`theory.bernoulli_layer`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from stecheck.errors import InvalidArgument

__all__ = ["states", "state_probabilities", "expected_loss", "exact_gradient_fd", "expected_st"]

#: Largest n enumerated (2^16 states).
MAX_N = 16


def states(n: int) -> np.ndarray:
    """All ``2^n`` states as a ``(2^n, n)`` array of +-1 (bit i of the row index set <=> ``x_i = +1``)."""
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_N:
        raise InvalidArgument(f"n={n!r} is out of range; expected an int in [1, {MAX_N}].")
    bits = (np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1
    return 2.0 * bits - 1.0


def state_probabilities(a: np.ndarray, cdf: Callable) -> tuple[np.ndarray, np.ndarray]:
    """``(X, P)``: the states and ``P[k] = prod_i p(X[k, i] | a_i)``."""
    a = np.asarray(a, dtype=float)
    if a.ndim != 1:
        raise InvalidArgument(f"a must be a 1-d array of pre-activations, got shape {a.shape}.")
    X = states(a.shape[0])
    p_plus = np.asarray(cdf(a), dtype=float)
    P = np.prod(np.where(X > 0, p_plus, 1.0 - p_plus), axis=1)
    return X, P


def expected_loss(loss: Callable, a, cdf: Callable) -> float:
    """``E[L(x)]``; ``loss`` maps one state (1-d array) to a float."""
    X, P = state_probabilities(a, cdf)
    return float(sum(p * float(loss(x)) for x, p in zip(X, P)))


def exact_gradient_fd(loss: Callable, a, cdf: Callable, h: float = 1e-5) -> np.ndarray:
    """``d E[L] / d a`` by central differences with step ``h`` (error O(h^2))."""
    a = np.asarray(a, dtype=float)
    grad = np.empty_like(a)
    for i in range(a.shape[0]):
        e = np.zeros_like(a)
        e[i] = h
        grad[i] = (expected_loss(loss, a + e, cdf) - expected_loss(loss, a - e, cdf)) / (2 * h)
    return grad


def expected_st(loss_grad: Callable, a, cdf: Callable, pdf: Callable, scale: float = 2.0) -> np.ndarray:
    """``E[scale * F'(a_i) dL/dx_i(x)]``; ``loss_grad`` maps a state to the gradient array.

    ``scale=2`` with ``pdf = F'`` is Alg. 1; identity ST is ``pdf = 1``, ``scale = 1``.
    """
    X, P = state_probabilities(a, cdf)
    mean = sum(p * np.asarray(loss_grad(x), dtype=float) for x, p in zip(X, P))
    return scale * np.asarray(pdf(np.asarray(a, dtype=float)), dtype=float) * mean
