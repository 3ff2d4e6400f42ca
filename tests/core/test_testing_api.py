"""proofs_check.testing and the pytest plugin: they must pass sound estimators and catch broken ones."""

import numpy as np
import pytest
from hypothesis import given, settings

from stecheck.numerics import losses
from stecheck.numerics.estimators import estimate_batch
from stecheck.proofs_check.testing import (
    InconclusiveWarning,
    assert_ascent_direction,
    assert_unbiased,
    multilinear_losses,
    preactivations,
)


def st(loss, a, noise, rng, size):
    return estimate_batch("st", loss, a, noise, rng, size)


def local_expectations(loss, a, noise, rng, size):
    return estimate_batch("local_expectations", loss, a, noise, rng, size)


def doubled_st(loss, a, noise, rng, size):
    return 2 * st(loss, a, noise, rng, size)


A3 = np.array([0.3, -0.7, 1.1])


@settings(max_examples=8, deadline=None, derandomize=True)  # a statistical test: fixed examples in CI
@given(multilinear_losses(n=3), preactivations(n=3))
def test_st_passes_the_unbiasedness_property_on_multilinear_losses(loss, a):
    assert assert_unbiased(st, loss, a, samples=4_000, bound="st") == "pass"


def test_a_rare_event_never_sampled_is_no_false_alarm():
    """The issue's case: a = [0, 0, 0, 1.19e-7], ARM's 20,000 samples all equal (a CLT interval of width 0 failed)."""
    from stecheck.proofs_check.battery.builtins import BUILTINS

    for name in ("arm", "reinforce", "local_expectations"):
        for seed in (8, 29):
            assert assert_unbiased(BUILTINS[name], losses.SquareSum(), [0, 0, 0, 1.19e-7], seed=seed) == "pass"


def test_strategies_emit_no_subnormal_or_tiny_coefficients():
    from hypothesis import find

    from stecheck.proofs_check.battery.strategies import coefficients

    with pytest.raises(Exception):  # no example with 0 < |c| < 1e-3 exists
        find(coefficients(), lambda c: 0 < abs(c) < 1e-3, settings=settings(max_examples=2_000, database=None))
    with pytest.raises(Exception):
        find(preactivations(n=1), lambda a: 0 < abs(a[0]) < 1e-3, settings=settings(max_examples=2_000, database=None))


def test_the_exact_value_keeps_an_underflow_floor():
    from stecheck.proofs_check.battery.core import UNDERFLOW_FLOOR, Problem, exact_gradient

    tiny = losses.Multilinear({(0,): 5e-324, (1,): 5e-324}, n=2)
    g, err = exact_gradient(Problem(tiny, np.array([0.1, -0.2]), "logistic"))
    assert np.all(err >= UNDERFLOW_FLOOR)
    assert assert_unbiased(st, tiny, [0.1, -0.2], samples=2_000, bound="st") == "pass"


def mis_scaled_st(loss, a, noise, rng, size):
    return 1.01 * st(loss, a, noise, rng, size)


def f_prime_not_2f_prime(loss, a, noise, rng, size):
    return 0.5 * st(loss, a, noise, rng, size)


M3 = losses.Multilinear({(0,): 1.0, (1,): -0.5, (2,): 0.8, (0, 1): 0.3}, n=3)


@pytest.mark.parametrize("loss", [losses.Linear(np.ones(3)), M3], ids=["linear", "multilinear"])
def test_power_a_1_percent_mis_scaled_st_fails_every_time(loss):
    """With the ST range declared (here 5 % looser than ST's own), 20 of 20 seeds fail at the default budget."""
    from stecheck.proofs_check.battery.core import BOUNDS

    fails = 0
    for seed in range(20):
        with pytest.raises(AssertionError, match="biased"):
            assert_unbiased(mis_scaled_st, loss, A3, seed=seed, bound=lambda pr: 1.05 * BOUNDS["st"](pr))
        fails += 1
    assert fails == 20


@pytest.mark.parametrize("loss", [losses.Linear(np.ones(3)), M3], ids=["linear", "multilinear"])
def test_power_f_prime_instead_of_2f_prime_fails_every_time_even_with_the_default_range(loss):
    for seed in range(20):
        with pytest.raises(AssertionError, match="biased"):
            assert_unbiased(f_prime_not_2f_prime, loss, A3, seed=seed)


def test_st_is_caught_biased_on_a_non_multilinear_loss():
    with pytest.raises(AssertionError, match="biased.*replay: assert_unbiased"):
        assert_unbiased(st, losses.SquareSum(), A3)


def test_a_mis_scaled_estimator_is_caught_even_on_a_linear_loss():
    with pytest.raises(AssertionError, match="biased"):
        assert_unbiased(doubled_st, losses.Linear(np.ones(3)), A3)


def test_local_expectations_pass_on_the_same_non_multilinear_loss():
    assert_unbiased(local_expectations, losses.SquareSum(), A3)


def test_st_on_example_2_is_caught_pointing_the_wrong_way():
    with pytest.raises(AssertionError, match="not an ascent direction"):
        assert_ascent_direction(st, losses.Ex2(), A3, bound=lambda pr: 2 * pr.fprime * 2 * np.pi + 2)
    assert_ascent_direction(local_expectations, losses.Ex2(), A3)


def test_a_zero_gradient_is_vacuous_and_silent():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert assert_ascent_direction(st, losses.Multilinear({(): 1.0}, n=3), A3) == "vacuous"


def test_an_undecidable_ascent_check_warns_instead_of_failing():
    def noise_only(loss, a, noise, rng, size):
        return rng.normal(size=(size, a.size)) * 100

    with pytest.warns(InconclusiveWarning):
        assert_ascent_direction(noise_only, losses.Linear(np.ones(3)), A3, samples=200, bound=1e6)


def test_plugin_fixture_checks_pinned_verdicts(pytester):
    pytester.makepyfile(
        """
        def test_ok(stecheck):
            stecheck.check("SBN-EX1", expect="VERIFIED")

        def test_changed(stecheck):
            stecheck.check("SBN-EX1", expect="REFUTED")
        """
    )
    from importlib.metadata import entry_points

    installed = any(ep.name == "stecheck" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "stecheck.proofs_check.pytest_plugin"]  # from a source checkout, load it by hand
    result = pytester.runpytest(*load, "--stecheck-seed", "3")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*SBN-EX1: expected REFUTED, got VERIFIED*"])
