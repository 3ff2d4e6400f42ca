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


# ---------------------------------------------------------------- the battery's front ends and bad input

from stecheck.testing import check_estimator, estimator  # noqa: E402


def _wrong_shape(loss, a, noise, rng, size):
    return np.zeros((size, a.size + 1))


def _nan(loss, a, noise, rng, size):
    out = st(loss, a, noise, rng, size)
    out[0, 0] = np.nan
    return out


def _inf(loss, a, noise, rng, size):
    return np.full((size, a.size), np.inf)


def _a_list(loss, a, noise, rng, size):
    return st(loss, a, noise, rng, size).tolist()


def _raises(loss, a, noise, rng, size):
    raise ZeroDivisionError("boom")


@pytest.mark.parametrize("bad, words", [(_wrong_shape, "shape"), (_nan, "non-finite"), (_inf, "non-finite"),
                                        (_a_list, "not a numpy array")])
def test_bad_estimator_output_is_one_clear_line_and_the_battery_continues(bad, words):
    records = check_estimator(estimator(tags=["st"])(bad), profile="dev",
                              checks=["output_contract", "seed_determinism", "linear_exact"])
    assert [r.check for r in records] == ["output_contract", "seed_determinism", "linear_exact"]
    first = records[0]
    assert first.status == "FAIL" and words in first.evidence
    assert bad.__name__ in first.evidence and "output_contract" in first.evidence
    assert "\n" not in first.evidence
    assert all(r.status in ("FAIL", "ERROR") for r in records)


def test_an_estimator_that_raises_is_an_error_record_not_a_crash():
    records = check_estimator(_raises, profile="dev", checks=["output_contract", "seed_determinism"])
    assert [r.status for r in records] == ["ERROR", "ERROR"]
    assert "raised ZeroDivisionError" in records[0].evidence and "boom" in records[0].evidence


def test_unknown_tags_and_reasonless_known_failures_are_reported():
    from stecheck.errors import InvalidArgument

    records = check_estimator(estimator(tags=["st", "unbaised"])(st), profile="dev", checks=["output_contract"])
    assert records[0].check == "tags" and records[0].status == "ERROR" and "unbaised" in records[0].evidence
    assert records[1].status == "PASS"
    with pytest.raises(InvalidArgument, match="reason"):
        estimator(xfail={"linear_exact": ""})


def test_parametrize_with_checks_gives_one_test_id_per_check(pytester):
    pytester.makepyfile(
        """
        import numpy as np
        from stecheck.numerics.estimators import estimate_batch
        from stecheck.testing import estimator, parametrize_with_checks

        @estimator(tags=["st"], bound="st")
        def good_st(loss, a, noise, rng, size):
            return estimate_batch("st", loss, a, noise, rng, size)

        @estimator(tags=["st"])
        def doubled_st(loss, a, noise, rng, size):
            return 2 * estimate_batch("st", loss, a, noise, rng, size)

        @parametrize_with_checks([good_st, doubled_st])
        def test_battery(estimator, check):
            check(estimator)
        """
    )
    from importlib.metadata import entry_points

    installed = any(ep.name == "stecheck" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "stecheck.proofs_check.pytest_plugin"]
    result = pytester.runpytest(*load, "--stecheck-profile", "dev", "-q", "-k",
                                "output_contract or linear_exact or unbiased_any_loss")
    result.assert_outcomes(passed=3, failed=1, skipped=2)
    result.stdout.fnmatch_lines(["*doubled_st-linear_exact*", "*replay*"])


def test_cli_check_estimator_table_json_and_exit_codes(tmp_path, monkeypatch, capsys):
    import json

    from stecheck.proofs_check.cli import main

    (tmp_path / "user_estimators.py").write_text(
        "from stecheck.numerics.estimators import estimate_batch\n"
        "from stecheck.testing import estimator\n\n"
        "@estimator(tags=['st'], bound='st')\n"
        "def my_st(loss, a, noise, rng, size):\n"
        "    return estimate_batch('st', loss, a, noise, rng, size)\n\n"
        "@estimator(tags=['st'])\n"
        "def my_half_st(loss, a, noise, rng, size):\n"
        "    return 0.5 * estimate_batch('st', loss, a, noise, rng, size)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["check-estimator", "user_estimators:my_st", "--profile", "dev", "--check", "linear_exact"]) == 0
    assert "linear_exact" in capsys.readouterr().out
    code = main(["check-estimator", "user_estimators:my_half_st", "--profile", "dev", "--check", "linear_exact",
                 "--json"])
    records = json.loads(capsys.readouterr().out)
    assert code == 1 and records[0]["status"] == "FAIL"
    assert records[0]["replay"].startswith("from stecheck.testing import replay_check")
    assert "user_estimators:my_half_st" in records[0]["replay"]
    assert main(["check-estimator", "no_such_module:f"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot import module 'no_such_module'" in err
    assert main(["check-estimator", "__import__('os').system('true')"]) == 2


def _plugin_args():
    from importlib.metadata import entry_points

    installed = any(ep.name == "stecheck" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "stecheck.proofs_check.pytest_plugin"]


def test_claims_as_test_items_pin_both_verdicts_and_write_junit(pytester):
    """Claims run in subprocesses: one pytest process per claim session, as in CI."""
    import json

    out = pytester.path / "pins.json"
    first = pytester.runpytest_subprocess(*_plugin_args(), "--stecheck=SBN-EX1", f"--stecheck-write-expect={out}", "-p",
                               "no:cacheprovider")
    first.assert_outcomes(passed=1)
    pins = json.loads(out.read_text())
    got = pins["verdicts"]["SBN-EX1"]
    assert pins["version"] == 2 and set(got) == {"checked", "printed", "readings"}
    ok = pytester.runpytest_subprocess(*_plugin_args(), "--stecheck=SBN-EX1", f"--stecheck-expect={out}",
                            f"--junitxml={pytester.path / 'j.xml'}")
    ok.assert_outcomes(passed=1)
    ok.stdout.fnmatch_lines(["*stecheck: 2 verdicts match*"])
    assert 'name="verdict_checked"' in (pytester.path / "j.xml").read_text()
    wrong = "REFUTED" if got["printed"] != "REFUTED" else "PROVED"
    out.write_text(json.dumps({**pins, "verdicts": {"SBN-EX1": {**got, "printed": wrong}}}))
    bad = pytester.runpytest_subprocess(*_plugin_args(), "--stecheck=SBN-EX1", f"--stecheck-expect={out}")
    bad.assert_outcomes(failed=1)
    bad.stdout.fnmatch_lines([f"*printed: expected {wrong}, got {got['printed']}*"])


def test_a_bad_expect_file_or_other_seed_is_a_usage_error_before_computing(pytester):
    import json

    f = pytester.path / "pins.json"
    f.write_text(json.dumps({"seed": 0, "tier": "quick", "verdicts": {"SBN-NOPE": "PROVED"}}))
    r = pytester.runpytest_subprocess(*_plugin_args(), "--stecheck=SBN-EX1", f"--stecheck-expect={f}")
    assert r.ret == 4 and "unknown claim id 'SBN-NOPE'" in r.stderr.str()
    f.write_text(json.dumps({"seed": 5, "tier": "quick", "verdicts": {"SBN-EX1": "PROVED"}}))
    r = pytester.runpytest_subprocess(*_plugin_args(), "--stecheck=SBN-EX1", f"--stecheck-expect={f}")
    assert r.ret == 4 and "pins seed 5" in r.stderr.str()


def test_an_estimator_with_hidden_randomness_fails_determinism():
    fresh = np.random.default_rng()  # not the rng argument: irreproducible

    def sloppy(loss, a, noise, rng, size):
        return st(loss, a, noise, fresh, size)

    records = check_estimator(estimator(tags=["st"])(sloppy), profile="dev",
                              checks=["seed_determinism", "unbiased_multilinear"])
    assert records[0].status == "FAIL" and "rng argument" in records[0].evidence
    assert records[1].status == "PASS"  # unbiased all the same


@pytest.mark.parametrize("bad", [mis_scaled_st, f_prime_not_2f_prime])
def test_power_the_battery_catches_both_mis_scalings_under_every_seed(bad):
    for seed in range(5):
        (rec,) = check_estimator(estimator(tags=["st"])(bad), profile="dev", seed=seed, checks=["linear_exact"])
        assert rec.status == "FAIL" and rec.replay, rec
