"""``report.md`` (a short summary) and ``report-full.md`` (all evidence) as GitHub-flavoured Markdown.

:func:`render_summary` writes the first screen only -- the papers checked, both
verdict counts, the finding counts and one line per claim with its reason --
short enough to paste into a review; :func:`render_markdown` writes the same
first screen followed by every claim's section and, last, the run's metadata.

The renderer does no computation: it formats :func:`~.schema.run_to_dict` of
the run, so ``report.md``, ``report.html`` and ``report.json`` always show the
same values, and a report re-rendered from its ``report.json`` is identical.

Evidence is shown compactly (scalars inline, lists and long strings cut with
``...``, floats to 6 significant digits); ``report.json`` keeps every value in
full precision.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from ..results import RunResult
from ..verdict import Category
from .overview import UNNAMED_PAPER, finding_summary, papers, reason
from .schema import run_to_dict

__all__ = ["render_markdown", "render_summary", "compact", "full_json", "anchor"]

_MAX_ITEMS = 6
_MAX_CHARS = 160
_MAX_BLOCK = 4000
_MAX_DEPTH = 3
_LINE = 100


def compact(value: Any, *, max_items: int = _MAX_ITEMS, max_chars: int = _MAX_CHARS) -> str:
    """A short one-line rendering of a plain-JSON value (JSON spelling, floats to 6 digits)."""
    text = _compact(value, max_items, depth=0)
    return text if len(text) <= max_chars else text[: max_chars - 3] + "..."


def _compact(v: Any, n: int, depth: int) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _float(v)
    if isinstance(v, str):
        return v if depth == 0 else json.dumps(v, ensure_ascii=False)
    if isinstance(v, Mapping):
        if depth >= _MAX_DEPTH:
            return "{...}" if v else "{}"
        items = [f"{k}: {_compact(x, n, depth + 1)}" for k, x in list(v.items())[:n]]
        more = [f"... (+{len(v) - n})"] if len(v) > n else []
        return "{" + ", ".join(items + more) + "}"
    if isinstance(v, (list, tuple)):
        if depth >= _MAX_DEPTH:
            return "[...]" if v else "[]"
        items = [_compact(x, n, depth + 1) for x in v[:n]]
        more = [f"... ({len(v)} items)"] if len(v) > n else []
        return "[" + ", ".join(items + more) + "]"
    return str(v)


def _float(v: float) -> str:
    """6 significant digits, keeping a float recognisable as one (``1.0``, not ``1``)."""
    if not math.isfinite(v):
        return str(v)
    text = format(v, ".6g")
    return text if any(ch in text for ch in ".e") else text + ".0"


def full_json(value: Any, *, max_chars: int = _MAX_BLOCK) -> str:
    """JSON for a block: one line per top-level key, each value on one line unless it is long.

    Cut at ``max_chars`` with a pointer to ``report.json``.
    """
    one_line = json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping) and value and len(one_line) > _LINE:
        items = []
        for k, v in value.items():
            text = json.dumps(v, ensure_ascii=False)
            if len(text) > _LINE:
                text = "\n  ".join(json.dumps(v, ensure_ascii=False, indent=2).split("\n"))
            items.append(f"  {json.dumps(str(k), ensure_ascii=False)}: {text}")
        text = "{\n" + ",\n".join(items) + "\n}"
    else:
        text = one_line
    if len(text) > max_chars:
        text = text[:max_chars] + "\n... (truncated; the full value is in report.json)"
    return text


def is_text_block(value: Any) -> bool:
    """A multi-line string (a traceback, a derivation) is shown as a block, not a one-line value."""
    return isinstance(value, str) and "\n" in value


def text_block(value: str, *, max_chars: int = _MAX_BLOCK) -> str:
    if len(value) > max_chars:
        return value[:max_chars] + "\n... (truncated; the full value is in report.json)"
    return value


def environment_rows(env: Mapping[str, Any]) -> list[tuple[str, str]]:
    """One (label, text) row per environment entry; a mapping (e.g. library versions) is listed in full."""
    rows = []
    for k, v in env.items():
        if isinstance(v, Mapping):
            rows.append((str(k), ", ".join(f"{sk} {compact(sv)}" for sk, sv in v.items()) or "-"))
        else:
            rows.append((str(k), compact(v)))
    return rows


def seconds(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f} s" if isinstance(value, (int, float)) else f"{value} s"


# ----------------------------------------------------------------------- Markdown escaping

_SPECIAL = set("\\`*_[]<>|#")


def _esc(text: Any) -> str:
    """Inline text with Markdown metacharacters escaped and newlines folded into spaces."""
    s = " ".join(str(text).split("\n"))
    return "".join("\\" + ch if ch in _SPECIAL else ch for ch in s)


def _code(text: str) -> str:
    """An inline code span that survives backticks in ``text`` (pipes escaped for tables)."""
    text = " ".join(text.split("\n")).replace("|", "\\|")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _block(text: str, lang: str = "") -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}{lang}", text.rstrip("\n"), fence]


def _quote(text: str) -> list[str]:
    return ["> " + _esc(line) if line.strip() else ">" for line in str(text).splitlines() or [""]]


def _table(header: list[str], rows: list[list[str]], align: str = "") -> list[str]:
    align = align or "l" * len(header)
    rule = ["---:" if a == "r" else "---" for a in align]
    out = ["| " + " | ".join(header) + " |", "| " + " | ".join(rule) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def _role(m: Mapping[str, Any]) -> str:
    """``checked``, or ``printed (category)`` for a literal check, plus its reading if any."""
    role = m["role"] if m["category"] is None else f"{m['role']} ({m['category']})"
    return role if m["reading"] is None else f"{role}, reading {_code(m['reading'])}"


def _verdict(v: str) -> str:
    return f"**{v}**"


def anchor(claim_id: str) -> str:
    """The id of a claim's section, shared by the Markdown and HTML reports."""
    return "claim-" + "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in claim_id)


# ----------------------------------------------------------------------- rendering


def _claim_link(cid: str, base: str) -> str:
    return f"[{_esc(cid)}]({base}#{anchor(cid)})"


def _first_screen(d: Mapping[str, Any], base: str = "") -> list[str]:
    """The papers, both verdict counts, finding counts and one line per claim (see :mod:`.overview`)."""
    out: list[str] = ["# stecheck report", ""]
    claims = d["claims"]
    if not claims:
        return out + ["No claims were checked.", ""]
    listed = papers(d)
    out += [f"**Paper{'s' if len(listed) > 1 else ''} checked**", ""]
    out += [f"- {_esc(paper)}: {len(ids)} claim{'s' if len(ids) != 1 else ''} ({', '.join(_esc(i) for i in ids)})"
            for paper, ids in listed] + [""]

    summary = d["summary"]
    out += ["## What was found", ""]
    out += [f"{len(claims)} claim{'s' if len(claims) != 1 else ''} checked (tier {_esc(d['run']['tier'])}, "
            f"seed {_esc(d['run']['seed'])}); findings: {_esc(finding_summary(summary['findings']))}.", ""]
    counts = [[_verdict(v), str(n), str(summary["as_printed"][v])] for v, n in summary["as_checked"].items()]
    counts.append(["total", str(len(claims)), str(len(claims))])
    out += _table(["verdict", "claims as checked", "claims as printed"], counts, "lrr") + [""]
    out += _table(["finding", "count", "meaning"],
                  [[k, str(n), _esc(Category(k).meaning)] for k, n in summary["findings"].items()], "lrl") + [""]

    out += ["## Claims", ""]
    out += _table(
        ["id", "title", "as checked", "as printed", "findings", "why"],
        [[_claim_link(c["id"], base), _esc(c["title"]), _verdict(c["verdict"]), _verdict(c["verdict_as_printed"]),
          _esc(finding_summary(c["finding_counts"])), _esc(reason(c))] for c in claims],
        "llllll",
    ) + [""]
    return out


def _run_table(d: Mapping[str, Any]) -> list[str]:
    info = d["run"]
    rows = [
        ["seed", _code(str(info["seed"]))],
        ["tier", _esc(info["tier"])],
        ["workers", _esc(info["workers"])],
        ["started", _esc(info["started_at"])],
        ["duration", seconds(info["seconds"], 1)],
        ["report schema", str(d["schema_version"])],
    ]
    rows += [[_esc(k), _esc(v)] for k, v in environment_rows(info["environment"])]
    return ["## Run", ""] + _table(["run", ""], rows) + [""]


def render_summary(run: RunResult, *, full: str = "report-full.md", html: str = "report.html",
                   data: str = "report.json") -> str:
    """The short ``report.md``: the first screen, where the evidence is, and the run in one line.

    Its length grows only with the number of claims (one table row each), so it
    can be pasted into a review or a pull request.  Claim ids link to their
    sections in ``full`` (the full Markdown report).
    """
    d = run_to_dict(run)
    out = _first_screen(d, base=full)
    out += [f"Full evidence (statements, parts with the scope of each verdict, every method with its scope, "
            f"evidence, counterexamples and figures): [{_esc(full)}]({full}), [{_esc(html)}]({html}); "
            f"data: [{_esc(data)}]({data}) (report schema {d['schema_version']}).", ""]
    info = d["run"]
    env = info["environment"] if isinstance(info["environment"], Mapping) else {}
    versions = env.get("versions") if isinstance(env.get("versions"), Mapping) else {}
    version = env.get("stecheck") or versions.get("stecheck")
    out += [f"*Run: seed {_code(str(info['seed']))}, tier {_esc(info['tier'])}, workers {_esc(info['workers'])}, "
            f"started {_esc(info['started_at'])}, {seconds(info['seconds'], 1)}"
            f"{', stecheck ' + _esc(version) if version else ''}.*", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_markdown(run: RunResult, figure_paths: Mapping[tuple[str, str], str | PurePath] | None = None) -> str:
    """The full Markdown report of ``run`` (``report-full.md``): first screen, every claim, then the run.

    ``figure_paths`` maps ``(claim_id, figure_name)`` to the PNG's path relative
    to where the report is written (e.g. ``figures/SBN-B4-bias.png``); a
    figure without an entry is listed as not rendered.
    """
    d = run_to_dict(run)
    paths = {k: Path(v).as_posix() for k, v in (figure_paths or {}).items()}
    out = _first_screen(d)
    for c in d["claims"]:
        out += _claim(c, paths)
    out += _run_table(d)
    return "\n".join(out).rstrip("\n") + "\n"


def _claim(c: Mapping[str, Any], paths: Mapping[tuple[str, str], str]) -> list[str]:
    out = [f'<a id="{anchor(c["id"])}"></a>', "", f"## {_esc(c['id'])}: {_esc(c['title'])}", ""]
    differs = (" (differs from the verdict on the statement as checked)"
               if c["verdict_as_printed"] != c["verdict"] else "")
    out += [
        f"- **Paper:** {_esc(c['paper'] or UNNAMED_PAPER)}",
        f"- **Source:** {_esc(c['source'])}",
        f"- **Verdict (statement as checked):** {_verdict(c['verdict'])}",
        f"- **Verdict (statement as printed):** {_verdict(c['verdict_as_printed'])}{differs}",
        "",
        "**Statement as printed**",
        "",
        *_quote(c["statement_printed"]),
        "",
        "**Statement as checked**",
        "",
        *_quote(c["statement_checked"]),
        "",
    ]
    if c["errors"]:
        out += [f"### Methods failed ({len(c['errors'])})", ""]
        out += [f"- **{_esc(x)}**" for x in c["errors"]] + [""]
    disagreements = list(c["disagreements"])
    if disagreements:
        out += [f"### Methods disagree ({len(disagreements)})", ""]
        out += [f"- **{_esc(x)}**" for x in disagreements] + [""]
    if c["readings"]:
        out += [f"### Readings of the printed statement ({len(c['readings'])})", ""]
        out += _table(["reading", "meaning", "verdict"],
                      [[_code(r["id"]), _esc(r["text"]), _verdict(r["verdict"])] for r in c["readings"]], "lll")
        out += [""]
    findings = c["findings"]
    out += [f"### Findings ({len(findings)})", ""]
    out += ([f"- **{f['category']}**{': ' + _code(f['source']) if f['source'] else ''}: {_esc(f['text'])}"
             for f in findings] if findings else ["None recorded."])
    out += [""]

    out += ["### Parts", ""]
    out += _table(["part", "role", "verdict", "scope of the evidence"],
                  [[_esc(p["part"]), p["role"], _verdict(p["verdict"]), _esc(p["scope"])] for p in c["parts"]],
                  "llll") + [""]

    out += ["### Methods", ""]
    out += _table(
        ["method", "kind", "part", "role", "verdict", "scope", "seconds"],
        [[_code(m["name"]), m["kind"], _esc(m["part"]), _role(m), _verdict(m["verdict"]),
          _esc(m["scope"]["covers"] + (" (whole range)" if m["scope"]["complete"] else "")), seconds(m["seconds"])]
         for m in c["methods"]],
        "llllllr",
    ) + [""]
    for m in c["methods"]:
        out += _method(c["id"], m, paths)

    out += ["### Replay", ""]
    out += _block(c["replay"] or "(no replay command recorded)", "sh") + [""]
    return out


def _method(claim_id: str, m: Mapping[str, Any], paths: Mapping[tuple[str, str], str]) -> list[str]:
    out = [f"#### {_code(m['name'])}: {_verdict(m['verdict'])}", ""]
    out += [f"{m['kind']}, part {_code(m['part'])}, role {_role(m)}, scope: {_esc(m['scope']['covers'])}"
            f"{' (whole range)' if m['scope']['complete'] else ''}, {seconds(m['seconds'])}, "
            f"fingerprint {_code(m['fingerprint'] or '-')}", ""]
    if m["error"] is not None:
        out += ["**Error:**", ""] + _block(m["error"]) + [""]
    if m["discrepancies"]:
        out += ["**Findings measured:**", ""] + [f"- {f['category']}: {_esc(f['text'])}" for f in m["discrepancies"]]
        out += [""]
    if m["evidence"]:
        inline = [(k, v) for k, v in m["evidence"].items() if not is_text_block(v)]
        blocks = [(k, v) for k, v in m["evidence"].items() if is_text_block(v)]
        out += ["Evidence:", ""]
        if inline:
            out += [f"- {_esc(k)}: {_code(compact(v))}" for k, v in inline] + [""]
        for k, v in blocks:
            out += [f"{_code(k)}:", ""] + _block(text_block(v)) + [""]
    else:
        out += ["Evidence: none recorded.", ""]
    if m["counterexample"] is not None:
        out += ["**Counterexample:**", ""] + _block(full_json(m["counterexample"]), "json") + [""]
    for f in m["figures"]:
        rel = paths.get((claim_id, f["name"]))
        if rel is None:
            out += [f"*Figure {_esc(f['title'] or f['name'])}: not rendered.*", ""]
        else:
            target = f"<{rel}>" if any(ch in rel for ch in " ()<>") else rel
            out += [f"![{_esc(f['title'] or f['name'])}]({target})", ""]
    return out
