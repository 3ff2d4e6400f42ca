"""`stecheck estimate`: JSON contract, exact vs Monte Carlo agreement, closed-form gradient, error paths."""

import json

import numpy as np
import pytest

from stecheck.numerics import enumeration as en
from stecheck.numerics.estimators import ESTIMATORS
from stecheck.numerics.noise import get_noise
from stecheck.proofs_check.cli import EXIT_OK, EXIT_USAGE, main
from stecheck.proofs_check.estimate_cmd import JSON_KEYS, LOSSES, _make_loss, estimate, exact_gradient_closed_form


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _json(capsys, *argv):
    code, out, err = _run(capsys, "estimate", *argv, "--json")
    assert code == EXIT_OK, err
    return json.loads(out)


def _one_line(err):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("noise", ["logistic", "uniform", "triangular", "gaussian"])
def test_closed_form_gradient_matches_enumeration(loss, noise):
    a = np.array([-0.7, 0.1, 0.4, 1.3, -0.2])
    L = _make_loss(loss, a.size, 3)
    want = en.exact_gradient(L, a, noise)
    got = exact_gradient_closed_form(loss, L, a, get_noise(noise))
    np.testing.assert_allclose(got, want.value, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("loss", LOSSES)
def test_closed_form_gradient_01_encoding_matches_enumeration(loss):
    """Encoding 01: the same closed form with mu = F, checked by enumerating L((x + 1)/2)."""
    from stecheck.numerics import losses as Ls

    a = np.array([0.3, -1.1, 0.8, 0.05])
    L = _make_loss(loss, a.size, 1)
    shifted = Ls.Callable(lambda X: L.value((X + 1) / 2), lambda X: 0.5 * L.grad((X + 1) / 2), n=a.size)
    want = en.exact_gradient(shifted, a, "logistic")
    got = exact_gradient_closed_form(loss, L, a, get_noise("logistic"), "01")
    np.testing.assert_allclose(got, want.value, rtol=1e-12, atol=1e-12)


def test_json_has_exactly_the_documented_keys(capsys):
    data = _json(capsys, "st", "--loss", "linear", "--n", "3", "--samples", "500")
    assert tuple(data) == JSON_KEYS
    assert data["estimator"] == "st" and data["loss"] == "linear" and data["noise"] == "logistic"
    assert data["encoding"] == "pm1" and data["n"] == 3 and data["samples"] == 500
    for key in ("a", "mean", "ci_low", "ci_high", "exact_gradient", "bias", "variance"):
        assert isinstance(data[key], list) and len(data[key]) == 3
    # linear loss: ST is exact, with zero variance (paper Sec. 2.2 I)
    np.testing.assert_allclose(data["mean"], data["exact_gradient"], rtol=1e-12)
    assert np.all(np.array(data["ci_low"]) <= data["exact_gradient"])  # the rounding bound covers it
    assert np.all(np.array(data["exact_gradient"]) <= np.array(data["ci_high"]))
    assert data["variance"] == [0.0, 0.0, 0.0]
    assert data["cosine"] == pytest.approx(1.0)


def test_exact_mode_and_monte_carlo_agree(capsys):
    common = ["st", "--loss", "quadratic", "--a=-0.5,0.3,1.2,0.0", "--noise", "gaussian"]
    exact = _json(capsys, *common, "--exact")
    assert exact["samples"] == 0
    mc = _json(capsys, *common, "--samples", "40000", "--seed", "5")
    assert np.all(np.array(mc["ci_low"]) <= np.array(exact["mean"]))
    assert np.all(np.array(exact["mean"]) <= np.array(mc["ci_high"]))
    np.testing.assert_allclose(mc["variance"], exact["variance"], rtol=0.05)
    np.testing.assert_allclose(exact["exact_gradient"], mc["exact_gradient"], rtol=0, atol=0)
    # ST on a non-multilinear loss is biased; the exact mean agrees with the enumeration module
    L = _make_loss("quadratic", 4, 0)
    ref = en.expected_estimator("st", L, exact["a"], "gaussian")
    np.testing.assert_allclose(exact["mean"], ref.value, rtol=1e-13)
    assert np.all(np.array(exact["ci_low"]) <= ref.value) and np.all(ref.value <= np.array(exact["ci_high"]))


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_registered_estimator_runs(capsys, name):
    data = _json(capsys, name, "--loss", "square-sum", "--n", "4", "--samples", "200")
    assert data["estimator"] == name and len(data["mean"]) == 4


def test_local_expectations_is_unbiased_exactly(capsys):
    data = _json(capsys, "local_expectations", "--loss", "ex2", "--n", "5", "--a-seed", "2", "--exact")
    np.testing.assert_allclose(data["bias"], 0.0, atol=1e-13)


def test_same_seed_same_numbers_and_workers_do_not_change_them(capsys):
    args = ["identity_st", "--loss", "quadratic", "--n", "6", "--samples", "3000", "--chunk-size", "700"]
    one = _json(capsys, *args)
    assert _json(capsys, *args) == one
    assert _json(capsys, *args, "--workers", "2") == one
    assert _json(capsys, *args, "--seed", "1") != one


def test_checkpoint_resume_gives_same_numbers(capsys, tmp_path):
    args = ["st", "--n", "3", "--samples", "3000", "--chunk-size", "1000", "--checkpoint", str(tmp_path / "c.npz")]
    first = _json(capsys, *args)
    assert (tmp_path / "c.npz").exists()
    assert _json(capsys, *args) == first
    code, _, err = _run(capsys, "estimate", *args[:-2], "--seed", "9", "--checkpoint", str(tmp_path / "c.npz"))
    assert code == EXIT_USAGE and "different run" in _one_line(err)


def test_table_output(capsys):
    code, out, _ = _run(capsys, "estimate", "deterministic_st", "--loss", "linear", "--a", "0.5,1.5", "--exact")
    assert code == EXIT_OK
    assert "deterministic_st on linear" in out and "exact grad" in out and "cosine" in out
    assert "; exact)" in out


def test_python_api_returns_report():
    rep = estimate("st", loss="linear", a=[0.0, 1.0], exact=True)
    assert rep.samples == 0 and rep.n == 2 and rep.cosine == pytest.approx(1.0)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["stt"], "did you mean st"),
        (["no_such_thing"], "valid names: "),
        (["st", "--n", "30", "--exact"], "drop --exact"),
        (["st", "--n", "3", "--a", "1,2"], "--a has 2 values but --n is 3"),
        (["st", "--a", "1,x"], "'x' is not a number"),
        (["st", "--n", "1e30"], "--n must be an integer >= 1"),
        (["st", "--n", "1000000", "--exact"], "--n must be at most 2048"),
        (["st", "--n", "10000000000000000000000000000000000"], "--n must be an integer >= 1"),
        (["st", "--samples", "1e18"], "--samples must be an integer >= 2"),
        (["st", "--samples", "1000000000000000000"], "--samples must be at most 1000000000"),
        (["st", "--n", "2000", "--samples", "100000000"], "coordinate draws, more than the limit"),
        (["st", "--n", "2000", "--chunk-size", "100000"], "numbers per chunk, more than the limit"),
        (["st", "--a", ",".join(["1"] * 3000)], "more than the limit of n <= 2048"),
        (["st", "--workers", "100000"], "more than this machine can run"),
        (["st", "--scheduler", "foo"], "is not a scheduler address"),
        (["st", "--scheduler", "tls://127.0.0.1:8786"], "only tcp://"),
        (["st", "--seed", "9" * 5000], "--seed must be an integer >= 0"),
        (["st", "--a", "1,nan"], "finite"),
        (["st", "--samples", "1"], "--samples must be an integer >= 2"),
        (["st", "--samples", "many"], "--samples must be an integer >= 2"),
        (["st", "--n", "0"], "--n must be an integer >= 1"),
        (["st", "--loss", "cubic"], "invalid choice: 'cubic'"),
        (["st", "--noise", "cauchy"], "invalid choice: 'cauchy'"),
        (["st", "--a", "1", "--a-seed", "2"], "not both"),
        (["st", "--tau", "-1"], "--tau must be a positive number"),
        (["st", "--confidence", "1.5"], "--confidence must be in the open interval"),
        (["st", "--exact", "--workers", "2"], "--exact enumerates in this process"),
        (["st", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9"], "not both"),
    ],
)
def test_bad_input_is_one_line_exit_2(capsys, argv, needle):
    code, out, err = _run(capsys, "estimate", *argv)
    assert code == EXIT_USAGE
    assert needle in _one_line(err)
    assert out == ""


def test_encoding_01_is_passed_to_the_estimators(capsys):
    # ST is exact for a linear loss in either encoding; local expectations is unbiased for any loss
    lin = _json(capsys, "st", "--loss", "linear", "--n", "4", "--encoding", "01", "--exact")
    assert lin["encoding"] == "01"
    np.testing.assert_allclose(lin["bias"], 0.0, atol=1e-14)
    pm1 = _json(capsys, "st", "--loss", "linear", "--n", "4", "--exact")
    np.testing.assert_allclose(np.array(pm1["exact_gradient"]), 2 * np.array(lin["exact_gradient"]), rtol=1e-14)
    le = _json(capsys, "local_expectations", "--loss", "quadratic", "--n", "5", "--encoding", "01", "--exact")
    np.testing.assert_allclose(le["bias"], 0.0, atol=1e-13)
    mc = _json(capsys, "local_expectations", "--loss", "quadratic", "--n", "5", "--encoding", "01",
               "--samples", "20000")
    assert np.all(np.array(mc["ci_low"]) <= np.array(le["mean"]))
    assert np.all(np.array(le["mean"]) <= np.array(mc["ci_high"]))


def test_exact_mode_covers_more_than_state_estimators(capsys):
    moderate = "--a=-0.5,0.3,1.0,0.0"  # no rare states: the sample variance settles quickly
    rf = _json(capsys, "reinforce", "--loss", "quadratic", moderate, "--exact")
    np.testing.assert_allclose(rf["bias"], 0.0, atol=1e-12)  # REINFORCE with a LOO baseline is unbiased
    mc = _json(capsys, "reinforce", "--loss", "quadratic", moderate, "--samples", "20000")
    np.testing.assert_allclose(mc["variance"], rf["variance"], rtol=0.1)
    gs = _json(capsys, "gumbel_softmax", "--loss", "square-sum", "--n", "1", "--tau", "0.5", "--exact")
    assert gs["samples"] == 0 and len(gs["variance"]) == 1
    det = _json(capsys, "deterministic_st", "--loss", "linear", "--n", "30", "--exact")  # no enumeration needed
    assert det["variance"] == [0.0] * 30


def test_tau_reaches_gumbel_softmax(capsys):
    args = ["gumbel_softmax", "--loss", "square-sum", "--n", "3", "--samples", "2000"]
    hot, cold = _json(capsys, *args, "--tau", "2"), _json(capsys, *args, "--tau", "0.1")
    assert hot["mean"] != cold["mean"]
    assert _json(capsys, *args) == _json(capsys, *args, "--tau", "1")  # the estimator's default


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["st", "--tau", "0.5"], "--tau 0.5 applies only to estimators with a temperature"),
        (["gumbel_softmax", "--exact"], "cannot be enumerated"),
        (["arm", "--exact"], "drop --exact"),
        (["gumbel_softmax", "--noise", "uniform"], "logistic"),
    ],
)
def test_estimator_specific_errors(capsys, argv, needle):
    code, out, err = _run(capsys, "estimate", *argv, "--n", "3", "--samples", "100")
    assert code == EXIT_USAGE and needle in _one_line(err) and out == ""


def test_exact_with_a_huge_n_is_refused_before_any_allocation(capsys):
    import time

    start = time.perf_counter()
    code, out, err = _run(capsys, "estimate", "st", "--n", "2048", "--exact", "--loss", "quadratic")
    assert code == EXIT_USAGE and "drop --exact" in _one_line(err)
    assert time.perf_counter() - start < 2


def test_json_never_prints_nan_or_infinity(capsys):
    from stecheck.proofs_check.estimate_cmd import EstimateReport

    rep = EstimateReport("st", "linear", "logistic", "pm1", 2, [0.0, 1.0], 10, [1.0, float("nan")], [0.0, 0.0],
                         [2.0, 2.0], [1.0, 1.0], [0.0, float("inf")], [1.0, 1.0], float("nan"))
    data = rep.to_json()
    text = json.dumps(data, allow_nan=False)  # would raise on NaN/Infinity
    assert data["mean"] == [1.0, None] and data["cosine"] is None and data["bias"] == [0.0, None]
    assert set(data["null"]) == {"mean", "bias", "cosine"} and "overflow" in data["null"]["bias"]
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"\x93NUMPY broken", None])
def test_broken_checkpoints_are_one_line_exit_2(capsys, tmp_path, content):
    path = tmp_path / "ck.npz"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    code, out, err = _run(capsys, "estimate", "st", "--n", "2", "--samples", "100", "--checkpoint", str(path))
    assert code == EXIT_USAGE and "checkpoint" in _one_line(err) and out == ""


def test_a_checkpoint_that_is_a_device_or_fifo_is_refused_without_hanging(capsys, tmp_path):
    import os

    fifo = tmp_path / "ck.npz"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero"):
        code, out, err = _run(capsys, "estimate", "st", "--n", "2", "--samples", "100", "--checkpoint", path)
        assert code == EXIT_USAGE and "not a regular file" in _one_line(err)


@pytest.mark.parametrize("name", ["gumbel_softmax", "st_gumbel_softmax"])
@pytest.mark.parametrize("tau", ["1e-9", "1e-30", "1e-300"])
def test_a_tau_below_the_resolvable_range_is_refused_with_the_valid_range(capsys, name, tau):
    """Below gs_min_tau(a) = spacing(|a|) / 1e-9 (5.6e-8 at a = 0.3) the points z = a - tau u collapse onto a few
    doubles (at tau = 1e-30 all onto z = a: the quadrature used to return mean 0, variance 0, interval [0, 0]
    silently): one line naming the valid range, exit 2, nothing on stdout."""
    code, out, err = _run(capsys, "estimate", name, "--n", "1", "--a", "0.3", "--exact", "--tau", tau,
                          "--loss", "square-sum")
    line = _one_line(err)
    assert code == EXIT_USAGE and out == ""
    assert f"--tau {float(tau):g} is too small" in line and "valid is --tau >= 5.6e-08" in line
    assert "drop --exact" in line


def test_the_tau_floor_is_where_the_evaluation_points_stop_resolving_u():
    """gs_min_tau is spacing(|a|) / GS_U_RESOLUTION: just above it the quadrature runs and agrees with a large
    tau (mean / tau is the same O(tau) bias coefficient as at tau = 1e-6, to 1e-8); just below it the API raises with the floor."""
    from stecheck.errors import QuadratureDiverged

    floor = en.gs_min_tau(0.3)
    assert floor == pytest.approx(np.spacing(0.3) / en.GS_U_RESOLUTION) and en.gs_min_tau(0.0) < 1e-300
    loss = _make_loss("square-sum", 1, 0)
    above = en.expected_estimator("gumbel_softmax", loss, [0.3], "logistic", tau=1.1 * floor)
    ref = en.expected_estimator("gumbel_softmax", loss, [0.3], "logistic", tau=1e-6)
    assert above.value[0] / (1.1 * floor) == pytest.approx(ref.value[0] / 1e-6, rel=1e-8)
    with pytest.raises(QuadratureDiverged, match="cannot be evaluated") as info:
        en.expected_estimator("gumbel_softmax", loss, [0.3], "logistic", tau=0.9 * floor)
    assert info.value.min_tau == floor
    # a = 0 has no such floor: z = -tau u is exact to relative 2^-53, and ST-GS on L = x gives 2 F'(0) = 1
    tiny = en.expected_estimator("st_gumbel_softmax", _make_loss("linear", 1, 0), [0.0], "logistic", tau=1e-30)
    assert tiny.value[0] == pytest.approx(2 * get_noise("logistic").pdf(0.0), rel=1e-9)


def test_small_tau_is_resolved_not_silently_wrong(capsys):
    """tau = 1e-6 used to give E = -0.458 +- 3e-12 (the spike at u = 0 fell between the nodes of a 3e5-long
    interval); now the mean is ~ 0.53 tau (bias O(tau), true gradient 0) and the variance scales as 1/tau."""
    runs = {t: _json(capsys, "gumbel_softmax", "--n", "1", "--a", "0.3", "--exact", "--tau", t, "--loss", "square-sum")
            for t in ("1e-4", "1e-6")}
    m4, m6 = runs["1e-4"]["mean"][0], runs["1e-6"]["mean"][0]
    assert 0 < m6 < 1e-5 and m4 / m6 == pytest.approx(100, rel=1e-3)
    assert runs["1e-6"]["variance"][0] / runs["1e-4"]["variance"][0] == pytest.approx(100, rel=1e-3)


def test_a_divergent_integral_raises_in_the_api_and_a_resolved_one_does_not():
    from stecheck.errors import InvalidArgument, QuadratureDiverged

    loss = _make_loss("linear", 1, 0)
    # E[1/|G|] is not integrable: |G| decays like e^{-|u|} while the logistic density decays like e^{-tau |u|}
    with np.errstate(divide="ignore"), pytest.raises(QuadratureDiverged, match="diverges") as info:
        en.expected_transform("gumbel_softmax", loss, [0.3], "logistic", lambda E: 1 / np.abs(E), tau=0.5)
    assert isinstance(info.value, InvalidArgument) and info.value.verb == "diverges" and info.value.reason
    ok = en.expected_estimator("gumbel_softmax", _make_loss("square-sum", 1, 0), [0.3], "logistic", tau=1e-3)
    assert 0 < ok.value[0] < 1e-3 and ok.error_bound[0] < 1e-9  # L = x^2 is constant on {-1, 1}: gradient 0
