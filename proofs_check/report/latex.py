"""``stecheck report --latex``: the verdict table and the findings as a LaTeX fragment.

The fragment needs ``\\usepackage{booktabs}`` (for ``\\toprule``/``\\midrule``/
``\\bottomrule``) and nothing else; it is meant to be ``\\input`` into a paper
or a review.  Like the other reporters it formats :func:`~.schema.run_to_dict`
and computes nothing.  Every piece of text is escaped with :func:`escape`, so a
title with ``_``, ``%``, ``&``, ``$`` or ``\\`` cannot break the document.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..results import RunResult
from .overview import UNNAMED_PAPER, finding_summary, papers, reason
from .schema import run_to_dict

__all__ = ["render_latex", "escape"]

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "[": "{[}",
    "]": "{]}",
}


def escape(text: Any) -> str:
    """``text`` as LaTeX text: the ten special characters (and ``<``, ``>``, ``|``, brackets) escaped, newlines folded.

    Brackets are braced so that text after ``\\item`` is never read as an optional argument.
    """
    return "".join(_SPECIAL.get(ch, ch) for ch in " ".join(str(text).split()))


def _verdict(v: str) -> str:
    return rf"\textsc{{{v.lower()}}}"


def render_latex(run: RunResult) -> str:
    """A LaTeX fragment: the papers, a booktabs verdict table (both verdicts, findings, reason), the findings."""
    d = run_to_dict(run)
    info = d["run"]
    out = [
        "% stecheck report: verdict table and findings (needs \\usepackage{booktabs})",
        f"% run: seed {info['seed']}, tier {info['tier']}, started {info['started_at']}, "
        f"report schema {d['schema_version']}",
    ]
    if not d["claims"]:
        return "\n".join(out + ["No claims were checked.", ""])
    out += ["\\begin{itemize}"]
    out += [f"  \\item {escape(paper)}: {len(ids)} claim{'s' if len(ids) != 1 else ''} ({escape(', '.join(ids))})"
            for paper, ids in papers(d)]
    out += ["\\end{itemize}", ""]
    summary = d["summary"]
    out += [
        "\\begin{table}[ht]",
        "\\centering",
        "\\small",
        "\\begin{tabular}{lllll}",
        "\\toprule",
        "Claim & As checked & As printed & Findings & Why \\\\",
        "\\midrule",
    ]
    for c in d["claims"]:
        out.append(f"{escape(c['id'])} & {_verdict(c['verdict'])} & {_verdict(c['verdict_as_printed'])} & "
                   f"{escape(finding_summary(c['finding_counts']))} & "
                   f"\\parbox[t]{{0.45\\linewidth}}{{\\raggedright {escape(reason(c))}}} \\\\")
    counts = ", ".join(f"{n} {v.lower()}" for v, n in summary["as_checked"].items() if n)
    printed = ", ".join(f"{n} {v.lower()}" for v, n in summary["as_printed"].items() if n)
    out += [
        "\\bottomrule",
        "\\end{tabular}",
        f"\\caption{{Verdicts of stecheck on {len(d['claims'])} claims. As checked: {escape(counts)}; "
        f"as printed: {escape(printed)}; findings: {escape(finding_summary(summary['findings']))}.}}",
        "\\end{table}",
        "",
    ]
    out += _findings(d["claims"])
    return "\n".join(out) + "\n"


def _findings(claims: list[Mapping[str, Any]]) -> list[str]:
    with_findings = [c for c in claims if c["findings"] or c["errors"] or c["disagreements"]]
    if not with_findings:
        return ["No findings, disagreements or failed methods.", ""]
    out = ["\\begin{description}"]
    for c in with_findings:
        out.append(f"  \\item[{escape(c['id'])}] {escape(c['title'])} ({escape(c['paper'] or UNNAMED_PAPER)}, "
                   f"{escape(c['source'])})")
        out.append("  \\begin{itemize}")
        for f in c["findings"]:
            where = f" ({escape(f['source'])})" if f["source"] else ""
            out.append(f"    \\item \\emph{{{escape(f['category'])}}}{where}: {escape(f['text'])}")
        for e in c["errors"]:
            out.append(f"    \\item \\emph{{method failed}}: {escape(e)}")
        for x in c["disagreements"]:
            out.append(f"    \\item \\emph{{methods disagree}}: {escape(x)}")
        out.append("  \\end{itemize}")
    out += ["\\end{description}", ""]
    return out
