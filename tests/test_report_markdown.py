"""report.md (summary) and report-full.md: first screen, claims in detail, run metadata last, escaping."""

from __future__ import annotations

import re

import pytest
from test_report_support import HOSTILE, sample_run

from stecheck.proofs_check.report import render_markdown, render_summary
from stecheck.proofs_check.report.markdown import compact, full_json
from stecheck.proofs_check.results import RunResult
from stecheck.proofs_check.verdict import Scope

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


def test_first_screen_names_the_papers_and_what_was_found(md):
    assert md.startswith("# stecheck report\n")
    head = md[: md.index('<a id="claim-')]
    assert "**Papers checked**" in head
    assert ("- Reintroducing Straight-Through Estimators (A. Shekhovtsov, V. Yanush; arXiv:2006.06880): 3 claims "
            "(SBN-COR-B1, SBN-B4, SBN-B5)") in head
    assert "- Beyond Discreteness (H. Jeong, J. Xin, P. Yin; arXiv:2505.18113): 1 claim (QSTE-ERG)" in head
    assert "4 claims checked (tier quick, seed 7); findings: 2 errors, 1 misprint, 1 imprecision." in head
    # run metadata is not on the first screen: it is the last section
    assert "| seed |" not in head and "## Run" not in head


def test_run_metadata_comes_last(md):
    tail = md[md.index("## Run\n"):]
    assert md.index("## Run\n") > md.rindex('<a id="claim-')
    for text in ("| seed | `7` |", "| tier | quick |", "| workers | 2 |", "2025-01-02T03:04:05Z",
                 "| duration | 12.8 s |", "| report schema | 2 |", "| python | 3.12.1 |", "| numpy | 2.1.0 |",
                 "| stecheck | 0.1.0 |"):
        assert text in tail, text


def test_summary_counts_both_verdicts_and_every_finding_category(md):
    rows = _table_rows(md, "| verdict | claims as checked | claims as printed |")
    # SBN-COR-B1 is PROVED as checked but REFUTED as printed (a printed check of category error refutes it)
    assert rows == [["**PROVED**", "1", "0"], ["**VERIFIED**", "0", "0"], ["**REFUTED**", "1", "2"],
                    ["**INCONCLUSIVE**", "1", "1"], ["**ERROR**", "1", "1"], ["total", "4", "4"]]
    rows = _table_rows(md, "| finding | count | meaning |")
    assert [r[:2] for r in rows] == [["error", "2"], ["misprint", "1"], ["convention", "0"], ["imprecision", "1"]]
    assert rows[0][2] == "the mathematics as intended is false"


def test_claims_table_gives_one_reason_per_claim(md):
    rows = _table_rows(md, "| id | title | as checked | as printed | findings | why |")
    assert [r[0] for r in rows] == ["[SBN-COR-B1](#claim-SBN-COR-B1)", "[SBN-B4](#claim-SBN-B4)",
                                    "[SBN-B5](#claim-SBN-B5)", "[QSTE-ERG](#claim-QSTE-ERG)"]
    assert all(len(r) == 6 for r in rows), "a '|' in a title must not add a column"
    assert [r[2] for r in rows] == ["**PROVED**", "**REFUTED**", "**INCONCLUSIVE**", "**ERROR**"]
    assert [r[3] for r in rows] == ["**REFUTED**", "**REFUTED**", "**INCONCLUSIVE**", "**ERROR**"]
    assert [r[4] for r in rows] == ["1 error", "1 error, 1 misprint, 1 imprecision", "none", "none"]
    why = [r[5] for r in rows]
    assert why[0] == "error (literal-constant): the printed constant 2 should be 1"  # the first error finding
    assert why[1] == "error (search-J): eq. (22) drops the off-diagonal terms of J1"
    assert why[2].startswith("\\[necessity\\] methods disagree (smt-necessity: PROVED, opt-necessity: REFUTED)")
    assert why[2].endswith("readings: l2 VERIFIED, linf REFUTED")  # each reading's verdict
    assert why[3] == "method failed: threshold-fit: ZeroDivisionError: division by zero"


def test_reason_of_a_supported_claim_states_the_part_and_its_scope():
    from stecheck.proofs_check.report.overview import reason
    from stecheck.proofs_check.report.schema import run_to_dict

    run = sample_run()
    claim = run.claims[0]
    claim.methods = claim.methods[:2]  # drop the refuted printed check: PROVED both ways
    d = run_to_dict(run)["claims"][0]
    assert reason(d) == ("proved for all x in (0, 1), three noises (symbolic x) (sympy-identity). verified "
                         "numerically for x on a 1000-point grid (mc-identity)")
    claim.methods[0].scope = Scope("n <= 3")  # a proof of a sub-range: VERIFIED, and the reason says so
    d = run_to_dict(run)["claims"][0]
    assert d["verdict"] == "VERIFIED"
    assert "proved for n <= 3 (sympy-identity)" in reason(d) and "VERIFIED at best" in reason(d)


def test_claim_section_shows_paper_source_statements_and_verdicts(md):
    sec = _section(md, "SBN-B4")
    assert "**Paper:** Reintroducing Straight-Through Estimators (A. Shekhovtsov, V. Yanush; arXiv:2006.06880)" in sec
    assert "**Source:** 002\\_6db3e70c79559b51.txt, appendix B, eqs. (21)-(22)" in sec
    assert "> For any PSD diagonal Lambda, \\<Lambda g, g\\> \\>= 0." in sec
    assert "> For all J1, J2 and PSD diagonal Lambda, Lambda0:\n>   tr(J1 Lambda J2) \\>= 0." in sec
    assert "**Verdict (statement as checked):** **REFUTED**" in sec
    assert "**Verdict (statement as printed):** **REFUTED**" in sec
    assert "(differs from the verdict on the statement as checked)" in _section(md, "SBN-COR-B1")


def test_findings_are_categorized_bullets(md):
    sec = _section(md, "SBN-B4")
    assert "### Findings (3)" in sec
    assert "- **imprecision**: the printed statement omits that units share parameters" in sec
    assert "- **error**: `search-J`: eq. (22) drops the off-diagonal terms of J1" in sec
    assert "- **misprint**: `as-printed`: the literal check \\`as-printed\\` is refuted" in sec
    assert "### Findings (0)\n\nNone recorded." in _section(md, "SBN-B5")


def test_readings_get_their_own_verdicts(md):
    sec = _section(md, "SBN-B5")
    rows = _table_rows(sec, "| reading | meaning | verdict |")
    assert rows == [["`l2`", "L Lipschitz in the Euclidean norm", "**VERIFIED**"],
                    ["`linf`", "L Lipschitz in the max norm", "**REFUTED**"]]


def test_disagreement_is_shown_once_in_its_own_block(md):
    sec = _section(md, "SBN-B5")
    assert "### Methods disagree (1)" in sec
    assert sec.count("methods disagree (smt-necessity: PROVED, opt-necessity: REFUTED)") == 1
    assert "**Verdict (statement as checked):** **INCONCLUSIVE**" in sec


def test_parts_table_states_the_scope_of_each_part_verdict(md):
    rows = _table_rows(_section(md, "SBN-B4"), "| part | role | verdict | scope of the evidence |")
    assert rows == [
        ["main", "checked", "**REFUTED**", "counterexample: search-J"],
        ["trace-identity", "checked", "**VERIFIED**", "verified numerically for n \\<= 4 (trace-step)"],
        ["main", "printed", "**REFUTED**", "counterexample: search-J"],
        ["trace-identity", "printed", "**VERIFIED**", "verified numerically for n \\<= 4 (trace-step)"],
    ]


def test_methods_table_shows_each_verdict_with_its_scope_and_printed_category(md):
    rows = _table_rows(_section(md, "SBN-B4"), "| method | kind | part | role | verdict | scope | seconds |")
    assert rows == [
        ["`search-J`", "optimization", "main", "checked", "**REFUTED**", "2 x 2 matrices, 16 restarts", "3.25 s"],
        ["`trace-step`", "interval", "trace-identity", "checked", "**VERIFIED**", "n \\<= 4", "0.05 s"],
        ["`as-printed`", "exact", "main", "printed (misprint)", "**REFUTED**", "the printed vector form, 12 cases",
         "0.01 s"],
    ]
    rows = _table_rows(_section(md, "SBN-B5"), "| method | kind | part | role | verdict | scope | seconds |")
    assert rows[0][3] == "checked, reading `l2`" and rows[2][5] == "all a, L (symbolic) (whole range)"


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
    assert "### Methods failed (1)\n\n- **threshold-fit: ZeroDivisionError: division by zero**" in sec


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
    assert "No claims were checked." in render_summary(empty)


def test_summary_is_the_first_screen_and_points_at_the_evidence(md):
    summary = render_summary(sample_run())
    first_screen = md[: md.index('<a id="claim-')]
    # the same papers, counts and reasons, with claim links into the full report
    assert summary.startswith(first_screen.replace("](#claim-", "](report-full.md#claim-").rstrip("\n"))
    assert "[report-full.md](report-full.md), [report.html](report.html)" in summary
    assert "[report.json](report.json) (report schema 2)" in summary
    assert summary.rstrip().endswith("*Run: seed `7`, tier quick, workers 2, started 2025-01-02T03:04:05Z, "
                                     "12.8 s, stecheck 0.1.0.*")
    # short enough to paste into a review: no per-claim sections, evidence or figures
    assert "<a id=" not in summary and "Evidence" not in summary and "![" not in summary
    assert len(summary.splitlines()) <= 40 + len(sample_run().claims)
    assert HOSTILE not in summary and "<script>" not in summary


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
