"""Writing reports: writable-directory probe, atomic replacement, JSON -> reports round trip."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from test_report_support import sample_run

from stecheck.proofs_check.claim import Figure
from stecheck.errors import InvalidArgument, OutputNotWritable
from stecheck.proofs_check.report import check_writable, load_report, render_markdown, render_summary, write_reports
from stecheck.proofs_check.report import writer

EXPECTED = ["figures/SBN-B5-threshold.png", "figures/SBN-B5-threshold.svg", "figures/SBN-COR-B1-bias.png",
            "figures/SBN-COR-B1-bias.svg", "report-full.md", "report.html", "report.json", "report.md"]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(root: Path) -> list[str]:
    return [p.name for p in root.iterdir() if p.name.startswith((".stecheck-tmp-", ".stecheck-probe-"))]


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
    assert all(paths[k] == out / k for k in paths)
    assert sorted(files) == EXPECTED
    assert _leftovers(out) == []


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
    with pytest.raises(OSError, match="No space left"):
        write_reports(_second_run(), tmp_path)
    assert _snapshot(tmp_path) == before and _leftovers(tmp_path) == []


def test_report_json_is_moved_into_place_last(tmp_path, monkeypatch, fake_figures):
    order = []
    real = os.replace

    def spy(src, dst):
        order.append(Path(dst).relative_to(tmp_path).as_posix())
        real(src, dst)

    monkeypatch.setattr(writer.os, "replace", spy)
    write_reports(sample_run(), tmp_path)
    assert sorted(order) == EXPECTED
    assert order[-1] == "report.json"
    assert all(p.startswith("figures/") for p in order[:4])


def test_a_new_run_replaces_the_old_reports(tmp_path, fake_figures):
    write_reports(sample_run(), tmp_path)
    first = _snapshot(tmp_path)
    write_reports(_second_run(), tmp_path)
    now = _snapshot(tmp_path)
    assert now["report.json"] != first["report.json"] and b'"seed": 8' in now["report.json"]
    assert now["figures/SBN-COR-B1-bias.png"] == first["figures/SBN-COR-B1-bias.png"]


def test_two_figures_with_one_name_in_a_claim_are_refused(tmp_path, fake_figures):
    run = sample_run()
    run.claims[0].methods[0].figures = [Figure("bias", "clash", "x", "y", ())]
    with pytest.raises(InvalidArgument, match="claim SBN-COR-B1: two figures would be written to "
                                              "figures/SBN-COR-B1-bias.png"):
        write_reports(run, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_run_without_figures_writes_no_figures_directory(tmp_path):
    run = sample_run()
    for c in run.claims:
        for m in c.methods:
            m.figures = []
    assert sorted(write_reports(run, tmp_path)) == ["report-full.md", "report.html", "report.json", "report.md"]
    assert not (tmp_path / "figures").exists()
