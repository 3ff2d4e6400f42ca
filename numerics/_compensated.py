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

__all__ = ["UNIT_ROUNDOFF", "gamma", "neumaier_add", "gamma_selftest_failures"]

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


def gamma_selftest_failures() -> list[str]:
    """``gamma_k`` at known answers, or ``[]``: ``gamma_0 = 0``, ``gamma_1 = 1/(2^53 - 1)`` and
    ``gamma_{2^52} = 1`` (exact rationals, :class:`fractions.Fraction`), and ``inf`` at and past the overflow
    boundary ``k u = 1`` (``k = 2^53``, ``1.5 * 2^53``), a branch no caller's term count reaches."""
    from fractions import Fraction

    known = {0: 0.0, 1: float(Fraction(1, 2**53 - 1)), 2**52: 1.0, 2**53: float("inf"), 1.5 * 2**53: float("inf")}
    bad = []
    for k, v in known.items():
        try:
            got: object = gamma(k)
        except ArithmeticError as exc:
            got = f"{type(exc).__name__}"
        if not got == v:
            bad.append(f"gamma({k!r}) = {got!r}, expected {v!r}")
    return bad

