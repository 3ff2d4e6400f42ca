"""tools/readme_benchmarks.py: the README's benchmark table is generated from a result file, never by hand."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("readme_benchmarks", ROOT / "tools" / "readme_benchmarks.py")
rb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rb)

TARGETS = {"mc_vs_floor": ("<=", 1.2, "x"), "enum_n20_seconds": ("<", 2.0, "s"),
           "torch_vs_stecheck": (">=", 1.5, "x"), "dask_2v1_speedup": (">=", 1.7, "x")}


def _result():
    return {
        "mc_vs_floor": 1.1234, "enum_n20_seconds": 2.5, "dask_2v1_speedup": 1.83,
        "passed": {"mc_vs_floor": True, "enum_n20_seconds": False, "dask_2v1_speedup": True},
        "targets": {"mc_vs_floor": "<= 1.2x", "enum_n20_seconds": "< 2s", "torch_vs_stecheck": ">= 1.5x",
                    "dask_2v1_speedup": ">= 1.7x", "qste_new_key": "<= 3x"},
        "spread": {"mc_vs_floor": 0.04, "dask_2v1_speedup": 0.021},
        "skipped": {"torch": "torch is not installed (pip install torch); torch_vs_stecheck not measured"},
        "mode": "full", "started_at": "2026-11-30T13:00:00Z",
        "environment": {"host": "vm", "cpu": "Xeon", "cpus": 2, "python": "3.11.7", "numpy": "2.4.6",
                        "blas_threads": "1", "commit": "0123456789abcdef", "commit_dirty": True,
                        "loadavg_before": [0.25, 0.5, 0.5], "loadavg_after": [1.96, 1.0, 0.7]},
    }


def _rows(text):
    return {line.split("|")[1].strip().split()[0].strip("`"): [c.strip() for c in line.split("|")[2:-1]]
            for line in text.splitlines() if line.startswith("| `")}


def test_every_key_gets_value_spread_target_and_status():
    rows = _rows(rb.table(_result(), "bench.json", TARGETS))
    assert rows["mc_vs_floor"] == ["1.12", "+-4 %", "<= 1.2", "met"]
    assert rows["enum_n20_seconds"] == ["2.5 s", "", "< 2 s", "missed"]
    assert rows["dask_2v1_speedup"] == ["1.83", "+-2 %", ">= 1.7", "met"]
    # skipped by the run: not measured, with the run's reason
    assert rows["torch_vs_stecheck"][0] == "-"
    assert rows["torch_vs_stecheck"][3].startswith("not measured (torch is not installed")
    # a key only the result file names (another section's) and one only run.py names
    assert rows["qste_new_key"] == ["-", "", "<= 3", "not measured"]


def test_keys_of_run_py_missing_from_the_file_are_not_measured():
    rows = _rows(rb.table(_result(), "bench.json", {**TARGETS, "net_step_vs_matmul": ("<=", 2.0, "x")}))
    assert rows["net_step_vs_matmul"] == ["-", "", "<= 2", "not measured"]


def test_run_line_names_commit_machine_and_load():
    line = rb.table(_result(), "benchmarks/results_published/x.json", TARGETS).splitlines()[-1]
    for part in ("full-mode", "2026-11-30T13:00:00Z", "commit 0123456 with uncommitted changes", "vm (Xeon, 2 cpus",
                 "numpy 2.4.6", "BLAS threads 1", "load average 0.2 at the start and 2.0 at the end",
                 "(benchmarks/results_published/x.json)"):
        assert part in line, part


def test_targets_are_read_from_run_py_without_importing_it():
    targets = rb.run_py_targets()
    assert targets["mc_vs_floor"] == ("<=", 1.2, "x")
    assert targets["dask_2v1_speedup"] == (">=", 1.7, "x")
    assert rb.run_py_targets(ROOT / "no-such-file.py") == {}


def test_main_replaces_only_the_marked_block(tmp_path):
    src = tmp_path / "bench.json"
    src.write_text(json.dumps(_result()))
    readme = tmp_path / "README.md"
    readme.write_text(f"# title\n\nbefore\n{rb.START}\nold table\n{rb.END}\nafter\n")
    assert rb.main([str(src), str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("# title\n\nbefore\n") and text.endswith(f"{rb.END}\nafter\n")
    assert "old table" not in text and "| `mc_vs_floor`" in text
    assert rb.main([str(src), str(readme)]) == 0
    assert readme.read_text() == text  # regenerating is idempotent


def test_bad_input_is_one_clear_line(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("no markers here\n")
    src = tmp_path / "bench.json"
    src.write_text(json.dumps(_result()))
    with pytest.raises(SystemExit, match="markers .* are missing"):
        rb.main([str(src), str(readme)])
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert rb.main([str(bad), str(readme)]) == 2
    assert rb.main([str(src)]) == 2
    err = capsys.readouterr().err
    assert "cannot read" in err and "usage:" in err


def test_readme_has_the_markers():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert text.count(rb.START) == 1 and text.count(rb.END) == 1
    assert text.index(rb.START) < text.index("| `mc_vs_floor`") < text.index(rb.END)


def _load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_readme_generators_replace_markers_with_the_one_shared_helper():
    """readme_benchmarks and readme_verdicts replace their blocks through tools/_readme_markers.replace_between:
    only the text between the markers changes, the markers stay, a missing marker is one line naming the file."""
    rv = _load_tool("readme_verdicts")
    markers = _load_tool("_readme_markers")
    assert rb.replace_between is rv.replace_between or rb.replace_between.__code__ is rv.replace_between.__code__
    text = "intro\n<!-- excerpt:start -->\nold\n<!-- excerpt:end -->\noutro\n"
    assert rv._replace(text, "<!-- excerpt:start -->", "<!-- excerpt:end -->", "new", "R.md") == \
        "intro\n<!-- excerpt:start -->\nnew\n<!-- excerpt:end -->\noutro\n"
    assert markers.replace_between(text, "<!-- excerpt:start -->", "<!-- excerpt:end -->", "x", readme="R.md",
                                   where="here") == rv._replace(text, "<!-- excerpt:start -->",
                                                                "<!-- excerpt:end -->", "x", "R.md")
    with pytest.raises(SystemExit, match=r"^R\.md: the markers <!-- verdicts:start --> and <!-- verdicts:end --> "
                                         r"are missing; add them where the text goes$"):
        rv._replace(text, rv.START, rv.END, "x", "R.md")
    with pytest.raises(SystemExit, match="add them around the benchmark table$"):
        rb.replace_block("no markers", "x", "R.md")
