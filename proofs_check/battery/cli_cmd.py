"""``stecheck check-estimator MODULE:FUNCTION ...``: the battery on the command line.

The estimator is imported with :func:`importlib.import_module` and ``getattr``
(validated dotted names; nothing is evaluated); the current directory is put
on ``sys.path`` first, as ``python -m`` does.  Output: a rich table (or
``--json``).  Exit status 0 if no check FAILs or ERRORs, 1 otherwise, 2 for a
usage error (e.g. a module that cannot be imported: one line on stderr).
"""

from __future__ import annotations

import json

from .api import PROFILES, check_estimator

STATUS_STYLE = {"PASS": "green", "FAIL": "bold red", "ERROR": "magenta", "INCONCLUSIVE": "yellow",
                "SKIP": "dim", "XFAIL": "cyan", "XPASS": "yellow"}


def add_check_estimator_parser(sub) -> None:
    p = sub.add_parser("check-estimator", help="run the property battery on your estimator(s) MODULE:FUNCTION")
    p.add_argument("refs", nargs="+", metavar="MODULE:FUNCTION", help="e.g. mypkg.estimators:my_st")
    p.add_argument("--profile", choices=sorted(PROFILES), default="ci",
                   help="examples per check and samples per example (default: ci)")
    p.add_argument("--seed", type=int, default=0, help="Hypothesis and Monte Carlo seed (default: 0)")
    p.add_argument("--check", action="append", default=None, metavar="NAME", help="run only this check (repeatable)")
    p.add_argument("--json", action="store_true", help="machine-readable output (a list of records)")


def cmd_check_estimator(args, console) -> int:
    import os
    import sys

    from rich.markup import escape

    from .estimator import load_estimator

    if os.getcwd() not in sys.path:  # like `python -m`: modules in the current directory are importable
        sys.path.insert(0, os.getcwd())
    specs = [load_estimator(r) for r in args.refs]  # an import error is one line, exit 2 (raised before any check)
    records = []
    for spec in specs:
        records += check_estimator(spec, profile=args.profile, seed=args.seed, checks=args.check)
    failed = any(r.failed for r in records)
    if args.json:
        print(json.dumps([r.as_dict() for r in records], indent=2))
        return 1 if failed else 0
    from rich.table import Table

    table = Table(title=f"stecheck check-estimator (profile {args.profile}, seed {args.seed})")
    for col in ("estimator", "check", "status", "s", "evidence"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(r.estimator, r.check, f"[{STATUS_STYLE.get(r.status, '')}]{r.status}[/]", f"{r.seconds:.2f}",
                      escape(r.evidence))
    console.print(table)
    for r in records:
        if r.replay and r.failed:
            console.print(f"[bold]replay {escape(r.estimator)}/{r.check}:[/] {escape(r.replay)}", highlight=False,
                          soft_wrap=True)
    n_fail = sum(r.failed for r in records)
    console.print(f"{len(records)} checks, {n_fail} failed", highlight=False)
    return 1 if failed else 0
