"""One exception tree for everything stecheck raises on purpose.

``StecheckError`` is the root.  ``InvalidArgument`` (and its subclasses) mean
the *user* asked for something that cannot be done: the CLI prints their
message as one line and exits with status 2.  ``EnvironmentFailure`` (and its
subclasses) mean the machine could not do what was asked -- a full disk, an
unwritable or read-only report folder, an unreachable Dask scheduler, a
scheduler lost mid-run: one line, exit status 4, and the previous report set
is left intact.  Anything else that escapes is a bug in stecheck and keeps its
traceback (exit status 3).

Messages follow one pattern: what was wrong (echoing the bad value), what
would have been valid, and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "StecheckError",
    "InvalidArgument",
    "EnvironmentFailure",
    "SchedulerLost",
    "UnknownClaim",
    "UnknownDerivation",
    "SchedulerUnreachable",
    "OutputNotWritable",
    "MalformedFile",
    "NonFiniteValue",
    "QuadratureDiverged",
    "SelfCheckFailed",
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


class EnvironmentFailure(StecheckError):
    """The environment failed (disk full, folder not writable, scheduler gone); exit status 4."""


class SchedulerUnreachable(EnvironmentFailure):
    """``--scheduler ADDRESS`` named a Dask scheduler that did not answer."""


class SchedulerLost(EnvironmentFailure):
    """The Dask scheduler or all workers went away during a run; the message says what completed."""


class OutputNotWritable(EnvironmentFailure):
    """The report directory cannot be created or written to (or the disk is full)."""


class MalformedFile(InvalidArgument):
    """A user-supplied file (``--expect``, a report JSON) does not have the expected form."""


class NonFiniteValue(InvalidArgument, ArithmeticError):
    """A user-supplied function produced NaN or inf; the message names where."""


class QuadratureDiverged(InvalidArgument, ArithmeticError):
    """An adaptive quadrature did not converge (QUADPACK: divergent, slowly convergent or roundoff-limited
    integral): its value and error estimate mean nothing, so none is returned."""


class SelfCheckFailed(StecheckError, AssertionError):
    """One of stecheck's own consistency checks failed (a noise family whose cdf, density, quantile and sampler
    disagree, a library routine that disagrees with its independent recomputation, a proof routine that accepts a
    known-false candidate): a bug in stecheck, or a user-supplied component that breaks its documented contract.
    Nothing computed with it can be trusted, so a method that meets it ends in ERROR.  Unlike the other
    :class:`StecheckError` subclasses it is not the user's mistake nor the machine's: the CLI keeps the traceback
    and exits with status 3, as for any bug."""
