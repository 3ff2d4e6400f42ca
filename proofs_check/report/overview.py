"""The report's first screen, as data: which papers were checked and what was found.

Shared by ``report.md`` (the short summary), ``report-full.md`` and
``report.html`` so the three say the same thing.  Everything here reads the
plain-JSON document of :func:`~.schema.run_to_dict`; nothing is computed
that the document does not already hold.

The one-line *reason* of a claim (:func:`reason`) is chosen in this order, so
that the most serious thing about a claim is what a reader sees first:

1. a method that failed (the claim is ERROR: a bug in stecheck, not the paper);
2. the first finding of category *error* (it refutes the printed statement);
3. a disagreement between methods (the part is left undecided);
4. otherwise the part that decides the verdict, with the scope its evidence covers
   (for PROVED/VERIFIED the weakest part, so a sub-range proof is never hidden),
   followed by the number of other findings (misprints, conventions, imprecisions).

A claim with several readings adds each reading's verdict to the line.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["papers", "reason", "finding_summary", "UNNAMED_PAPER", "REASON_CHARS"]

#: How a claim whose Source names no paper is grouped.
UNNAMED_PAPER = "(paper not named by the claim's source)"
#: A reason is cut to this many characters (the full text is in the claim's section).
REASON_CHARS = 160

_ORDER = ("ERROR", "REFUTED", "INCONCLUSIVE", "VERIFIED", "PROVED")


def papers(d: Mapping[str, Any]) -> list[tuple[str, list[str]]]:
    """``(paper, [claim ids])`` in order of first appearance in the run."""
    out: dict[str, list[str]] = {}
    for c in d["claims"]:
        out.setdefault(c["paper"] or UNNAMED_PAPER, []).append(c["id"])
    return list(out.items())


def _cut(text: str, n: int = REASON_CHARS) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3].rstrip() + "..."


def finding_summary(counts: Mapping[str, int]) -> str:
    """``"1 error, 2 misprints"``; ``"none"`` when every count is zero."""
    bits = [f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items() if n]
    return ", ".join(bits) or "none"


def reason(c: Mapping[str, Any]) -> str:
    """One line saying why claim ``c`` (a claim dict of ``report.json``) got its verdicts.

    A claim with readings ends the line with each reading's verdict ("readings: l2 VERIFIED, linf REFUTED").
    """
    text = _reason(c)
    if c["readings"]:
        readings = "readings: " + ", ".join(f"{r['id']} {r['verdict']}" for r in c["readings"])
        text = _cut(text, REASON_CHARS - len(readings) - 2) + "; " + readings
    return text


def _reason(c: Mapping[str, Any]) -> str:
    if c["errors"]:
        return _cut(f"method failed: {c['errors'][0]}")
    errors = [f for f in c["findings"] if f["category"] == "error"]
    if errors:
        f = errors[0]
        where = f" ({f['source']})" if f["source"] else ""
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return _cut(f"error{where}: {f['text']}{more}")
    if c["disagreements"]:
        text = c["disagreements"][0]
        return _cut(text.split(";")[0])
    checked = [p for p in c["parts"] if p["role"] == "checked"]
    if not checked:
        return "no method checked the statement"
    rank = {v: i for i, v in enumerate(_ORDER)}
    part = min(checked, key=lambda p: rank.get(p["verdict"], 0))
    label = f"{part['part']}: " if len(checked) > 1 or part["part"] != "main" else ""
    text = f"{label}{part['scope']}"  # the scope already says "proved for ...", "counterexample: ..."
    others = sum(n for k, n in c["finding_counts"].items() if k != "error")
    if others:
        text = _cut(text, REASON_CHARS - 40) + f"; {finding_summary({k: n for k, n in c['finding_counts'].items() if k != 'error'})}"
    return _cut(text)
