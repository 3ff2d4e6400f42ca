"""Reporters: ``report.json`` (versioned data); ``report.md`` (short summary), ``report-full.md`` and
``report.html`` (full views of it); figure PNGs and SVGs.

Reporters do no computation: Markdown and HTML format the same plain-JSON
document that :func:`run_to_dict` produces and ``report.json`` stores, so a
report re-rendered from its JSON (``stecheck report JSON``) is identical.
The JSON layout is documented in ``docs/report-schema.md``.
"""

from .figures import figure_filename, render_figure
from .html import render_html
from .markdown import render_markdown, render_summary
from .schema import dumps_report, json_schema, load_report, run_from_dict, run_to_dict
from .writer import check_writable, write_reports

__all__ = [
    "run_to_dict",
    "run_from_dict",
    "dumps_report",
    "load_report",
    "json_schema",
    "render_figure",
    "figure_filename",
    "render_markdown",
    "render_summary",
    "render_html",
    "check_writable",
    "write_reports",
]
