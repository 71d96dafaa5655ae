"""PICT models -> spaces -> PICT models (configlab.space._model._pict)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from configlab.constraints import parse
from configlab.errors import SpaceError
from configlab.space import BoolParam, ChoiceParam, IntParam, ListParam, Space, StringParam
from configlab.space._pict import space_from_pict, space_to_pict
from tests.paths import DATA_DIR

DATA = DATA_DIR / "pict"
MODELS = sorted(DATA.iterdir())


def load(name: str) -> Space:
    return space_from_pict((DATA / name).read_text(encoding="utf-8"), source=name)


def test_disk_partition_model_from_the_user_guide() -> None:
    space = load("disk_partition.pict")
    assert space.paths == (
        "Type", "Size", "Format_method", "File_system", "Cluster_size", "Compression",
    )
    size = space.param("Size")
    assert isinstance(size, ChoiceParam)
    assert size.values == (10, 100, 500, 1000, 5000, 10000, 40000)
    assert all(isinstance(v, int) for v in size.values)
    assert space.param("File_system").description == "PICT name: File system"
    assert space.param("Type").description == ""
    texts = [c.text for c in space.constraints]
    assert texts[0] == 'File_system == "FAT" -> Size <= 4096'
    # "Off" in the model resolves case-insensitively to the declared value "off".
    assert texts[2] == 'Cluster_size in [512, 1024, 2048] -> Compression == "off"'
    # LIKE "FAT*" expands against the value list.
    assert texts[-1] == 'File_system in ["FAT", "FAT32"] -> Format_method == "quick"'
    base = {"Type": "Single", "Format_method": "quick", "Cluster_size": 512,
            "Compression": "off"}
    assert space.is_valid({**base, "File_system": "FAT", "Size": 1000})
    assert not space.is_valid({**base, "File_system": "FAT", "Size": 5000})
    assert not space.is_valid({**base, "File_system": "FAT", "Size": 10,
                               "Format_method": "slow"})
    assert not space.is_valid({**base, "File_system": "NTFS", "Size": 10,
                               "Compression": "on"})  # cluster 512 -> compression off


def test_precedence_not_and_or_match_pict() -> None:
    space = load("disk_partition.pict")
    text = space.constraints[4].text
    assert text == ('File_system != "NTFS" or File_system == "NTFS" and Cluster_size > 4096 '
                    '-> Compression == "off"')
    nested = space.constraints[5]
    # IF NOT (FS = NTFS OR (FS = NTFS AND NOT cluster <= 4096)) THEN off
    env = {"File_system": "FAT", "Compression": "on"}
    assert not nested.evaluate(env)
    assert nested.evaluate({"File_system": "NTFS", "Compression": "on"})


def test_parameter_comparisons_reuse_and_invariants() -> None:
    space = load("machines.pict")
    assert space.param("LANG_2").values == ("English", "Spanish", "Chinese", "Hindi")  # type: ignore[attr-defined]
    assert space.param("OS_2").values == ("Win7", "Win8", "Win10")  # type: ignore[attr-defined]
    cond, invariant = space.constraints
    assert cond.text == "LANG_1 == LANG_2 -> OS_1 != OS_2 and SKU_1 != SKU_2"
    assert invariant.text == "OS_1 != OS_2 or SKU_1 != SKU_2 or LANG_1 != LANG_2"
    same = {"OS_1": "Win7", "OS_2": "Win7", "SKU_1": "Home", "SKU_2": "Home",
            "LANG_1": "English", "LANG_2": "English"}
    assert not space.is_valid(same)
    assert space.is_valid({**same, "LANG_2": "Hindi"})


def test_if_then_else_translation_is_exact() -> None:
    space = load("excluding.pict")
    first = space.constraints[0]
    p2, p3 = ("A", "B", "C", "Null", "NA"), ("X", "Y", "Z", "NA")
    for p1, a, b in itertools.product((-1, 0, 1), p2, p3):
        then = a == "NA" and b == "NA"
        otherwise = a != "NA" and (b != "NA" or a == "Null")
        expected = then if p1 == -1 else otherwise
        assert first.evaluate({"P1": p1, "P2": a, "P3": b}) is expected, (p1, a, b)


def test_aliases_warn_weights_negatives_and_submodels_become_hints() -> None:
    space = load("submodels_aliases.pict")
    assert space.param("SKU").values == ("Professional", "Server")  # type: ignore[attr-defined]
    assert space.param("Browser").values == ("Edge", "Opera", "Chrome", "Firefox")  # type: ignore[attr-defined]
    assert space.param("A").values == (-1, 0, 1, 2)  # type: ignore[attr-defined]
    warnings = "\n".join(space.warnings)
    for needle in ("aliases of 'Server'", "has no value 'Datacenter'"):
        assert needle in warnings
    for needle in ("weight", "negative", "sub-model"):
        assert needle not in warnings
    # honoured by covering generation instead of being dropped
    assert space.hints == {
        "groups": [(["PLATFORM", "CPUS", "RAM", "HDD"], 3), (["OS", "Browser"], 2)],
        "weights": {"Browser": {"Chrome": 10}},
        "negative": {"A": [-1]},
    }
    # PICT: only the first name counts in constraints, so "Datacenter" never matches.
    assert space.constraints[0].text == 'SKU == "Datacenter" -> RAM != "1GB"'


def test_sample_model_with_float_values_and_txt_extension(tmp_path: Path) -> None:
    space = Space.load(DATA / "machine.txt", fmt="pict")
    assert space.param("IE").values == (4.0, 5.0, 5.5, 6.0)  # type: ignore[attr-defined]
    assert space.warnings == ()
    assert space.hints == {"groups": [(["PLATFORM", "CPUS", "RAM", "HDD"], 2), (["OS", "IE"], 2)]}
    copy = tmp_path / "m.pict"
    copy.write_text((DATA / "create_volume.txt").read_text())
    assert Space.load(copy).paths[0] == "TYPE"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.name)
def test_round_trip_pict_space_pict_space(path: Path) -> None:
    first = space_from_pict(path.read_text(encoding="utf-8"))
    exported = space_to_pict(first)
    second = space_from_pict(exported)
    assert second.to_dict() == first.to_dict()
    assert second.digest() == first.digest()
    assert space_to_pict(second) == exported


def test_names_are_mapped_to_safe_unique_paths() -> None:
    space = space_from_pict("File system: a, b\nFile_system: c\n2nd: x\nnot: y\nin: z\n")
    assert space.paths == ("File_system", "File_system_2", "p_2nd", "not_", "in_")
    assert space.param("File_system_2").description == "PICT name: File_system"
    text = space_to_pict(space)
    assert text.splitlines()[1:6] == [
        "File system: a, b", "File_system: c", "2nd: x", "not: y", "in: z",
    ]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("A: 1, 2\nIF [A] = 1 THEN [B] = 2;", r":2: unknown parameter \[B\]"),
        ("A: 1, 2\nIF [A] = \"x\" THEN [A] = 2;", ":2: .*numeric"),
        ("A: x, y\n\nIF [A] = 1 THEN [A] = \"x\";", ":3: .*quote it"),
        ("A: 1, 2\n[A] LIKE \"1*\";", ":2: LIKE cannot be used"),
        ("A: x, y\n[A] LIKE x;", ":2: "),
        ("A: x, y\n[A] = \"x\"", ":2: constraint is not terminated"),
        ("A: x, y\nIF [A] = \"x\" [A] = \"y\";", ":2: expected THEN"),
        ("A: x, y\n[A] = \"x\" $;", ":2: unexpected character"),
        ("A: x, y\nIsNegative([A]);", ":2: .*not supported"),
        ("A: x, y\n[A] NOT = \"x\";", ":2: NOT after a parameter"),
        ("A: x, y\n[A] \"x\";", ":2: expected op"),
        ("A: x, y\n[A] = \"x\" \"y\";", ":2: unexpected"),
        ("A: x, y\n[A] = ;", ":2: expected a value"),
        ("A: x, y\n[A] = [B];", ":2: unknown parameter"),
        ("A: x, y\n[A] = \"x\" OR \"y\";", ":2: expected \\[parameter\\]"),
        ("A: 1, 2\nB: x\n[A] = [B];", ":3: .*different types"),
        ("A: 1\n[A] IN {1 2};", ":2: expected }"),
        ("A: 1\n[A] ( 1;", ":2: expected a relation"),
        ("just words", ":1: expected 'Name: value"),
        ("A: 1\nA: 2", ":2: parameter 'A' defined twice"),
        (": 1", ":1: parameter without a name"),
        ("B: <A>", ":1: B: <A> names no earlier parameter"),
        ("# only a comment\n", "at least one parameter"),
        ("A: 1, 1.0", None),
    ],
)
def test_errors_name_the_line(model: str, message: str | None) -> None:
    if message is None:
        space = space_from_pict(model, source="m.pict")
        assert space.param("A").values == (1,)  # type: ignore[attr-defined]
        assert "duplicate value" in space.warnings[0]
        return
    with pytest.raises(SpaceError, match=message):
        space_from_pict(model, source="m.pict")


def test_not_in_and_not_like_and_string_ordering() -> None:
    model = ("A: alpha, beta, gamma\nB: 1, 2, 3\n"
             "[A] NOT IN {\"alpha\"} OR NOT [B] IN {1, 2};\n"
             "[A] NOT LIKE \"?amma\";\n"
             "IF [A] > \"b\" THEN [B] >= 2;;\n"
             "NOT NOT [B] = 1;\n")
    space = space_from_pict(model)
    assert [c.text for c in space.constraints] == [
        'A not in ["alpha"] or B not in [1, 2]',
        'A not in ["gamma"]',
        'A > "b" -> B >= 2',
        "B == 1",
    ]
    assert space_from_pict(space_to_pict(space)).to_dict() == space.to_dict()


def test_export_of_a_general_space() -> None:
    space = Space.from_dict({
        "parameters": {
            "tls": "bool",
            "level": {"type": "choice", "values": ["debug", "info", None]},
            "port": {"type": "int", "min": 1, "max": 10, "optional": True},
            "name": {"type": "string", "max_length": 3},
            "tags": {"type": "list", "item": "string"},
        },
        "constraints": [
            "tls == true -> port >= 5",
            "not (level == \"debug\") or port <= 5",
            "(tls -> level != \"info\") and port in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]",
            "3 < port",
        ],
    })
    text = space_to_pict(space)
    lines = text.splitlines()
    assert "tls: false, true" in lines
    assert "level: debug, info" in lines
    assert "port: 1, 2, 4, 5, 8, 9, 10" in lines
    assert "name: val, xxx" in lines
    assert not any(line.startswith("tags:") for line in lines)
    assert "# level: class 'null' has no PICT form (omitted)" in lines
    assert "# name: class 'empty' has no PICT form (omitted)" in lines
    assert "IF [tls] = \"true\" THEN [port] >= 5;" in lines
    assert "NOT [level] = \"debug\" OR [port] <= 5;" in lines
    assert "[port] > 3;" in lines
    back = space_from_pict(text)
    assert back.param("port").values == (1, 2, 4, 5, 8, 9, 10)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("constraint", "why"),
    [
        ("a + 1 > 2", "a parameter on one side"),
        ("a > b + 1", "only parameter-versus-value"),
        ("b", "not a bool"),
        ("a == null", "no PICT form"),
        ("a <-> b", "operator '<->'"),
        ("a in [1, [2]]", "only parameter-versus-value"),
        ("a in [1, null]", "no PICT form"),
        ("1 == 2", "a parameter on one side"),
        ("a in b", "'in' needs"),
        ("t == [1]", "not a PICT parameter"),
        ("a in []", "empty 'in' list"),
        ("t == \"a\"", "not a PICT parameter"),
        ("s == \"x\\\"y\"", "contains a quote"),
    ],
)
def test_export_errors_name_the_constraint(constraint: str, why: str) -> None:
    space = Space(
        (IntParam("a", min=0, max=3), IntParam("b", min=0, max=3),
         ListParam("t"), ChoiceParam("s", values=("x",))),
        (parse(constraint, ["a", "b", "t", "s"]),),
    )
    with pytest.raises(SpaceError, match=why):
        space_to_pict(space)


def test_export_rejects_unrepresentable_spaces() -> None:
    with pytest.raises(SpaceError, match="cannot be a PICT parameter"):
        space_to_pict(Space((BoolParam("a:b"),)))
    with pytest.raises(SpaceError, match="no parameter"):
        space_to_pict(Space((ListParam("t"),)))
    odd = Space((StringParam("s", examples=("a,b", "~x", "w (3)", " pad")),
                 ChoiceParam("c", values=(1.5, "ok")), ), name="odd")
    text = space_to_pict(odd)
    assert text.startswith("# PICT model exported by configlab from odd\n")
    assert "c: 1.5, ok" in text.splitlines()


_VALUE = st.one_of(
    st.integers(-50, 50),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,6}", fullmatch=True),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_VALUE, min_size=1, max_size=5, unique_by=lambda v: str(v).lower()),
                min_size=1, max_size=4),
       st.data())
def test_round_trip_property(value_lists: list[list[object]], data: st.DataObject) -> None:
    """Random models with random IF/THEN constraints survive pict -> space -> pict -> space."""
    lines = [f"Param {i}: {', '.join(str(v) for v in values)}"
             for i, values in enumerate(value_lists)]
    space = space_from_pict("\n".join(lines))
    n = len(value_lists)
    statements = []
    for _ in range(data.draw(st.integers(0, 3))):
        i, j = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
        pi, pj = space.parameters[i], space.parameters[j]
        vi = data.draw(st.sampled_from(pi.values))  # type: ignore[attr-defined]
        vj = data.draw(st.sampled_from(pj.values))  # type: ignore[attr-defined]

        def lit(v: object, p: ChoiceParam) -> str:
            numeric = all(isinstance(x, int) for x in p.values)
            return str(v) if numeric else f'"{v}"'

        op = data.draw(st.sampled_from(["=", "<>"]))
        statements.append(
            f"IF [Param {i}] {op} {lit(vi, pi)} THEN NOT [Param {j}] = {lit(vj, pj)} "  # type: ignore[arg-type]
            f"ELSE [Param {j}] IN {{{lit(vj, pj)}}} OR [Param {i}] = [Param {i}];"  # type: ignore[arg-type]
        )
    model = "\n".join(lines + statements)
    first = space_from_pict(model)
    second = space_from_pict(space_to_pict(first))
    assert second.to_dict() == first.to_dict()
