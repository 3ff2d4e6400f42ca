"""report.md: run header, summary, claims table, per-claim detail, escaping."""

from __future__ import annotations

import re

import pytest
from test_report_support import HOSTILE, sample_run

from stecheck.proofs_check.report import render_markdown
from stecheck.proofs_check.report.markdown import compact, full_json
from stecheck.proofs_check.results import RunResult

FIGS = {("SBN-COR-B1", "bias"): "figures/SBN-COR-B1-bias.png", ("SBN-B5", "threshold"): "figures/SBN-B5-threshold.png"}


@pytest.fixture(scope="module")
def md() -> str:
    return render_markdown(sample_run(), FIGS)


def _section(md: str, claim_id: str) -> str:
    start = md.index(f'<a id="claim-{claim_id}"></a>')
    end = md.find('<a id="claim-', start + 1)
    return md[start:] if end < 0 else md[start:end]


def _table_rows(md: str, header: str) -> list[list[str]]:
    lines = md[md.index(header):].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_header_shows_the_run(md):
    assert md.startswith("# stecheck report\n")
    for text in ("| seed | `7` |", "| tier | quick |", "| workers | 2 |", "2025-01-02T03:04:05Z",
                 "| duration | 12.8 s |", "| python | 3.12.1 |", "| numpy | 2.1.0 |", "| stecheck | 0.1.0 |"):
        assert text in md


def test_summary_counts_every_verdict(md):
    rows = _table_rows(md, "| verdict | claims |")
    assert rows == [["**PROVED**", "1"], ["**VERIFIED**", "0"], ["**REFUTED**", "1"],
                    ["**INCONCLUSIVE**", "1"], ["**ERROR**", "1"], ["total", "4"]]


def test_claims_table_has_one_well_formed_row_per_claim(md):
    rows = _table_rows(md, "| id | title | verdict | as printed | methods |")
    assert [r[0] for r in rows] == ["[SBN-COR-B1](#claim-SBN-COR-B1)", "[SBN-B4](#claim-SBN-B4)",
                                    "[SBN-B5](#claim-SBN-B5)", "[QSTE-ERG](#claim-QSTE-ERG)"]
    assert all(len(r) == 5 for r in rows), "a '|' in a title must not add a column"
    assert [r[2] for r in rows] == ["**PROVED**", "**REFUTED**", "**INCONCLUSIVE**", "**ERROR**"]
    assert [r[4] for r in rows] == ["2", "3", "3", "2"]


def test_claim_section_shows_source_statements_and_verdicts(md):
    sec = _section(md, "SBN-B4")
    assert "**Source:** 002\\_6db3e70c79559b51.txt, appendix B, eqs. (21)-(22)" in sec
    assert "> For any PSD diagonal Lambda, \\<Lambda g, g\\> \\>= 0." in sec
    assert "> For all J1, J2 and PSD diagonal Lambda, Lambda0:\n>   tr(J1 Lambda J2) \\>= 0." in sec
    assert "**Verdict (statement as checked):** **REFUTED**" in sec
    assert "**Verdict (statement as printed):** **REFUTED**" in sec


def test_discrepancies_are_prominent_bullets(md):
    sec = _section(md, "SBN-B4")
    assert "### Discrepancies (2)" in sec
    assert "- **the printed statement omits that units share parameters**" in sec
    assert "- **search-J: eq. (22) drops the off-diagonal terms of J1**" in sec
    assert "### Discrepancies (0)\n\nNone recorded." in _section(md, "SBN-COR-B1")


def test_disagreement_is_shown_once_in_its_own_block(md):
    sec = _section(md, "SBN-B5")
    assert "### Methods disagree (1)" in sec
    assert sec.count("methods disagree (smt-necessity: PROVED, opt-necessity: REFUTED)") == 1
    assert "**Verdict (statement as checked):** **INCONCLUSIVE**" in sec


def test_methods_table_and_printed_role(md):
    rows = _table_rows(_section(md, "SBN-B4"), "| method | kind | part | role | verdict | seconds |")
    assert rows == [
        ["`search-J`", "optimization", "main", "checked", "**REFUTED**", "3.25 s"],
        ["`trace-step`", "interval", "trace-identity", "checked", "**VERIFIED**", "0.05 s"],
        ["`as-printed`", "exact", "main", "printed", "**REFUTED**", "0.01 s"],
    ]


def test_evidence_is_compact(md):
    sec = _section(md, "SBN-COR-B1")
    assert "- samples: `100000`" in sec
    assert "- max\\_abs\\_err: `1.25e-07`" in sec
    assert "- errors: `[0.0, 0.001, 0.002, 0.003, 0.004, 0.005, ... (40 items)]`" in sec
    assert "- ok: `true`" in sec and "- note: `null`" in sec


def test_counterexample_error_and_multiline_evidence_are_blocks(md):
    assert '```json\n{"J1": [[1.0, -2.0], [0.5, 1.0]], "Lambda": [1.0, 0.0], "value": -0.37}\n```' in md
    sec = _section(md, "QSTE-ERG")
    assert "**Error:**\n\n```\nZeroDivisionError: division by zero\n```" in sec
    assert '`traceback`:\n\n```\nTraceback (most recent call last):\n  File "fit.py", line 3\n' in sec
    assert "- **threshold-fit: method failed with an error: ZeroDivisionError: division by zero**" in sec


def test_figures_are_relative_image_links_and_missing_ones_are_noted(md):
    assert "![Bias of ST vs width](figures/SBN-COR-B1-bias.png)" in md
    assert "![Success rate](figures/SBN-B5-threshold.png)" in md
    partial = render_markdown(sample_run(), {})
    assert "*Figure Success rate: not rendered.*" in partial and "![" not in partial


def test_replay_command_per_claim(md):
    for cid in ("SBN-COR-B1", "SBN-B4", "SBN-B5", "QSTE-ERG"):
        assert f"```sh\nstecheck run {cid} --seed 7 --tier quick\n```" in _section(md, cid)


def test_hostile_text_is_escaped(md):
    assert HOSTILE not in md
    assert "<script>" not in md
    assert "\\<script\\>alert(\"x\")\\</script\\> \\| \\*b\\* \\_c\\_ & \\`d\\`" in md


def test_rendering_is_deterministic_and_empty_runs_work(md):
    assert render_markdown(sample_run(), FIGS) == md
    empty = RunResult(claims=[], seed=0, tier="quick", workers=0, started_at="t", seconds=0.0)
    assert "No claims were checked." in render_markdown(empty, {})


@pytest.mark.parametrize(("value", "expected"), [
    (1.0, "1.0"), (2, "2"), (1 / 3, "0.333333"), (1e-20, "1e-20"), ("nan", "nan"), (True, "true"),
    (None, "null"), ("plain text", "plain text"), (["a", 1], '["a", 1]'),
    (list(range(10)), "[0, 1, 2, 3, 4, 5, ... (10 items)]"),
    ({"a": {"b": {"c": {"d": 1}}}}, "{a: {b: {c: {...}}}}"),
    ("x" * 500, "x" * 157 + "..."),
])
def test_compact(value, expected):
    assert compact(value) == expected


def test_full_json_keeps_short_values_on_one_line_and_truncates_huge_ones():
    assert full_json({"a": 1}) == '{"a": 1}'
    long = {"a": list(range(5)), "b": "y" * 120}
    assert full_json(long) == '{\n  "a": [0, 1, 2, 3, 4],\n  "b": "' + "y" * 120 + '"\n}'
    assert full_json({"a": list(range(10000))}).endswith("... (truncated; the full value is in report.json)")


def test_nested_environment_lists_every_version():
    run = sample_run()
    run.environment = {"python": "3.11.7", "versions": {f"lib{i}": f"1.{i}" for i in range(12)} | {"stecheck": None}}
    md = render_markdown(run, {})
    assert "| versions | lib0 1.0, lib1 1.1, " in md and "lib11 1.11, stecheck null |" in md
