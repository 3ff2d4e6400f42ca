"""The figures claims write: mathematical labels, no index axes, intervals on Monte Carlo points, PNG + SVG.

Runs a set of cheap figure-producing methods (about 5 s in all) and checks what a reader of the report sees:
every title, axis label, legend entry and categorical tick is non-empty, is not a Python repr (``SquareSum()``,
``<... object at 0x...>``), keeps its mathtext balanced (an odd number of ``$`` makes matplotlib print raw
markup), and no axis is a bare "index"/"instance"/"case" counter; Monte Carlo series carry an interval; both
the 150 dpi PNG and the SVG are written for every figure.
"""

from __future__ import annotations

import re

import pytest

from stecheck.proofs_check.claim import Figure
from stecheck.proofs_check.registry import default_registry
from stecheck.proofs_check.report import figure_filename, render_figure
from stecheck.proofs_check.report.figures import _draw, _wrap
from stecheck.proofs_check.runner import execute_method
from stecheck.proofs_check.verdict import Verdict

#: (claim, method) pairs that produce figures in well under a second each.
CHEAP = [
    ("SBN-B1", "proxy-changes"),
    ("SBN-B2", "biased-non-multilinear"),
    ("SBN-B3", "enumeration-st-unbiased"),
    ("SBN-EX1", "enumeration"),
    ("SBN-E3", "printed-rate"),
    ("SBN-E3", "printed-rate-fixed-eps"),
    ("SBN-PGD", "loss-trajectories"),
    ("SBN-PROXY", "monte-carlo-forward"),
    ("SBN-METRICS", "monte-carlo-vs-exact"),
    ("SBN-B4", "optimization-uncoupled"),
    ("SBN-B5", "search (one parameter per unit)"),
    ("SBN-B6", "lipschitz-flip"),
    ("QSTE-POP", "teacher-flip-symbolic"),
    ("QSTE-NONGAUSS", "normalized-success-by-family"),
    ("SBN-F1", "f1-stepwise"),
    ("SBN-F1", "f1-growth"),
    ("QSTE-ERG", "success-at-C-n2"),
]

_REPR = re.compile(r"\w\(\)|object at 0x|<[A-Za-z_.]+ |\bNone\b|\bnan\b")
_BARE_INDEX = re.compile(r"^\s*(index|instance|case|schedule index|i|k|id)\s*(\(.*\))?\s*$", re.IGNORECASE)
_MONTE_CARLO = re.compile(r"monte carlo|\bmc\b|sampled|mean over", re.IGNORECASE)


def label_problems(fig: Figure) -> list[str]:
    """What a reader would object to in ``fig``'s labels (empty when it is fine)."""
    out = []
    texts = {"title": fig.title, "xlabel": fig.xlabel, "ylabel": fig.ylabel}
    texts.update({f"legend {s.label!r}": s.label for s in fig.series if s.label})
    texts.update({f"tick {at}": label for at, label in fig.xticks})
    for where, text in texts.items():
        if not text.strip():
            out.append(f"{where} is empty")
        if _REPR.search(text):
            out.append(f"{where} looks like a Python repr: {text!r}")
        if text.count("$") % 2:
            out.append(f"{where} has unbalanced mathtext: {text!r}")
    for axis in ("xlabel", "ylabel"):
        if _BARE_INDEX.match(texts[axis]):
            out.append(f"{axis} is a bare index: {texts[axis]!r}")
    for s in fig.series:
        if _MONTE_CARLO.search(s.label) and s.y_low is None:
            out.append(f"Monte Carlo series {s.label!r} has no interval")
    return out


@pytest.fixture(scope="module")
def figures():
    registry = default_registry()
    out = []
    for claim_id, method_name in CHEAP:
        claim = registry.get(claim_id)
        (method,) = [m for m in claim.methods if m.name == method_name]
        res = execute_method(claim, method, 0, "quick")
        assert res.verdict is not Verdict.ERROR, (claim_id, method_name, res.error)
        assert res.figures, f"{claim_id}/{method_name} no longer draws a figure: update CHEAP"
        out += [(claim_id, f) for f in res.figures]
    return out


def test_every_label_is_mathematical_language_and_no_axis_is_a_bare_index(figures):
    problems = {f"{cid}/{f.name}": p for cid, f in figures if (p := label_problems(f))}
    assert not problems, problems


def test_monte_carlo_figures_carry_intervals(figures):
    by_name = {f"{cid}/{f.name}": f for cid, f in figures}
    for name in ("SBN-PROXY/fig-a1-forward", "SBN-METRICS/ei-exact-vs-mc", "SBN-B6/lipschitz-flip-logcosh"):
        mc = [s for s in by_name[name].series if s.style == "points" and s.y_low is not None]
        assert mc, f"{name}: no series with an interval"
        for s in mc:
            assert all(lo <= y <= hi for lo, y, hi in zip(s.y_low, s.y, s.y_high)), (name, s.label)
        # a statistic that does not vary over the draws has a zero-width interval; a sampled one does not
        assert any(hi > lo for s in mc for lo, hi in zip(s.y_low, s.y_high)), name


def test_instances_without_a_varying_quantity_get_named_ticks(figures):
    """QSTE-NONGAUSS: one tick per input family (not its index), raw and normalized side by side, each rate with
    its two-sided Clopper-Pearson interval."""
    from stecheck.numerics.ste_dynamics import INPUTS

    (fig,) = [f for cid, f in figures if f"{cid}/{f.name}" == "QSTE-NONGAUSS/success-by-family"]
    assert [label for _, label in fig.xticks] == list(INPUTS)
    raw, norm = fig.series
    assert all(b - a > 0.1 for a, b in zip(raw.x, norm.x))  # offset: the two series never hide each other
    for s in fig.series:
        assert all(lo <= y <= hi and hi > lo for lo, y, hi in zip(s.y_low, s.y, s.y_high)), s.label


def test_png_and_svg_are_written_for_every_figure(figures, tmp_path):
    from PIL import Image

    for cid, fig in figures[::4]:  # a few: rendering is slow on a loaded machine, the writer tests cover the rest
        png = render_figure(fig, tmp_path / figure_filename(cid, fig.name))
        svg = render_figure(fig, tmp_path / figure_filename(cid, fig.name, "svg"), fmt="svg")
        assert png.stat().st_size > 1000 and svg.read_bytes().lstrip().startswith(b"<?xml")
        with Image.open(png) as im:
            assert tuple(round(v) for v in im.info["dpi"]) == (150, 150)


def test_no_text_of_a_claim_figure_leaves_the_canvas(figures):
    """Constrained layout keeps titles, axis labels, tick labels and legends inside the figure."""
    for cid, fig in figures:
        ax = _draw(fig)
        mfig = ax.figure
        renderer = mfig.canvas.get_renderer()
        mfig.draw(renderer)
        box = mfig.bbox
        texts = [ax.title, ax.xaxis.label, ax.yaxis.label]
        for labels, locs, lim in ((ax.get_xticklabels(), ax.get_xticks(), ax.get_xlim()),
                                  (ax.get_yticklabels(), ax.get_yticks(), ax.get_ylim())):
            texts += [t for t, loc in zip(labels, locs) if min(lim) <= loc <= max(lim)]  # ticks drawn
        texts += [t for lg in mfig.legends for t in lg.get_texts()]
        for t in texts:
            if not t.get_text() or not t.get_visible():
                continue
            ext = t.get_window_extent(renderer)
            assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, \
                (cid, fig.name, t.get_text())


def test_the_check_catches_what_it_is_meant_to_catch():
    from stecheck.proofs_check.claim import Series

    bad = Figure("f", "SquareSum()", "instance", "", (Series("Monte Carlo", (0.0,), (1.0,), style="points"),
                                                        Series("$x", (0.0,), (1.0,))))
    problems = " | ".join(label_problems(bad))
    for expected in ("Python repr", "bare index", "ylabel is empty", "no interval", "unbalanced mathtext"):
        assert expected in problems


def test_wrapping_never_splits_a_math_segment():
    label = r"condition margin $\min_i\,(|g^*_i| - 2(1-p^*)L - L)$, condition (41); $\geq 0$: condition met"
    for width in (10, 20, 30, 48, 70):
        assert all(line.count("$") % 2 == 0 for line in _wrap(label, width).split("\n")), width
    assert _wrap("short", 70) == "short"


def test_categorical_ticks_replace_an_index_axis():
    from stecheck.proofs_check.claim import Series

    fig = Figure("f", "t", r"learning-rate schedule $\eta_t$", "fraction", (
        Series("s", (0.0, 1.0, 2.0), (0.1, 0.2, 0.3), (0.0, 0.1, 0.2), (0.2, 0.3, 0.4), style="points"),),
        xticks=((0.0, r"$\frac{c}{\sqrt{t+1}}$"), (1.0, r"$\frac{c}{\log(t+2)}$"), (2.0, "$c$")))
    ax = _draw(fig)
    assert [t.get_text() for t in ax.get_xticklabels()] == [label for _, label in fig.xticks]
    assert list(ax.get_xticks()) == [0.0, 1.0, 2.0]
