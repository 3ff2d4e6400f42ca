"""Repository-root conftest: keeps matplotlib headless for the whole test session, and fails any test that
leaves the process's signal state changed (a SIGINT left ignored or blocked survives ``exec`` into every
command a later test starts: that run then ignores Ctrl-C)."""

import os
import signal
import threading

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
pytest_plugins = ["pytester"]

_WATCHED = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGALRM") if hasattr(signal, name))


def _signal_state() -> tuple:
    """The main thread's handlers of the watched signals and its blocked-signal mask."""
    handlers = tuple(signal.getsignal(s) for s in _WATCHED)
    mask = frozenset(signal.pthread_sigmask(signal.SIG_BLOCK, [])) if hasattr(signal, "pthread_sigmask") else None
    return handlers, mask


@pytest.fixture(autouse=True)
def _signal_state_restored():
    """Fail the test (in its teardown) if it changed a watched signal's handler or the blocked mask, and restore
    them, so that the leak is reported where it happens and not as a mysterious failure of a later test."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = _signal_state()
    yield
    after = _signal_state()
    if after == before:
        return
    for sig, handler in zip(_WATCHED, before[0]):
        if handler is not None:
            signal.signal(sig, handler)
    if before[1] is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, before[1])
    changed = [f"{signal.Signals(s).name}: {b!r} -> {a!r}" for s, b, a in zip(_WATCHED, before[0], after[0]) if a != b]
    if before[1] != after[1]:
        changed.append(f"blocked mask: {sorted(signal.Signals(s).name for s in before[1])} -> "
                       f"{sorted(signal.Signals(s).name for s in after[1])}")
    pytest.fail("the test left the process's signal state changed (restored now): " + "; ".join(changed),
                pytrace=False)
