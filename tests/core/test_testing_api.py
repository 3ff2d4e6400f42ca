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
    assert_unbiased(st, loss, a, samples=4_000)


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
        assert_ascent_direction(st, losses.Ex2(), A3)
    assert_ascent_direction(local_expectations, losses.Ex2(), A3)


def test_an_undecidable_ascent_check_warns_instead_of_failing():
    def noise_only(loss, a, noise, rng, size):
        return rng.normal(size=(size, a.size)) * 100

    with pytest.warns(InconclusiveWarning):
        assert_ascent_direction(noise_only, losses.Linear(np.ones(3)), A3, samples=200)


def test_plugin_fixture_checks_pinned_verdicts(pytester):
    pytester.makepyfile(
        """
        def test_ok(stecheck):
            stecheck.check("SBN-EX1", expect="PROVED")

        def test_changed(stecheck):
            stecheck.check("SBN-EX1", expect="REFUTED")
        """
    )
    from importlib.metadata import entry_points

    installed = any(ep.name == "stecheck" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "stecheck.proofs_check.pytest_plugin"]  # from a source checkout, load it by hand
    result = pytester.runpytest(*load, "--stecheck-seed", "3")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*SBN-EX1: expected REFUTED, got PROVED*"])
