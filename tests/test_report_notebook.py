"""Jupyter: RunResult, ClaimResult and derivation results render as HTML tables (_repr_html_)."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from test_report_support import HOSTILE, sample_run


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in ("br",):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _well_formed(text: str) -> list[str]:
    p = _Tags()
    p.feed(text)
    assert p.errors == [] and p.stack == []
    assert "script" not in p.tags and "style" not in p.tags
    return p.tags


def test_run_repr_html_is_the_first_screen():
    run = sample_run()
    page = run._repr_html_()
    assert "table" in _well_formed(page)
    assert "arXiv:2006.06880" in page and "arXiv:2505.18113" in page
    assert ">as checked</td>" in page and ">as printed</td>" in page
    assert "findings: 2 errors, 1 misprint, 1 imprecision" in page
    assert html.escape("error (search-J): eq. (22) drops the off-diagonal terms of J1") in page
    assert HOSTILE not in page and html.escape(HOSTILE) in page


def test_claim_repr_html_shows_parts_and_method_scopes():
    claim = sample_run().claims[2]
    page = claim._repr_html_()
    _well_formed(page)
    assert "scope of the evidence" in page and "all a, L (symbolic) (whole range)" in page
    assert "<code>linf</code>" in page and "L Lipschitz in the max norm" in page
    assert "INCONCLUSIVE" in page


def test_derivation_repr_html_typesets_each_expression():
    from stecheck.theory import derivations

    result = derivations.derive("multilinear")
    page = result._repr_html_()
    _well_formed(page)
    assert "<code>multilinear_pm1</code>" in page and "$$5 x_{1} x_{2}" in page
