"""Figure rendering: deterministic PNGs, every style, no global matplotlib state."""

from __future__ import annotations

import sys

import pytest
from test_report_support import band_figure, step_figure

from stecheck.proofs_check.claim import Figure, Series
from stecheck.errors import InvalidArgument
from stecheck.proofs_check.report import figure_filename, render_figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_identical_data_gives_identical_png_bytes(tmp_path):
    a = render_figure(band_figure(), tmp_path / "a.png")
    b = render_figure(band_figure(), tmp_path / "b.png")
    assert a == tmp_path / "a.png"
    assert a.read_bytes().startswith(PNG_MAGIC)
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes()  # no matplotlib version stamped into the file


def test_svg_is_deterministic_and_carries_no_date(tmp_path):
    a = render_figure(band_figure(), tmp_path / "a.svg", fmt="svg").read_bytes()
    b = render_figure(band_figure(), tmp_path / "b.svg", fmt="svg").read_bytes()
    assert a == b and a.lstrip().startswith(b"<?xml") and b"<dc:date>" not in a


def test_png_is_150_dpi(tmp_path):
    from PIL import Image

    with Image.open(render_figure(band_figure(), tmp_path / "a.png")) as im:
        assert tuple(round(v) for v in im.info["dpi"]) == (150, 150)
        assert im.size == (960, 672)  # 6.4 x (4.0 + 2 legend rows of 0.24) inches at 150 dpi


def test_points_with_an_interval_get_error_bars_and_lines_get_a_band():
    """Every Monte Carlo point shows its interval: error bars on points, a band on lines and steps."""
    from matplotlib.collections import LineCollection, PolyCollection

    from stecheck.proofs_check.report import figures

    fig = Figure("f", "t", "$n$", "$y$", (
        Series("MC", (1.0, 2.0), (0.5, 0.6), y_low=(0.4, 0.5), y_high=(0.6, 0.7), style="points"),
        Series("band", (1.0, 2.0), (0.5, 0.6), y_low=(0.4, 0.5), y_high=(0.6, 0.7), style="line"),
    ))
    ax = figures._draw(fig)
    bars = [c for c in ax.collections if isinstance(c, LineCollection)]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection) and not isinstance(c, LineCollection)]
    assert len(bars) == 1 and len(bars[0].get_segments()) == 2
    seg = bars[0].get_segments()[0]
    assert seg[0][1] == 0.4 and seg[1][1] == 0.6
    assert len(bands) == 1


def test_no_text_is_clipped_and_the_legend_does_not_cover_the_axes():
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401 - the canvas the renderer uses

    from stecheck.proofs_check.report import figures

    long = ("case (noise x estimator: 0=logi/st, 1=logi/lo, 2=unif/st, 3=unif/lo, 4=tria/st, 5=tria/lo, "
            "6=gaus/st, 7=gaus/lo)")  # a real label that was clipped before labels wrapped
    fig = Figure("f", "a title " * 20, long, "a long y label " * 6, tuple(
        Series(f"series number {i} with a long label", (1.0, 2.0), (float(i), i + 1.0)) for i in range(5)))
    ax = figures._draw(fig)
    mfig = ax.figure
    renderer = mfig.canvas.get_renderer()
    mfig.draw(renderer)  # run the constrained layout
    box = mfig.bbox
    texts = [ax.title, ax.xaxis.label, ax.yaxis.label, *mfig.legends[0].get_texts()]
    for t in texts:
        ext = t.get_window_extent(renderer)
        assert ext.x0 >= box.x0 - 1 and ext.x1 <= box.x1 + 1 and ext.y0 >= box.y0 - 1 and ext.y1 <= box.y1 + 1, \
            t.get_text()
    legend = mfig.legends[0].get_window_extent(renderer)
    assert not legend.overlaps(ax.get_window_extent(renderer))


def test_different_data_gives_different_png(tmp_path):
    a = render_figure(step_figure(), tmp_path / "a.png").read_bytes()
    changed = step_figure()
    changed = Figure(changed.name, changed.title, changed.xlabel, changed.ylabel,
                     (Series("n=8", (1.0, 2.0, 3.0, 4.0), (0.0, 0.5, 0.9, 1.0), style="step"),))
    assert render_figure(changed, tmp_path / "b.png").read_bytes() != a


def test_edge_cases_render(tmp_path):
    empty = Figure("e", "no data", "x", "y", ())
    awkward = Figure("w", "log axes with non-positive and NaN values", "x", "y",
                     (Series("", (0.0, 1.0, 2.0), (-1.0, float("nan"), 3.0)),), xscale="log", yscale="log")
    for fig in (empty, awkward):
        assert render_figure(fig, tmp_path / f"{fig.name}.png").read_bytes().startswith(PNG_MAGIC)


def test_no_global_matplotlib_state_is_touched(tmp_path):
    import matplotlib

    before = dict(matplotlib.rcParams)
    had_pyplot = "matplotlib.pyplot" in sys.modules
    matplotlib.rcParams["lines.linewidth"] = 7.0  # a user's style must not leak into reports ...
    try:
        styled = render_figure(band_figure(), tmp_path / "styled.png").read_bytes()
        assert matplotlib.rcParams["lines.linewidth"] == 7.0  # ... and reports must not reset it
    finally:
        matplotlib.rcParams["lines.linewidth"] = before["lines.linewidth"]
    assert styled == render_figure(band_figure(), tmp_path / "plain.png").read_bytes()
    assert dict(matplotlib.rcParams) == before
    assert ("matplotlib.pyplot" in sys.modules) == had_pyplot


@pytest.mark.parametrize(("fig", "expected"), [
    (Figure("f", "t", "x", "y", (Series("s", (1.0,), (1.0,), style="bars"),)), "style must be one of"),
    (Figure("f", "t", "x", "y", (Series("s", (1.0, 2.0), (1.0,)),)), "y has 1 values but x has 2"),
    (Figure("f", "t", "x", "y", (Series("s", (1.0,), (1.0,), y_low=(0.0,)),)), "needs both y_low and y_high"),
    (Figure("f", "t", "x", "y", (), xscale="ln"), "xscale must be one of"),
])
def test_undrawable_figures_are_refused_with_a_reason(tmp_path, fig, expected):
    with pytest.raises(InvalidArgument, match=expected):
        render_figure(fig, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


def test_figure_filename_is_file_name_safe():
    assert figure_filename("SBN-B4", "bias") == "SBN-B4-bias.png"
    assert figure_filename("A/B", "c d:e") == "A_B-c_d_e.png"
