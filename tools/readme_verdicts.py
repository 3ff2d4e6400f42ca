"""Regenerate the README's verdict table from a ``report.json`` (never edit that table by hand).

Usage::

    stecheck run --out /tmp/quick                      # seed 0, quick tier
    python tools/readme_verdicts.py /tmp/quick/report.json README.md

The table sits between the markers ``<!-- verdicts:start -->`` and
``<!-- verdicts:end -->``; the first screen of ``report.md`` beside the JSON
(papers and counts, up to its per-claim table) is quoted between
``<!-- excerpt:start -->`` and ``<!-- excerpt:end -->``.  Everything else in
the README is left as it is.
Each row: the claim, its verdict as checked and as printed, the verdict of each
reading of the printed statement, the findings per category, and the first
finding of the most serious category as the one-line reason.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared helper beside this file (also when loaded by path)
from _readme_markers import replace_between  # noqa: E402
from stecheck.proofs_check.report import load_report  # noqa: E402
from stecheck.proofs_check.verdict import Category  # noqa: E402

START, END = "<!-- verdicts:start -->", "<!-- verdicts:end -->"
_ORDER = (Category.ERROR, Category.IMPRECISION, Category.MISPRINT, Category.CONVENTION)


def _cell(text: str, limit: int = 220) -> str:
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def table(report_path: str) -> str:
    run = load_report(report_path)
    s = run.summary()
    lines = [
        f"Generated from a run (`stecheck run --seed {run.seed} --tier {run.tier}`, {len(run.claims)} claims, "
        f"{run.seconds:.0f} s on {run.workers} worker(s)) by `tools/readme_verdicts.py`.",
        "",
        "As checked: " + ", ".join(f"{n} {v}" for v, n in s["as_checked"].items() if n) + ". "
        "As printed: " + ", ".join(f"{n} {v}" for v, n in s["as_printed"].items() if n) + ". "
        "Findings: " + ", ".join(f"{n} {c}" for c, n in s["findings"].items()) + ".",
        "",
        "| claim | as checked | as printed | readings | findings | most serious finding |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in run.claims:
        readings = "; ".join(f"{r.id}: {v.value}" for r, v in zip(c.readings, c.reading_verdicts.values())) or "-"
        counts = ", ".join(f"{n} {k}" for k, n in c.finding_counts().items() if n) or "-"
        findings = c.findings
        first = next((f for cat in _ORDER for f in findings if f.category is cat), None)
        reason = f"{first.category.value}: {first.text}" if first else (c.parts()[0].scope if c.parts() else "")
        lines.append(f"| {c.claim_id} | {c.verdict.value} | {c.verdict_as_printed.value} | {_cell(readings, 120)} "
                     f"| {counts} | {_cell(reason)} |")
    return "\n".join(lines)


def excerpt(report_path: str) -> str:
    """The first screen of the ``report.md`` beside ``report_path``, up to its per-claim table, as a quote."""
    md = (Path(report_path).parent / "report.md").read_text(encoding="utf-8")
    head = md.split("\n## Claims", 1)[0].strip().splitlines()
    return "\n".join(("> " + line).rstrip() for line in head)


def _replace(text: str, start: str, end: str, body: str, readme: str) -> str:
    return replace_between(text, start, end, body, readme=readme, where="where the text goes")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tools/readme_verdicts.py REPORT_JSON README_MD", file=sys.stderr)
        return 2
    report, readme = argv
    text = Path(readme).read_text(encoding="utf-8")
    text = _replace(text, START, END, table(report), readme)
    text = _replace(text, "<!-- excerpt:start -->", "<!-- excerpt:end -->", excerpt(report), readme)
    Path(readme).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
