"""The two encodings of a binary unit: ``"pm1"`` (``x in {-1, +1}``) and ``"01"`` (``x in {0, 1}``).

Mathematical object: a unit is *on* when ``a - z >= 0`` (paper eq. (1),
``sign(0) = +1``), with probability ``F(a)``.  The loss sees the state

* ``"pm1"``: ``x = +1`` (on) / ``-1`` (off) -- the paper's main text;
* ``"01"``:  ``x = 1`` (on) / ``0`` (off), ``x = (1 + s)/2`` for the ``+-1`` state
  ``s`` -- the encoding of Appendix D.1 (autoencoder) and Appendix E (Gumbel-Softmax).

The *span* ``c = hi - lo`` (2 for ``pm1``, 1 for ``01``) is the factor that
the linearisation (7) produces: ``L(x|on) - L(x|off) ~ c dL/dx``.  So Alg. 1's
backward factor is ``c F'(a)`` (``2 F'(a)`` for ``pm1``, ``F'(a)`` for ``01``).

:class:`Reencoded` turns a loss ``L01`` on ``{0,1}``-states into
``Lpm(s) = L01((1 + s)/2)`` (and back): the same function of the on/off
pattern, so every estimator of the gradient in ``a`` gives the same
estimate for both (identity ST and Alg. 2, which drop the factor, differ
by ``c``).  Exact arithmetic for the conversions (``(1+s)/2``, ``2x - 1`` and
the gradient factors ``1/2``, ``2`` are exact in binary floating point on
``{-1, 0, 1}``; off the cube, e.g. Gumbel-Softmax relaxed points, one rounding).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument

from ._validation import short_repr
from .losses import Loss

__all__ = ["ENCODINGS", "check_encoding", "levels", "span", "encode", "check_states", "Reencoded"]

#: Valid encoding names.
ENCODINGS = ("pm1", "01")


def check_encoding(encoding: Any) -> str:
    """``encoding`` if it is ``"pm1"`` or ``"01"``, else :class:`InvalidArgument`."""
    if not isinstance(encoding, str) or encoding not in ENCODINGS:
        raise InvalidArgument(
            f"encoding={short_repr(encoding)} is not one of {ENCODINGS}; use 'pm1' for states in {{-1, +1}} "
            "(paper Sec. 2) or '01' for states in {0, 1} (x = (1 + s)/2, Appendix D.1 and E)."
        )
    return encoding


def levels(encoding: str) -> tuple[float, float]:
    """``(off, on)`` values: ``(-1, 1)`` for ``pm1``, ``(0, 1)`` for ``01``."""
    return (-1.0, 1.0) if check_encoding(encoding) == "pm1" else (0.0, 1.0)


def span(encoding: str) -> float:
    """``on - off``: 2 for ``pm1``, 1 for ``01`` (the factor in eq. (7) and in Alg. 1 line 5)."""
    lo, hi = levels(encoding)
    return hi - lo


def encode(on: np.ndarray, encoding: str) -> np.ndarray:
    """Float states from a boolean *on* array."""
    lo, hi = levels(encoding)
    return on * (hi - lo) + lo  # arithmetic, not np.where: ~3x faster on the Monte Carlo hot path


def check_states(X: Any, n: int, who: str, encoding: str = "pm1") -> np.ndarray:
    """``X`` as a float ``(B, n)`` array of states in the encoding (else :class:`InvalidArgument`)."""
    lo, hi = levels(encoding)
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise InvalidArgument(f"{who}: X has shape {arr.shape}; expected (B, {n}) with one binary state per row.")
    # one cheap test on the Monte Carlo hot path (no temporary for pm1); locate the culprit only on failure
    ok = (np.abs(arr) == hi) if lo == -hi else ((arr == lo) | (arr == hi))
    if not ok.all():
        b, i = np.argwhere((arr != lo) & (arr != hi))[0]
        what = "+-1" if encoding == "pm1" else "0 or 1"
        raise InvalidArgument(
            f"{who}: X[{b}, {i}] = {arr[b, i]!r} is not {what}; expected binary states in "
            f"{{{lo:g}, {hi:g}}}^n for encoding={encoding!r} (draw them with sample_states(..., encoding={encoding!r}))."
        )
    return arr


class Reencoded(Loss):
    """``loss`` seen through the other encoding.

    ``Reencoded(L01, source="01")`` is ``Lpm(s) = L01((1 + s)/2)``, ``dLpm/ds = dL01/dx / 2``;
    ``Reencoded(Lpm, source="pm1")`` is ``L01(x) = Lpm(2x - 1)``, ``dL01/dx = 2 dLpm/ds``.
    Multilinearity is preserved (an affine change of each variable).
    """

    def __init__(self, loss: Loss, source: str):
        if not isinstance(loss, Loss):
            raise InvalidArgument(f"loss={short_repr(loss)} is not a numerics.losses.Loss; wrap functions in losses.Callable.")
        self.loss = loss
        self.source = check_encoding(source)
        self.n = loss.n
        self.is_multilinear = loss.is_multilinear

    def __repr__(self) -> str:
        return f"Reencoded({self.loss!r}, source={self.source!r})"

    def _inner(self, X: np.ndarray) -> np.ndarray:
        return 0.5 * (1.0 + X) if self.source == "01" else 2.0 * X - 1.0

    def _value(self, X):
        return self.loss.value(self._inner(X))

    def _grad(self, X):
        g = self.loss.grad(self._inner(X))
        return 0.5 * g if self.source == "01" else 2.0 * g
