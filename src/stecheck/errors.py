"""One exception tree for everything stecheck raises on purpose.

``StecheckError`` is the root.  ``InvalidArgument`` (and its subclasses) mean
the *user* asked for something that cannot be done: the CLI prints their
message as one line and exits with status 2.  Anything else that escapes is a
bug in stecheck and keeps its traceback (exit status 3).

Messages follow one pattern: what was wrong (echoing the bad value), what
would have been valid, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "StecheckError",
    "InvalidArgument",
    "UnknownClaim",
    "UnknownDerivation",
    "SchedulerUnreachable",
    "OutputNotWritable",
    "MalformedFile",
    "NonFiniteValue",
]


class StecheckError(Exception):
    """Root of every exception stecheck raises deliberately."""


class InvalidArgument(StecheckError, ValueError):
    """The caller passed a value that cannot be used; the message says which and why."""


class UnknownClaim(InvalidArgument, KeyError):
    """A claim id that is not in the registry (the message suggests close matches)."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0]) if self.args else ""


class UnknownDerivation(InvalidArgument, KeyError):
    """A derivation name that ``stecheck derive`` does not know."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class SchedulerUnreachable(InvalidArgument):
    """``--scheduler ADDRESS`` named a Dask scheduler that did not answer."""


class OutputNotWritable(InvalidArgument):
    """The report directory cannot be created or written to."""


class MalformedFile(InvalidArgument):
    """A user-supplied file (``--expect``, a report JSON) does not have the expected form."""


class NonFiniteValue(InvalidArgument, ArithmeticError):
    """A user-supplied function produced NaN or inf; the message names where."""
