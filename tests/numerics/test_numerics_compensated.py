"""Known answers of numerics._compensated.gamma (the self-test a once-per-process wrapper runs)."""

from stecheck.numerics import _compensated


def test_gamma_selftest_passes():
    assert _compensated.gamma_selftest_failures() == []


def test_gamma_overflow_boundary():
    assert _compensated.gamma(2**53) == float("inf")
    assert _compensated.gamma(2**53 - 2) < float("inf")
