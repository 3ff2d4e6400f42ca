"""Known answers of numerics._compensated.gamma (the self-test a once-per-process wrapper runs)."""

from stecheck.numerics import _compensated


def test_gamma_selftest_passes():
    assert _compensated.gamma_selftest_failures() == []


def test_gamma_overflow_boundary():
    assert _compensated.gamma(2**53) == float("inf")
    assert _compensated.gamma(2**53 - 2) < float("inf")


def test_neumaier_selftest_passes_and_compensated_selftest_combines_both():
    assert _compensated.neumaier_selftest_failures() == []
    assert _compensated.compensated_selftest_failures() == []


def test_neumaier_selftest_refuses_a_wrong_step(monkeypatch):
    import numpy as np

    def running_difference(s, c, x):  # the mutant t = s - x: the compensation repairs s + c, the running sum is wrong
        t = s - x
        return t, c + np.where(np.abs(s) >= np.abs(x), (s - t) + x, (x - t) + s)

    def plain(s, c, x):  # no compensation: s + c loses the small terms
        return s + x, c

    for wrong in (running_difference, plain):
        monkeypatch.setattr(_compensated, "neumaier_add", wrong)
        bad = _compensated.neumaier_selftest_failures()
        assert bad and "neumaier_add" in bad[0]


def test_neumaier_selftest_refuses_terms_whose_sum_is_not_a_float():
    # 1 + 2^-60 is not a float: s + c cannot equal the exact sum, and the check says so
    assert _compensated.neumaier_selftest_failures(((1.0,), (2.0**-60,)))
