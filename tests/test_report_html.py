"""report.html: self-contained, escaped, same content as the Markdown report."""

from __future__ import annotations

import base64
import html
import re
from html.parser import HTMLParser

import pytest
from test_report_support import HOSTILE, sample_run

from stecheck.proofs_check.report import render_html
from stecheck.proofs_check.report.html import VERDICT_COLORS

PNG = b"\x89PNG\r\n\x1a\nnot really a png"
PNGS = {("SBN-COR-B1", "bias"): PNG}


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(sample_run(), PNGS)


class _Tags(HTMLParser):
    VOID = {"meta", "br", "img", "link", "input", "hr"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.attrs, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def test_page_is_well_nested_and_self_contained(page):
    p = _Tags()
    p.feed(page)
    assert p.errors == [] and p.stack == []
    assert page.startswith("<!DOCTYPE html>")
    assert not {"script", "link", "iframe", "object", "embed"} & set(p.tags)
    urls = [v for k, v in p.attrs if k in ("src", "href")]
    assert urls and all(u.startswith(("data:image/png;base64,", "#")) for u in urls)
    assert "http://" not in page and "https://" not in page and "url(" not in page and "@import" not in page


def test_figures_are_embedded_as_data_uris(page):
    data = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert [base64.b64decode(d) for d in data] == [PNG]
    assert "<em>Figure Success rate: not rendered.</em>" in page


def test_verdict_badges_are_coloured(page):
    assert ".v-PROVED { background: #1a7f37; }" in page
    for verdict in VERDICT_COLORS:
        assert f".v-{verdict} {{" in page
    assert '<span class="badge v-REFUTED">REFUTED</span>' in page
    assert '<span class="badge v-ERROR">ERROR</span>' in page


def test_all_text_is_escaped(page):
    assert "<script>" not in page
    assert html.escape(HOSTILE) in page


def test_same_content_as_markdown(page):
    for text in ("seed", "quick", "2025-01-02T03:04:05Z", "12.8 s", "3.12.1",
                 "For any PSD diagonal Lambda, &lt;Lambda g, g&gt; &gt;= 0.",
                 "the printed statement omits that units share parameters",
                 "<strong>error</strong>: <code>search-J</code>: eq. (22) drops the off-diagonal terms of J1",
                 "<strong>misprint</strong>: <code>as-printed</code>", "role printed (misprint)",
                 "<code>l2</code>", "L Lipschitz in the max norm", "2 x 2 matrices, 16 restarts",
                 "all a, L (symbolic) (whole range)",
                 "Methods disagree (1)", "methods disagree (smt-necessity: PROVED, opt-necessity: REFUTED)",
                 "stecheck run SBN-B5 --seed 7 --tier quick",
                 "ZeroDivisionError: division by zero", "role printed", "fedcba9876543210"):
        assert text in page, text


def test_evidence_is_collapsible_and_counterexamples_are_open(page):
    assert "<details><summary>Evidence (7 items)</summary>" in page
    assert "<li>errors: <code>[0.0, 0.001, 0.002, 0.003, 0.004, 0.005, ... (40 items)]</code></li>" in page
    assert "<details open><summary><strong>Counterexample</strong></summary>" in page
    assert html.escape('{"J1": [[1.0, -2.0], [0.5, 1.0]], "Lambda": [1.0, 0.0], "value": -0.37}') in page
    assert "<li>traceback:<pre>Traceback (most recent call last):\n" in page


def test_claim_links_point_at_sections(page):
    for cid in ("SBN-COR-B1", "SBN-B4", "SBN-B5", "QSTE-ERG"):
        assert f'<a href="#claim-{cid}">{cid}</a>' in page and f'<section id="claim-{cid}">' in page


def test_first_screen_names_papers_counts_and_reasons_and_run_metadata_comes_last(page):
    head = page[: page.index('<section id="claim-')]
    assert "<strong>Papers checked</strong>" in head
    assert "Reintroducing Straight-Through Estimators (A. Shekhovtsov, V. Yanush; arXiv:2006.06880): 3 claims" in head
    assert "4 claims checked (tier quick, seed 7); findings: 2 errors, 1 misprint, 1 imprecision." in head
    assert "<th>claims as checked</th><th>claims as printed</th>" in head
    assert ('<tr><td><span class="badge v-REFUTED">REFUTED</span></td><td class="num">1</td>'
            '<td class="num">2</td></tr>') in head
    assert "error (literal-constant): the printed constant 2 should be 1" in head
    assert "readings: l2 VERIFIED, linf REFUTED" in head
    assert "fedcba9876543210" not in head and "3.12.1" not in head
    run = page[page.index('<h2 id="run">Run</h2>'):]
    assert page.rindex('<section id="claim-') < page.index('<h2 id="run">Run</h2>')
    assert "<td>seed</td><td><code>7</code></td>" in run and "3.12.1" in run


def test_rendering_is_deterministic(page):
    assert render_html(sample_run(), PNGS) == page
