"""Argument validation shared by the ``numerics`` modules (private).

Every check raises :class:`proofs_check.errors.InvalidArgument` (or its
subclass :class:`~proofs_check.errors.NonFiniteValue`) with a message that
says what was wrong (echoing the value), what was expected and how to fix it.
No numeric routine here computes anything; there is no error to state.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from stecheck.errors import InvalidArgument, NonFiniteValue

__all__ = [
    "short_repr",
    "as_int",
    "as_vector",
    "as_matrix",
    "as_confidence",
    "check_batch",
    "check_finite_rows",
]


def short_repr(value: Any, limit: int = 120) -> str:
    """A one-line, length-limited ``repr`` for error messages."""
    if isinstance(value, np.ndarray):
        text = np.array2string(value, threshold=8, edgeitems=3, max_line_width=10**6)
        text = f"array(shape={value.shape}, dtype={value.dtype}, {text})"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_int(value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as a Python int (bools and floats are rejected)."""
    if isinstance(value, (bool, np.bool_)) or isinstance(value, (float, np.floating)):
        raise InvalidArgument(
            f"{name}={short_repr(value)} has type {type(value).__name__}; expected an int. "
            f"Pass an integer such as {name}={minimum if minimum is not None else 0}."
        )
    try:
        out = operator.index(value)
    except TypeError:
        raise InvalidArgument(
            f"{name}={short_repr(value)} has type {type(value).__name__}; expected an int. "
            f"Pass an integer such as {name}={minimum if minimum is not None else 0}."
        ) from None
    if minimum is not None and out < minimum:
        raise InvalidArgument(f"{name}={out} is too small; expected an integer >= {minimum}.")
    if maximum is not None and out > maximum:
        raise InvalidArgument(f"{name}={out} is too large; expected an integer <= {maximum}.")
    return out


def as_vector(value: Any, name: str, *, size: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """``value`` as a finite 1-D float64 array (a new array; the input is not kept)."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{name}={short_repr(value)} cannot be converted to a float array ({exc}); "
            "expected a 1-D sequence of real numbers."
        ) from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InvalidArgument(
            f"{name} has shape {arr.shape}; expected a 1-D vector. Pass a flat sequence (e.g. {name}.ravel())."
        )
    if arr.size == 0 and not allow_empty:
        raise InvalidArgument(f"{name} is empty; expected at least one entry.")
    if size is not None and arr.size != size:
        raise InvalidArgument(
            f"{name} has length {arr.size}; expected length {size} (the number of binary variables n)."
        )
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise InvalidArgument(
            f"{name} has non-finite entries at indices {bad[:10].tolist()} "
            f"(values {arr[bad[:10]].tolist()}); expected finite real numbers. "
            "Replace inf/nan before calling."
        )
    return arr


def as_matrix(value: Any, name: str) -> np.ndarray:
    """``value`` as a finite 2-D float64 array."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{name}={short_repr(value)} cannot be converted to a float array ({exc}); expected a 2-D matrix."
        ) from None
    if arr.ndim != 2 or 0 in arr.shape:
        raise InvalidArgument(f"{name} has shape {arr.shape}; expected a non-empty 2-D matrix.")
    bad = np.argwhere(~np.isfinite(arr))
    if bad.size:
        raise InvalidArgument(
            f"{name} has non-finite entries at (row, column) {bad[:5].tolist()}; expected finite numbers."
        )
    return arr


def as_confidence(confidence: Any) -> float:
    """A confidence level in the open interval (0, 1)."""
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        c = float("nan")
    if not (0.0 < c < 1.0):
        raise InvalidArgument(
            f"confidence={short_repr(confidence)} is not in the open interval (0, 1); "
            "pass e.g. confidence=0.99 for a 99% interval."
        )
    return c


def check_batch(X: Any, n: int | None, *, who: str) -> np.ndarray:
    """``X`` as a float64 array of shape ``(B, n)`` (``n=None``: any width >= 1)."""
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise InvalidArgument(
            f"{who}: X has shape {arr.shape}; expected a 2-D batch of shape (B, n) with one state per row. "
            "For a single state x use x[None, :]."
        )
    if n is not None and arr.shape[1] != n:
        raise InvalidArgument(f"{who}: X has shape {arr.shape}; expected {n} columns (the loss is defined on R^{n}).")
    if arr.shape[1] == 0:
        raise InvalidArgument(f"{who}: X has zero columns; expected at least one binary variable.")
    return arr


def check_finite_rows(
    values: np.ndarray, X: np.ndarray | None, *, who: str, what: str, offset: int = 0, total: int | None = None
) -> None:
    """Raise :class:`NonFiniteValue` naming the first non-finite sample and coordinates.

    ``values`` has shape ``(B,)`` or ``(B, d)``; ``X`` (shape ``(B, n)``) is the
    batch of states the values were computed at, echoed in the message.  When
    ``values`` are rows ``offset, offset + 1, ...`` of a batch of ``total`` rows,
    the message names the sample's index in that batch.
    """
    finite = np.isfinite(values)
    if finite.all():
        return
    if values.ndim == 1:
        rows = np.flatnonzero(~finite)
        b = int(rows[0])
        where = f"sample index {b + offset}"
        val = values[b]
        count = rows.size
    else:
        bad = np.argwhere(~finite)
        b = int(bad[0, 0])
        cols = bad[bad[:, 0] == b, 1]
        where = f"sample index {b + offset}, coordinates {cols[:10].tolist()}"
        val = values[b, cols[:10]].tolist()
        count = bad.shape[0]
    state = "" if X is None else " at x = " + np.array2string(X[b], threshold=24, edgeitems=6, max_line_width=10**6)
    rows_seen = values.shape[0]
    batch = (f"a batch of {rows_seen}" if total is None or (offset == 0 and total == rows_seen)
             else f"rows {offset}..{offset + rows_seen - 1} of a batch of {total}")
    raise NonFiniteValue(
        f"{who} produced a non-finite {what} ({val}) at {where}{state}; {count} non-finite entr"
        f"{'y' if count == 1 else 'ies'} in {batch}. Expected finite numbers: "
        "fix the function (e.g. guard logarithms/divisions) or restrict its domain."
    )
