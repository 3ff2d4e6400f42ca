"""Machine-readable and LaTeX output of the CLI: --version, list/show --json, report/derive --latex, log progress."""

import io
import json
import re

import pytest

import stecheck
from stecheck.proofs_check.cli import EXIT_OK, EXIT_USAGE, _PlainProgress, main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err):
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def ex1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ex1")
    assert main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(out), "--quiet"]) == EXIT_OK
    return out


def test_version(capsys):
    code, out, _ = _run(capsys, "--version")
    assert code == EXIT_OK and out.strip() == f"stecheck {stecheck.__version__}"


def test_list_json_describes_every_claim_with_its_paper_and_method_scopes(capsys):
    code, out, _ = _run(capsys, "list", "--json")
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["tool"] == "stecheck" and data["version"] == stecheck.__version__
    ids = [c["id"] for c in data["claims"]]
    assert "SBN-EX1" in ids and len(ids) == len(set(ids))
    for c in data["claims"]:
        assert set(c) >= {"id", "title", "source", "paper", "statement_printed", "statement_checked", "tiers",
                          "readings", "findings", "methods"}
        for m in c["methods"]:
            assert isinstance(m["scope"]["covers"], str) and isinstance(m["scope"]["complete"], bool)
    assert any("arXiv" in c["paper"] for c in data["claims"])


def test_show_json_without_and_with_a_last_run(capsys, ex1_run, tmp_path):
    code, out, _ = _run(capsys, "show", "SBN-EX1", "--json", "--out", str(tmp_path))
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["claim"]["id"] == "SBN-EX1" and data["last_run"] is None
    code, out, _ = _run(capsys, "show", "SBN-EX1", "--json", "--out", str(ex1_run))
    data = json.loads(out)
    report = json.loads((ex1_run / "report.json").read_text())
    assert data["last_run"]["result"] == report["claims"][0]
    assert data["last_run"]["seed"] == 3 and data["last_run"]["stale_methods"] == []


def test_show_json_of_an_unknown_claim_is_one_line(capsys):
    code, _, err = _run(capsys, "show", "SBN-NOPE", "--json")
    assert code == EXIT_USAGE and "SBN-NOPE" in _one_line(err)


def test_report_latex_prints_a_booktabs_fragment(capsys, ex1_run):
    code, out, _ = _run(capsys, "report", str(ex1_run / "report.json"), "--latex")
    assert code == EXIT_OK
    assert "\\toprule" in out and "\\midrule" in out and "\\bottomrule" in out
    assert re.search(r"^SBN-EX1 & \\textsc\{", out, re.M)
    assert "\\begin{document}" not in out  # a fragment, to \input


def test_report_latex_with_out_is_refused(capsys, ex1_run, tmp_path):
    code, _, err = _run(capsys, "report", str(ex1_run / "report.json"), "--latex", "--out", str(tmp_path))
    assert code == EXIT_USAGE and "--latex" in _one_line(err)
    assert list(tmp_path.iterdir()) == []


def test_derive_latex(capsys):
    code, out, _ = _run(capsys, "derive", "multilinear", "--latex")
    assert code == EXIT_OK
    assert "\\begin{align*}" in out and "\\mathrm{multilinear\\_pm1} &= 5 x_{1} x_{2}" in out


@pytest.mark.parametrize(("argv", "expected"), [
    (["derive", "multilinear", "--latex", "--json"], "either --json or --latex"),
    (["derive", "--latex"], "give its NAME"),
    (["derive", "--list", "--latex"], "give its NAME"),
    (["derive", "--list", "--json"], "without --list"),
    (["list", "--latex"], "unrecognized arguments: --latex"),
    (["report", "x.json", "--json"], "unrecognized arguments: --json"),
])
def test_unknown_json_latex_combinations_are_one_line_exit_2(capsys, argv, expected):
    code, _, err = _run(capsys, *argv)
    assert code == EXIT_USAGE and expected in _one_line(err)


def test_plain_progress_prints_a_line_every_interval():
    import time

    class R:
        name, verdict = "m1", "PROVED"

    buf = io.StringIO()
    with _PlainProgress(3, interval=0.1, stream=buf) as p:
        p.event("start", None)
        p.event("done", R())
        time.sleep(0.35)
    lines = buf.getvalue().splitlines()
    assert len(lines) >= 3  # at least two periodic lines and the final one
    assert lines[-1].startswith("stecheck: 1/3 methods done, ") and lines[-1].endswith("(last: m1: PROVED)")


def test_plain_progress_is_silent_when_disabled():
    buf = io.StringIO()
    with _PlainProgress(3, interval=0.1, stream=buf, enabled=False) as p:
        p.event("done", type("R", (), {"name": "m", "verdict": "PROVED"})())
    assert buf.getvalue() == ""


def test_a_run_off_a_terminal_prints_progress_lines(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("STECHECK_PROGRESS_SECONDS", "0.05")
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--out", str(tmp_path))
    assert code == EXIT_OK
    assert re.search(r"^stecheck: (\d+)/\1 methods done, \d+ s elapsed", err, re.M), err


def test_bad_progress_interval_is_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("STECHECK_PROGRESS_SECONDS", "often")
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--out", str(tmp_path))
    assert code == EXIT_USAGE and "STECHECK_PROGRESS_SECONDS" in _one_line(err)
