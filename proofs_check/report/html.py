"""``report.html``: the run as one self-contained page.

Same content as ``report-full.md`` (first screen, claims, run metadata last; both format :func:`~.schema.run_to_dict`), with
inline CSS, figures embedded as base64 PNG data URIs and no external resources
(no scripts, fonts, stylesheets or remote images), so the file can be mailed or
archived on its own.  All text is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from ..results import RunResult
from ..verdict import Category
from .markdown import _role, anchor, compact, environment_rows, full_json, is_text_block, seconds, text_block
from .overview import UNNAMED_PAPER, finding_summary, papers, reason
from .schema import run_to_dict

__all__ = ["render_html", "VERDICT_COLORS"]

#: Badge colours (background) per verdict.
VERDICT_COLORS = {
    "PROVED": "#1a7f37",
    "VERIFIED": "#0f7b7b",
    "REFUTED": "#cf222e",
    "INCONCLUSIVE": "#b7791f",
    "ERROR": "#6f42c1",
}

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem; margin: 2rem auto;
       padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1, h2, h3, h4 { line-height: 1.2; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; margin-top: 2.5rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9em; }
pre { background: #f6f8fa; padding: .6rem; overflow-x: auto; white-space: pre-wrap; }
blockquote { margin: .3rem 0 1rem; padding: .2rem 1rem; border-left: 4px solid #d0d7de; color: #343a40; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: .8rem; color: #fff; font-weight: 600;
         font-size: .85em; letter-spacing: .02em; }
""" + "".join(f".v-{v} {{ background: {c}; }}\n" for v, c in VERDICT_COLORS.items()) + """
.alert { border: 1px solid #cf222e; background: #fff5f5; padding: .5rem 1rem; margin: .5rem 0 1rem; }
.alert.discrepancy { border-color: #b7791f; background: #fffaf0; }
.alert h3 { margin: .2rem 0 .4rem; font-size: 1rem; }
.method { border: 1px solid #d0d7de; border-radius: .4rem; padding: .4rem 1rem; margin: .8rem 0; }
.method h4 { margin: .4rem 0; }
.meta { color: #57606a; font-size: .9em; }
.error pre { background: #f5f0ff; }
figure { margin: .5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #d0d7de; }
figcaption { color: #57606a; font-size: .9em; }
ul.evidence { margin: .2rem 0; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _badge(verdict: str) -> str:
    cls = verdict if verdict in VERDICT_COLORS else "ERROR"
    return f'<span class="badge v-{cls}">{_e(verdict)}</span>'


def _table(header: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> list[str]:
    """Header cells and row cells must already be HTML."""
    out = ["<table>", "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"]
    for row in rows:
        cells = "".join(f'<td class="num">{x}</td>' if i in numeric else f"<td>{x}</td>" for i, x in enumerate(row))
        out.append(f"<tr>{cells}</tr>")
    out.append("</table>")
    return out


def _quote(text: str) -> str:
    return "<blockquote>" + "<br>\n".join(_e(line) for line in str(text).splitlines()) + "</blockquote>"


def render_html(run: RunResult, figure_pngs: Mapping[tuple[str, str], bytes] | None = None) -> str:
    """The HTML report of ``run``.

    ``figure_pngs`` maps ``(claim_id, figure_name)`` to PNG bytes, embedded as
    data URIs; a figure without an entry is listed as not rendered.
    """
    d = run_to_dict(run)
    pngs = dict(figure_pngs or {})
    info = d["run"]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>stecheck report ({_e(info['started_at'])})</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<h1>stecheck report</h1>",
    ]
    out += _first_screen(d)
    for c in d["claims"]:
        out += _claim(c, pngs)
    out += _run_table(d)
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def _first_screen(d: Mapping[str, Any]) -> list[str]:
    """Papers, both verdict counts, finding counts, one line per claim (as in ``report.md``)."""
    claims = d["claims"]
    if not claims:
        return ["<p>No claims were checked.</p>"]
    listed = papers(d)
    out = [f"<p><strong>Paper{'s' if len(listed) > 1 else ''} checked</strong></p>", "<ul>"]
    out += [f"<li>{_e(paper)}: {len(ids)} claim{'s' if len(ids) != 1 else ''} ({_e(', '.join(ids))})</li>"
            for paper, ids in listed] + ["</ul>"]
    summary = d["summary"]
    out += ["<h2>What was found</h2>",
            f"<p>{len(claims)} claim{'s' if len(claims) != 1 else ''} checked (tier {_e(d['run']['tier'])}, "
            f"seed {_e(d['run']['seed'])}); findings: {_e(finding_summary(summary['findings']))}.</p>"]
    counts = [[_badge(v), _e(n), _e(summary["as_printed"][v])] for v, n in summary["as_checked"].items()]
    counts.append(["total", _e(len(claims)), _e(len(claims))])
    out += _table(["verdict", "claims as checked", "claims as printed"], counts, numeric=(1, 2))
    out += _table(["finding", "count", "meaning"],
                  [[_e(k), _e(n), _e(Category(k).meaning)] for k, n in summary["findings"].items()], numeric=(1,))
    out += ["<h2>Claims</h2>"]
    out += _table(
        ["id", "title", "as checked", "as printed", "findings", "why"],
        [[f'<a href="#{_e(anchor(c["id"]))}">{_e(c["id"])}</a>', _e(c["title"]), _badge(c["verdict"]),
          _badge(c["verdict_as_printed"]), _e(finding_summary(c["finding_counts"])), _e(reason(c))]
         for c in claims],
    )
    return out


def _run_table(d: Mapping[str, Any]) -> list[str]:
    info = d["run"]
    rows = [
        ["seed", f"<code>{_e(info['seed'])}</code>"],
        ["tier", _e(info["tier"])],
        ["workers", _e(info["workers"])],
        ["started", _e(info["started_at"])],
        ["duration", _e(seconds(info["seconds"], 1))],
        ["report schema", _e(d["schema_version"])],
    ]
    rows += [[_e(k), _e(v)] for k, v in environment_rows(info["environment"])]
    return ['<h2 id="run">Run</h2>'] + _table(["run", ""], rows)


def _claim(c: Mapping[str, Any], pngs: Mapping[tuple[str, str], bytes]) -> list[str]:
    out = [f'<section id="{_e(anchor(c["id"]))}">', f"<h2>{_e(c['id'])}: {_e(c['title'])}</h2>", "<ul>",
           f"<li><strong>Paper:</strong> {_e(c['paper'] or UNNAMED_PAPER)}</li>",
           f"<li><strong>Source:</strong> {_e(c['source'])}</li>",
           f"<li><strong>Verdict (statement as checked):</strong> {_badge(c['verdict'])}</li>"]
    differs = (" (differs from the verdict on the statement as checked)"
               if c["verdict_as_printed"] != c["verdict"] else "")
    out += [f"<li><strong>Verdict (statement as printed):</strong> {_badge(c['verdict_as_printed'])}{differs}</li>",
            "</ul>",
            "<h3>Statement as printed</h3>", _quote(c["statement_printed"]),
            "<h3>Statement as checked</h3>", _quote(c["statement_checked"])]

    if c["errors"]:
        out += ['<div class="alert">', f"<h3>Methods failed ({len(c['errors'])})</h3>", "<ul>"]
        out += [f"<li><strong>{_e(x)}</strong></li>" for x in c["errors"]] + ["</ul>", "</div>"]
    disagreements = list(c["disagreements"])
    if disagreements:
        out += ['<div class="alert">', f"<h3>Methods disagree ({len(disagreements)})</h3>", "<ul>"]
        out += [f"<li><strong>{_e(x)}</strong></li>" for x in disagreements] + ["</ul>", "</div>"]
    if c["readings"]:
        out += [f"<h3>Readings of the printed statement ({len(c['readings'])})</h3>"]
        out += _table(["reading", "meaning", "verdict"],
                      [[f"<code>{_e(r['id'])}</code>", _e(r["text"]), _badge(r["verdict"])] for r in c["readings"]])
    findings = c["findings"]
    if findings:
        out += ['<div class="alert discrepancy">', f"<h3>Findings ({len(findings)})</h3>", "<ul>"]
        out += [f"<li><strong>{_e(f['category'])}</strong>"
                f"{': <code>' + _e(f['source']) + '</code>' if f['source'] else ''}: {_e(f['text'])}</li>"
                for f in findings] + ["</ul>", "</div>"]
    else:
        out += ["<h3>Findings (0)</h3>", "<p>None recorded.</p>"]

    out += ["<h3>Parts</h3>"]
    out += _table(["part", "role", "verdict", "scope of the evidence"],
                  [[_e(p["part"]), _e(p["role"]), _badge(p["verdict"]), _e(p["scope"])] for p in c["parts"]])
    out += ["<h3>Methods</h3>"]
    out += _table(
        ["method", "kind", "part", "role", "verdict", "scope", "seconds"],
        [[f"<code>{_e(m['name'])}</code>", _e(m["kind"]), _e(m["part"]), _e(_role(m)), _badge(m["verdict"]),
          _e(m["scope"]["covers"] + (" (whole range)" if m["scope"]["complete"] else "")),
          _e(seconds(m["seconds"]))] for m in c["methods"]],
        numeric=(6,),
    )
    for m in c["methods"]:
        out += _method(c["id"], m, pngs)

    out += ["<h3>Replay</h3>", f"<pre><code>{_e(c['replay'] or '(no replay command recorded)')}</code></pre>",
            "</section>"]
    return out


def _method(claim_id: str, m: Mapping[str, Any], pngs: Mapping[tuple[str, str], bytes]) -> list[str]:
    out = ['<div class="method">', f"<h4><code>{_e(m['name'])}</code> {_badge(m['verdict'])}</h4>",
           f'<p class="meta">{_e(m["kind"])}, part <code>{_e(m["part"])}</code>, role {_e(_role(m))}, '
           f'scope: {_e(m["scope"]["covers"])}{" (whole range)" if m["scope"]["complete"] else ""}, '
           f'{_e(seconds(m["seconds"]))}, fingerprint <code>{_e(m["fingerprint"] or "-")}</code></p>']
    if m["error"] is not None:
        out += ['<div class="error"><strong>Error:</strong>', f"<pre>{_e(m['error'])}</pre></div>"]
    if m["discrepancies"]:
        out += ["<p><strong>Findings measured:</strong></p>", "<ul>"]
        out += [f"<li>{_e(f['category'])}: {_e(f['text'])}</li>" for f in m["discrepancies"]] + ["</ul>"]
    evidence = m["evidence"]
    if evidence:
        out += [f"<details><summary>Evidence ({len(evidence)} item{'s' if len(evidence) != 1 else ''})</summary>",
                '<ul class="evidence">']
        out += [f"<li>{_e(k)}:<pre>{_e(text_block(v))}</pre></li>" if is_text_block(v)
                else f"<li>{_e(k)}: <code>{_e(compact(v))}</code></li>" for k, v in evidence.items()]
        out += ["</ul>", "<details><summary>as JSON</summary>", f"<pre>{_e(full_json(evidence))}</pre>",
                "</details>", "</details>"]
    else:
        out += ["<p>Evidence: none recorded.</p>"]
    if m["counterexample"] is not None:
        out += ["<details open><summary><strong>Counterexample</strong></summary>",
                f"<pre>{_e(full_json(m['counterexample']))}</pre>", "</details>"]
    for f in m["figures"]:
        caption = _e(f["title"] or f["name"])
        png = pngs.get((claim_id, f["name"]))
        if png is None:
            out += [f"<p><em>Figure {caption}: not rendered.</em></p>"]
        else:
            data = base64.b64encode(png).decode("ascii")
            out += ["<figure>", f'<img src="data:image/png;base64,{data}" alt="{caption}">',
                    f"<figcaption>{caption}</figcaption>", "</figure>"]
    out += ["</div>"]
    return out
