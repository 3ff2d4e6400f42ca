"""benchmarks/run.py: the --compare logic tells a change from run-to-run noise; results carry machine and commit."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    spec = importlib.util.spec_from_file_location("stecheck_benchmarks_run", RUN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for k, v in saved.items():  # the module pins BLAS threads for itself; do not leak that into other tests
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    return module


def test_every_section_key_has_a_target_and_the_new_keys_exist(bench):
    assert {"mc_vs_floor", "mc_vs_loop", "torch_vs_stecheck"} <= set(bench.TARGETS)
    assert "mc_vs_rng" not in bench.TARGETS
    assert bench.TARGETS["mc_vs_floor"] == ("<=", 1.2, "x") and bench.TARGETS["torch_vs_stecheck"] == (">=", 1.5, "x")


def test_spread_is_the_relative_half_range(bench):
    assert bench.spread([1.0]) == 0.0
    assert bench.spread([0.9, 1.0, 1.1]) == pytest.approx(0.1)


def test_compare_separates_changes_from_noise(bench):
    old = {"mc_vs_floor": 2.0, "enum_n20_seconds": 1.0, "mc_vs_loop": 100.0,
           "spread": {"mc_vs_floor": 0.05, "enum_n20_seconds": 0.02, "mc_vs_loop": 0.2}}
    new = {"mc_vs_floor": 1.5, "enum_n20_seconds": 1.03, "mc_vs_loop": 130.0, "torch_vs_stecheck": 2.0,
           "spread": {"mc_vs_floor": 0.05, "enum_n20_seconds": 0.02, "mc_vs_loop": 0.1}}
    rows = {r["key"]: r for r in bench.compare(old, new)}
    assert set(rows) == {"mc_vs_floor", "enum_n20_seconds", "mc_vs_loop"}  # only keys measured in both
    assert rows["mc_vs_floor"]["changed"] and rows["mc_vs_floor"]["better"]  # -25 % beyond +-10 %, lower is better
    assert not rows["enum_n20_seconds"]["changed"]  # +3 % is inside the 5 % floor
    assert not rows["mc_vs_loop"]["changed"]  # +30 % is inside twice the old spread (40 %)


def test_machine_records_host_cpu_and_commit(bench):
    m = bench.machine()
    assert {"host", "cpu", "cpus", "commit", "commit_dirty", "python", "numpy"} <= set(m)
    assert m["commit"] is None or len(m["commit"]) == 40


def test_the_numpy_floor_computes_the_estimator(bench):
    """The floor is the estimator's own arithmetic: its last chunk averages to the engine's mean."""
    import numpy as np

    from stecheck.numerics.estimators import EstimatorSampler
    from stecheck.numerics.montecarlo import monte_carlo_mean
    from stecheck.numerics.seeding import make_rng, task_seed

    loss, a = bench.layer_problem(8)
    sampler = EstimatorSampler("st", loss, a, "logistic")
    g = bench.numpy_floor(sampler, 20_000, 20_000, make_rng(task_seed(1, "floor")), blocked=False)
    res = monte_carlo_mean(sampler, 20_000, task_seed(0, "t"), chunk_size=20_000)
    assert np.all(np.abs(g.mean(0) - res.mean) <= res.high - res.low)


def test_the_floor_works_on_the_engines_blocks(bench):
    """The blocked floor cuts a chunk exactly as the engine does: consecutive blocks, none small."""
    from stecheck.numerics.estimators import BLOCK_CELLS

    rows = BLOCK_CELLS // 64
    for m in (1, rows, 2 * rows - 1, 2 * rows, 4 * rows + 17, 2048):
        blocks = bench.engine_blocks(m, 64)
        assert blocks[0][0] == 0 and blocks[-1][1] == m
        assert all(b[1] == c[0] for b, c in zip(blocks, blocks[1:]))
        assert len(blocks) == 1 or all(rows <= hi - lo < 2 * rows for lo, hi in blocks)


def test_the_torch_peer_computes_the_estimator(bench):
    pytest.importorskip("torch")
    import numpy as np

    from stecheck.numerics.estimators import EstimatorSampler
    from stecheck.numerics.montecarlo import monte_carlo_mean
    from stecheck.numerics.seeding import task_seed

    loss, a = bench.layer_problem(8)
    mean, var = bench.torch_st(loss.W, loss.y, a, 20_000, 4096)
    res = monte_carlo_mean(EstimatorSampler("st", loss, a, "logistic"), 20_000, task_seed(0, "t"), chunk_size=4096)
    assert np.all(np.abs(mean.numpy() - res.mean) <= res.high - res.low)
    assert np.all(var.numpy() > 0)


def test_qste_full_core_seconds_counts_each_cell_once_and_cpu_time(bench):
    """Core-seconds from full-tier reports: a cell shared by two methods counts once (its CPU seconds), a method
    without block tasks counts its seconds, other claims are ignored."""
    cell = {"blocks": 2, "seconds": {"wall": 9.0, "cpu": 4.0}}
    report = {"run": {"tier": "full"}, "claims": [
        {"id": "QSTE-ERG", "methods": [
            {"seconds": 30.0, "evidence": {"compute": {"per_cell": {"a": cell, "b": {"blocks": 1, "seconds":
                                                                                      {"wall": 2.0, "cpu": 1.5}}}}}},
            {"seconds": 31.0, "evidence": {"compute": {"per_cell": {"a": cell}}}},
            {"seconds": 0.5, "evidence": {}}]},
        {"id": "SBN-F1", "methods": [{"seconds": 100.0, "evidence": {}}]}]}
    core = bench.qste_core_seconds([report])
    assert core["core_seconds"] == pytest.approx(4.0 + 1.5 + 0.5)
    assert core["distinct_cells"] == 2 and core["methods"] == 3 and core["claims"] == ["QSTE-ERG"]
    assert {"qste_quick_seconds", "qste_full_core_seconds"} <= set(bench.TARGETS)


def _write_report(path: Path, tier: str = "full") -> Path:
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run": {"tier": tier}, "claims": []}))
    return path


def test_qste_full_report_accepts_a_directory_as_every_report_below_it(bench, tmp_path):
    """A directory stands for every report.json below it (sorted); a file for itself."""
    b = _write_report(tmp_path / "runs" / "b" / "report.json")
    a = _write_report(tmp_path / "runs" / "a" / "report.json")
    (tmp_path / "runs" / "a" / "report.md").write_text("not a report")
    assert bench.resolve_full_reports([str(tmp_path / "runs")]) == [a, b]
    assert bench.resolve_full_reports([str(b)]) == [b]
    # the committed directory (the one the crash was reported with) resolves to its three reports
    committed = bench.QSTE_FULL_REPORTS
    if committed.is_dir():
        assert bench.resolve_full_reports([str(committed)]) == sorted(committed.glob("**/report.json"))


@pytest.mark.parametrize("case", ["missing", "empty_dir", "not_json", "quick_tier"])
def test_qste_full_report_bad_arguments_fail_before_measuring_with_one_line(bench, tmp_path, case, capsys,
                                                                             monkeypatch):
    """A bad --qste-full-report is refused by main() with one line and exit 2 before any section runs."""
    if case == "missing":
        arg = tmp_path / "nope"
    elif case == "empty_dir":
        arg = tmp_path / "empty"
        arg.mkdir()
    elif case == "not_json":
        arg = tmp_path / "report.json"
        arg.write_text("{truncated")
    else:
        arg = _write_report(tmp_path / "q" / "report.json", tier="quick")
    ran = []
    monkeypatch.setattr(bench, "run", lambda *a, **k: ran.append(a))
    assert bench.main(["--only", "qste", "--qste-full-report", str(arg)]) == 2
    assert ran == []  # nothing was measured
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("run.py: --qste-full-report:")
    assert str(arg) in err and "Traceback" not in err
