"""Writing reports: writable-directory probe, the atomic report set, JSON -> reports round trip."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from test_report_support import sample_run as _support_sample_run

from stecheck.errors import InvalidArgument, OutputNotWritable
from stecheck.proofs_check.claim import Figure
from stecheck.proofs_check.report import check_writable, load_report, render_markdown, render_summary, write_reports
from stecheck.proofs_check.report import writer
from stecheck.proofs_check.verdict import Category, Finding

EXPECTED = ["figures/SBN-B5-threshold.png", "figures/SBN-B5-threshold.svg", "figures/SBN-COR-B1-bias.png",
            "figures/SBN-COR-B1-bias.svg", "report-full.md", "report.html", "report.json", "report.md"]


def sample_run():
    """The support module's run, with plain-string findings as Findings (verdict model v2)."""
    run = _support_sample_run()
    for c in run.claims:
        c.static_discrepancies = [d if isinstance(d, Finding) else Finding(Category.IMPRECISION, d)
                                  for d in c.static_discrepancies]
        for m in c.methods:
            m.discrepancies = [d if isinstance(d, Finding) else Finding(Category.IMPRECISION, d, m.name)
                               for d in m.discrepancies]
    return run


def _snapshot(root: Path) -> dict[str, bytes]:
    """The visible report set: report.* and figures/* as a reader of ``root`` sees them (through links)."""
    files = {name: (root / name).read_bytes() for name in ("report.json", "report.md", "report-full.md", "report.html")
             if (root / name).is_file()}
    if (root / "figures").is_dir():
        files.update({f"figures/{p.name}": p.read_bytes() for p in sorted((root / "figures").iterdir())})
    return files


def _leftovers(root: Path) -> list[str]:
    names = [p.name for p in root.iterdir() if p.name.startswith((".stecheck-tmp-", ".stecheck-probe-"))]
    runs = root / ".stecheck" / "runs"
    current = writer.current_run_dir(root)
    if runs.is_dir():
        names += [p.name for p in runs.iterdir() if current is None or p.name != current.name]
    return names


@pytest.fixture
def fake_figures(monkeypatch):
    """matplotlib costs ~0.3 s a figure: tests about files, not pixels, write the figure's repr instead."""
    def fake(fig, path, fmt="png"):
        Path(path).write_bytes(fmt.encode() + b" fake " + repr(fig).encode())
        return Path(path)

    monkeypatch.setattr(writer, "render_figure", fake)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    paths = write_reports(sample_run(), out)
    return out, paths, _snapshot(out)


# ------------------------------------------------------------------ check_writable


def test_check_writable_creates_nested_directories(tmp_path):
    out = check_writable(tmp_path / "a" / "b")
    assert out == tmp_path / "a" / "b" and out.is_dir()
    assert list(out.iterdir()) == []  # the probe file is removed


def test_a_file_in_the_way_is_not_writable(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputNotWritable) as info:
        check_writable(tmp_path / "f")
    assert str(info.value) == (f"cannot write reports to {tmp_path / 'f'}: it exists and is not a directory; "
                               "choose another directory with --out DIR")
    with pytest.raises(OutputNotWritable, match=r"cannot write reports to .*f/sub: .*; choose another directory"):
        check_writable(tmp_path / "f" / "sub")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores directory permissions")
def test_a_read_only_directory_is_not_writable(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(OutputNotWritable, match="Permission denied; choose another directory with --out DIR"):
            check_writable(ro)
    finally:
        ro.chmod(0o700)


# ------------------------------------------------------------------ write_reports


def test_writes_every_file_and_returns_their_paths(written):
    out, paths, files = written
    assert sorted(paths) == EXPECTED
    assert all(paths[k] == out / k and paths[k].is_file() for k in paths)
    assert sorted(files) == EXPECTED
    assert _leftovers(out) == []


def test_the_set_lives_in_one_run_folder_with_a_manifest(written):
    out, _, files = written
    run_dir = writer.current_run_dir(out)
    assert run_dir is not None and run_dir.parent == out / ".stecheck" / "runs"
    for name in ("report.json", "report.md", "report-full.md", "report.html", "figures"):
        assert os.readlink(out / name) == f".stecheck/current/{name}"
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["run_id"] == run_dir.name and manifest["seed"] == 7
    import hashlib

    assert manifest["files"] == {k: hashlib.sha256(v).hexdigest() for k, v in files.items()}


def test_markdown_links_resolve_and_html_embeds_the_same_pngs(written):
    out, _, files = written
    md = files["report-full.md"].decode()
    for rel in ("figures/SBN-COR-B1-bias.png", "figures/SBN-B5-threshold.png"):
        assert f"]({rel})" in md and (out / rel).is_file()
    html = files["report.html"].decode()
    for rel in ("figures/SBN-COR-B1-bias.png", "figures/SBN-B5-threshold.png"):
        assert base64.b64encode(files[rel]).decode() in html


def test_json_round_trips_through_write_load_and_render(written, tmp_path):
    out, _, files = written
    run = load_report(out / "report.json")
    assert run == sample_run()
    write_reports(run, tmp_path)  # what `stecheck report JSON --out DIR` does
    assert _snapshot(tmp_path) == files
    assert render_markdown(run, {("SBN-COR-B1", "bias"): "figures/SBN-COR-B1-bias.png",
                                 ("SBN-B5", "threshold"): "figures/SBN-B5-threshold.png"}) == \
        files["report-full.md"].decode()
    assert render_summary(run) == files["report.md"].decode()


def test_report_md_is_the_short_summary_and_links_the_full_evidence(written):
    out, _, files = written
    md = files["report.md"].decode()
    assert "](report-full.md#claim-SBN-B4)" in md and "[report.html](report.html)" in md
    assert len(md) < len(files["report-full.md"]) / 2 and "![" not in md


def test_figures_are_150_dpi_png_and_svg(written):
    out, _, files = written
    from PIL import Image

    with Image.open(out / "figures/SBN-COR-B1-bias.png") as im:
        assert tuple(round(v) for v in im.info["dpi"]) == (150, 150)
    svg = files["figures/SBN-COR-B1-bias.svg"].decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def _second_run():
    run = sample_run()
    run.seed = 8
    run.claims[0].replay = run.claims[0].replay.replace("--seed 7", "--seed 8")
    return run


@pytest.mark.parametrize("target", ["render_figure", "render_markdown", "render_html", "dumps_report"])
def test_a_failure_while_rendering_leaves_the_previous_reports_untouched(tmp_path, monkeypatch, target, fake_figures):
    write_reports(sample_run(), tmp_path)
    before = _snapshot(tmp_path)
    real = getattr(writer, target)
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if target == "render_figure" and len(calls) == 1:  # fail on the second figure, after one is written
            return real(*args, **kwargs)
        raise RuntimeError("renderer exploded")

    monkeypatch.setattr(writer, target, failing)
    with pytest.raises(RuntimeError, match="renderer exploded"):
        write_reports(_second_run(), tmp_path)
    assert _snapshot(tmp_path) == before
    assert _leftovers(tmp_path) == []


def test_a_failure_while_writing_files_leaves_the_previous_reports_untouched(tmp_path, monkeypatch, fake_figures):
    write_reports(sample_run(), tmp_path)
    before = _snapshot(tmp_path)
    real = writer._write

    def failing(path, data):
        if path.name == "report.json":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(writer, "_write", failing)
    with pytest.raises(OutputNotWritable, match="No space left on device .the previous report set was kept"):
        write_reports(_second_run(), tmp_path)
    assert _snapshot(tmp_path) == before and _leftovers(tmp_path) == []


def test_a_new_run_replaces_the_old_reports(tmp_path, fake_figures):
    write_reports(sample_run(), tmp_path)
    first = _snapshot(tmp_path)
    write_reports(_second_run(), tmp_path)
    now = _snapshot(tmp_path)
    assert now["report.json"] != first["report.json"] and b'"seed": 8' in now["report.json"]
    assert now["figures/SBN-COR-B1-bias.png"] == first["figures/SBN-COR-B1-bias.png"]
    assert _leftovers(tmp_path) == [] and len(list((tmp_path / ".stecheck" / "runs").iterdir())) == 1


def test_two_figures_with_one_name_in_a_claim_are_refused(tmp_path, fake_figures):
    run = sample_run()
    run.claims[0].methods[0].figures = [Figure("bias", "clash", "x", "y", ())]
    with pytest.raises(InvalidArgument, match="claim SBN-COR-B1: two figures would be written to "
                                              "figures/SBN-COR-B1-bias.png"):
        write_reports(run, tmp_path)
    assert _snapshot(tmp_path) == {} and _leftovers(tmp_path) == []


def test_a_run_without_figures_writes_no_figures_directory(tmp_path):
    run = sample_run()
    for c in run.claims:
        for m in c.methods:
            m.figures = []
    assert sorted(write_reports(run, tmp_path)) == ["report-full.md", "report.html", "report.json", "report.md"]
    assert list((tmp_path / "figures").iterdir()) == []


# ------------------------------------------------------------------ the set is replaced whole or not at all

STEPS = ["_preflight", "_clean_stale", "_stage", "_publish", "_migrate_legacy", "_link_entries", "_swap",
         "_remove_old", "_write", "render_markdown", "render_html", "dumps_report", "_fsync_dir"]


def _third_run():
    run = _second_run()
    run.seed = 9
    return run


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("step", STEPS)
def test_an_interruption_at_any_step_leaves_the_old_or_the_new_complete_set(tmp_path, monkeypatch, fake_figures,
                                                                             step, when):
    write_reports(sample_run(), tmp_path)
    old = _snapshot(tmp_path)
    real = getattr(writer, step)

    def interrupted(*args, **kwargs):
        if when == "after":
            real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, step, interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_reports(_second_run(), tmp_path)
    monkeypatch.setattr(writer, step, real)
    now = _snapshot(tmp_path)
    new_dir = tmp_path.parent / f"{tmp_path.name}-new"
    write_reports(_second_run(), new_dir)
    assert now in (old, _snapshot(new_dir)), f"interrupted {when} {step}: a mixed set is visible"
    # the next run works and leaves nothing behind
    write_reports(_third_run(), tmp_path)
    assert b'"seed": 9' in _snapshot(tmp_path)["report.json"] and _leftovers(tmp_path) == []


def _interrupt_nth_os_call(monkeypatch, n):
    """Patch the writer's renames/links/removals so that the n-th such call raises KeyboardInterrupt."""
    calls = {"count": 0}

    def wrap(fn):
        def inner(*args, **kwargs):
            calls["count"] += 1
            if calls["count"] == n:
                raise KeyboardInterrupt
            return fn(*args, **kwargs)
        return inner

    for name in ("replace", "rename", "symlink", "unlink"):
        monkeypatch.setattr(writer.os, name, wrap(getattr(os, name)))
    return calls


@pytest.mark.parametrize("legacy", [False, True], ids=["links", "legacy-flat-directory"])
def test_an_interruption_at_every_rename_leaves_a_complete_set(tmp_path, monkeypatch, fake_figures, legacy):
    reference = tmp_path / "reference"
    write_reports(sample_run(), reference / "old")
    write_reports(_second_run(), reference / "new")
    sets = (_snapshot(reference / "old"), _snapshot(reference / "new"))
    n = 1
    while True:
        out = tmp_path / f"out{n}"
        if legacy:  # a directory written by an older stecheck: plain files and a plain figures/ folder
            out.mkdir()
            for rel, data in sets[0].items():
                (out / rel).parent.mkdir(exist_ok=True)
                (out / rel).write_bytes(data)
        else:
            write_reports(sample_run(), out)
        with monkeypatch.context() as m:
            calls = _interrupt_nth_os_call(m, n)
            try:
                write_reports(_second_run(), out)
                finished = True
            except KeyboardInterrupt:
                finished = False
        assert _snapshot(out) in sets, f"interrupted at OS call {n}: a mixed set is visible"
        if finished:
            assert _snapshot(out) == sets[1]
            break
        write_reports(_second_run(), out)  # the next run completes and cleans up
        assert _snapshot(out) == sets[1] and _leftovers(out) == []
        n += 1
    assert calls["count"] >= 3 and n >= 3


def test_a_report_json_folder_is_refused_and_the_rest_kept(tmp_path, fake_figures):
    write_reports(sample_run(), tmp_path / "a")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "report.md").write_text("old md")
    (tmp_path / "b" / "report.json").mkdir()
    with pytest.raises(OutputNotWritable, match=r"report.json there is a folder; remove or rename it"):
        write_reports(_second_run(), tmp_path / "b")
    assert (tmp_path / "b" / "report.md").read_text() == "old md" and (tmp_path / "b" / "report.json").is_dir()
    assert _leftovers(tmp_path / "b") == []


@pytest.mark.parametrize("err", [30, 27, 28, 36])  # EROFS, EFBIG, ENOSPC, ENAMETOOLONG
def test_environment_failures_while_committing_are_one_line_and_keep_the_old_set(tmp_path, monkeypatch,
                                                                                 fake_figures, err):
    write_reports(sample_run(), tmp_path)
    before = _snapshot(tmp_path)

    def failing(*args, **kwargs):
        raise OSError(err, os.strerror(err))

    monkeypatch.setattr(writer.os, "rename", failing)
    with pytest.raises(OutputNotWritable, match=f"{os.strerror(err)} .the previous report set was kept"):
        write_reports(_second_run(), tmp_path)
    assert _snapshot(tmp_path) == before


def test_stale_staging_and_run_folders_of_dead_processes_are_removed(tmp_path, fake_figures):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    write_reports(sample_run(), tmp_path)
    stale = [tmp_path / f".stecheck-tmp-{dead}-abc123", tmp_path / ".stecheck" / "runs" / f"run-x-{dead}-abc"]
    alive = tmp_path / f".stecheck-tmp-{os.getpid()}-mine"  # a concurrent writer in a live process: kept
    for p in (*stale, alive):
        p.mkdir()
        (p / "report.json").write_text("half")
    write_reports(_second_run(), tmp_path)
    assert not any(p.exists() for p in stale) and alive.exists()


def test_a_legacy_flat_directory_is_converted(tmp_path, fake_figures):
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "old.png").write_bytes(b"old")
    for name in ("report.json", "report.md", "report.html"):
        (tmp_path / name).write_text(f"old {name}")
    write_reports(_second_run(), tmp_path)
    snap = _snapshot(tmp_path)
    assert b'"seed": 8' in snap["report.json"] and "figures/old.png" not in snap
    assert (tmp_path / "figures").is_symlink() and _leftovers(tmp_path) == []
