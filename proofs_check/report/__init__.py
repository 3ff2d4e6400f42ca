"""Reporters: ``report.json`` (versioned data), ``report.md`` and ``report.html`` (views of it), figure PNGs.

Reporters do no computation: Markdown and HTML format the same plain-JSON
document that :func:`run_to_dict` produces and ``report.json`` stores, so a
report re-rendered from its JSON (``stecheck report JSON``) is identical.
The JSON layout is documented in ``docs/report-schema.md``.
"""

from .figures import figure_filename, render_figure
from .html import render_html
from .markdown import render_markdown
from .schema import dumps_report, load_report, run_from_dict, run_to_dict
from .writer import check_writable, write_reports

__all__ = [
    "run_to_dict",
    "run_from_dict",
    "dumps_report",
    "load_report",
    "render_figure",
    "figure_filename",
    "render_markdown",
    "render_html",
    "check_writable",
    "write_reports",
]
