"""Render :func:`configlab.coverage.chart_data` to PNG or SVG files with matplotlib.

matplotlib is an optional dependency (the ``plot`` extra: ``pip install 'configlab[plot]'``);
it is imported only when :func:`render` is called, and only its object-oriented API with the
Agg canvas is used (the global pyplot backend of the calling program is left alone).  SVG output
is deterministic: fixed ``svg.hashsalt``, no date metadata.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from configlab.errors import AnalysisError

FORMATS = ("png", "svg")
#: Colours of the value-class grid states.
STATE_COLOURS = {"covered": "#4caf50", "missing": "#e53935", "invalid": "#9e9e9e"}


def _matplotlib() -> tuple[Any, Any, Any]:
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise AnalysisError(
            "rendering charts needs matplotlib: pip install 'configlab[plot]'"
        ) from None
    return matplotlib, Figure, FigureCanvasAgg


def render(chart_data: Mapping[str, Any], out_dir: str | os.PathLike[str],
           fmt: str = "png") -> list[Path]:
    """Write one file per chart of ``chart_data`` into ``out_dir``; return their paths.

    Files: ``coverage_pairwise``, ``coverage_values`` (when a pair grid is present),
    ``coverage_growth`` and ``coverage_tv`` with the ``fmt`` suffix (``png`` or ``svg``).

    Raises:
        AnalysisError: unknown format, malformed chart data, matplotlib missing, or the
            directory cannot be written.
    """
    if fmt not in FORMATS:
        raise AnalysisError(f"chart format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    for key in ("pairwise", "growth", "tv_curve"):
        if not isinstance(chart_data, Mapping) or key not in chart_data:
            raise AnalysisError(f"chart data lacks {key!r}: pass the output of chart_data()")
    matplotlib, figure_class, canvas_class = _matplotlib()
    target = Path(out_dir)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AnalysisError(f"{target}: cannot create the chart directory: {error}") from None
    drawers = [("coverage_pairwise", _pairwise)]
    if chart_data.get("values"):
        drawers.append(("coverage_values", _values))
    drawers += [("coverage_growth", _growth), ("coverage_tv", _tv_curve)]
    written = []
    style = {"svg.hashsalt": "configlab", "svg.fonttype": "path", "font.size": 9}
    with matplotlib.rc_context(style):
        for name, draw in drawers:
            figure = figure_class(figsize=(7, 5.5), dpi=100)
            canvas_class(figure)
            draw(figure, chart_data)
            figure.tight_layout()
            path = target / f"{name}.{fmt}"
            metadata: dict[str, Any] = (
                {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
            )
            try:
                figure.savefig(path, format=fmt, metadata=metadata)
            except OSError as error:
                raise AnalysisError(f"{path}: cannot write the chart: {error}") from None
            written.append(path)
    return written


def _pairwise(figure: Any, data: Mapping[str, Any]) -> None:
    import numpy as np

    params = list(data["pairwise"]["params"])
    matrix = np.array(
        [[np.nan if v is None else v for v in row] for row in data["pairwise"]["matrix"]],
        dtype=float,
    ).reshape(len(params), len(params))
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(matrix, vmin=0, vmax=100, cmap="RdYlGn", aspect="auto")
    axes.set_xticks(range(len(params)), params, rotation=90)
    axes.set_yticks(range(len(params)), params)
    if len(params) <= 12:
        for i in range(len(params)):
            for j in range(len(params)):
                if not np.isnan(matrix[i, j]):
                    axes.text(j, i, f"{matrix[i, j]:.0f}", ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, label="coverage %")
    axes.set_title("Pairwise coverage (diagonal: single values)")


def _values(figure: Any, data: Mapping[str, Any]) -> None:
    import numpy as np
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    grid = data["values"]
    xs, ys = list(grid["x_labels"]), list(grid["y_labels"])
    states = ["covered", "missing", "invalid"]
    cells = np.zeros((len(ys), len(xs)))
    counts: dict[tuple[int, int], int] = {}
    for cell in grid["cells"]:
        i, j = ys.index(cell["y"]), xs.index(cell["x"])
        cells[i, j] = states.index(cell["state"])
        counts[(i, j)] = int(cell["count"])
    axes = figure.add_subplot(1, 1, 1)
    cmap = ListedColormap([STATE_COLOURS[s] for s in states])
    axes.imshow(cells, cmap=cmap, vmin=-0.5, vmax=2.5, aspect="auto")
    axes.set_xticks(range(len(xs)), xs, rotation=90)
    axes.set_yticks(range(len(ys)), ys)
    axes.set_xlabel(grid["pair"][0])
    axes.set_ylabel(grid["pair"][1])
    for (i, j), count in sorted(counts.items()):
        axes.text(j, i, str(count), ha="center", va="center", fontsize=7)
    axes.legend(handles=[Patch(color=STATE_COLOURS[s], label=s) for s in states],
                loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes.set_title("Value classes of one pair (number of runs)")


def _growth(figure: Any, data: Mapping[str, Any]) -> None:
    growth = data["growth"]
    axes = figure.add_subplot(1, 1, 1)
    axes.step(growth["n_tests"], growth["coverage"], where="post")
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("number of tests (result order)")
    axes.set_ylabel(f"{growth['t']}-way coverage")
    axes.grid(True, alpha=0.3)
    axes.set_title("Coverage growth")


def _tv_curve(figure: Any, data: Mapping[str, Any]) -> None:
    axes = figure.add_subplot(1, 1, 1)
    for curve in data["tv_curve"]:
        vs = [point[0] for point in curve["points"]]
        fractions = [point[1] for point in curve["points"]]
        axes.step(vs, fractions, where="post", marker=".", label=f"t={curve['t']}")
    axes.set_xlim(0, 1.0)
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("coverage v")
    axes.set_ylabel("fraction of t-way combinations with coverage >= v")
    axes.legend()
    axes.grid(True, alpha=0.3)
    axes.set_title("(t, v) combinatorial coverage")


__all__ = ["FORMATS", "render"]
