"""Issue 18 items 6, 10 and 11: hostile input gives one-line errors naming file and place."""

from __future__ import annotations

from pathlib import Path

import pytest

from configlab import formats
from configlab.constraints import MAX_DEPTH, parse
from configlab.errors import ConstraintError, FormatError
from tests.hostile.conftest import assert_one_line_error, run_cli


@pytest.mark.parametrize("text", [
    "(" * 98 + "a" + ")" * 98,
    "not " * 2000 + "a",
    "-" * 3000 + "1 == a",
    "[" * 500 + "]" * 500 + " == a",
    " + ".join(["a"] * 2000) + " == 1",
    "a == " + "9" * 5000,
])
def test_constraint_parser_refuses_deep_or_huge_input(text: str) -> None:
    with pytest.raises(ConstraintError) as info:
        parse(text)
    assert "\n" not in str(info.value)
    assert len(str(info.value)) < 400  # the text is shortened around the position


def test_a_long_or_chain_is_balanced_not_refused() -> None:
    text = " or ".join(f"x{i} == {i}" for i in range(1000))
    constraint = parse(text)
    assert constraint.evaluate({"x999": 999}) and not constraint.evaluate({"x999": 1})
    depth, stack = 0, [(constraint.root, 1)]
    while stack:
        node, level = stack.pop()
        depth = max(depth, level)
        stack.extend((arg, level + 1) for arg in node.args if hasattr(arg, "op"))
    assert depth < 20 < MAX_DEPTH


def test_constraint_errors_are_one_line_with_the_caret_on_demand() -> None:
    with pytest.raises(ConstraintError) as info:
        parse("a == 1 and b == 2", known_params=["a"])
    assert str(info.value) == "unknown parameter 'b' in 'a == 1 and b == 2' at column 12"
    assert info.value.caret().splitlines()[-1].index("^") == 6 + 11


@pytest.mark.parametrize(("text", "line", "needle"), [
    ("a: !!int twelve\n", 1, "bad !!int value 'twelve'"),
    ("a: 1\nb: !!float nope\n", 2, "bad !!float value 'nope'"),
    ("a: !!timestamp 2023-99-99\n", 1, "bad !!timestamp value"),
    ("a: " + "9" * 100_000 + "\n", 1, "more digits than supported"),
])
def test_yaml_bad_tagged_values(text: str, line: int, needle: str) -> None:
    with pytest.raises(FormatError, match=needle) as info:
        formats.loads(text, "yaml", source="c.yaml")
    assert info.value.line == line and info.value.path == "c.yaml"


def test_huge_integers_in_toml_and_json() -> None:
    with pytest.raises(FormatError, match="more digits than supported"):
        formats.loads("a = " + "9" * 100_000, "toml", source="c.toml")
    with pytest.raises(FormatError, match=r"c\.json"):
        formats.loads('{"a": ' + "9" * 100_000 + "}", "json", source="c.json")


def test_lone_surrogate_cannot_be_written(tmp_path: Path) -> None:
    source = tmp_path / "s.json"
    source.write_text('{"a": "\\ud800"}')
    result = run_cli("space", "convert-config", str(source), "--to", "yaml")
    assert_one_line_error(result, str(source), "not encodable as UTF-8")


def test_ini_unclosed_section_header_is_refused() -> None:
    with pytest.raises(FormatError, match="section header '\\[a' has no closing") as info:
        formats.loads("x = 1\n[a\nk = v\n", "ini", source="c.ini")
    assert info.value.line == 2


@pytest.mark.parametrize("args", [
    ["space", "check", "{tmp}"],                      # a directory where a file is expected
    ["space", "check"],                               # a missing argument
    ["space", "check", "{tmp}/x.yaml", "--bogus"],    # an unknown option
    ["no-such-command"],
])
def test_click_usage_errors_are_one_line(tmp_path: Path, args: list[str]) -> None:
    result = run_cli(*[arg.format(tmp=tmp_path) for arg in args])
    assert_one_line_error(result, "--help")


def test_constraint_error_in_a_space_is_one_line_and_verbose_shows_the_caret(
        tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  a: bool\nconstraints:\n  - 'a and (b'\n")
    result = run_cli("space", "check", str(space))
    assert_one_line_error(result, str(space), "column")
    verbose = run_cli("--verbose", "space", "convert", str(space), "--to", "yaml")
    assert verbose.returncode == 2 and "^" in verbose.stderr, verbose.stderr


@pytest.mark.parametrize(("text", "needle"), [
    ("a:\nb: 1, 2\n", "model.pict:1: parameter 'a' has no values"),
    ("b: 1, , 2\n", "model.pict:1: b: empty value in the list"),
])
def test_pict_parameter_without_values_is_refused(tmp_path: Path, text: str,
                                                  needle: str) -> None:
    model = tmp_path / "model.pict"
    model.write_text(text)
    assert_one_line_error(run_cli("space", "check", str(model)), needle)


def test_every_space_error_names_the_file(tmp_path: Path) -> None:
    space = tmp_path / "space.yaml"
    space.write_text("parameters:\n  a.b: bool\n  a:\n    b: bool\n")
    assert_one_line_error(run_cli("space", "check", str(space)),
                          f"{space}: a.b: parameter declared twice")
    space.write_text("parameters:\n  a: bool\n  a.b: bool\n")
    assert_one_line_error(run_cli("space", "check", str(space)), f"{space}: a.b: nested under")


def test_inference_errors_name_the_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("a: 1\n")
    second.write_text("a: [1, {b: 2}]\n")
    assert_one_line_error(run_cli("space", "infer", str(first), str(second)),
                          f"{first} (and 1 more): no parameter could be inferred")
