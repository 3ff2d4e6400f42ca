"""The ``stecheck`` command line.

Argument parsing and terminal output live here; the work is done by the plain
callables of :mod:`proofs_check.runner`, :mod:`proofs_check.report` and
:mod:`theory.derivations`.

Exit codes: 0 ok, 1 ``--strict``/``--expect`` failure, 2 usage error
(one line on stderr, no traceback), 3 internal error (a bug: traceback kept),
4 environment failure (full disk, unwritable or read-only report folder,
unreachable or lost scheduler, out of memory: one line; the previous report
set is left intact), 130 interrupted (Ctrl-C: one line).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stecheck.errors import EnvironmentFailure, InvalidArgument, SelfCheckFailed, StecheckError
from stecheck.safeio import shorten
from .pins import EXPECT_FORMAT, MAX_EXPECT_BYTES  # noqa: F401 - re-exported names of the expect file
from .verdict import Verdict

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERNAL", "EXIT_ENVIRONMENT",
           "EXIT_INTERRUPTED", "max_workers", "check_scheduler_address", "check_output_file"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL, EXIT_ENVIRONMENT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130
#: Longest error line printed (characters): a message never echoes unbounded input.
MAX_MESSAGE = 400

VERDICT_STYLE = {
    "PROVED": "bold green",
    "VERIFIED": "cyan",
    "REFUTED": "bold red",
    "INCONCLUSIVE": "yellow",
    "ERROR": "magenta",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line plus a hint, exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise InvalidArgument(f"{_clip(message, MAX_MESSAGE - 40)} (see `{self.prog} --help`)")


def _clip(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` on one line, at most ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_int(text: str, flag: str, what: str) -> int:
    """``int(text)`` for option ``flag``; at most 30 digits, so a huge value never reaches a computation."""
    digits = text.strip().lstrip("+-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 30:
        raise argparse.ArgumentTypeError(f"{flag} must be {what}, got {shorten(text, 40)}")
    return int(text)


def max_workers() -> int:
    """Most local worker processes this machine can run: twice its usable cores, at least 4."""
    from .runner import default_workers

    return max(4, 2 * default_workers())


def _workers(text: str) -> int:
    value = _parse_int(text, "--workers", "an integer >= 0")
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"--workers must be >= 0 (0 runs in this process, N starts N local worker processes), got {value}"
        )
    if value > max_workers():
        raise argparse.ArgumentTypeError(
            f"--workers {value} is more than this machine can run (at most {max_workers()} here, twice its "
            f"cores); use fewer, or --scheduler ADDRESS for a bigger cluster"
        )
    return value


def _seed(text: str) -> int:
    value = _parse_int(text, "--seed", "a non-negative integer (at most 30 digits)")
    if value < 0:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {value}")
    return value


def check_scheduler_address(text: str) -> str:
    """``tcp://HOST:PORT`` (``HOST:PORT`` is read as tcp) or a usage error naming what is valid."""
    from stecheck.numerics.distributed import scheduler_address

    return scheduler_address(text)


def check_output_file(text: str, flag: str) -> Path:
    """A path a result file may be written to: not empty, not a folder or special file, in a writable folder."""
    import os
    import stat

    if not text or not text.strip():
        raise InvalidArgument(f"{flag} needs a file name, got an empty string; e.g. {flag} verdicts.json")
    path = Path(text)
    shown = shorten(text, 80)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise InvalidArgument(f"{flag} {shown}: {exc.strerror or exc}; choose another file") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InvalidArgument(f"{flag} {shown} is a folder; give a file name inside it, e.g. {flag} "
                              f"{shorten(str(path / 'verdicts.json'), 80)}")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InvalidArgument(f"{flag} {shown} is a device, pipe or socket, not a regular file; choose another file")
    parent = path.absolute().parent
    while not parent.exists() and parent != parent.parent:  # missing folders are created when writing
        parent = parent.parent
    if not parent.is_dir():
        raise InvalidArgument(f"{flag} {shown}: {shorten(str(parent), 80)} is not a folder; choose another file")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise EnvironmentFailure(f"{flag} {shown}: the folder {shorten(str(parent), 80)} is not writable; "
                                 f"choose another file")
    return path


def _scheduler_type(text: str) -> str:
    try:
        return check_scheduler_address(text)
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stecheck", description="Check claims of straight-through-estimator theory.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sub.add_parser("list", help="list claim ids, titles and tiers")

    run = sub.add_parser("run", help="check claims and write report.json, report.md and report.html")
    run.add_argument("ids", nargs="*", metavar="ID", help="claim ids (default: all)")
    run.add_argument("--tier", choices=["quick", "full"], default="quick", help="effort level (default: quick)")
    run.add_argument("--seed", type=_seed, default=0, help="run seed; the same seed gives the same report (default: 0)")
    run.add_argument("--workers", type=_workers, default=None,
                     help="0 = run in this process; N = embedded local Dask cluster with N processes "
                          "(default: one per core)")
    run.add_argument("--scheduler", metavar="ADDRESS", default=None, type=_scheduler_type,
                     help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    run.add_argument("--out", metavar="DIR", default="reports", help="report directory (default: reports/)")
    run.add_argument("--strict", action="store_true", help="exit 1 if any verdict is ERROR or INCONCLUSIVE")
    run.add_argument("--expect", metavar="FILE",
                     help="exit 1 if any pinned verdict (checked, printed, per reading) differs from this file")
    run.add_argument("--write-expect", metavar="FILE",
                     help="write this run's verdicts (checked, printed, per reading; seed, tier) as a pinned file")
    run.add_argument("--allow-other-seed", action="store_true",
                     help="compare with an --expect file pinned for another seed or tier")
    run.add_argument("--quiet", action="store_true", help="no progress bar or tables")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                     help="a per-claim parameter, e.g. --set n_max=1024 --set trials=2000 (repeatable; "
                          "`stecheck list` claims declare them)")

    show = sub.add_parser("show", help="show a claim, its formal statement, methods and last evidence")
    show.add_argument("id", metavar="ID")
    show.add_argument("--out", metavar="DIR", default="reports", help="where the last report is (default: reports/)")

    report = sub.add_parser("report", help="re-render report.md and report.html from a report.json")
    report.add_argument("json", metavar="JSON", help="path to a report.json")
    report.add_argument("--out", metavar="DIR", default=None, help="output directory (default: beside the JSON)")

    derive = sub.add_parser("derive", help="print a symbolic result derived by theory/")
    derive.add_argument("name", nargs="?", metavar="NAME")
    derive.add_argument("--list", action="store_true", help="list the available derivations")
    derive.add_argument("--json", action="store_true", help="machine-readable output")
    derive.add_argument("--expr", default=None, help="for `multilinear`: a sympy expression in x1..xn")

    from .estimate_cmd import add_estimate_parser

    add_estimate_parser(sub)
    from .battery.cli_cmd import add_check_estimator_parser

    add_check_estimator_parser(sub)
    _add_output_options(parser, sub)
    return parser


# ---------------------------------------------------------------------------- helpers


def _verdict(v: str | Verdict) -> str:
    v = str(v)
    return f"[{VERDICT_STYLE.get(v, '')}]{v}[/]"


def _method_counts(claim) -> str:
    """'3 PROVED, 1 VERIFIED | 1 REFUTED': method verdicts by role, for the run table."""
    from collections import Counter

    parts = []
    for role in ("checked", "printed"):
        counts = Counter(m.verdict.value for m in claim.methods if m.role == role)
        parts.append(", ".join(f"{n} {_verdict(v)}" for v, n in sorted(counts.items())) or "-")
    return " | ".join(parts)


def _write_json_atomic(path: Path, data: object) -> None:
    """Write ``data`` as JSON to ``path`` via a temporary file in the same folder and one rename."""
    import os
    import tempfile

    check_output_file(str(path), "--write-expect")  # again: the path may have changed during the run
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {shorten(str(path), 80)}: {exc.strerror or exc}; "
                                 f"choose another file") from None
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise EnvironmentFailure(f"cannot write {shorten(str(path), 80)}: {exc.strerror or exc}; "
                                 f"the file was left as it was; free space or choose another file") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------- commands


def _cmd_list(args, console: Console) -> int:
    from .registry import default_registry

    if args.json:
        return _print_json(_claims_json(default_registry()))

    table = Table(title="stecheck claims")
    for col in ("id", "title", "tiers", "methods", "source"):
        table.add_column(col)
    for c in default_registry():
        table.add_row(c.id, c.title, ", ".join(t.value for t in c.tiers), str(len(c.methods)), str(c.source))
    console.print(table)
    return EXIT_OK


def _cmd_run(args, console: Console) -> int:
    from .registry import default_registry
    from .report import check_writable, write_reports
    from .runner import run_claims

    if args.scheduler is not None and args.workers is not None:
        raise InvalidArgument("give either --workers (local cluster) or --scheduler (existing cluster), not both")
    registry = default_registry()
    claims = registry.select(args.ids)  # unknown ids fail here, before any work
    settings = {}
    for item in args.settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument(f"--set {item!r}: expected KEY=VALUE, e.g. --set trials=2000")
        settings[key.strip()] = value
    from .runner import check_settings
    check_settings([c for c in claims if c.methods_for(args.tier)], settings)
    expected = None
    if args.expect:
        from .pins import read_expect

        expected = read_expect(args.expect, list(registry), seed=args.seed, tier=args.tier,
                               allow_other=args.allow_other_seed)
        if not any(c.id in expected.pins for c in claims):
            raise InvalidArgument(f"--expect file {shorten(args.expect, 80)} pins none of the claims selected "
                                  f"({', '.join(c.id for c in claims[:5])}{', ...' if len(claims) > 5 else ''}); "
                                  f"select pinned claims or write a new file with --write-expect")
    write_expect = check_output_file(args.write_expect, "--write-expect") if args.write_expect is not None else None
    out_dir = check_writable(args.out)

    n_tasks = sum(len(c.methods_for(args.tier)) for c in claims)
    plain = _PlainProgress(n_tasks, enabled=not args.quiet and not console.is_terminal)  # logs: a line every few s
    with Progress(
        TextColumn("[bold]checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=console, disable=args.quiet or plain.enabled, transient=True,
    ) as bar, plain:
        task = bar.add_task("", total=n_tasks)

        def progress(event, result):
            plain.event(event, result)
            if event == "done":
                bar.update(task, advance=1, description=f"{result.name}: {result.verdict}")

        run = run_claims(claims, seed=args.seed, tier=args.tier, workers=args.workers,
                         scheduler=args.scheduler, progress=progress, settings=settings)

    paths = write_reports(run, out_dir)
    if not args.quiet:
        table = Table(title=f"stecheck run (tier {run.tier}, seed {run.seed}, workers {run.workers})")
        for col in ("id", "verdict", "as printed"):
            table.add_column(col, no_wrap=True)
        table.add_column("methods (checked | printed)", min_width=18)
        table.add_column("findings", min_width=14)
        for c in run.claims:
            table.add_row(c.claim_id, _verdict(c.verdict), _verdict(c.verdict_as_printed), _method_counts(c),
                          ", ".join(f"{n} {k}" for k, n in c.finding_counts().items() if n) or "-")
        console.print(table)
        console.print(f"reports written: {', '.join(str(p) for k, p in sorted(paths.items()) if k.startswith('report'))}"
                      f"  ({run.seconds:.1f} s)")

    if write_expect is not None:
        from .pins import expect_document

        _write_json_atomic(write_expect, expect_document(run.claims, seed=run.seed, tier=run.tier))

    status = EXIT_OK
    if args.strict:
        bad = [f"{c.claim_id}={c.verdict}" for c in run.claims
               if c.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE)]
        if bad:
            print(f"stecheck: --strict: undecided or failed claims: {', '.join(bad)}", file=sys.stderr)
            status = EXIT_FAILED
    if expected is not None:
        from .pins import compare, verdicts_of

        matched, diffs, unpinned = 0, [], []
        for c in run.claims:
            if c.claim_id not in expected.pins:
                unpinned.append(c.claim_id)
                continue
            n, d = compare(expected.pins[c.claim_id], verdicts_of(c), c.claim_id)
            matched, diffs = matched + n, diffs + d
        for line in diffs:
            print(f"stecheck: --expect: {_clip(line)}", file=sys.stderr)
        note = f" ({len(unpinned)} claims run are not pinned: {_clip(', '.join(unpinned), 120)})" if unpinned else ""
        if diffs:
            status = EXIT_FAILED
        else:
            print(f"stecheck: {matched} verdicts match{note}", file=sys.stderr)
    return status


def _cmd_show(args, console: Console) -> int:
    from .registry import default_registry
    from .report import load_report

    claim = default_registry().get(args.id)
    if args.json:
        return _print_json(_show_json(claim, Path(args.out) / "report.json"))
    console.rule(f"[bold]{claim.id}[/]: {claim.title}")
    console.print(f"[bold]source[/]: {claim.source}")
    console.print(f"[bold]statement as printed[/]: {claim.statement_printed}")
    console.print(f"[bold]statement as checked[/]: {claim.statement_checked}")
    for r in claim.readings:
        console.print(f"[bold]reading[/] {r.id}: {r.text}")
    for d in claim.findings:
        console.print(f"[bold yellow]{d.category.value}[/]: {d.text}")
    table = Table(title="methods")
    for col in ("name", "kind", "part", "role", "tiers"):
        table.add_column(col, no_wrap=col != "part")
    table.add_column("scope", min_width=16)
    table.add_column("description", min_width=30)
    for m in claim.methods:
        role = m.role if m.category is None else f"{m.role} ({m.category.value})"
        table.add_row(m.name, m.kind.value, m.part, role, ",".join(t.value for t in m.tiers), str(m.scope),
                      m.description)
    console.print(table)

    path = Path(args.out) / "report.json"
    if not path.exists():
        console.print(f"no report at {path}; run `stecheck run {claim.id}` to produce evidence")
        return EXIT_OK
    run = load_report(path)
    found = [c for c in run.claims if c.claim_id == claim.id]
    if not found:
        console.print(f"the last report ({path}) did not check {claim.id}; run `stecheck run {claim.id}`")
        return EXIT_OK
    result = found[0]
    console.print(f"[bold]last run[/] {run.started_at} (seed {run.seed}, tier {run.tier}): "
                  f"verdict {_verdict(result.verdict)}, as printed {_verdict(result.verdict_as_printed)}")
    fingerprints = {m.name: m.fingerprint() for m in claim.methods}
    for m in result.methods:
        stale = " [yellow](STALE: the method changed since this run)[/]" if fingerprints.get(m.name) != m.fingerprint else ""
        console.print(f"\n[bold]{m.name}[/] ({m.kind}, part {m.part}, role {m.role}, scope {m.scope}): "
                      f"{_verdict(m.verdict)}{stale}")
        console.print_json(json.dumps(m.evidence, default=str))
        if m.counterexample:
            console.print("[bold red]counterexample[/]:")
            console.print_json(json.dumps(m.counterexample, default=str))
    for d in result.discrepancies:
        console.print(f"[bold yellow]discrepancy[/]: {d}")
    console.print(f"replay: {result.replay}")
    return EXIT_OK


def _cmd_report(args, console: Console) -> int:
    from .report import check_writable, load_report, write_reports

    if args.latex:
        return _report_latex(args)
    run = load_report(Path(args.json))
    # beside the JSON as named (DIR/report.json is a link into DIR/.stecheck/: do not resolve it)
    out_dir = check_writable(args.out if args.out else Path(args.json).absolute().parent)
    paths = write_reports(run, out_dir)
    console.print(f"re-rendered: {', '.join(str(p) for k, p in sorted(paths.items()) if k.startswith('report'))}")
    return EXIT_OK


def _cmd_derive(args, console: Console) -> int:
    if args.list or not args.name:
        from stecheck.theory import derivations

        table = Table(title="derivations (stecheck derive NAME)")
        table.add_column("name")
        table.add_column("title")
        table.add_column("equation")
        for d in derivations.list_derivations():
            table.add_row(d.name, d.title, d.equation)
        console.print(table)
        return EXIT_OK
    if args.expr is not None and args.name != "multilinear":
        raise InvalidArgument(f"--expr applies only to `stecheck derive multilinear`, not {args.name!r}")

    from stecheck.theory import rendered_cache  # sympy-free: a warm call never imports sympy

    fmt = "json" if args.json else "latex" if args.latex else f"text-{console.width}"
    key_args = {"expr": args.expr}
    text = rendered_cache.load(args.name, key_args, fmt)
    if text is None:
        text = _render_derivation(args, console.width)
        rendered_cache.store(args.name, key_args, fmt, text)
    sys.stdout.write(text)
    return EXIT_OK


def _render_derivation(args, width: int) -> str:
    """Compute (or read from the result cache) a derivation and render it as text."""
    import io

    import sympy

    from stecheck.theory import derivations

    derivations.get_derivation(args.name)  # unknown names fail before any work
    kwargs = {"expr_text": args.expr} if args.expr is not None else {}
    try:
        with _time_limit(DERIVE_SECONDS if args.expr is not None else None):
            result = derivations.derive(args.name, **kwargs)
    except _TimeLimit:
        raise InvalidArgument(
            f"deriving the multilinear form of {shorten(args.expr, 60)} took more than {DERIVE_SECONDS} s; "
            "use fewer variables, lower powers or fewer non-polynomial functions"
        ) from None
    except RecursionError:
        if args.expr is None:
            raise
        # a user loss whose exact multilinear form is too big to compile (e.g. a high power of a function
        # of many variables): a limit of the input, not a bug
        raise InvalidArgument(
            f"the loss {shorten(args.expr, 60)} is too large to derive its multilinear form exactly (its "
            "expression tree grows too deep); use fewer variables or a lower power"
        ) from None
    if args.json:
        return json.dumps(derivations.to_json(result), indent=2) + "\n"
    if args.latex:
        from stecheck.theory.result import to_latex

        return to_latex(result)
    out = Console(file=io.StringIO(), width=width, record=True)
    out.rule(f"[bold]{result.name}[/]")
    out.print(f"[bold]reproduces[/]: {result.equation}")
    for key, expr in result.result.items():
        out.print(f"\n[bold]{key}[/] =")
        out.print(sympy.pretty(expr, use_unicode=True), markup=False, highlight=False)
    if result.checks:
        out.print("\n[bold]cross-checks[/]:")
        for c in result.checks:
            out.print(f"  - {c}", markup=False)
    for n in getattr(result, "notes", []) or []:
        out.print(f"[bold]differs from the paper[/]: {n}", highlight=False)
    return out.export_text()


#: Wall-clock budget (seconds) of `derive multilinear --expr`: the exact multilinear form of a user loss can
#: grow without bound (e.g. a non-polynomial function of 12 variables); past it, one line and exit 2.
DERIVE_SECONDS = 60


class _TimeLimit(BaseException):
    """Raised by SIGALRM inside :func:`_time_limit` (a BaseException, so no ``except Exception`` hides it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Interrupt the block after ``seconds`` of wall-clock time (main thread on POSIX; elsewhere no limit)."""
    import signal
    import threading

    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _cmd_estimate(args, console: Console) -> int:
    from .estimate_cmd import cmd_estimate

    return cmd_estimate(args, console)


def _cmd_check_estimator(args, console: Console) -> int:
    from .battery.cli_cmd import cmd_check_estimator

    return cmd_check_estimator(args, console)


# ---------------------------------------------------------------------------- machine-readable and LaTeX output


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("stecheck")
    except PackageNotFoundError:  # pragma: no cover - uninstalled tree
        return "0+unknown"


def _add_output_options(parser: argparse.ArgumentParser, sub) -> None:
    """``--version``, ``list --json``, ``show --json``, ``report --latex``, ``derive --latex``."""
    parser.add_argument("--version", action="version", version=f"stecheck {_version()}")
    sub.choices["list"].add_argument("--json", action="store_true",
                                     help="machine-readable: one JSON object per claim (id, paper, methods, scopes)")
    sub.choices["show"].add_argument("--json", action="store_true",
                                     help="machine-readable: the claim's definition and its last result")
    sub.choices["report"].add_argument("--latex", action="store_true",
                                       help="print the verdict table (booktabs) and the findings as a LaTeX "
                                            "fragment to stdout instead of re-rendering the reports")
    sub.choices["derive"].add_argument("--latex", action="store_true", help="print the derived expressions as LaTeX")


def _print_json(data: object) -> int:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return EXIT_OK


def _method_json(m) -> dict:
    return {"name": m.name, "kind": m.kind.value, "part": m.part, "role": m.role, "reading": m.reading,
            "category": None if m.category is None else m.category.value,
            "scope": {"covers": m.scope.covers, "complete": m.scope.complete},
            "tiers": [t.value for t in m.tiers], "description": m.description}


def _claim_json(c) -> dict:
    return {"id": c.id, "title": c.title, "source": str(c.source), "paper": c.source.paper,
            "statement_printed": c.statement_printed, "statement_checked": c.statement_checked,
            "tiers": [t.value for t in c.tiers],
            "readings": [{"id": r.id, "text": r.text} for r in c.readings],
            "findings": [{"category": f.category.value, "text": f.text, "source": f.source} for f in c.findings],
            "methods": [_method_json(m) for m in c.methods]}


def _claims_json(registry) -> dict:
    return {"tool": "stecheck", "version": _version(), "claims": [_claim_json(c) for c in registry]}


def _show_json(claim, report_path: Path) -> dict:
    """The claim's definition, and its result in the last report (``null`` if none), as report.json holds it."""
    from .report import load_report
    from .report.schema import _claim_to_dict

    last = None
    if report_path.exists():
        run = load_report(report_path)
        found = [c for c in run.claims if c.claim_id == claim.id]
        if found:
            fingerprints = {m.name: m.fingerprint() for m in claim.methods}
            last = {"report": str(report_path), "started_at": run.started_at, "seed": run.seed, "tier": run.tier,
                    "stale_methods": [m.name for m in found[0].methods if fingerprints.get(m.name) != m.fingerprint],
                    "result": _claim_to_dict(found[0])}
    return {"tool": "stecheck", "version": _version(), "claim": _claim_json(claim), "last_run": last}


def _report_latex(args) -> int:
    from .report import load_report
    from .report.latex import render_latex

    if args.out is not None:
        raise InvalidArgument("--latex prints the LaTeX fragment to stdout and writes no files; drop --out and "
                              "redirect the output instead (`stecheck report JSON --latex > verdicts.tex`)")
    sys.stdout.write(render_latex(load_report(Path(args.json))))
    return EXIT_OK


def _check_output_flags(args) -> None:
    """Refuse --json/--latex combinations that have no meaning (one line, exit 2)."""
    if args.command == "derive":
        if args.json and args.latex:
            raise InvalidArgument("give either --json or --latex to `stecheck derive`, not both")
        if args.latex and (args.list or not args.name):
            raise InvalidArgument("--latex prints one derivation: give its NAME (`stecheck derive --list` lists them)")
        if args.json and args.list:
            raise InvalidArgument("--json prints one derivation: give its NAME without --list")


class _PlainProgress:
    """Progress for logs (stdout is not a terminal): one line to stderr every ``interval`` seconds.

    ``STECHECK_PROGRESS_SECONDS`` sets the interval (default 5).  A line says how
    many methods are done, the elapsed time and the last method that finished.
    """

    def __init__(self, total: int, interval: float | None = None, stream=None, *, enabled: bool = True) -> None:
        import os
        import threading

        self.enabled = enabled
        if interval is None:
            try:
                interval = float(os.environ.get("STECHECK_PROGRESS_SECONDS", "5"))
            except ValueError:
                raise InvalidArgument("STECHECK_PROGRESS_SECONDS must be a number of seconds, e.g. 5") from None
        self.total, self.interval, self.stream = total, max(interval, 0.1), stream or sys.stderr
        self.done, self.last, self.started = 0, "", False  # lines begin with the first task (cluster ready)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="stecheck-progress", daemon=True)

    def __enter__(self) -> "_PlainProgress":
        import time

        self._t0 = time.monotonic()
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if not self.enabled:
            return
        self._stop.set()
        self._thread.join()
        if exc[0] is None and self.started:
            self.line()

    def event(self, event: str, result) -> None:
        self.started = True
        if event == "done":
            with self._lock:
                self.done += 1
                self.last = f"{result.name}: {result.verdict}" if result is not None else ""

    def line(self) -> None:
        import time

        with self._lock:
            done, last = self.done, self.last
        tail = f" (last: {last})" if last else ""
        print(f"stecheck: {done}/{self.total} methods done, {time.monotonic() - self._t0:.0f} s elapsed{tail}",
              file=self.stream, flush=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self.started:
                self.line()


_COMMANDS = {"list": _cmd_list, "run": _cmd_run, "show": _cmd_show, "report": _cmd_report, "derive": _cmd_derive,
             "estimate": _cmd_estimate, "check-estimator": _cmd_check_estimator}


def _say(message: str) -> None:
    """One line on stderr (never fails: a closed stderr is ignored)."""
    try:
        print(f"stecheck: {_clip(message)}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stecheck`` console script; returns the exit status (see the module docstring)."""
    console = Console(stderr=False)
    command = None
    try:
        args = build_parser().parse_args(argv)
        command = args.command
        _check_output_flags(args)
        return _COMMANDS[args.command](args, console)
    except EnvironmentFailure as exc:
        _say(f"error: {exc}")
        return EXIT_ENVIRONMENT
    except SelfCheckFailed:  # a bug found by one of stecheck's own consistency checks: keep the traceback
        import traceback

        traceback.print_exc()
        _say("internal error: one of stecheck's consistency checks failed (a bug in stecheck); "
             "please report it with the traceback above")
        return EXIT_INTERNAL
    except StecheckError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        kept = "; no report was written, the previous report set was kept" if command in ("run", "report") else ""
        _say(f"interrupted{kept}")
        return EXIT_INTERRUPTED
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except MemoryError:
        _say("error: out of memory; ask for less (fewer samples, smaller n) or use a bigger machine")
        return EXIT_ENVIRONMENT
    except BrokenPipeError:
        try:  # the reader went away (e.g. `stecheck list | head`): stop quietly
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python from failing at exit
        except OSError:
            pass
        return EXIT_OK
    except OSError as exc:  # the environment failed: disk full, read-only folder, file-size limit, ...
        where = f" ({shorten(exc.filename, 80)})" if getattr(exc, "filename", None) else ""
        kept = " the previous report set was kept;" if command in ("run", "report") else ""
        _say(f"error: {exc.strerror or type(exc).__name__}{where};{kept} free space or fix the folder and run again")
        return EXIT_ENVIRONMENT
    except Exception:
        import traceback

        traceback.print_exc()
        _say("internal error (a bug in stecheck); please report it with the traceback above")
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
