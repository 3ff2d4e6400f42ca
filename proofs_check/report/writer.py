"""Write ``report.json``, ``report.md``, ``report-full.md``, ``report.html`` and the figures as one set, atomically.

``report.md`` is the short summary (the first screen: papers, both verdict
counts, finding counts, one line per claim) meant to be pasted into a review;
``report-full.md`` and ``report.html`` hold the full evidence.

Layout of a report directory ``DIR`` (``--out DIR``)::

    DIR/report.json  -> .stecheck/current/report.json     (symbolic links, created once)
    DIR/report.md    -> .stecheck/current/report.md
    DIR/report-full.md -> .stecheck/current/report-full.md
    DIR/report.html  -> .stecheck/current/report.html
    DIR/figures      -> .stecheck/current/figures
    DIR/.stecheck/current -> runs/<run-id>                 (the one pointer that is swapped)
    DIR/.stecheck/runs/<run-id>/report.json, report.md, report.html, figures/*.png, manifest.json

A run is rendered into a private staging folder ``DIR/.stecheck-tmp-<pid>-*``
(same file system), every file fsynced, the folder renamed to
``.stecheck/runs/<run-id>``, and then the single link ``.stecheck/current`` is
replaced by one :func:`os.replace` -- the commit.  Before it, ``DIR/report.*``
show the previous complete set; after it, the new complete set; there is no
moment with files of two runs.  The previous run folder is removed afterwards.
``manifest.json`` names the run (seed, tier, start time) and the sha256 of
every file of the set.

An interruption (Ctrl-C, an exception, a full disk) at any step leaves the
previous set in place and removes what this call staged; SIGINT/SIGTERM are
held back during the few renames of the commit.  A run killed outright
(SIGKILL, power loss) may leave a staging or run folder behind: the next
write removes those of processes that no longer run (or older than a day).

A directory written by an older stecheck (plain files) is converted on the
first write: its files are copied into a run folder that becomes current and
the plain files are replaced by links to identical content, so it too always
shows a complete set.  On a file system without symbolic links the files are
replaced one by one (``report.json`` last), as older versions did.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from stecheck.errors import InvalidArgument, OutputNotWritable
from ..results import RunResult
from .figures import figure_filename, render_figure
from .html import render_html
from .markdown import render_markdown, render_summary
from .schema import dumps_report

__all__ = ["check_writable", "write_reports", "REPORT_FILES", "FIGURES_DIR", "TMP_PREFIX", "STATE_DIR",
           "MANIFEST", "current_run_dir"]

#: The report files of a set (visible in the report directory; ``report.json`` last when copied one by one).
REPORT_FILES = ("report-full.md", "report.md", "report.html", "report.json")
FIGURES_DIR = "figures"
TMP_PREFIX = ".stecheck-tmp-"
PROBE_PREFIX = ".stecheck-probe-"
STATE_DIR = ".stecheck"
MANIFEST = "manifest.json"
#: Staging and run folders older than this (seconds) are stale whatever their process.
STALE_AFTER = 24 * 3600
_PID = re.compile(r"-(\d+)-[^-]+$")


def _not_writable(out: Path, reason: str) -> OutputNotWritable:
    return OutputNotWritable(f"cannot write reports to {_short(out)}: {reason}; choose another directory with --out DIR")


def _short(path: Path | str, limit: int = 120) -> str:
    text = str(path)
    return text if len(text) <= limit else "..." + text[-(limit - 3):]


def check_writable(out_dir: str | os.PathLike[str]) -> Path:
    """Create ``out_dir`` if needed and prove a file can be written in it; returns it as a ``Path``.

    Raises :class:`OutputNotWritable` (an environment failure: one line, exit status 4) otherwise.
    """
    out = Path(out_dir)
    if not str(out_dir).strip():
        raise _not_writable(out, "the directory name is empty")
    try:
        if out.exists() and not out.is_dir():
            raise _not_writable(out, "it exists and is not a directory")
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f"{PROBE_PREFIX}{os.getpid()}-", dir=out)
        try:
            os.close(fd)
        finally:
            os.unlink(probe)
    except OSError as exc:
        raise _not_writable(out, exc.strerror or type(exc).__name__) from None
    return out


def current_run_dir(out_dir: str | os.PathLike[str]) -> Path | None:
    """The run folder ``DIR/.stecheck/current`` points to, or ``None`` (no set written yet, or a flat one)."""
    link = Path(out_dir) / STATE_DIR / "current"
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return (link.parent / target)


# ---------------------------------------------------------------------------- steps


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


def _preflight(out: Path) -> None:
    """Refuse, before any work, a report directory whose entries cannot be replaced by links."""
    for name in (*REPORT_FILES, FIGURES_DIR):
        path = out / name
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(info.st_mode) or stat.S_ISREG(info.st_mode):
            continue
        if name == FIGURES_DIR and stat.S_ISDIR(info.st_mode):
            continue
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise _not_writable(out, f"{name} there is {kind}; remove or rename it (the previous report set "
                                 f"was left as it was)")


def _process_gone(name: str, mtime: float, mine_too: bool = False) -> bool:
    """Whether the writer that made ``name`` (its pid is in the name) no longer runs, or it is a day old.

    ``mine_too``: a folder of this very process counts as gone (a run folder that is not current is
    left only by an interrupted earlier call here; a staging folder may be another thread's).
    """
    m = _PID.search(name)
    if time.time() - mtime > STALE_AFTER:
        return True
    if m is None:
        return False
    pid = int(m.group(1))
    if pid == os.getpid():
        return mine_too
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False
    return False


def _clean_stale(out: Path) -> None:
    """Remove staging and run folders left by writers that were killed (their process is gone)."""
    current = current_run_dir(out)
    candidates = [(p, "oldfigures" in p.name) for p in out.glob(f"{TMP_PREFIX}*")]  # an old folder: garbage
    runs = out / STATE_DIR / "runs"
    if runs.is_dir():
        candidates += [(p, True) for p in runs.iterdir() if current is None or p.name != current.name]
    for path, mine_too in candidates:
        try:
            if path.is_dir() and not path.is_symlink() and _process_gone(path.name, path.stat().st_mtime, mine_too):
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass
    ours = [*out.glob(f"{PROBE_PREFIX}*"), *out.glob("report.*.tmp-*"), *out.glob(f"{FIGURES_DIR}.tmp-*")]
    for path in [*ours, *(out / STATE_DIR).glob("current.tmp-*")]:
        with contextlib.suppress(OSError):
            if path.is_symlink() or path.is_file():
                if _process_gone(path.name, path.lstat().st_mtime, mine_too=True):
                    path.unlink()


def _stage(run: RunResult, tmp: Path) -> list[str]:
    """Render every file of the set into ``tmp``; returns their relative paths."""
    staged: list[str] = []
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
    for rel in staged:  # PNGs were written by matplotlib: make them durable too
        with open(tmp / rel, "rb+") as fh:
            os.fsync(fh.fileno())
    for name in REPORT_FILES:
        _write(tmp / name, texts[name].encode("utf-8"))
        staged.append(name)
    manifest = {
        "format": "stecheck-report-set", "version": 1, "run_id": tmp.name, "seed": run.seed, "tier": run.tier,
        "started_at": run.started_at,
        "files": {rel: hashlib.sha256((tmp / rel).read_bytes()).hexdigest() for rel in staged},
    }
    _write(tmp / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    _fsync_dir(tmp / FIGURES_DIR)
    _fsync_dir(tmp)
    return staged


def _run_folder(tmp: Path, out: Path) -> Path:
    """Where the staging folder ``tmp`` is published: ``.stecheck/runs/run-<UTC time>-<pid>-<random>``."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return out / STATE_DIR / "runs" / f"run-{stamp}-{os.getpid()}-{tmp.name.rsplit('-', 1)[-1]}"


def _publish(tmp: Path, target: Path) -> Path:
    """Move the complete staging folder to ``target`` in ``.stecheck/runs`` (not yet visible)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.rename(tmp, target)
    manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    manifest["run_id"] = target.name
    _write(target / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    _fsync_dir(target.parent)
    return target


def _symlink_atomic(target: str, link: Path) -> None:
    """Make ``link`` a symbolic link to ``target`` with one rename (replacing a link or a file)."""
    tmp = link.parent / f"{link.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
    os.symlink(target, tmp)
    try:
        os.replace(tmp, link)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _migrate_legacy(out: Path) -> None:
    """Turn a directory of plain report files (older stecheck) into a current run with identical content."""
    plain = [n for n in REPORT_FILES if (out / n).is_file() and not (out / n).is_symlink()]
    figures = out / FIGURES_DIR
    plain_figures = figures.is_dir() and not figures.is_symlink()
    if not plain and not plain_figures:
        return
    if current_run_dir(out) is None:
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=out))
        try:
            for name in plain:
                shutil.copy2(out / name, tmp / name)
            if plain_figures:
                shutil.copytree(figures, tmp / FIGURES_DIR, symlinks=False)
            else:
                (tmp / FIGURES_DIR).mkdir()
            _write(tmp / MANIFEST, b'{"format": "stecheck-report-set", "version": 1, "run_id": "legacy"}\n')
            legacy = _publish(tmp, _run_folder(tmp, out))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _symlink_atomic(f"runs/{legacy.name}", out / STATE_DIR / "current")
    with _signals_deferred():  # each step shows the same (old) content; keep the two figure renames together
        for name in plain:
            _symlink_atomic(f"{STATE_DIR}/current/{name}", out / name)
        if plain_figures:
            aside = out / f"{TMP_PREFIX}oldfigures-{os.getpid()}-{os.urandom(4).hex()}"
            link_tmp = out / f"{FIGURES_DIR}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
            os.symlink(f"{STATE_DIR}/current/{FIGURES_DIR}", link_tmp)
            try:
                os.rename(figures, aside)
                try:
                    os.rename(link_tmp, figures)
                except BaseException:
                    os.rename(aside, figures)  # put the old folder back
                    raise
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(link_tmp)
                raise
            shutil.rmtree(aside, ignore_errors=True)


def _link_entries(out: Path) -> None:
    """Make ``DIR/report.*`` and ``DIR/figures`` links into ``.stecheck/current`` (once; dangling until then)."""
    for name in (*REPORT_FILES, FIGURES_DIR):
        link, target = out / name, f"{STATE_DIR}/current/{name}"
        with contextlib.suppress(OSError):
            if os.readlink(link) == target:
                continue
        if link.exists() and not link.is_symlink():
            raise _not_writable(out, f"{name} there is not a link stecheck made")  # _migrate_legacy ran first
        _symlink_atomic(target, link)


def _swap(out: Path, run_dir: Path) -> None:
    """The commit: point ``.stecheck/current`` at ``run_dir`` with one rename."""
    _symlink_atomic(f"runs/{run_dir.name}", out / STATE_DIR / "current")
    _fsync_dir(out / STATE_DIR)


def _remove_old(out: Path, previous: Path | None) -> None:
    current = current_run_dir(out)
    if previous is not None and (current is None or previous.name != current.name):
        shutil.rmtree(previous, ignore_errors=True)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back inside the block (main thread, POSIX); they are delivered after it."""
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _copy_flat(run_dir: Path, out: Path, staged: list[str]) -> None:
    """Fallback without symbolic links: replace the files one by one, ``report.json`` last."""
    figures = [rel for rel in staged if rel.startswith(f"{FIGURES_DIR}/")]
    if figures:
        (out / FIGURES_DIR).mkdir(exist_ok=True)
    for rel in figures + list(REPORT_FILES):
        tmp = out / f".{Path(rel).name}.{os.getpid()}.tmp"
        shutil.copyfile(run_dir / rel, tmp)
        os.replace(tmp, out / rel)
    _fsync_dir(out)


# ---------------------------------------------------------------------------- the entry point


def write_reports(run: RunResult, out_dir: str | os.PathLike[str]) -> dict[str, Path]:
    """Render ``run`` and write every report file into ``out_dir`` as one atomic set.

    Returns the written files keyed by their path relative to ``out_dir``:
    ``"report.json"``, ``"report.md"``, ``"report-full.md"``, ``"report.html"`` and one
    ``"figures/<claim-id>-<name>.png"`` and ``.svg`` per figure (paths under ``out_dir``,
    which resolve through the links of the module docstring).  Raises
    :class:`OutputNotWritable` if ``out_dir`` cannot be written (or the disk
    fills up; the previous set is then kept) and :class:`InvalidArgument` if
    two figures of one claim share a name.
    """
    out = check_writable(out_dir)
    _preflight(out)
    _clean_stale(out)
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=out))
    published: Path | None = None
    try:
        try:
            staged = _stage(run, tmp)
            published = _run_folder(tmp, out)
            _publish(tmp, published)
            _migrate_legacy(out)
            previous = current_run_dir(out)
            try:
                _link_entries(out)
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
                    raise
                _copy_flat(published, out, staged)  # no symbolic links here
                return {rel: out / rel for rel in staged}
            with _signals_deferred():
                _swap(out, published)
            _remove_old(out, previous)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _not_writable(out, f"{reason} (the previous report set was kept)") from None
        return {rel: out / rel for rel in staged}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        current = current_run_dir(out)
        if published is not None and (current is None or current.name != published.name):
            shutil.rmtree(published, ignore_errors=True)  # staged but never made current
