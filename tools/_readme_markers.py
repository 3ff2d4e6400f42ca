"""The marker replacement the README generators share (``tools/readme_benchmarks.py``, ``tools/readme_verdicts.py``).

A generated block of the README sits between two HTML comments, e.g. ``<!-- benchmarks:start -->`` and
``<!-- benchmarks:end -->``; regenerating it replaces only what is between them.
"""

from __future__ import annotations


def replace_between(text: str, start: str, end: str, body: str, *, readme: str, where: str) -> str:
    """``text`` with the part between the markers ``start`` and ``end`` (kept) replaced by ``body`` on its own lines.

    A missing marker is one line for people (``SystemExit``): which file, which markers, and ``where`` to add them.
    """
    if start not in text or end not in text:
        raise SystemExit(f"{readme}: the markers {start} and {end} are missing; add them {where}")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"
