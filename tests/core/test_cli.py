"""The command line: every documented error path gives one clear line, exit 2, and writes nothing."""

import json
import time
from pathlib import Path

import pytest

from stecheck.proofs_check.cli import EXIT_ENVIRONMENT, EXIT_FAILED, EXIT_OK, EXIT_USAGE, main


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _one_line(err):
    lines = [l for l in err.strip().splitlines() if l.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def test_list_shows_ids_and_tiers(capsys):
    code, out, _ = _run(capsys, "list")
    assert code == EXIT_OK
    for cid in ("SBN-B1", "SBN-B2", "SBN-EX1", "SBN-EX2", "SBN-B3"):
        assert cid in out
    assert "quick" in out


def test_unknown_claim_id_suggests_and_writes_nothing(capsys, tmp_path):
    code, _, err = _run(capsys, "run", "SBN-B9X", "--workers", "0", "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE
    line = _one_line(err)
    assert "SBN-B9X" in line and "did you mean" in line
    assert not (tmp_path / "r").exists()


def test_negative_workers_is_a_usage_error(capsys, tmp_path):
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "-1", "--out", str(tmp_path))
    assert code == EXIT_USAGE
    assert "--workers must be >= 0" in _one_line(err)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_out_is_an_environment_failure(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--out", str(blocker / "reports"))
    assert code == EXIT_ENVIRONMENT
    line = _one_line(err)
    assert "cannot write reports" in line and "--out" in line


def test_unreachable_scheduler_is_an_environment_failure(capsys, tmp_path):
    start = time.monotonic()
    code, _, err = _run(capsys, "run", "SBN-EX1", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "r"))
    assert code == EXIT_ENVIRONMENT
    line = _one_line(err)
    assert "cannot reach the Dask scheduler" in line and "dask scheduler" in line
    assert not (tmp_path / "r" / "report.json").exists()
    assert time.monotonic() - start < 60


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"verdicts": {"SBN-NOPE": "PROVED"}}', "unknown claim id"),
        ('{"verdicts": {"SBN-EX1": "TRUE"}}', "is not one of"),
        ('["SBN-EX1"]', "must map claim ids to verdicts"),
    ],
)
def test_malformed_expect_file_is_a_usage_error(capsys, tmp_path, content, message):
    expect = tmp_path / "expect.json"
    expect.write_text(content)
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--expect", str(expect),
                        "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE
    assert message in _one_line(err)
    assert not (tmp_path / "r").exists()


def test_missing_expect_file(capsys, tmp_path):
    code, _, err = _run(capsys, "run", "SBN-EX1", "--expect", str(tmp_path / "nope.json"), "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE
    assert "does not exist" in _one_line(err)


def test_bad_tier_and_unknown_option(capsys):
    code, _, err = _run(capsys, "run", "--tier", "medium")
    assert code == EXIT_USAGE
    assert "medium" in _one_line(err)
    code, _, err = _run(capsys, "run", "--frobnicate")
    assert code == EXIT_USAGE
    assert "frobnicate" in _one_line(err)


def test_unknown_derivation(capsys):
    code, _, err = _run(capsys, "derive", "multilinaer")
    assert code == EXIT_USAGE
    assert "multilinear" in _one_line(err)


def test_report_of_missing_json(capsys, tmp_path):
    code, _, err = _run(capsys, "report", str(tmp_path / "report.json"))
    assert code == EXIT_USAGE
    _one_line(err)


@pytest.fixture(scope="module")
def ex1_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ex1")
    expect = out / "pinned.json"
    assert main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(out),
                 "--write-expect", str(expect), "--quiet"]) == EXIT_OK
    return out, expect


def test_run_writes_three_reports_and_a_pinned_file(ex1_run):
    out, expect = ex1_run
    for name in ("report.json", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    pinned = json.loads(expect.read_text())
    claim = json.loads((out / "report.json").read_text())["claims"][0]
    assert pinned["version"] == 2 and pinned["seed"] == 3 and pinned["tier"] == "quick"
    assert list(pinned["verdicts"]) == ["SBN-EX1"]
    assert pinned["verdicts"]["SBN-EX1"]["checked"] == claim["verdict"]


def test_expect_passes_on_pinned_and_fails_on_changed_verdict(capsys, ex1_run, tmp_path):
    out, expect = ex1_run
    assert main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(tmp_path),
                 "--expect", str(expect), "--quiet"]) == EXIT_OK
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"verdicts": {"SBN-EX1": "REFUTED"}}))
    capsys.readouterr()
    code = main(["run", "SBN-EX1", "--workers", "0", "--seed", "3", "--out", str(tmp_path),
                 "--expect", str(wrong), "--quiet"])
    assert code == EXIT_FAILED
    assert "expected REFUTED" in capsys.readouterr().err


def test_show_prints_statement_and_last_evidence(capsys, ex1_run):
    out, _ = ex1_run
    code, text, _ = _run(capsys, "show", "SBN-EX1", "--out", str(out))
    assert code == EXIT_OK
    assert "statement as checked" in text and "last run" in text and "STALE" not in text


def test_report_rerenders_from_json(capsys, ex1_run, tmp_path):
    out, _ = ex1_run
    code, _, _ = _run(capsys, "report", str(out / "report.json"), "--out", str(tmp_path))
    assert code == EXIT_OK
    assert (tmp_path / "report.md").read_text() == (out / "report.md").read_text()
    assert (tmp_path / "report.html").exists()


def test_derive_json_gives_srepr_and_string(capsys):
    code, out, _ = _run(capsys, "derive", "ex1", "--json")
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["name"] == "ex1" and data["equation"]
    for value in data["result"].values():
        assert set(value) >= {"srepr", "str"}


def _undecided(ctx):
    from stecheck.proofs_check import Outcome, Verdict

    return Outcome(Verdict.INCONCLUSIVE, {"why": "budget too small"})


def test_strict_fails_on_inconclusive(capsys, tmp_path, monkeypatch):
    from stecheck.proofs_check import Claim, Kind, Method, Source
    from stecheck.proofs_check import registry as registry_module

    fake = registry_module.Registry([Claim("T-UNDECIDED", "t", Source("f", "s"), "p", "c",
                                           (Method("m", Kind.MONTECARLO, _undecided, "d"),))])
    monkeypatch.setattr(registry_module, "default_registry", lambda: fake)
    assert main(["run", "--workers", "0", "--out", str(tmp_path), "--quiet"]) == EXIT_OK
    capsys.readouterr()
    code = main(["run", "--workers", "0", "--out", str(tmp_path), "--quiet", "--strict"])
    assert code == EXIT_FAILED
    assert "T-UNDECIDED=INCONCLUSIVE" in capsys.readouterr().err


def test_workers_and_scheduler_together_is_a_usage_error(capsys, tmp_path):
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "2", "--scheduler", "tcp://127.0.0.1:9",
                        "--out", str(tmp_path))
    assert code == EXIT_USAGE
    assert "not both" in _one_line(err)


def test_warm_derive_answers_from_the_rendered_cache_without_sympy(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "STECHECK_CACHE_DIR": str(tmp_path)}
    probe = ("import sys; from proofs_check.cli import main; code = main(['derive', 'ex1']); "
             "print('SYMPY-LOADED' if 'sympy' in sys.modules else 'SYMPY-NOT-LOADED', code)")
    cold = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    warm = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert cold.stdout.strip().endswith("SYMPY-LOADED 0")
    assert warm.stdout.strip().endswith("SYMPY-NOT-LOADED 0")
    assert cold.stdout.replace("SYMPY-LOADED", "") == warm.stdout.replace("SYMPY-NOT-LOADED", "")


# ------------------------------------------------------------------ issue 7: every bad input is one clear line


@pytest.mark.parametrize("address, needle", [
    ("foo", "is not a scheduler address"),
    ("tls://127.0.0.1:8786", "only tcp://"),
    ("ucx://127.0.0.1:8786", "only tcp://"),
    ("tcp://127.0.0.1", "is not a scheduler address"),
    ("tcp://127.0.0.1:70000", "port in 1..65535"),
    ("", "must not be empty"),
    ("tcp://" + "a" * 5000 + ":1", "is not a scheduler address"),
])
def test_malformed_scheduler_addresses_are_refused_at_once(capsys, tmp_path, address, needle):
    start = time.monotonic()
    code, _, err = _run(capsys, "run", "SBN-EX1", "--scheduler", address, "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE and needle in _one_line(err) and len(err) < 600
    assert time.monotonic() - start < 5 and not (tmp_path / "r").exists()


def test_too_many_workers_are_refused(capsys, tmp_path):
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "64000", "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE and "more than this machine can run" in _one_line(err)


@pytest.mark.parametrize("kind", ["empty", "folder", "device", "missing-folder-under-a-file"])
def test_write_expect_is_validated_before_computing(capsys, tmp_path, kind, monkeypatch):
    from stecheck.proofs_check import runner

    monkeypatch.setattr(runner, "execute_method", lambda *a, **k: pytest.fail("computed before validating"))
    target = {"empty": "", "folder": str(tmp_path), "device": "/dev/full",
              "missing-folder-under-a-file": str(tmp_path / "f" / "x.json")}[kind]
    (tmp_path / "f").write_text("a file")
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--out", str(tmp_path / "r"),
                        "--write-expect", target)
    assert code == EXIT_USAGE and "--write-expect" in _one_line(err)
    assert Path("/dev/full").is_char_device()


@pytest.mark.parametrize("content, needle", [
    (b"[" * 100_000 + b"]" * 100_000, "nested more than"),
    (b'{"verdicts": {"SBN-EX1": ' + b"9" * 5000 + b"}}", "digits"),
    (b"\xff\xfe\x00", "not UTF-8"),
    (b'{"verdicts": {"SBN-EX1": NaN}}', "NaN"),
])
def test_hostile_expect_files_are_one_line(capsys, tmp_path, content, needle):
    expect = tmp_path / "expect.json"
    expect.write_bytes(content)
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--expect", str(expect),
                        "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE and needle in _one_line(err)


@pytest.mark.parametrize("path, needle", [("/dev/zero", "not a regular file"), (".", "is a folder")])
def test_expect_from_a_device_or_folder_is_refused_without_hanging(capsys, tmp_path, path, needle):
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--expect", path, "--out", str(tmp_path / "r"))
    assert code == EXIT_USAGE and needle in _one_line(err)


def test_report_json_being_a_folder_is_exit_4_and_keeps_the_previous_set(capsys, ex1_run, tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "report.md").write_text("old md")
    (out / "report.html").write_text("old html")
    (out / "report.json").mkdir()
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--out", str(out), "--quiet")
    assert code == EXIT_ENVIRONMENT and "report.json there is a folder" in _one_line(err)
    assert (out / "report.md").read_text() == "old md" and (out / "report.html").read_text() == "old html"


def test_a_full_disk_while_writing_reports_is_exit_4(capsys, tmp_path, monkeypatch):
    from stecheck.proofs_check.report import writer

    def full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer, "_write", full)
    code, _, err = _run(capsys, "run", "SBN-EX1", "--workers", "0", "--out", str(tmp_path / "r"), "--quiet")
    assert code == EXIT_ENVIRONMENT and "No space left on device" in _one_line(err)


def test_report_rerenders_beside_a_linked_report_json(capsys, ex1_run, tmp_path):
    import shutil

    out, _ = ex1_run
    copy = tmp_path / "copy"
    shutil.copytree(out, copy, symlinks=True)
    code, _, err = _run(capsys, "report", str(copy / "report.json"))
    assert code == EXIT_OK, err
    assert (copy / "report.md").read_text() == (out / "report.md").read_text()
    assert not (copy / ".stecheck" / "current" / ".stecheck").exists()  # not written inside the run folder


@pytest.mark.parametrize("argv", [["derive", "multilinear", "--expr", "x" * 100_000],
                                  ["run", "--tier", "q" * 100_000], ["show", "S" * 100_000],
                                  ["estimate", "e" * 100_000]])
def test_error_lines_never_echo_unbounded_input(capsys, argv):
    code, _, err = _run(capsys, *argv)
    assert code == EXIT_USAGE and len(_one_line(err)) <= 420


def _session_processes(sid: int) -> list[int]:
    """Pids of live processes in session ``sid`` (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":
                pids.append(int(entry.name))
    return pids


def _workers(sid: int) -> list[int]:
    """The worker processes (multiprocessing spawns, not the resource tracker) of session ``sid``."""
    out = []
    for pid in _session_processes(sid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            out.append(pid)
    return out


def _as_a_shell_starts_it():
    """In the child before exec: SIGINT at its default disposition and unblocked, as a shell starts a command.
    An ignored or blocked signal survives exec, and the test process's own disposition (pytest, or a test that
    ran before) must not decide what the command under test sees."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@pytest.mark.cluster
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_ctrl_c_with_the_embedded_cluster_is_one_line_exit_130_and_stops_the_workers(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "r"
    # The full tier with an empty derivation cache runs for many minutes, so the Ctrl-C lands in the middle of
    # the computation (a warm cache made the quick tier short enough for it to land while the finished report
    # was written, when SIGINT is held and the run completes with exit 0).
    env = {**os.environ, "STECHECK_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen([sys.executable, "-m", "stecheck.proofs_check.cli", "run", "--workers", "2", "--quiet",
                             "--tier", "full", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True, env=env, preexec_fn=_as_a_shell_starts_it)
    try:
        deadline = time.monotonic() + 120
        while len(_workers(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(15)  # Ctrl-C while the cluster starts is ignored (the workers must inherit SIG_IGN)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["stecheck: interrupted; no report was written, the previous report set was kept"]
    deadline = time.monotonic() + 30
    while _session_processes(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _session_processes(proc.pid) == [], "worker processes outlived the interrupted run"
    assert not (out / "report.json").exists()


@pytest.mark.cluster
def test_a_scheduler_lost_mid_run_stops_cleanly_saying_what_completed(tmp_path):
    from distributed import LocalCluster

    from stecheck.errors import SchedulerLost
    from stecheck.proofs_check.registry import default_registry
    from stecheck.proofs_check.runner import run_claims

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    claims = default_registry().select(["SBN-EX1", "SBN-EX2", "SBN-B1", "SBN-B2"])
    seen = []

    def progress(event, result):
        if event == "done":
            seen.append(result.name)
            if len(seen) == 1:
                cluster.close()  # the scheduler and its worker go away after the first result

    start = time.monotonic()
    try:
        with pytest.raises(SchedulerLost, match=r"lost the Dask cluster .* after 1 of \d+ tasks completed "
                                                r"\(.*\); no report was written"):
            run_claims(claims, workers=None, scheduler=cluster.scheduler_address, progress=progress)
    finally:
        cluster.close()
    assert time.monotonic() - start < 120


def test_a_derivation_past_its_time_budget_is_one_line_exit_2(capsys, tmp_path, monkeypatch):
    from stecheck.proofs_check import cli

    monkeypatch.setenv("STECHECK_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(cli, "DERIVE_SECONDS", 0.05)
    start = time.monotonic()
    code, _, err = _run(capsys, "derive", "multilinear", "--expr", "sin(x1+x2+x3+x4+x5+x6+x7+x8)**9*exp(x8)")
    assert code == EXIT_USAGE and "took more than 0.05 s" in _one_line(err)
    assert time.monotonic() - start < 30


def test_a_failed_self_check_is_a_bug_exit_3_with_traceback_not_a_usage_error(monkeypatch, capsys):
    from stecheck.errors import SelfCheckFailed
    from stecheck.proofs_check import cli

    def broken(args, console):
        raise SelfCheckFailed("noise family 'uniform' fails its consistency audit: F(F^-1(u)) != u")

    monkeypatch.setitem(cli._COMMANDS, "list", broken)
    assert cli.main(["list"]) == cli.EXIT_INTERNAL == 3
    err = capsys.readouterr().err
    assert "Traceback" in err and "consistency audit" in err and "a bug in stecheck" in err
