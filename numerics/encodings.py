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
from stecheck.selftest import OncePerProcess

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
        _reencoded_selftest()
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


def _reencoded_failures() -> list[str]:
    """:class:`Reencoded` in both directions against closed forms, or ``[]`` (once per process, at the first
    :class:`Reencoded`; the claims only convert ``{0,1}``-losses, so the ``source="pm1"`` direction is otherwise
    unchecked).

    Mathematical objects, for ``Lpm(s) = c . s + c0`` with ``c = (1, -2, 1/2)``, ``c0 = 1/4``:
    ``Reencoded(Lpm, "pm1")`` is ``L01(x) = Lpm(2x - 1) = 2c . x + (c0 - sum c)`` with gradient ``2c``, and
    ``Reencoded(Lpm, "01")`` (``Lpm`` read as a ``{0,1}``-loss) is ``s -> Lpm((1 + s)/2) = (c/2) . s +
    (c0 + sum c / 2)`` with gradient ``c/2``.  Checked at binary and non-binary points (``0, 1, -1, 1/4, 3``,
    where an inner map that is right only on the cube shows).  Tolerance 0: every number is dyadic with few bits,
    so both sides are exact.  Returns the mismatches."""
    from .losses import Linear

    c, c0 = np.array([1.0, -2.0, 0.5]), 0.25
    X = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, -1.0], [0.25, 3.0, 0.0]])
    bad = []
    for source, slope, offset in (("pm1", 2.0 * c, c0 - c.sum()), ("01", 0.5 * c, c0 + 0.5 * c.sum())):
        try:
            r = Reencoded(Linear(c, c0), source)
            val, grad = r.value(X), r.grad(X)
        except Exception as exc:  # noqa: BLE001 - any failure of a known answer (e.g. a non-finite value) is one
            bad.append(f"Reencoded(Linear(c={c.tolist()}, c0={c0}), source={source!r}) at {X.tolist()} raised "
                       f"{type(exc).__name__}: {exc}")
            continue
        want_val, want_grad = X @ slope + offset, np.broadcast_to(slope, X.shape)
        if not (np.array_equal(val, want_val) and np.array_equal(grad, want_grad)):
            bad.append(f"Reencoded(Linear(c={c.tolist()}, c0={c0}), source={source!r}) at {X.tolist()}: values "
                       f"{val.tolist()}, gradients {grad.tolist()}; expected {want_val.tolist()} and "
                       f"{want_grad.tolist()} (the linear loss {slope.tolist()} . x + {offset})")
    return bad


#: :func:`_reencoded_failures` once per process; a mismatch raises :class:`~stecheck.errors.SelfCheckFailed`.
_reencoded_selftest = OncePerProcess(
    _reencoded_failures, what="numerics.encodings.Reencoded fails its known answers",
    remedy="Reencoded(L, 'pm1') must be x -> L(2x - 1) with gradient 2 L'; Reencoded(L, '01') s -> L((1 + s)/2) "
           "with gradient L'/2: fix numerics/encodings.py.")
