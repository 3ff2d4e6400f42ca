"""``report.json``: the versioned, plain-JSON form of a :class:`RunResult`.

:func:`run_to_dict` and :func:`run_from_dict` are exact inverses for runs whose
evidence and counterexamples are already plain JSON (anything else is stored
as its :func:`~proofs_check.claim.jsonable` image, and that image round-trips
exactly).  The layout is documented field by field in ``docs/report-schema.md``.

Reading is strict: every key must be present with the right type, unknown keys
are rejected, and the derived fields (``summary``, each claim's ``verdict``,
``verdict_as_printed``, ``discrepancies`` and ``disagreements``) must agree
with what the method results combine to.  A file that fails any of this raises
:class:`~proofs_check.errors.MalformedFile` with a one-line message naming the
file, the place in it, the problem and how to fix it -- so a hand-edited or
stale report is refused, never silently reinterpreted.

Versioning: a file whose ``schema_version`` is newer than
:data:`~proofs_check.results.SCHEMA_VERSION` asks for a newer stecheck; an
older one is migrated step by step through :data:`MIGRATIONS` if a migration
exists, and refused otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from ..claim import ClaimResult, Figure, Kind, MethodResult, Reading, Series, jsonable
from stecheck.errors import MalformedFile
from ..results import SCHEMA_VERSION, RunResult
from ..verdict import Category, Finding, Scope, Verdict

__all__ = ["run_to_dict", "run_from_dict", "load_report", "dumps_report", "json_schema", "TOOL", "MIGRATIONS"]

#: Value of the top-level ``"tool"`` key.
TOOL = "stecheck"

#: ``MIGRATIONS[v]`` turns a version-``v`` report dict into a version-``v + 1`` one.
#: Version 1 (no scopes, no readings, uncategorized discrepancies) cannot be migrated:
#: its verdicts were combined under a rule that let a narrow proof stand for a whole
#: range, so re-running is the only honest upgrade.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

_REGENERATE = "re-run `stecheck run` to write a fresh report"
_NONFINITE = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}

_TOP_KEYS = ("schema_version", "tool", "run", "summary", "claims")
_RUN_KEYS = ("seed", "tier", "workers", "started_at", "seconds", "environment")
_CLAIM_KEYS = ("id", "title", "source", "paper", "verdict", "verdict_as_printed", "statement_printed",
               "statement_checked", "parts", "readings", "findings", "finding_counts", "disagreements",
               "errors", "replay", "static_discrepancies", "methods")
_METHOD_KEYS = ("name", "kind", "part", "role", "reading", "category", "scope", "verdict", "evidence",
                "seconds", "discrepancies", "counterexample", "fingerprint", "error", "figures")
_SCOPE_KEYS = ("covers", "complete")
_FINDING_KEYS = ("category", "text", "source")
_READING_KEYS = ("id", "text", "verdict")
_PART_KEYS = ("part", "role", "verdict", "scope", "methods", "disagreement")
_FIGURE_KEYS = ("name", "title", "xlabel", "ylabel", "xscale", "yscale", "hlines", "series", "xticks")
#: Keys a figure may omit (added after schema version 2 was published; a missing one takes this default).
_FIGURE_OPTIONAL = {"xticks": []}
_SERIES_KEYS = ("label", "x", "y", "y_low", "y_high", "style")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``report.json``, shipped as ``report.schema.json`` beside this module.

    ``docs/report.schema.json`` is the same file.  The loader below does not need
    it (it checks the same layout with one-line messages, and the derived fields
    a JSON Schema cannot express); it is published for other tools.
    """
    from importlib.resources import files

    return json.loads(files(__package__).joinpath("report.schema.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- writing


def _number(x: float | int) -> Any:
    """A finite number as itself; NaN and infinities as the strings ``jsonable`` uses."""
    return jsonable(x)


def _figure_to_dict(fig: Figure) -> dict[str, Any]:
    return {
        "name": fig.name,
        "title": fig.title,
        "xlabel": fig.xlabel,
        "ylabel": fig.ylabel,
        "xscale": fig.xscale,
        "yscale": fig.yscale,
        "hlines": [_number(v) for v in fig.hlines],
        "series": [
            {
                "label": s.label,
                "x": [_number(v) for v in s.x],
                "y": [_number(v) for v in s.y],
                "y_low": None if s.y_low is None else [_number(v) for v in s.y_low],
                "y_high": None if s.y_high is None else [_number(v) for v in s.y_high],
                "style": s.style,
            }
            for s in fig.series
        ],
        "xticks": [{"at": _number(at), "label": label} for at, label in fig.xticks],
    }


def _finding_to_dict(f: Finding) -> dict[str, Any]:
    return {"category": f.category.value, "text": f.text, "source": f.source}


def _method_to_dict(m: MethodResult) -> dict[str, Any]:
    return {
        "name": m.name,
        "kind": Kind(m.kind).value,
        "part": m.part,
        "role": m.role,
        "reading": m.reading,
        "category": None if m.category is None else m.category.value,
        "scope": {"covers": m.scope.covers, "complete": m.scope.complete},
        "verdict": Verdict(m.verdict).value,
        "evidence": jsonable(m.evidence),
        "seconds": _number(m.seconds),
        "discrepancies": [_finding_to_dict(d) for d in m.discrepancies],
        "counterexample": None if m.counterexample is None else jsonable(m.counterexample),
        "fingerprint": m.fingerprint,
        "error": m.error,
        "figures": [_figure_to_dict(f) for f in m.figures],
    }


def _parts_to_list(c: ClaimResult) -> list[dict[str, Any]]:
    return [
        {"part": p.part, "role": role, "verdict": p.verdict.value, "scope": p.scope,
         "methods": list(p.methods), "disagreement": p.disagreement}
        for role in ("checked", "printed") for p in c.parts(role)
    ]


def _claim_to_dict(c: ClaimResult) -> dict[str, Any]:
    readings = c.reading_verdicts
    return {
        "id": c.claim_id,
        "title": c.title,
        "source": c.source,
        "paper": c.paper,
        "verdict": c.verdict.value,
        "verdict_as_printed": c.verdict_as_printed.value,
        "statement_printed": c.statement_printed,
        "statement_checked": c.statement_checked,
        "parts": _parts_to_list(c),
        "readings": [{"id": r.id, "text": r.text, "verdict": readings[r.id].value} for r in c.readings],
        "findings": [_finding_to_dict(f) for f in c.findings],
        "finding_counts": c.finding_counts(),
        "disagreements": list(c.disagreements),
        "errors": list(c.errors),
        "replay": c.replay,
        "static_discrepancies": [_finding_to_dict(d) for d in c.static_discrepancies],
        "methods": [_method_to_dict(m) for m in c.methods],
    }


def run_to_dict(run: RunResult) -> dict[str, Any]:
    """The ``report.json`` document for ``run`` (plain JSON values only, key order fixed)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": TOOL,
        "run": {
            "seed": jsonable(run.seed),
            "tier": str(run.tier),
            "workers": jsonable(run.workers),
            "started_at": run.started_at,
            "seconds": _number(run.seconds),
            "environment": jsonable(run.environment),
        },
        "summary": run.summary(),
        "claims": [_claim_to_dict(c) for c in run.claims],
    }


def dumps_report(run: RunResult) -> str:
    """``report.json``'s exact text: indented, UTF-8, no NaN literals, trailing newline."""
    return json.dumps(run_to_dict(run), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


# --------------------------------------------------------------------------- reading


class _Reader:
    """Typed access to a report dict; every failure is one ``MalformedFile`` line."""

    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, problem: str, fix: str = _REGENERATE) -> NoReturn:
        prefix = f"{self.name}: {where}: " if where else f"{self.name}: "
        raise MalformedFile(f"{prefix}{problem}; {fix}")

    def obj(self, value: Any, where: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, f"expected an object, got {_type_name(value)}")
        missing = [k for k in keys if k not in value]
        if missing:
            self.fail(where, f"missing key{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}")
        unknown = [k for k in value if k not in keys]
        if unknown:
            self.fail(where, f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                             f"(schema version {SCHEMA_VERSION} has {', '.join(keys)})")
        return value

    def str_(self, d: Mapping[str, Any], key: str, where: str) -> str:
        v = d[key]
        if not isinstance(v, str):
            self.fail(_at(where, key), f"expected a string, got {_type_name(v)}")
        return v

    def opt_str(self, d: Mapping[str, Any], key: str, where: str) -> str | None:
        return None if d[key] is None else self.str_(d, key, where)

    def int_(self, d: Mapping[str, Any], key: str, where: str) -> int:
        v = d[key]
        if not isinstance(v, int) or isinstance(v, bool):
            self.fail(_at(where, key), f"expected an integer, got {_type_name(v)}")
        return v

    def number(self, v: Any, where: str) -> float | int:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            self.fail(where, f"expected a number, got {_type_name(v)}")
        if isinstance(v, str):
            if v not in _NONFINITE:
                self.fail(where, f"expected a number or one of 'nan', 'inf', '-inf', got {v!r}")
            return _NONFINITE[v]
        return v

    def numbers(self, v: Any, where: str) -> tuple[float | int, ...]:
        if not isinstance(v, list):
            self.fail(where, f"expected a list of numbers, got {_type_name(v)}")
        return tuple(self.number(x, f"{where}[{i}]") for i, x in enumerate(v))

    def strs(self, d: Mapping[str, Any], key: str, where: str) -> list[str]:
        v = d[key]
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.fail(_at(where, key), f"expected a list of strings, got {_type_name(v)}")
        return list(v)

    def list_(self, d: Mapping[str, Any], key: str, where: str) -> list[Any]:
        v = d[key]
        if not isinstance(v, list):
            self.fail(_at(where, key), f"expected a list, got {_type_name(v)}")
        return v

    def dict_(self, d: Mapping[str, Any], key: str, where: str, *, optional: bool = False) -> dict[str, Any] | None:
        v = d[key]
        if v is None and optional:
            return None
        if not isinstance(v, Mapping):
            expected = "an object or null" if optional else "an object"
            self.fail(_at(where, key), f"expected {expected}, got {_type_name(v)}")
        return dict(v)

    def enum(self, d: Mapping[str, Any], key: str, where: str, cls: type) -> Any:
        v = self.str_(d, key, where)
        try:
            return cls(v)
        except ValueError:
            valid = ", ".join(m.value for m in cls)
            self.fail(_at(where, key), f"unknown value {v!r} (valid: {valid})")


def _finding_from_dict(r: _Reader, d: Any, where: str) -> Finding:
    d = r.obj(d, where, _FINDING_KEYS)
    return Finding(r.enum(d, "category", where, Category), r.str_(d, "text", where), r.str_(d, "source", where))


def _findings(r: _Reader, d: Mapping[str, Any], key: str, where: str) -> list[Finding]:
    return [_finding_from_dict(r, f, f"{_at(where, key)}[{i}]") for i, f in enumerate(r.list_(d, key, where))]


def _scope_from_dict(r: _Reader, d: Any, where: str) -> Scope:
    d = r.obj(d, where, _SCOPE_KEYS)
    complete = d["complete"]
    if not isinstance(complete, bool):
        r.fail(_at(where, "complete"), f"expected a boolean, got {_type_name(complete)}")
    return Scope(r.str_(d, "covers", where), complete)


def _at(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "an object"}.get(type(v), type(v).__name__)


def _series_from_dict(r: _Reader, d: Any, where: str) -> Series:
    d = r.obj(d, where, _SERIES_KEYS)
    style = r.str_(d, "style", where)
    if style not in ("line", "points", "step"):
        r.fail(_at(where, "style"), f"unknown style {style!r} (valid: line, points, step)")
    band = {}
    for key in ("y_low", "y_high"):
        band[key] = None if d[key] is None else r.numbers(d[key], _at(where, key))
    return Series(
        label=r.str_(d, "label", where),
        x=r.numbers(d["x"], _at(where, "x")),
        y=r.numbers(d["y"], _at(where, "y")),
        y_low=band["y_low"],
        y_high=band["y_high"],
        style=style,
    )


def _figure_from_dict(r: _Reader, d: Any, where: str) -> Figure:
    if isinstance(d, Mapping):
        d = {**_FIGURE_OPTIONAL, **d}
    d = r.obj(d, where, _FIGURE_KEYS)
    series = r.list_(d, "series", where)
    xticks = []
    for i, t in enumerate(r.list_(d, "xticks", where)):
        t = r.obj(t, f"{_at(where, 'xticks')}[{i}]", ("at", "label"))
        xticks.append((r.number(t["at"], f"{_at(where, 'xticks')}[{i}].at"),
                       r.str_(t, "label", f"{_at(where, 'xticks')}[{i}]")))
    return Figure(
        name=r.str_(d, "name", where),
        title=r.str_(d, "title", where),
        xlabel=r.str_(d, "xlabel", where),
        ylabel=r.str_(d, "ylabel", where),
        series=tuple(_series_from_dict(r, s, f"{where}.series[{i}]") for i, s in enumerate(series)),
        xscale=r.str_(d, "xscale", where),
        yscale=r.str_(d, "yscale", where),
        hlines=r.numbers(d["hlines"], _at(where, "hlines")),
        xticks=tuple(xticks),
    )


def _method_from_dict(r: _Reader, d: Any, where: str) -> MethodResult:
    d = r.obj(d, where, _METHOD_KEYS)
    name = r.str_(d, "name", where)
    where = f"{where} ({name})"
    role = r.str_(d, "role", where)
    if role not in ("checked", "printed"):
        r.fail(_at(where, "role"), f"unknown role {role!r} (valid: checked, printed)")
    figures = r.list_(d, "figures", where)
    return MethodResult(
        name=name,
        kind=r.enum(d, "kind", where, Kind),
        part=r.str_(d, "part", where),
        role=role,
        reading=r.opt_str(d, "reading", where),
        category=None if d["category"] is None else r.enum(d, "category", where, Category),
        scope=_scope_from_dict(r, d["scope"], _at(where, "scope")),
        verdict=r.enum(d, "verdict", where, Verdict),
        evidence=r.dict_(d, "evidence", where),
        seconds=r.number(d["seconds"], _at(where, "seconds")),
        discrepancies=_findings(r, d, "discrepancies", where),
        counterexample=r.dict_(d, "counterexample", where, optional=True),
        figures=[_figure_from_dict(r, f, f"{where}.figures[{i}]") for i, f in enumerate(figures)],
        fingerprint=r.str_(d, "fingerprint", where),
        error=r.opt_str(d, "error", where),
    )


def _claim_from_dict(r: _Reader, d: Any, where: str) -> ClaimResult:
    d = r.obj(d, where, _CLAIM_KEYS)
    cid = r.str_(d, "id", where)
    where = f"{where} ({cid})"
    methods = r.list_(d, "methods", where)
    readings = []
    for i, rd in enumerate(r.list_(d, "readings", where)):
        rd = r.obj(rd, f"{where}.readings[{i}]", _READING_KEYS)
        readings.append(Reading(r.str_(rd, "id", where), r.str_(rd, "text", where)))
    claim = ClaimResult(
        claim_id=cid,
        title=r.str_(d, "title", where),
        source=r.str_(d, "source", where),
        paper=r.str_(d, "paper", where),
        statement_printed=r.str_(d, "statement_printed", where),
        statement_checked=r.str_(d, "statement_checked", where),
        methods=[_method_from_dict(r, m, f"{where}.methods[{i}]") for i, m in enumerate(methods)],
        static_discrepancies=_findings(r, d, "static_discrepancies", where),
        replay=r.str_(d, "replay", where),
        readings=readings,
    )
    # Derived fields: stored for readers that do not re-implement the combination
    # rule, and checked here so an edited or stale file is refused, not trusted.
    stale = ("the file was edited by hand or written under a different combination rule; " + _REGENERATE)
    for key, value in (("verdict", claim.verdict.value), ("verdict_as_printed", claim.verdict_as_printed.value)):
        stored = r.enum(d, key, where, Verdict).value
        if stored != value:
            r.fail(_at(where, key), f"records {stored} but its methods combine to {value}", stale)
    for key, value in (("disagreements", claim.disagreements), ("errors", claim.errors)):
        if r.strs(d, key, where) != value:
            r.fail(_at(where, key), "does not match what its methods and static_discrepancies give", stale)
    derived = _claim_to_dict(claim)
    for key in ("parts", "readings", "findings", "finding_counts"):
        if d[key] != derived[key]:
            r.fail(_at(where, key), "does not match what its methods and static_discrepancies give", stale)
    return claim


def run_from_dict(d: Any, *, source: str = "report") -> RunResult:
    """The :class:`RunResult` a ``report.json`` document describes (inverse of :func:`run_to_dict`).

    ``source`` names the document in error messages (``load_report`` passes the file path).
    Raises :class:`MalformedFile` for a wrong schema version, a missing, unknown or
    mistyped key, or derived fields that disagree with the method results.
    """
    r = _Reader(source)
    d = _migrate(r, d)
    d = r.obj(d, "", _TOP_KEYS)
    run = r.obj(d["run"], "run", _RUN_KEYS)
    workers = run["workers"]
    if isinstance(workers, bool) or not isinstance(workers, (int, str)):
        r.fail("run.workers", f"expected an integer or a scheduler address, got {_type_name(workers)}")
    claims = r.list_(d, "claims", "")
    result = RunResult(
        claims=[_claim_from_dict(r, c, f"claims[{i}]") for i, c in enumerate(claims)],
        seed=r.int_(run, "seed", "run"),
        tier=r.str_(run, "tier", "run"),
        workers=workers,
        started_at=r.str_(run, "started_at", "run"),
        seconds=r.number(run["seconds"], "run.seconds"),
        environment=r.dict_(run, "environment", "run"),
    )
    ids = [c.claim_id for c in result.claims]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        r.fail("claims", f"claim id{'s' if len(dupes) > 1 else ''} {', '.join(dupes)} appear more than once")
    summary = r.dict_(d, "summary", "")
    if summary != result.summary():
        r.fail("summary", f"{summary} does not match the claims' verdicts {result.summary()}",
               "the file was edited by hand; " + _REGENERATE)
    return result


def _migrate(r: _Reader, d: Any) -> Any:
    """Check ``schema_version`` (and ``tool``) and bring an older document up to date."""
    if not isinstance(d, Mapping):
        r.fail("", f"expected a JSON object at the top level, got {_type_name(d)}",
               "pass a report.json written by `stecheck run`")
    if "schema_version" not in d:
        what = "has no schema_version" if d.get("tool") == TOOL else "is not a stecheck report (no schema_version)"
        r.fail("", what, "pass a report.json written by `stecheck run`")
    version = d["schema_version"]
    if not isinstance(version, int) or isinstance(version, bool):
        r.fail("schema_version", f"expected an integer, got {_type_name(version)}",
               "pass a report.json written by `stecheck run`")
    if d.get("tool") != TOOL:
        r.fail("tool", f"expected {TOOL!r}, got {d.get('tool')!r}; this is not a stecheck report",
               "pass a report.json written by `stecheck run`")
    if version > SCHEMA_VERSION:
        r.fail("", f"written by a newer stecheck (report schema version {version}; this stecheck reads "
                   f"version {SCHEMA_VERSION})", "upgrade stecheck to read it")
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            r.fail("", f"report schema version {version} is no longer supported (this stecheck reads "
                       f"version {SCHEMA_VERSION} and cannot migrate it)",
                   "re-run `stecheck run` to write a current report, or read it with the stecheck that wrote it")
        d = step(dict(d))
        version = d["schema_version"]
    return d


#: Largest report.json read back (bytes).
MAX_REPORT_BYTES = 512 * 1024 * 1024


def load_report(path: str | Path) -> RunResult:
    """Read and validate a ``report.json``; every problem is a one-line :class:`MalformedFile`.

    The read is bounded (:func:`stecheck.safeio.read_bytes`): a regular file of at most
    ``MAX_REPORT_BYTES`` bytes, never a device or pipe; nesting and integer sizes are bounded too.
    """
    import os

    from stecheck.safeio import MAX_INT_DIGITS, read_bytes

    path = Path(path)
    r = _Reader(str(path))
    if not os.path.lexists(path):
        r.fail("", "no such file", "pass the report.json that `stecheck run` wrote (in its --out directory)")
    if path.is_dir():
        r.fail("", "is a directory, not a report file", f"pass {path / 'report.json'}")
    raw = read_bytes(path, limit=MAX_REPORT_BYTES, what="report", fix="pass a report.json written by `stecheck run`")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        r.fail("", f"is not UTF-8 text ({exc.reason} at byte {exc.start})",
               "pass a report.json written by `stecheck run`")

    def no_constants(name: str) -> NoReturn:
        r.fail("", f"invalid JSON: {name} is not a JSON value", "the file is damaged; " + _REGENERATE)

    def bounded_int(digits: str) -> int:
        if len(digits.lstrip("-")) > MAX_INT_DIGITS:
            r.fail("", f"an integer of {len(digits.lstrip('-'))} digits (more than {MAX_INT_DIGITS})",
                   "the file is damaged; " + _REGENERATE)
        return int(digits)

    try:
        data = json.loads(text, parse_constant=no_constants, parse_int=bounded_int)
    except json.JSONDecodeError as exc:
        r.fail("", f"invalid JSON at line {exc.lineno}, column {exc.colno} ({exc.msg})",
               "the file is damaged or not a report; " + _REGENERATE)
    except RecursionError:
        r.fail("", "is nested too deeply to be a report", "the file is damaged or not a report; " + _REGENERATE)
    return run_from_dict(data, source=str(path))
