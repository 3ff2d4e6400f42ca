"""stecheck report --latex: a booktabs verdict table and the findings, every special character escaped."""

from __future__ import annotations

import re

import pytest
from test_report_support import HOSTILE, sample_run

from stecheck.proofs_check.report.latex import escape, render_latex
from stecheck.proofs_check.results import RunResult


@pytest.fixture(scope="module")
def tex() -> str:
    return render_latex(sample_run())


def _balanced(text: str) -> bool:
    depth = 0
    for m in re.finditer(r"(?<!\\)[{}]", text):
        depth += 1 if m.group() == "{" else -1
        if depth < 0:
            return False
    return depth == 0


@pytest.mark.parametrize(("raw", "expected"), [
    ("a_b", r"a\_b"), ("50%", r"50\%"), ("x & y", r"x \& y"), ("$n$", r"\$n\$"), ("#1", r"\#1"),
    ("{a}", r"\{a\}"), ("~", r"\textasciitilde{}"), ("n^2", r"n\textasciicircum{}2"),
    ("a\\b", r"a\textbackslash{}b"), ("[x]", "{[}x{]}"), ("two\nlines", "two lines"),
])
def test_escape(raw, expected):
    assert escape(raw) == expected


def test_verdict_table_is_booktabs_with_both_verdicts(tex):
    assert tex.index("\\toprule") < tex.index("\\midrule") < tex.index("\\bottomrule")
    assert "Claim & As checked & As printed & Findings & Why \\\\" in tex
    rows = [l for l in tex.splitlines() if re.match(r"^[A-Z]+-[A-Z0-9-]+ & ", l)]
    assert [r.split(" & ")[:3] for r in rows] == [
        ["SBN-COR-B1", r"\textsc{proved}", r"\textsc{refuted}"],
        ["SBN-B4", r"\textsc{refuted}", r"\textsc{refuted}"],
        ["SBN-B5", r"\textsc{inconclusive}", r"\textsc{inconclusive}"],
        ["QSTE-ERG", r"\textsc{error}", r"\textsc{error}"],
    ]
    assert "error (literal-constant): the printed constant 2 should be 1" in rows[0]
    assert ("As checked: 1 proved, 1 refuted, 1 inconclusive, 1 error; as printed: 2 refuted, 1 inconclusive, "
            "1 error; findings: 2 errors, 1 misprint, 1 imprecision.") in tex


def test_findings_are_listed_by_category_with_the_paper(tex):
    assert r"\item \emph{error} (search-J): eq. (22) drops the off-diagonal terms of J1" in tex
    assert r"\item \emph{misprint} (as-printed): the literal check `as-printed` is refuted" in tex
    assert r"\item \emph{method failed}: threshold-fit: ZeroDivisionError: division by zero" in tex
    assert r"\item \emph{methods disagree}: {[}necessity{]} methods disagree" in tex
    assert "arXiv:2505.18113" in tex


def test_hostile_text_cannot_break_the_document(tex):
    assert HOSTILE not in tex
    assert r"\textless{}script\textgreater{}" in tex and r"\textbar{} *b* \_c\_ \& `d`" in tex
    assert _balanced(tex)
    body = "\n".join(l for l in tex.splitlines() if not l.startswith("%"))
    # every & outside a tabular row separator is escaped; no bare % or # or _ in text
    assert not re.search(r"(?<!\\)[%#_]", body)


def test_empty_run():
    empty = RunResult(claims=[], seed=0, tier="quick", workers=0, started_at="t", seconds=0.0)
    assert "No claims were checked." in render_latex(empty)
