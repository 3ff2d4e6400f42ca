"""Neumaier compensated summation and the ``gamma_k`` rounding constant (private).

Mathematical object: the sum ``S = sum_j t_j`` of a sequence of float64
vectors, accumulated elementwise in the given order.  Neumaier's variant of
Kahan summation (Neumaier 1974) keeps a running compensation ``c``; the
returned ``s + c`` satisfies ``|s + c - S| <= 2 eps |S| + O(K eps^2) sum_j |t_j|``
for ``K`` terms (Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., Sec. 4.3), which is at most ``gamma_{K+2} sum_j |t_j|``.
``eps = 2^-53`` is the unit roundoff of float64.
"""

from __future__ import annotations

import numpy as np

__all__ = ["UNIT_ROUNDOFF", "gamma", "neumaier_add"]

#: Unit roundoff ``u = 2^-53`` of IEEE binary64 (round to nearest).
UNIT_ROUNDOFF = 2.0**-53


def gamma(k: float) -> float:
    """``gamma_k = k u / (1 - k u)`` (Higham, Lemma 3.1); ``inf`` if ``k u >= 1``."""
    ku = k * UNIT_ROUNDOFF
    return ku / (1.0 - ku) if ku < 1.0 else float("inf")


def neumaier_add(s: np.ndarray, c: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One Neumaier step: returns new ``(s, c)`` after adding ``x`` (elementwise; no input is modified)."""
    t = s + x
    c = c + np.where(np.abs(s) >= np.abs(x), (s - t) + x, (x - t) + s)
    return t, c
