"""HTML for Jupyter: ``RunResult._repr_html_`` and ``ClaimResult._repr_html_``.

A notebook shows a run as the report's first screen (papers, both verdict
counts, findings per category, one line per claim with its reason) and a claim
as its verdicts, findings, parts with their scopes and methods with their
scopes.  Styles are inline (notebook front ends drop ``<style>`` blocks from
untrusted output), all text is escaped, and nothing is computed that
``report.json`` does not hold.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from .overview import UNNAMED_PAPER, finding_summary, papers, reason

__all__ = ["run_html", "claim_html"]

_COLORS = {"PROVED": "#1a7f37", "VERIFIED": "#0f7b7b", "REFUTED": "#cf222e", "INCONCLUSIVE": "#b7791f",
           "ERROR": "#6f42c1"}


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _badge(v: str) -> str:
    color = _COLORS.get(v, "#6f42c1")
    return (f'<span style="background:{color};color:#fff;padding:0 .4em;border-radius:.6em;'
            f'font-weight:600;font-size:.85em">{_e(v)}</span>')


def _table(header: list[str], rows: list[list[str]]) -> str:
    th = "".join(f'<th style="text-align:left">{h}</th>' for h in header)
    body = "".join("<tr>" + "".join(f'<td style="text-align:left">{c}</td>' for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def run_html(run) -> str:
    """The first screen of ``run`` as an HTML fragment."""
    from .schema import run_to_dict

    d = run_to_dict(run)
    info = d["run"]
    out = [f"<div><strong>stecheck run</strong>: {len(d['claims'])} claims, tier {_e(info['tier'])}, "
           f"seed {_e(info['seed'])}, workers {_e(info['workers'])}, {_e(round(float(info['seconds']), 1))} s"]
    if d["claims"]:
        out.append("<ul>" + "".join(f"<li>{_e(p)}: {_e(', '.join(ids))}</li>" for p, ids in papers(d)) + "</ul>")
        s = d["summary"]
        out.append(_table(["", *(_badge(v) for v in s["as_checked"])],
                          [["as checked", *(_e(n) for n in s["as_checked"].values())],
                           ["as printed", *(_e(n) for n in s["as_printed"].values())]]))
        out.append(f"<p>findings: {_e(finding_summary(s['findings']))}</p>")
        out.append(_table(["id", "title", "as checked", "as printed", "findings", "why"],
                          [[_e(c["id"]), _e(c["title"]), _badge(c["verdict"]), _badge(c["verdict_as_printed"]),
                            _e(finding_summary(c["finding_counts"])), _e(reason(c))] for c in d["claims"]]))
    out.append("</div>")
    return "\n".join(out)


def claim_html(claim) -> str:
    """One claim result as an HTML fragment: verdicts, reason, findings, parts and methods with scopes."""
    from .schema import _claim_to_dict

    c = _claim_to_dict(claim)
    return _claim_fragment(c)


def _claim_fragment(c: Mapping[str, Any]) -> str:
    out = [f"<div><strong>{_e(c['id'])}</strong>: {_e(c['title'])}<br>",
           f"<small>{_e(c['paper'] or UNNAMED_PAPER)}; {_e(c['source'])}</small><br>",
           f"as checked {_badge(c['verdict'])}, as printed {_badge(c['verdict_as_printed'])}: {_e(reason(c))}"]
    if c["readings"]:
        out.append(_table(["reading", "meaning", "verdict"],
                          [[f"<code>{_e(r['id'])}</code>", _e(r["text"]), _badge(r["verdict"])] for r in c["readings"]]))
    if c["findings"]:
        out.append("<ul>" + "".join(f"<li><em>{_e(f['category'])}</em>{' (' + _e(f['source']) + ')' if f['source'] else ''}"
                                    f": {_e(f['text'])}</li>" for f in c["findings"]) + "</ul>")
    out.append(_table(["part", "role", "verdict", "scope of the evidence"],
                      [[_e(p["part"]), _e(p["role"]), _badge(p["verdict"]), _e(p["scope"])] for p in c["parts"]]))
    out.append(_table(["method", "kind", "part", "role", "verdict", "scope"],
                      [[f"<code>{_e(m['name'])}</code>", _e(m["kind"]), _e(m["part"]), _e(m["role"]),
                        _badge(m["verdict"]),
                        _e(m["scope"]["covers"] + (" (whole range)" if m["scope"]["complete"] else ""))]
                       for m in c["methods"]]))
    out.append("</div>")
    return "\n".join(out)
