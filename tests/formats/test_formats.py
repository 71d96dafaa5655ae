"""Unit tests for configlab.formats: every format, errors with file and line, hostile input."""

from __future__ import annotations

import math
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from configlab.errors import ConfiglabError, FormatError
from configlab.formats import (
    DEFAULT_MAX_BYTES,
    FORMATS,
    _directive,
    detect_format,
    dump,
    dumps,
    load,
    loads,
)
from configlab.formats import _yaml as yaml_codec
from configlab.formats._common import (
    Nester,
    first_difference,
    format_scalar,
    infer_scalar,
    same,
    stringify,
)
from tests.paths import DATA_DIR

DATA = DATA_DIR / "formats"


# --------------------------------------------------------------------------------- registry


def test_formats_tuple() -> None:
    assert FORMATS == ("yaml", "json", "toml", "xml", "properties", "ini", "env", "directive",
                       "nginx", "postgresql")
    assert DEFAULT_MAX_BYTES == 200 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.yaml", "yaml"),
        ("dir/a.YML", "yaml"),
        ("a.json", "json"),
        ("pyproject.toml", "toml"),
        ("pom.xml", "xml"),
        ("log4j.properties", "properties"),
        ("php.ini", "ini"),
        (".env", "env"),
        ("prod.env", "env"),
        ("/x/y/.env.local", "env"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert detect_format(name) == fmt
    assert detect_format(Path(name)) == fmt


def test_detect_format_unknown_names_the_file() -> None:
    with pytest.raises(FormatError, match=r"notes\.txt: cannot tell the format") as info:
        detect_format("notes.txt")
    assert info.value.path == "notes.txt"
    with pytest.raises(FormatError):
        detect_format("Makefile")


def test_unknown_format() -> None:
    with pytest.raises(FormatError, match="unknown format 'hcl'"):
        loads("a = 1", "hcl")
    with pytest.raises(FormatError, match="unknown format"):
        dumps({}, "csv")
    with pytest.raises(FormatError, match="unknown format"):
        loads("a: 1", 3)  # type: ignore[arg-type]


def test_explicit_format_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "config.txt"
    path.write_text("a: 1\n")
    assert load(path, "yaml") == {"a": 1}
    assert load(path, "YML") == {"a": 1}
    path.write_text("[s]\nk = v\n")
    assert load(path, fmt="cfg") == {"s": {"k": "v"}}
    assert loads("K=1", "dotenv") == {"K": 1}
    assert loads('{"a": 1}', ".json") == {"a": 1}


def test_loads_accepts_bytes_and_rejects_other_types() -> None:
    assert loads(b'{"a": "\xc3\xa9"}', "json") == {"a": "é"}
    assert loads(b"\xef\xbb\xbfa: 1\n", "yaml") == {"a": 1}  # BOM dropped
    with pytest.raises(FormatError, match="expected str or bytes"):
        loads(42, "json", source="x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sample files


def test_sample_docker_compose() -> None:
    tree = load(DATA / "docker-compose.yml")
    logging = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
    assert tree["version"] == "3.9"
    assert tree["services"]["web"]["logging"] == logging
    assert tree["services"]["web"]["ports"] == ["80:80", "443:443"]
    assert tree["services"]["app"]["logging"] == {**logging, "driver": "syslog"}
    assert tree["services"]["app"]["environment"] == {
        "DATABASE_URL": "postgres://app:secret@db:5432/app",
        "WORKERS": 4,
        "DEBUG": False,
    }
    assert tree["services"]["app"]["healthcheck"]["interval"] == "30s"
    assert tree["services"]["db"]["command"] is None
    assert tree["volumes"] == {"db-data": {}}
    # aliases are unshared: changing one copy leaves the other alone
    tree["services"]["web"]["logging"]["driver"] = "none"
    assert tree["x-logging"]["driver"] == "json-file"


def test_sample_pyproject() -> None:
    tree = load(DATA / "pyproject.toml")
    assert tree["build-system"] == {
        "requires": ["setuptools>=68", "wheel"],
        "build-backend": "setuptools.build_meta",
    }
    assert tree["project"]["released"] == "2024-03-01"
    assert tree["tool"]["mypy"]["overrides"] == [
        {"module": ["yaml.*"], "ignore_missing_imports": True}
    ]
    assert tree["tool"]["ruff"] == {"line-length": 100, "fix": False, "exclude": []}


def test_sample_log4j_properties() -> None:
    tree = load(DATA / "log4j.properties")
    assert tree == {
        "log4j": {
            "rootLogger": "INFO, stdout, file",
            "appender": {
                "stdout": {
                    "#text": "org.apache.log4j.ConsoleAppender",
                    "Target": "System.out",
                    "layout": {
                        "#text": "org.apache.log4j.PatternLayout",
                        "ConversionPattern": "%d{yyyy-MM-dd HH:mm:ss} %-5p %c{1}:%L - %m%n",
                    },
                },
                "file": {
                    "#text": "org.apache.log4j.RollingFileAppender",
                    "File": "/var/log/app/app.log",
                    "MaxFileSize": "10MB",
                    "MaxBackupIndex": 10,
                    "append": True,
                    "layout": {
                        "#text": "org.apache.log4j.PatternLayout",
                        "ConversionPattern": "%d %-5p [%t] %c - %m%n",
                    },
                },
            },
            "logger": {"org": {"hibernate": {"SQL": "DEBUG"}}},
        }
    }
    text = dumps(tree, "properties")
    assert "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n" in text
    assert loads(text, "properties") == tree


def test_sample_php_ini() -> None:
    tree = load(DATA / "php.ini")
    assert tree["PHP"]["engine"] == "On"
    assert tree["PHP"]["precision"] == 14
    assert tree["PHP"]["display_errors"] is False
    assert tree["PHP"]["error_reporting"] == "E_ALL & ~E_DEPRECATED"
    assert tree["Date"] == {"date": {"timezone": "Europe/Berlin"}}
    assert tree["Session"]["session"] == {
        "save_handler": "files",
        "gc_maxlifetime": 1440,
        "cookie_secure": "",
    }
    assert tree["mysqli"]["mysqli"] == {"default_port": 3306, "allow_persistent": True}
    assert loads(dumps(tree, "ini"), "ini") == tree


def test_sample_env() -> None:
    tree = load(DATA / "app.env")
    assert tree == {
        "APP_NAME": "Example Service",
        "APP_ENV": "production",
        "PORT": 8080,
        "DEBUG": False,
        "RATIO": 0.75,
        "SECRET_KEY": "s3cr3t#not-a-comment",
        "EMPTY": "",
        "ZIP_CODE": "007",
        "GREETING": "hello\nworld",
        "UNSET": None,
    }
    assert load(DATA / "app.env", typed=False)["PORT"] == "8080"
    assert loads(dumps(tree, "env"), "env") == tree


def test_sample_xml() -> None:
    tree = load(DATA / "settings.xml")
    assert tree == {
        "#root": "settings",
        "@xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
        "localRepository": "/home/ci/.m2/repository",
        "offline": False,
        "servers": {
            "server": [
                {"@id": "releases", "username": "deploy", "password": "secret"},
                {"@id": "snapshots", "username": "deploy", "timeout": 3000},
            ]
        },
        "mirror": {"@name": "central", "@url": "https://repo.example.org/maven2",
                   "#text": "central"},
    }
    text = dumps(tree, "xml")
    assert '<mirror name="central" url="https://repo.example.org/maven2">central</mirror>' in text
    assert loads(text, "xml") == tree


def test_sample_json() -> None:
    tree = load(DATA / "package.json")
    assert tree["config"] == {"port": 3000, "ratio": 0.5}
    assert tree["workspaces"] == []
    assert tree["browserslist"] is None


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir() if p.is_file()))
def test_samples_survive_every_format_that_can_hold_them(name: str, tmp_path: Path) -> None:
    tree = load(DATA / name)
    written = 0
    for fmt in FORMATS:
        target = tmp_path / f"out.{fmt}"
        try:
            dump(tree, target, fmt)
        except FormatError:
            assert not target.exists()
            continue
        written += 1
        expected = tree
        if fmt == "directive":
            # documented: a value that is not an argument list (postgresql.conf's
            # log_line_prefix '%m [%p] %q%u@%d ', trailing blank) reads back with its quotes
            expected = {key: _directive._yes_no(value) for key, value in tree.items()}
        assert same(load(target, fmt), expected), fmt
    assert written >= 2  # at least its own format and yaml/json/xml


# ------------------------------------------------------------------------- scalar inference


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("8080", 8080),
        ("-12", -12),
        ("0", 0),
        ("true", True),
        ("false", False),
        ("null", None),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        ("1e+16", 1e16),
        ("", ""),
        ("007", "007"),
        ("1e3", "1e3"),
        ("True", "True"),
        ("true ", "true "),
        (" 1", " 1"),
        ("+1", "+1"),
        ("-0", "-0"),
        ("1.50", "1.50"),
        ("1_000", "1_000"),
        ("nan", "nan"),
        ("inf", "inf"),
        ("-", "-"),
        ("NULL", "NULL"),
        ("9" * 5000, "9" * 5000),
    ],
)
def test_infer_scalar_only_canonical_spellings(text: str, value: Any) -> None:
    result = infer_scalar(text)
    assert type(result) is type(value)
    assert result == value
    assert format_scalar(result) == text if not isinstance(result, str) else True


def test_same_is_type_exact() -> None:
    assert same({"a": [1, {"b": math.nan}]}, {"a": [1, {"b": math.nan}]})
    assert not same({"a": 1}, {"a": True})
    assert not same({"a": 1}, {"a": 1.0})
    assert not same([1], [1, 2])
    assert not same({"a": 1.5}, {"a": math.nan})
    assert first_difference({"a": {"b": 1}}, {"a": {"c": 1}}) == ("a", "b")
    assert first_difference({"a": {}}, {"a": {"c": 1}}) == ("a", "c")
    assert first_difference({"a": [1, 2]}, {"a": [1, 3]}) == ("a", "1")
    assert stringify({"a": [1, True, None, 1.5, "x"]}) == {"a": ["1", "true", None, "1.5", "x"]}


def test_nester_duplicates_and_prefix_values() -> None:
    nester = Nester("properties", "f")
    nester.add(("a", "b"), {})
    nester.add(("a", "b"), 1)
    nester.add(("a", "b", "c"), 2)
    nester.add(("x",), 1)
    nester.add(("x",), {})
    assert nester.tree == {"a": {"b": {"#text": 1, "c": 2}}, "x": 1}
    with pytest.raises(FormatError, match=r"f: properties key a\.b is given more than once"):
        nester.add(("a", "b"), 3)


# ------------------------------------------------------------------------------ malformed


MALFORMED = [
    ("yaml", "a: 1\nb: [1, 2\nc: 3\n", 3),
    ("yaml", "a: 1\n  b: 2\n", 2),
    ("yaml", "a: 1\nb: !!python/object:os.system x\n", 2),
    ("yaml", "a: *nothing\n", 1),
    ("yaml", "a: 1\nb: 2\na: 3\n", 3),
    ("yaml", "a: 1\nb: \x00\n", 2),
    ("yaml", "a: !!binary aGVsbG8=\n", None),
    ("json", '{\n  "a": 1,\n  "b": \n}\n', 4),
    ("json", '{"a": NaN}', None),
    ("toml", "a = 1\nb = \n", 2),
    ("toml", "[x]\na = 1\n[x]\n", 3),
    ("xml", "<config>\n  <a>1</a>\n  <b>\n</config>\n", 4),
    ("xml", "<config><a cl:type='int' xmlns:cl='urn:configlab'>x</a></config>", 1),
    ("xml", "<c xmlns:cl='urn:configlab'>\n<a cl:type='weird'/></c>", 2),
    ("xml", "<c xmlns:cl='urn:configlab'>\n\n<a cl:type='bool'>yes</a></c>", 3),
    ("xml", "<c xmlns:cl='urn:configlab'>\n<a cl:type='null'>x</a></c>", 2),
    ("xml", "<c xmlns:cl='urn:configlab'>\n<a cl:type='int' b='1'>1</a></c>", 2),
    ("xml", "<c xmlns:cl='urn:configlab'>\n<a cl:type='list' b='1'/></c>", 2),
    ("xml", "<c xmlns:cl='urn:configlab'>\n<cl:entry>1</cl:entry></c>", 2),
    ("xml", "<c>\n<a>1<b/>tail</a></c>", 2),
    ("xml", "<c b='1'>\n<cl:entry xmlns:cl='urn:configlab' cl:key='@b'>2</cl:entry></c>", 2),
    ("xml", "<c xmlns:cl='urn:configlab' cl:type='list'><item/></c>", 1),
    ("properties", "a=1\nb=\\u12G4\n", 2),
    ("properties", "a.`b=1\n", None),
    ("ini", "[a]\nb = 1\nb = 2\n", 3),
    ("ini", "[a]\nx = 1\n[a]\n", 3),
    ("ini", "[a]\nb = 1\n[a.b]\nc = 2\n[a]\n", 5),
    ("ini", "[a]\nb = 1\n=novalue\n", 3),
    ("ini", "[s]\n`bad = 1\n", None),
    ("ini", "[a..b]\nc = 1\n", None),
    ("ini", "x = 1\n[s]\nc.d = 1\n[s.c]\nd = 2\n", None),
    ("env", "A=1\nB='unterminated\n", 2),
    ("env", "A=1\nA=2\n", 2),
    ("env", "A=1\n\n=value\n", 3),
]


@pytest.mark.parametrize(("fmt", "text", "line"), MALFORMED)
def test_malformed_input_names_file_and_line(fmt: str, text: str, line: int | None) -> None:
    with pytest.raises(FormatError) as info:
        loads(text, fmt, source="conf/app.cfg")
    error = info.value
    assert error.path == "conf/app.cfg"
    assert str(error).startswith("conf/app.cfg")
    assert error.line == line
    if line is not None:
        assert str(error).startswith(f"conf/app.cfg:{line}: ")


def test_malformed_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"a": 1,\n"b"}\n')
    with pytest.raises(FormatError) as info:
        load(path)
    assert info.value.path == str(path)
    assert info.value.line == 2
    assert isinstance(info.value, ConfiglabError)


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("yaml", "- a\n- b\n"),
        ("yaml", "just a string\n"),
        ("yaml", "null\n"),
        ("yaml", "42\n"),
        ("json", "[1, 2]"),
        ("json", '"x"'),
        ("xml", "<config xmlns:cl='urn:configlab' cl:type='list'/>"),
    ],
)
def test_top_level_must_be_a_mapping(fmt: str, text: str) -> None:
    with pytest.raises(FormatError, match="top level must be a mapping") as info:
        loads(text, fmt, source="f")
    assert info.value.path == "f"


def test_empty_inputs() -> None:
    assert loads("", "yaml") == {}
    assert loads("# only a comment\n", "yaml") == {}
    assert loads("", "toml") == {}
    assert loads("", "properties") == {}
    assert loads("", "ini") == {}
    assert loads("", "env") == {}
    assert loads("<config/>", "xml") == {}
    with pytest.raises(FormatError):
        loads("", "json")
    with pytest.raises(FormatError):
        loads("", "xml")


def test_yaml_multiple_documents_refused() -> None:
    with pytest.raises(FormatError, match="more than one YAML document") as info:
        loads("a: 1\n---\nb: 2\n", "yaml", source="two.yaml")
    assert info.value.line == 2


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin.properties"
    path.write_bytes(b"a=1\nname=Jos\xe9\n")
    with pytest.raises(FormatError, match="not valid UTF-8") as info:
        load(path)
    assert info.value.line == 2
    assert info.value.path == str(path)
    with pytest.raises(FormatError, match="not valid UTF-8"):
        loads(b"\xff\xfe", "json", source="x.json")


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="no such config file") as info:
        load(tmp_path / "absent.yaml")
    assert info.value.path == str(tmp_path / "absent.yaml")
    with pytest.raises(FormatError, match="is a directory"):
        load(tmp_path, "yaml")


def test_nesting_too_deep() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(FormatError, match="nested too deeply"):
        loads('{"a": ' + deep + "}", "json")
    with pytest.raises(FormatError, match="nest"):  # libyaml's own depth limit, or ours
        loads("a: " + deep, "yaml")
    with pytest.raises(FormatError, match="nested too deeply"):
        loads("a = " + "[" * 5000 + "]" * 5000, "toml")
    with pytest.raises(FormatError, match="nested too deeply"):
        loads("<c>" + "<a>" * 5000 + "</a>" * 5000 + "</c>", "xml")


# --------------------------------------------------------------------------------- hostile


def test_yaml_billion_laughs_fails_fast() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(1, 10):
        prev, name = chr(ord("a") + level - 1), chr(ord("a") + level)
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    with pytest.raises(FormatError, match="alias bomb"):
        loads("\n".join(lines) + "\n", "yaml", source="bomb.yaml")


def test_yaml_recursive_alias_refused() -> None:
    with pytest.raises(FormatError, match="refers to itself") as info:
        loads("a: 1\nb: &x\n  c: *x\n", "yaml", source="r.yaml")
    assert info.value.line == 2  # where the anchored node starts


def test_yaml_alias_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "base: &b {x: 1, y: 2}\n" + "".join(f"k{i}: *b\n" for i in range(10))
    tree = loads(text, "yaml")
    assert tree["k9"] == {"x": 1, "y": 2}
    monkeypatch.setattr(yaml_codec, "MAX_ALIAS_EXPANSION", 20)
    with pytest.raises(FormatError, match="alias bomb"):
        loads(text, "yaml")


def test_yaml_keys_keep_their_text_and_dates_stay_strings() -> None:
    text = "on: push\n80: http\n~: tilde\n1.5: x\nwhen: 2024-01-02\nat: !!timestamp 2024-01-02\n"
    assert loads(text, "yaml") == {
        "on": "push",
        "80": "http",
        "~": "tilde",
        "1.5": "x",
        "when": "2024-01-02",
        "at": "2024-01-02",
    }
    with pytest.raises(FormatError, match="duplicate key"):
        loads("1: a\n'1': b\n", "yaml")


XML_HOSTILE = [
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n <!ENTITY lol2 '
    '"&lol;&lol;&lol;&lol;">\n]>\n<lolz>&lol2;</lolz>',
    '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    '<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><x/>',
]


@pytest.mark.parametrize("text", XML_HOSTILE)
def test_xml_hostile_input_refused(text: str) -> None:
    with pytest.raises(FormatError, match="refused") as info:
        loads(text, "xml", source="evil.xml")
    assert info.value.path == "evil.xml"


def test_xml_entities_refused_without_dtd_check() -> None:
    # defusedxml's entity guard (behind the DTD guard) also refuses
    from configlab.formats import _xml

    text = '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    original = _xml.DefusedExpatParser

    def lenient(**kwargs: Any) -> Any:
        kwargs["forbid_dtd"] = False
        return original(**kwargs)

    _xml.DefusedExpatParser = lenient  # type: ignore[misc]
    try:
        with pytest.raises(FormatError, match="entities and external references"):
            loads(text, "xml")
    finally:
        _xml.DefusedExpatParser = original  # type: ignore[misc]


def test_size_limit_refuses_before_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.json"
    path.write_text('{"a": "' + "x" * 1000 + '"}')
    with pytest.raises(FormatError, match="larger than the limit of 100 bytes") as info:
        load(path, max_bytes=100)
    assert info.value.path == str(path)
    assert load(path, max_bytes=2000)["a"] == "x" * 1000

    # a file that grows (or lies about its size) is still cut at max_bytes + 1
    real_fstat = os.fstat

    class Small:
        st_size = 10
        st_mode = stat.S_IFREG | 0o644

    monkeypatch.setattr(os, "fstat", lambda fd: Small())
    with pytest.raises(FormatError, match="larger than the limit"):
        load(path, max_bytes=100)
    monkeypatch.setattr(os, "fstat", real_fstat)


# ---------------------------------------------------------------------- writing and limits


def test_dump_and_load_files(tmp_path: Path) -> None:
    tree = {"db": {"host": "localhost", "port": 5432, "ssl": True}, "name": "svc"}
    for fmt, ext in [("yaml", "yml"), ("json", "json"), ("toml", "toml"), ("xml", "xml"),
                     ("properties", "properties"), ("ini", "ini")]:
        path = tmp_path / f"app.{ext}"
        dump(tree, path)
        assert load(path) == tree
        assert detect_format(path) == fmt
    flat = {"HOST": "localhost", "PORT": 5432}
    dump(flat, tmp_path / ".env")
    assert load(tmp_path / ".env") == flat
    assert (tmp_path / ".env").read_text() == "HOST=localhost\nPORT=5432\n"


def test_dump_refuses_without_touching_the_file(tmp_path: Path) -> None:
    path = tmp_path / "app.toml"
    path.write_text("keep = 1\n")
    with pytest.raises(FormatError, match="TOML has no null") as info:
        dump({"a": {"b": None}}, path)
    assert info.value.path == str(path)
    assert path.read_text() == "keep = 1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.toml"]


def test_dump_write_errors(tmp_path: Path) -> None:
    dump({"a": 1}, tmp_path / "new-dir" / "a.json")  # missing parents are created
    assert (tmp_path / "new-dir" / "a.json").read_text().strip() == '{\n  "a": 1\n}'
    with pytest.raises(FormatError, match="cannot write config file"):
        dump({"a": 1}, tmp_path / "new-dir" / "a.json" / "b.json")  # through a file
    with pytest.raises(FormatError, match="not encodable as UTF-8"):
        dump({"a": "\ud800"}, tmp_path / "a.json")
    target = tmp_path / "dir.json"
    target.mkdir()
    with pytest.raises(FormatError, match="is a directory; refusing"):
        dump({"a": 1}, target)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".configlab-")] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_dump_rejects_non_trees(fmt: str) -> None:
    with pytest.raises(FormatError, match="top level must be a mapping"):
        dumps([1, 2], fmt)  # type: ignore[arg-type]
    with pytest.raises(FormatError, match="is not a string"):
        dumps({"a": {1: "x"}}, fmt)
    with pytest.raises(FormatError, match=r"unsupported type set"):
        dumps({"a": {"b": {1, 2}}}, fmt)
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    with pytest.raises(FormatError, match="nested too deeply"):
        dumps(cyclic, fmt)


@pytest.mark.parametrize(
    ("fmt", "tree", "message"),
    [
        ("toml", {"a": [1, None]}, r"TOML has no null \(value at a\.1\)"),
        ("json", {"a": math.inf}, "cannot write json"),
        ("properties", {"a": [1]}, "properties has no lists"),
        ("properties", {"a": {}}, "empty mapping at a"),
        ("properties", {"port": "8080"}, "would read back as int"),
        ("properties", {"a": math.nan}, "no canonical spelling"),
        ("properties", {"a.`b": 1}, "backtick"),
        ("properties", {"": 1}, "empty"),
        ("properties", {"a": None}, "typed=False has no null"),
        ("ini", {"a": "x\ny"}, "line break"),
        ("ini", {"#a": 1}, "top-level key '#a'"),
        ("ini", {"s": {"a=b": 1}}, "contains '='"),
        ("ini", {"s": {"t": [1]}}, "ini has no lists"),
        ("env", {"a": {"b": [1]}}, "only scalars"),
        ("env", {"a": [1]}, "only scalars"),
        ("env", {"a": {}}, "empty mapping"),
        ("env", {"a": {"b": 1}, "a__b": 2}, "more than once"),
        ("env", {"1A": 1}, "not a valid .env key"),
        ("env", {"A": math.inf}, "no canonical spelling"),
        ("xml", {"a": "bell\x07"}, "XML 1.0 cannot carry"),
        ("xml", {"a\x01": 1}, "XML 1.0 cannot carry"),
    ],
)
def test_unrepresentable_trees_raise(fmt: str, tree: dict[str, Any], message: str) -> None:
    typed = not (fmt == "properties" and message.startswith("typed=False"))
    with pytest.raises(FormatError, match=message):
        dumps(tree, fmt, typed=typed)


@pytest.mark.parametrize(("text", "line", "detail"), [
    ("a=\\u12", 1, r'invalid \uXXXX escape "\u12" (needs 4 hex digits)'),  # cut off at EOF
    ("a=\\u12\nb=1\n", 1, r'"\u12"'),
    ("a=1\nb=\\u12G4\n", 2, r'"\u12G4"'),
    ("a=\\u-123\n", 1, r'"\u-123"'),  # was an unwrapped struct.error
    ("a=\\u+123\n", 1, r'"\u+123"'),  # int(..., 16) accepted these; Java does not
    ("a=\\u1_23\n", 1, r'"\u1_23"'),
    ("a=x\\\n  \\u00\n", 2, r'"\u00"'),  # continuation line
    ("a=\\uDC00\n", 1, r"a low surrogate (\uDC00-\uDFFF) with no high surrogate"),
    ("a=\\uD800\n", 1, "High surrogate unicode escape sequence not followed"),
])
def test_properties_parse_errors_say_what_is_wrong(tmp_path: Path, text: str, line: int,
                                                   detail: str) -> None:
    path = tmp_path / "bad.properties"
    path.write_text(text, encoding="latin-1")
    with pytest.raises(FormatError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: invalid properties: ")
    assert detail in message


def test_properties_unicode_escapes_that_stay_valid() -> None:
    assert loads("# \\u12 comment\n! \\uZZ\na=\\u0041\\uD83D\\uDE00", "properties") == {
        "a": "A\U0001F600"}
    assert loads("a=x\\\\u12\n", "properties") == {"a": "x\\u12"}  # escaped backslash
    assert loads("a=x\\\n  \\u0042\n", "properties") == {"a": "xB"}
    assert loads("  # x\\\na=1\r\nb=\\u00e9\rc=2", "properties") == {"a": 1, "b": "\u00e9",
                                                                      "c": 2}


def test_properties_untyped_null_refused() -> None:
    with pytest.raises(FormatError, match="typed=False has no null"):
        dumps({"a": None}, "properties", typed=False)
    assert loads(dumps({"a": None}, "properties"), "properties") == {"a": None}


def test_faithfulness_check_catches_what_the_writer_missed() -> None:
    # keys configparser strips or splits: the writer's round-trip check refuses them
    with pytest.raises(FormatError, match=r"cannot write ini faithfully: the value at s\.a"):
        dumps({"s": {"a ": 1}}, "ini")
    with pytest.raises(FormatError, match="cannot write ini faithfully"):
        dumps({"s\nx": {"a": 1}}, "ini")
    # while awkward but representable keys do round-trip
    for tree in ({"s": {"[x": {"y": 1}}}, {"#text": 1, "a": 2}, {"s": {"a": {"#text": 1}}}):
        fmt = "properties" if "#text" in tree else "ini"
        assert loads(dumps(tree, fmt), fmt) == tree


def test_typed_false_keeps_strings() -> None:
    assert loads("a=1\nb=true\nc=x", "properties", typed=False) == {
        "a": "1", "b": "true", "c": "x"}
    assert loads("[s]\na = 1\nb", "ini", typed=False) == {"s": {"a": "1", "b": None}}
    assert loads("<config a='1'><b>2</b><n xmlns:cl='urn:configlab' cl:type='null'/></config>",
                 "xml", typed=False) == {"@a": "1", "b": "2", "n": None}
    tree = {"port": "8080", "n": 8080, "flag": True, "s": {"x": 1.5}}
    for fmt in ("properties", "ini", "xml"):
        text = dumps(tree, fmt, typed=False)
        assert loads(text, fmt, typed=False) == stringify(tree)
    assert loads(dumps({"P": "8080", "Q": 1}, "env", typed=False), "env", typed=False) == {
        "P": "8080", "Q": "1"}


def test_xml_annotations_and_lists() -> None:
    tree = {
        "s": "8080",
        "i": 8080,
        "f": math.inf,
        "b": False,
        "n": None,
        "e": {},
        "l": [],
        "one": [1],
        "nested": [[1, "a"], {"k": None}],
        "weird key": {"@not an attr": 1, "@ok": "8080", "#text": "t"},
        "@attr": "v",
        "#text": "root text",
    }
    text = dumps(tree, "xml")
    assert '<s cl:type="str">8080</s>' in text
    assert '<cl:entry cl:key="weird key">' in text
    assert same(loads(text, "xml"), tree)
    # foreign XML: repeated siblings -> list, attributes -> @keys, text beside attrs -> #text
    assert loads("<r><p>1</p><p>2</p><p>3</p><q x='1'>y</q></r>", "xml") == {
        "#root": "r", "p": [1, 2, 3], "q": {"@x": 1, "#text": "y"}}
    assert loads("<config xmlns:cl='urn:configlab'><a cl:type='bool'>1</a>"
                 "<b cl:type='bool'>0</b><c cl:type='float'>2</c></config>", "xml") == {
        "a": True, "b": False, "c": 2.0}


def test_ini_mapping_rules() -> None:
    text = "top = 1\n[db]\npool.size = 5\n[db.pool]\nname = main\n[DEFAULT]\nx = y\n[empty]\n"
    assert loads(text, "ini") == {
        "top": 1,
        "db": {"pool": {"size": 5, "name": "main"}},
        "DEFAULT": {"x": "y"},
        "empty": {},
    }
    assert loads("a = 1\n[a]\nb = 2\n", "ini") == {"a": {"#text": 1, "b": 2}}
    tree = {"a": {"#text": 1, "b": 2}, "c": {"#text": 3}}
    assert loads(dumps(tree, "ini"), "ini") == tree
    assert loads('[s]\nq = "8080"\np = " pad "', "ini") == {"s": {"q": "8080", "p": " pad "}}


def test_env_quoting_rules() -> None:
    assert loads("A='1'\nB=\"true\"\nC=1\nexport D = 'x y'\n", "env") == {
        "A": "1", "B": "true", "C": 1, "D": "x y"}
    tree = {"A": "it's", "B": "back\\slash", "C": "multi\nline", "D": "", "E": "8080"}
    assert loads(dumps(tree, "env"), "env") == tree


def test_xml_attribute_keys_that_cannot_be_attributes() -> None:
    tree = {"s": {"@list": [1], "@inf": math.inf, "@n": 1, "@ok": "x"}}
    text = dumps(tree, "xml")
    assert '<s n="1" ok="x">' in text
    assert same(loads(text, "xml"), tree)
    untyped = dumps({"s": {"@n": 1, "@ok": "x"}}, "xml", typed=False)
    assert '<s ok="x">' in untyped
    assert loads(untyped, "xml", typed=False) == {"s": {"@ok": "x", "@n": "1"}}


def test_deep_trees_refused_on_write() -> None:
    tree: dict[str, Any] = {}
    node = tree
    for _ in range(700):
        node["a"] = {}
        node = node["a"]
    with pytest.raises(FormatError, match="nested too deeply"):
        dumps(tree, "xml")
    with pytest.raises(FormatError, match="top level must be a mapping, got null"):
        dumps(None, "json")  # type: ignore[arg-type]


def test_yaml_deep_block_nesting() -> None:
    text = "".join("  " * depth + "a:\n" for depth in range(990)) + "  " * 990 + "a: 1\n"
    with pytest.raises(FormatError, match="nest"):
        loads(text, "yaml")


def test_write_check_reports_a_reload_failure() -> None:
    with pytest.raises(FormatError, match=r"cannot write ini faithfully: .*more than once"):
        dumps({"a": {"x": 1}, "a]\n[a": {"y": 1}}, "ini")


def test_env_nested_trees_use_the_double_underscore_delimiter() -> None:
    tree = {"APP_NAME": "demo", "DB": {"HOST": "localhost", "POOL": {"SIZE": 5}}, "DEBUG": True}
    text = dumps(tree, "env")
    assert text.splitlines() == ["APP_NAME=demo", "DB__HOST=localhost", "DB__POOL__SIZE=5",
                                 "DEBUG=true"]
    assert loads(text, "env") == tree
    # what pydantic-settings would read with env_nested_delimiter="__"
    assert loads("A=1\nA__B=2\n", "env") == {"A": 1, "A__B": 2}  # a clash stays flat
    assert loads("__X=1\nY__=2\n", "env") == {"__X": 1, "Y__": 2}


def test_java_logging_properties_root_logger_key() -> None:
    # The JDK's own conf/logging.properties (Debian: /etc/java-17-openjdk) sets the root
    # logger's level with the key `.level`: a key that is no dotted path stays one key.
    text = ("handlers= java.util.logging.ConsoleHandler\n.level= INFO\n"
            "java.util.logging.ConsoleHandler.level = INFO\ncom.xyz.foo.level = SEVERE\n"
            "odd..key = 1\n")
    tree = loads(text, "properties")
    assert tree[".level"] == "INFO" and tree["odd..key"] == 1
    assert tree["java"]["util"]["logging"]["ConsoleHandler"]["level"] == "INFO"
    written = dumps(tree, "properties")
    assert ".level=INFO" in written.splitlines() and "odd..key=1" in written.splitlines()
    assert loads(written, "properties") == tree
    with pytest.raises(FormatError, match="empty segment"):
        loads("=1\n", "properties")
    with pytest.raises(FormatError, match="unbalanced backtick"):  # cannot be written back
        loads("back`tick = 2\n", "properties")


@pytest.mark.parametrize("text", [
    '<?xml version="1.0"?>\n<fontconfig><dir>/usr/share/fonts</dir></fontconfig>\n',
    "\ufeff  <busconfig>\n<policy user='root'/></busconfig>",
    "<!-- a comment -->\n<config><a>1</a></config>",
])
def test_xml_conf_files_are_sniffed(tmp_path: Path, text: str) -> None:
    # fontconfig's and D-Bus's configuration files are XML named .conf
    path = tmp_path / "fonts.conf"
    path.write_text(text, encoding="utf-8")
    assert detect_format(path, text) == "xml"
    assert load(path)
    doctype = tmp_path / "dbus.conf"
    doctype.write_text('<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus '
                       'Configuration 1.0//EN"\n "http://www.freedesktop.org/standards/dbus/'
                       '1.0/busconfig.dtd">\n<busconfig/>\n')
    with pytest.raises(FormatError, match=r"DTDs\) are refused"):
        load(doctype)
