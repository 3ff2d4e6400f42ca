"""Write ``report.json``, ``report.md``, ``report-full.md``, ``report.html`` and the figures, atomically.

``report.md`` is the short summary (the first screen: papers, both verdict
counts, finding counts, one line per claim) meant to be pasted into a review;
``report-full.md`` and ``report.html`` hold the full evidence.

Everything is rendered first into a private temporary directory inside the
output directory (``.stecheck-tmp-XXXX``, same file system, so renames are
atomic), each file is fsynced, and only then are the files moved into place
with :func:`os.replace`: the figures first, then the Markdown and HTML reports,
and ``report.json`` last.  If anything fails while rendering, the temporary
directory is removed and the previous reports are left exactly as they were.

Known limit: each file is replaced atomically, the set of files is not.  Should
the machine crash *between* two renames, the directory may hold new figures
with the old reports; since ``report.json`` is replaced last, it always
describes a complete run.  PNGs of claims that are not part of the new run are
left in ``figures/`` (they are not linked from the new reports).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from stecheck.errors import InvalidArgument, OutputNotWritable
from ..results import RunResult
from .figures import figure_filename, render_figure
from .html import render_html
from .markdown import render_markdown, render_summary
from .schema import dumps_report

__all__ = ["check_writable", "write_reports", "REPORT_FILES", "FIGURES_DIR", "TMP_PREFIX"]

#: The report files, in the order they are moved into place (``report.json`` last).
REPORT_FILES = ("report-full.md", "report.md", "report.html", "report.json")
FIGURES_DIR = "figures"
TMP_PREFIX = ".stecheck-tmp-"


def _not_writable(out: Path, reason: str) -> OutputNotWritable:
    return OutputNotWritable(f"cannot write reports to {out}: {reason}; choose another directory with --out DIR")


def check_writable(out_dir: str | os.PathLike[str]) -> Path:
    """Create ``out_dir`` if needed and prove a file can be written in it; returns it as a ``Path``.

    Raises :class:`OutputNotWritable` (a user error: one line, exit status 2) otherwise.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise _not_writable(out, "it exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".stecheck-probe-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _not_writable(out, exc.strerror or str(exc)) from None
    return out


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories; renames are still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_reports(run: RunResult, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Render ``run`` and write every report file into ``out_dir`` atomically.

    Returns the written files keyed by their path relative to ``out_dir``:
    ``"report.json"``, ``"report.md"``, ``"report-full.md"``, ``"report.html"`` and one
    ``"figures/<claim-id>-<name>.png"`` and ``.svg`` per figure.  Raises
    :class:`OutputNotWritable` if ``out_dir`` cannot be written and
    :class:`InvalidArgument` if two figures of one claim share a name.
    """
    out = check_writable(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=out))
    try:
        staged: list[str] = []  # relative paths, in the order they are moved into place
        figure_paths: dict[tuple[str, str], str] = {}
        figure_pngs: dict[tuple[str, str], bytes] = {}
        owner: dict[str, tuple[str, str]] = {}
        (tmp / FIGURES_DIR).mkdir()
        for claim in run.claims:
            for method in claim.methods:
                for fig in method.figures:
                    key = (claim.claim_id, fig.name)
                    rel = f"{FIGURES_DIR}/{figure_filename(claim.claim_id, fig.name)}"
                    if key in figure_pngs or rel in owner:
                        raise InvalidArgument(
                            f"claim {claim.claim_id}: two figures would be written to {rel} "
                            f"(figure {fig.name!r} of method {method.name!r} clashes with an earlier one); "
                            "give every figure of a claim its own name")
                    owner[rel] = key
                    render_figure(fig, tmp / rel)
                    svg = f"{FIGURES_DIR}/{figure_filename(claim.claim_id, fig.name, 'svg')}"
                    render_figure(fig, tmp / svg, fmt="svg")
                    figure_pngs[key] = (tmp / rel).read_bytes()
                    figure_paths[key] = rel
                    staged += [rel, svg]
        texts = {
            "report-full.md": render_markdown(run, figure_paths),
            "report.md": render_summary(run),
            "report.html": render_html(run, figure_pngs),
            "report.json": dumps_report(run),
        }
        for rel in staged:  # figures were written by matplotlib: make them durable too
            with open(tmp / rel, "rb+") as fh:
                os.fsync(fh.fileno())
        for name in REPORT_FILES:
            _write(tmp / name, texts[name].encode("utf-8"))
            staged.append(name)
        _fsync_dir(tmp / FIGURES_DIR)
        _fsync_dir(tmp)

        # Commit: nothing above touched out_dir's existing files.
        if figure_paths:
            (out / FIGURES_DIR).mkdir(exist_ok=True)
        for rel in staged:
            os.replace(tmp / rel, out / rel)
        if figure_paths:
            _fsync_dir(out / FIGURES_DIR)
        _fsync_dir(out)
        return {rel: out / rel for rel in staged}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
