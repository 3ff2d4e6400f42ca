"""Known-answer self-tests run once per process.

Many numeric modules check themselves at first use against answers computed independently of the code under
test (closed forms, exact rational arithmetic, brute force): the cases the claims' own inputs never reach (ties,
boundaries, branches).  :class:`OncePerProcess` is the one wrapper they share: it runs a module's list of
failures at the first call, remembers a pass, and turns a non-empty list into
:class:`~stecheck.errors.SelfCheckFailed`, which ends the calling method in ERROR.
"""

from __future__ import annotations

from typing import Any, Callable

from stecheck.errors import SelfCheckFailed

__all__ = ["OncePerProcess"]


class OncePerProcess:
    """Run ``failures(*args)`` (a list of human-readable mismatches, empty when the module is right) at most once
    per process and raise :class:`~stecheck.errors.SelfCheckFailed` when it is not empty.

    * The first call runs the self-test; after a pass every call returns at once.
    * A call made while the self-test runs (the code under test calls back into its own check) returns at once.
    * A failure or an exception is not remembered as a pass: the next call runs the self-test again and fails
      again, so every method that relies on the module ends in ERROR, not only the first.

    The message is ``"{what}: {mismatch}; {mismatch}... {remedy}"``: what failed, each mismatch with the value
    found and the value expected, and what to fix.  ``limit`` caps the number of mismatches quoted (all by
    default).  The arguments of the first call are passed to ``failures`` (e.g. the noise family a check uses);
    later calls' arguments are ignored, as the check is of the module, not of its input.
    """

    def __init__(self, failures: Callable[..., list[str]], *, what: str, remedy: str, limit: int | None = None):
        self.failures = failures
        self.what = what
        self.remedy = remedy
        self.limit = limit
        self.passed = False
        self.running = False

    def __call__(self, *args: Any) -> None:
        if self.passed or self.running:
            return
        self.running = True
        try:
            bad = self.failures(*args)
        finally:
            self.running = False
        if bad:
            shown = bad if self.limit is None else bad[: self.limit]
            raise SelfCheckFailed(f"{self.what}: " + "; ".join(shown) + (f". {self.remedy}" if self.remedy else ""))
        self.passed = True

    def reset(self) -> None:
        """Forget a pass (tests: make the next call run the self-test again)."""
        self.passed = False
        self.running = False

    def __repr__(self) -> str:
        state = "passed" if self.passed else ("running" if self.running else "not run")
        return f"OncePerProcess({getattr(self.failures, '__qualname__', self.failures)!r}, {state})"
