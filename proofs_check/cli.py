"""The ``stecheck`` command line.

Argument parsing and terminal output live here; the work is done by the plain
callables of :mod:`proofs_check.runner`, :mod:`proofs_check.report` and
:mod:`theory.derivations`.

Exit codes: 0 ok, 1 ``--strict``/``--expect`` failure, 2 usage error
(one line on stderr, no traceback), 3 internal error (a bug: traceback kept).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from stecheck.errors import InvalidArgument, MalformedFile, StecheckError
from .verdict import Verdict

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE", "EXIT_INTERNAL"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3

VERDICT_STYLE = {
    "PROVED": "bold green",
    "VERIFIED": "cyan",
    "REFUTED": "bold red",
    "INCONCLUSIVE": "yellow",
    "ERROR": "magenta",
}
EXPECT_FORMAT = "stecheck-expect"


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line plus a hint, exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise InvalidArgument(f"{message} (see `{self.prog} --help`)")


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(
            f"--workers must be >= 0 (0 runs in this process, N starts N local worker processes), got {value}"
        )
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"--seed must be a non-negative integer, got {value}")
    return value


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
    run.add_argument("--scheduler", metavar="ADDRESS", default=None,
                     help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    run.add_argument("--out", metavar="DIR", default="reports", help="report directory (default: reports/)")
    run.add_argument("--strict", action="store_true", help="exit 1 if any verdict is ERROR or INCONCLUSIVE")
    run.add_argument("--expect", metavar="FILE", help="exit 1 if any verdict differs from this pinned verdict file")
    run.add_argument("--write-expect", metavar="FILE", help="write the verdicts of this run as a pinned verdict file")
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


def _read_expect(path: str, known_ids: Sequence[str]) -> dict[str, str]:
    """Parse a pinned-verdict file; any problem is a one-line :class:`MalformedFile`."""
    p = Path(path)
    fix = "write one with `stecheck run --write-expect FILE`"
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise MalformedFile(f"--expect file {path!r} does not exist; {fix}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MalformedFile(f"cannot read --expect file {path!r}: {exc}; {fix}") from None
    except json.JSONDecodeError as exc:
        raise MalformedFile(f"--expect file {path!r} is not valid JSON ({exc.msg} at line {exc.lineno}); {fix}") from None
    verdicts = data.get("verdicts") if isinstance(data, dict) and "verdicts" in data else data
    if not isinstance(verdicts, dict) or not verdicts:
        raise MalformedFile(
            f"--expect file {path!r} must map claim ids to verdicts, e.g. "
            f'{{"verdicts": {{"SBN-B2": "PROVED"}}}}; {fix}'
        )
    valid = {v.value for v in Verdict}
    for cid, v in verdicts.items():
        if cid not in known_ids:
            raise MalformedFile(f"--expect file {path!r} names unknown claim id {cid!r}; run `stecheck list` for ids")
        if not isinstance(v, str) or v.upper() not in valid:
            raise MalformedFile(
                f"--expect file {path!r}: verdict {v!r} for {cid} is not one of {', '.join(sorted(valid))}"
            )
    return {cid: v.upper() for cid, v in verdicts.items()}


def _write_json_atomic(path: Path, data: object) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------------------- commands


def _cmd_list(args, console: Console) -> int:
    from .registry import default_registry

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
    expected = _read_expect(args.expect, registry.ids()) if args.expect else None
    out_dir = check_writable(args.out)
    if args.write_expect:
        check_writable(Path(args.write_expect).resolve().parent)

    n_tasks = sum(len(c.methods_for(args.tier)) for c in claims)
    with Progress(
        TextColumn("[bold]checking"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        TextColumn("{task.description}"), console=console, disable=args.quiet, transient=True,
    ) as bar:
        task = bar.add_task("", total=n_tasks)

        def progress(event, result):
            if event == "done":
                bar.update(task, advance=1, description=f"{result.name}: {result.verdict}")

        run = run_claims(claims, seed=args.seed, tier=args.tier, workers=args.workers,
                         scheduler=args.scheduler, progress=progress, settings=settings)

    paths = write_reports(run, out_dir)
    if not args.quiet:
        table = Table(title=f"stecheck run (tier {run.tier}, seed {run.seed}, workers {run.workers})")
        for col in ("id", "verdict", "as printed", "methods (checked | printed)", "findings"):
            table.add_column(col, no_wrap=col != "methods (checked | printed)")
        for c in run.claims:
            table.add_row(c.claim_id, _verdict(c.verdict), _verdict(c.verdict_as_printed), _method_counts(c),
                          ", ".join(f"{n} {k}" for k, n in c.finding_counts().items() if n) or "-")
        console.print(table)
        console.print(f"reports written: {', '.join(str(p) for k, p in sorted(paths.items()) if k.startswith('report'))}"
                      f"  ({run.seconds:.1f} s)")

    if args.write_expect:
        _write_json_atomic(Path(args.write_expect), {
            "format": EXPECT_FORMAT, "version": 1, "tier": run.tier, "seed": run.seed,
            "verdicts": {c.claim_id: c.verdict.value for c in run.claims},
        })

    status = EXIT_OK
    if args.strict:
        bad = [f"{c.claim_id}={c.verdict}" for c in run.claims
               if c.verdict in (Verdict.ERROR, Verdict.INCONCLUSIVE)]
        if bad:
            print(f"stecheck: --strict: undecided or failed claims: {', '.join(bad)}", file=sys.stderr)
            status = EXIT_FAILED
    if expected is not None:
        got = {c.claim_id: c.verdict.value for c in run.claims}
        diffs = [f"{cid}: expected {v}, got {got.get(cid, 'not run')}"
                 for cid, v in expected.items() if cid in got and got[cid] != v]
        if diffs:
            print(f"stecheck: --expect: verdicts differ from {args.expect}: {'; '.join(diffs)}", file=sys.stderr)
            status = EXIT_FAILED
    return status


def _cmd_show(args, console: Console) -> int:
    from .registry import default_registry
    from .report import load_report

    claim = default_registry().get(args.id)
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

    run = load_report(Path(args.json))
    out_dir = check_writable(args.out if args.out else Path(args.json).resolve().parent)
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

    fmt = "json" if args.json else f"text-{console.width}"
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
    result = derivations.derive(args.name, **kwargs)
    if args.json:
        return json.dumps(derivations.to_json(result), indent=2) + "\n"
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


def _cmd_estimate(args, console: Console) -> int:
    from .estimate_cmd import cmd_estimate

    return cmd_estimate(args, console)


_COMMANDS = {"list": _cmd_list, "run": _cmd_run, "show": _cmd_show, "report": _cmd_report, "derive": _cmd_derive,
             "estimate": _cmd_estimate}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stecheck`` console script; returns the exit status."""
    console = Console(stderr=False)
    try:
        args = build_parser().parse_args(argv)
        return _COMMANDS[args.command](args, console)
    except StecheckError as exc:
        print(f"stecheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stecheck: interrupted; no report was written or the previous one was kept", file=sys.stderr)
        return 130
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except Exception:
        import traceback

        traceback.print_exc()
        print("stecheck: internal error (a bug in stecheck); please report it with the traceback above",
              file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
