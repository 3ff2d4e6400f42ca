"""Render a method's :class:`~proofs_check.claim.Figure` data to a 150 dpi PNG and an SVG with matplotlib.

No global state is touched: the Agg canvas is attached to a
``matplotlib.figure.Figure`` directly (pyplot and the process-wide backend are
never used), and rcParams are pinned to matplotlib's defaults only inside a
scoped ``style.context``, so the user's matplotlibrc cannot change a report.

Output is deterministic: the same figure data gives byte-identical files (fixed
size and dpi, no ``Software``/``Date``/``Creator`` metadata, which would embed the
matplotlib version or the time, and a fixed SVG id salt).  Step series are drawn
with ``where="post"`` (the value at ``x[i]`` holds until ``x[i+1]``); the
uncertainty of a series (``y_low``/``y_high``, e.g. a Monte Carlo confidence
interval) is drawn as error bars on ``points`` and as a translucent band on
``line`` and ``step`` series; ``hlines`` are dashed grey reference lines;
``xticks`` turn the x axis into a categorical one (one named tick per instance).
The legend sits below the axes (it never covers data) and long titles and
axis labels wrap.
Labels may use matplotlib mathtext (``$\\mathbb{E}[\\hat g]$``); the layout is
constrained, so long labels and legends are never clipped.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..claim import Figure
from stecheck.errors import InvalidArgument

__all__ = ["render_figure", "figure_filename"]

_STYLES = ("line", "points", "step")
_SCALES = ("linear", "log", "symlog", "logit")
_SIZE_INCHES = (6.4, 4.0)
_DPI = 150
_TITLE_WIDTH = 70  # characters per title line: long titles wrap instead of being cut off
_XLABEL_WIDTH = 70  # characters per x-label line (the 6.4 in axis holds about 75 at 10 pt)
_YLABEL_WIDTH = 48  # characters per y-label line (the axis is shorter than it is wide)
_LEGEND_ROW_INCHES = 0.24
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def figure_filename(claim_id: str, name: str, fmt: str = "png") -> str:
    """``<claim-id>-<name>.<fmt>`` with any character outside ``[A-Za-z0-9._-]`` replaced by ``_``."""
    return _UNSAFE.sub("_", f"{claim_id}-{name}") + "." + fmt


def _plain(label: str) -> str:
    """``label`` without mathtext markup (for estimating how wide it is drawn)."""
    return re.sub(r"\\[A-Za-z]+|[${}^_\\]", "", label)


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most about ``width`` drawn characters, only at spaces outside mathtext.

    ``textwrap.fill`` would break inside ``$...$``; an unbalanced ``$`` on a line makes matplotlib draw the raw
    markup, so a math segment is kept whole (its width is estimated without the markup).
    """
    words: list[str] = []
    for token in text.split(" "):
        if words and words[-1].count("$") % 2 == 1:  # still inside a math segment: glue to it
            words[-1] += " " + token
        else:
            words.append(token)
    lines: list[str] = []
    for word in words:
        if lines and len(_plain(lines[-1])) + 1 + len(_plain(word)) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\n".join(lines)


def _validate(fig: Figure) -> None:
    where = f"figure {fig.name!r}"
    for axis, scale in (("xscale", fig.xscale), ("yscale", fig.yscale)):
        if scale not in _SCALES:
            raise InvalidArgument(f"{where}: {axis} must be one of {', '.join(_SCALES)}, got {scale!r}")
    for s in fig.series:
        if s.style not in _STYLES:
            raise InvalidArgument(f"{where}, series {s.label!r}: style must be one of {', '.join(_STYLES)}, "
                                  f"got {s.style!r}")
        for key in ("y", "y_low", "y_high"):
            values = getattr(s, key)
            if values is not None and len(values) != len(s.x):
                raise InvalidArgument(f"{where}, series {s.label!r}: {key} has {len(values)} values but x has "
                                      f"{len(s.x)}; give one value per x")
        if (s.y_low is None) != (s.y_high is None):
            raise InvalidArgument(f"{where}, series {s.label!r}: an error band needs both y_low and y_high")
    for at, label in fig.xticks:
        if not str(label).strip():
            raise InvalidArgument(f"{where}: the x tick at {at} has an empty label; name the instance it stands for")


_RC = {"svg.hashsalt": "stecheck", "svg.fonttype": "path"}


def _draw(fig: Figure):
    """The matplotlib Axes with ``fig`` drawn on it (on its own Agg figure; no pyplot, no global state)."""
    import matplotlib.style
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    labelled = [s.label for s in fig.series if s.label]
    ncols = 2 if len(labelled) > 3 and max(map(len, labelled)) <= 45 else 1
    rows = -(-len(labelled) // ncols) if labelled else 0
    size = (_SIZE_INCHES[0], _SIZE_INCHES[1] + _LEGEND_ROW_INCHES * rows)
    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        mfig = MplFigure(figsize=size, dpi=_DPI, layout="constrained")
        FigureCanvasAgg(mfig)
        ax = mfig.add_subplot()
        for i, s in enumerate(fig.series):
            color = f"C{i % 10}"
            x, y = [float(v) for v in s.x], [float(v) for v in s.y]
            band = s.y_low is not None and s.y_high is not None
            if band and s.style != "points":
                ax.fill_between(x, [float(v) for v in s.y_low], [float(v) for v in s.y_high], color=color,
                                alpha=0.2, linewidth=0, step="post" if s.style == "step" else None)
            if s.style == "line":
                ax.plot(x, y, color=color, label=s.label)
            elif s.style == "points" and band:
                low = [max(yv - float(lo), 0.0) for yv, lo in zip(y, s.y_low)]
                high = [max(float(hi) - yv, 0.0) for yv, hi in zip(y, s.y_high)]
                ax.errorbar(x, y, yerr=[low, high], color=color, label=s.label, linestyle="none", marker="o",
                            markersize=4, capsize=3, elinewidth=1)
            elif s.style == "points":
                # hollow and on top: an exact point over a Monte Carlo point with its bar shows both
                ax.plot(x, y, color=color, label=s.label, linestyle="none", marker="o", markersize=6,
                        markerfacecolor="none", markeredgewidth=1.2, zorder=3)
            else:
                ax.step(x, y, color=color, label=s.label, where="post")
        for h in fig.hlines:
            ax.axhline(float(h), color="0.4", linestyle="--", linewidth=1)
        ax.set_xscale(fig.xscale)
        ax.set_yscale(fig.yscale)
        if fig.xticks:  # a categorical axis: one named tick per instance, slanted when they would collide
            labels = [label for _, label in fig.xticks]
            ax.set_xticks([float(at) for at, _ in fig.xticks], labels)
            ax.minorticks_off()
            if sum(max(map(len, _plain(label).split("\n"))) + 2 for label in labels) > 60:
                ax.tick_params(axis="x", labelrotation=30)
                for t in ax.get_xticklabels():
                    t.set_horizontalalignment("right")
                    t.set_rotation_mode("anchor")
        ax.set_title(_wrap(fig.title, _TITLE_WIDTH), fontsize=11)
        ax.set_xlabel(_wrap(fig.xlabel, _XLABEL_WIDTH))
        ax.set_ylabel(_wrap(fig.ylabel, _YLABEL_WIDTH))
        ax.grid(True, alpha=0.3)
        if labelled:  # below the axes: a legend never covers data, and constrained layout keeps it in the figure
            mfig.legend(loc="outside lower center", ncols=ncols, frameon=False)
    return ax


def render_figure(fig: Figure, path: str | Path, *, fmt: str = "png") -> Path:
    """Draw ``fig`` and write it to ``path`` as ``fmt`` (``"png"``, 150 dpi, or ``"svg"``); returns ``Path(path)``.

    Raises :class:`InvalidArgument` for figure data that cannot be drawn
    (unknown style or scale, lengths that do not match).
    """
    _validate(fig)
    if fmt not in ("png", "svg"):
        raise InvalidArgument(f"figure {fig.name!r}: format must be png or svg, got {fmt!r}")
    import matplotlib.style

    path = Path(path)
    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        mfig = _draw(fig).figure
        if fmt == "png":
            mfig.savefig(path, format="png", dpi=_DPI, metadata={"Software": None})
        else:
            mfig.savefig(path, format="svg", metadata={"Date": None, "Creator": None})
    return path
