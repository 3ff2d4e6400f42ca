"""The once-per-process wrapper of the modules' known-answer self-tests (stecheck.selftest)."""

import pytest

from stecheck.errors import SelfCheckFailed
from stecheck.selftest import OncePerProcess


def test_a_pass_is_remembered_and_the_check_runs_once():
    calls = []
    check = OncePerProcess(lambda: calls.append(1) or [], what="m fails", remedy="Fix m.")
    check()
    check()
    assert calls == [1] and check.passed


def test_a_failure_raises_with_every_mismatch_and_the_remedy_and_is_not_remembered():
    calls = []
    check = OncePerProcess(lambda: calls.append(1) or ["a = 1, expected 2", "b = 3, expected 4"],
                           what="numerics.m fails its known-answer self-test", remedy="Fix numerics/m.py.")
    for _ in range(2):
        with pytest.raises(SelfCheckFailed) as info:
            check()
        assert str(info.value) == ("numerics.m fails its known-answer self-test: a = 1, expected 2; "
                                   "b = 3, expected 4. Fix numerics/m.py.")
    assert calls == [1, 1] and not check.passed


def test_limit_caps_the_quoted_mismatches():
    check = OncePerProcess(lambda: ["1", "2", "3", "4"], what="w", remedy="", limit=3)
    with pytest.raises(SelfCheckFailed, match=r"^w: 1; 2; 3$"):
        check()


def test_a_call_from_inside_the_self_test_returns_at_once():
    seen = []

    def failures(x):
        seen.append(x)
        check(x + 1)  # the code under test calls back into its own check
        return []

    check = OncePerProcess(failures, what="w", remedy="")
    check(1)
    assert seen == [1] and check.passed


def test_an_exception_propagates_and_the_next_call_runs_again():
    state = {"n": 0}

    def failures():
        state["n"] += 1
        if state["n"] == 1:
            raise ZeroDivisionError("boom")
        return []

    check = OncePerProcess(failures, what="w", remedy="")
    with pytest.raises(ZeroDivisionError):
        check()
    assert not check.passed and not check.running
    check()
    assert check.passed and state["n"] == 2
    check.reset()
    assert not check.passed and "not run" in repr(check)
