"""Rendering coverage charts to PNG and SVG with matplotlib."""

from __future__ import annotations

from pathlib import Path

import pytest

from configlab import charts, coverage
from configlab.errors import AnalysisError
from configlab.results import Result, ResultSet
from configlab.space import Space

pytest.importorskip("matplotlib")

SPACE = Space.from_dict({
    "parameters": {"a": "bool", "b": ["x", "y", "z"], "c": {"type": "int", "min": 0, "max": 3}},
    "constraints": ["b == 'z' -> a"],
})
RESULTS = ResultSet([
    Result({"a": True, "b": "z", "c": 0}, "pass"),
    Result({"a": False, "b": "x", "c": 3}, "fail"),
    Result({"a": False, "b": "y", "c": 1}, "pass"),
])
NAMES = ["coverage_pairwise", "coverage_values", "coverage_growth", "coverage_tv"]


def test_render_png(tmp_path: Path) -> None:
    data = coverage.chart_data(RESULTS, SPACE, 2)
    paths = charts.render(data, tmp_path / "png", "png")
    assert [p.name for p in paths] == [f"{n}.png" for n in NAMES]
    for path in paths:
        blob = path.read_bytes()
        assert blob.startswith(b"\x89PNG\r\n\x1a\n") and len(blob) > 1000


def test_render_svg_is_deterministic(tmp_path: Path) -> None:
    data = coverage.chart_data(RESULTS, SPACE, 3)
    first = charts.render(data, tmp_path / "one", "svg")
    second = charts.render(data, tmp_path / "two", "svg")
    for a, b in zip(first, second, strict=True):
        text = a.read_text()
        assert text.lstrip().startswith("<?xml") and "<svg" in text
        assert a.read_bytes() == b.read_bytes()
        assert "<dc:date>" not in text


def test_render_without_value_grid_and_errors(tmp_path: Path) -> None:
    single = Space.from_dict({"parameters": {"a": "bool"}})
    data = coverage.chart_data([{"a": True}], single, 1)
    paths = charts.render(data, tmp_path, "svg")
    assert [p.stem for p in paths] == ["coverage_pairwise", "coverage_growth", "coverage_tv"]
    with pytest.raises(AnalysisError, match="format"):
        charts.render(data, tmp_path, "gif")
    with pytest.raises(AnalysisError, match="chart data lacks"):
        charts.render({"pairwise": {}}, tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AnalysisError, match="cannot create"):
        charts.render(data, blocker / "sub")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "coverage_pairwise.png").mkdir()  # a directory where the file goes
    with pytest.raises(AnalysisError, match="cannot write"):
        charts.render(data, tmp_path / "ro")


def test_missing_matplotlib_gives_clear_error(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(AnalysisError, match=r"configlab\[plot\]"):
        charts.render(coverage.chart_data(RESULTS, SPACE, 2), tmp_path)
