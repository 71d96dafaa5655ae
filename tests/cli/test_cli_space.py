"""``configlab space`` commands (check, infer, convert, convert-config)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from configlab.space import Space
from configlab.space._pict import space_from_pict
from tests.cli.conftest import CliRun
from tests.paths import DATA_DIR

DATA = DATA_DIR

SPACE_YAML = """
name: web
parameters:
  port: {type: int, min: 1, max: 100}
  tls: bool
  mode: [fast, slow]
constraints:
  - "tls -> port >= 10"
"""


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_check_lists_parameters_and_validates_configs(cli_run: CliRun, tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", SPACE_YAML)
    good = write(tmp_path / "good.yaml", "port: 50\ntls: true\nmode: fast\nother: kept\n")
    bad = write(tmp_path / "bad.json", '{"port": 5, "tls": true, "mode": "medium"}')
    code, out, _ = cli_run("space", "check", space, "--config", good)
    assert code == 0
    assert "space 'web': 3 parameter(s), 1 constraint(s)" in out
    assert "port (int): min (1)" in out
    assert f"{good}: valid" in out
    code, out, _ = cli_run("space", "check", space, "-c", good, "-c", bad)
    assert code == 1
    assert f"{bad}: 2 violation(s)" in out
    assert "mode: 'medium' is not one of" in out
    assert "violates 'tls -> port >= 10'" in out


def test_check_json_output(cli_run: CliRun, tmp_path: Path) -> None:
    space = write(tmp_path / "space.yaml", SPACE_YAML)
    bad = write(tmp_path / "bad.yaml", "port: 5\ntls: true\n")
    code, out, _ = cli_run("space", "check", space, "--config", bad, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["name"] == "web" and len(report["parameters"]) == 3
    assert report["parameters"][0]["classes"][0] == "min (1)"
    assert report["constraints"] == ["tls -> port >= 10"]
    violations = report["configs"][0]["violations"]
    assert {v["path"] for v in violations} == {"port, tls", "mode"}
    assert violations[-1]["value"] == {"port": 5, "tls": True}
    assert next(v for v in violations if v["path"] == "mode")["value"] == "<absent>"
    assert report["digest"] == Space.load(space).digest()


def test_check_bad_space_exits_2(cli_run: CliRun, tmp_path: Path) -> None:
    broken = write(tmp_path / "space.yaml", "parameters: {a: {type: nope}}\n")
    code, _, err = cli_run("space", "check", broken)
    assert code == 2 and "unknown parameter type" in err
    code, out, _ = cli_run("space", "check", broken, "--json")
    assert code == 2 and "unknown parameter type" in json.loads(out)["error"]
    code, _, err = cli_run("space", "check", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such space file" in err
    space = write(tmp_path / "ok.yaml", SPACE_YAML)
    code, _, err = cli_run("space", "check", space, "--config", str(tmp_path / "nope.yaml"))
    assert code == 2 and "configlab: error:" in err


def test_check_schema_and_pict_show_warnings(cli_run: CliRun) -> None:
    code, out, _ = cli_run("space", "check", str(DATA / "schemas" / "bowerrc.json"))
    assert code == 0 and "warning: #/properties/timeout: type:" in out
    code, out, _ = cli_run("space", "check", str(DATA / "pict" / "machine.txt"),
                       "--space-format", "pict")
    assert code == 0 and "IE (choice): 4.0 (4.0)" in out


def test_infer_writes_a_loadable_space(cli_run: CliRun, tmp_path: Path) -> None:
    first = write(tmp_path / "a.yaml", "db: {host: a, port: 1}\nmode: x\n")
    second = write(tmp_path / "b.json", '{"db": {"host": "bb", "port": 9}, "mode": "x"}')
    code, out, _ = cli_run("space", "infer", first, second, "--name", "demo")
    assert code == 0
    data = yaml.safe_load(out)
    assert data["name"] == "demo"
    # two examples say little: the range is widened around them (0 .. ten times the largest)
    assert data["parameters"]["db.port"] == {"type": "int", "min": 0, "max": 90,
                                             "inferred": True}
    target = tmp_path / "space.yaml"
    code, _, err = cli_run("space", "infer", first, second, "-o", str(target))
    assert code == 0 and "wrote 3 parameter(s)" in err
    space = Space.load(target)
    assert space.is_valid({"db": {"host": "a", "port": 5}, "mode": "x"})
    mixed = write(tmp_path / "c.yaml", "odd: {x: 1}\nok: 1\n")
    other = write(tmp_path / "d.yaml", "odd: 2\nok: 2\n")
    code, _, err = cli_run("space", "infer", mixed, other)
    assert code == 0 and "warning: odd: both an object and a value" in err


def test_convert_space_between_yaml_json_and_pict(cli_run: CliRun, tmp_path: Path) -> None:
    pict = str(DATA / "pict" / "disk_partition.pict")
    code, out, _ = cli_run("space", "convert", pict, "--to", "yaml")
    assert code == 0
    as_yaml = write(tmp_path / "disk.yaml", out)
    original = space_from_pict(Path(pict).read_text())
    assert Space.load(as_yaml).to_dict() == original.to_dict()
    target = tmp_path / "disk.json"
    code, _, _ = cli_run("space", "convert", as_yaml, "--to", "json", "-o", str(target))
    assert code == 0 and json.loads(target.read_text())["parameters"]["Size"]["values"][0] == 10
    code, out, _ = cli_run("space", "convert", str(target), "--to", "pict")
    assert code == 0 and "File system: FAT, FAT32, NTFS" in out
    assert space_from_pict(out).to_dict() == original.to_dict()
    code, out, _ = cli_run("space", "convert", str(DATA / "pict" / "machine.txt"),
                       "--space-format", "pict", "--to", "pict")
    assert code == 0 and "{ OS, IE } @ 2" in out
    code, _, err = cli_run("space", "convert", as_yaml, "--to", "pict", "-o",
                       str(tmp_path / "new" / "dir" / "space.pict"))  # parents created
    assert code == 0 and (tmp_path / "new" / "dir" / "space.pict").is_file()
    code, _, err = cli_run("space", "convert", as_yaml, "--to", "pict", "-o",
                       str(target / "space.pict"))  # through a file: refused
    assert code == 2 and "cannot write" in err


def test_convert_space_pict_error_exits_2(cli_run: CliRun, tmp_path: Path) -> None:
    space = write(tmp_path / "s.yaml",
                  "parameters: {a: {type: int, min: 0, max: 3}}\nconstraints: ['a + 1 > 2']\n")
    code, _, err = cli_run("space", "convert", space, "--to", "pict")
    assert code == 2 and "cannot be written as PICT" in err


def test_convert_config_between_formats(cli_run: CliRun, tmp_path: Path) -> None:
    source = write(tmp_path / "app.yaml", "server:\n  port: 8080\n  debug: false\nname: demo\n")
    code, out, _ = cli_run("space", "convert-config", source, "--to", "json")
    assert code == 0
    assert json.loads(out) == {"server": {"port": 8080, "debug": False}, "name": "demo"}
    target = tmp_path / "app.toml"
    code, _, _ = cli_run("space", "convert-config", source, "--to", "toml", "-o", str(target))
    assert code == 0 and "port = 8080" in target.read_text()
    code, out, _ = cli_run("space", "convert-config", str(target), "--to", "yaml")
    assert code == 0 and yaml.safe_load(out)["server"]["port"] == 8080
    text = write(tmp_path / "app.txt", '{"a": 1}')
    code, out, _ = cli_run("space", "convert-config", text, "--from", "json", "--to", "yaml")
    assert code == 0 and yaml.safe_load(out) == {"a": 1}
    code, _, err = cli_run("space", "convert-config", source, "--to", "nope")
    assert code == 2 and "unknown format" in err


def test_demo_load_validate_convert(cli_run: CliRun, tmp_path: Path) -> None:
    """The issue's demo: load a space, validate a config, convert it between formats."""
    space = write(tmp_path / "space.yaml", SPACE_YAML)
    config = write(tmp_path / "app.yaml", "port: 20\ntls: true\nmode: slow\n")
    assert cli_run("space", "check", space, "--config", config)[0] == 0
    code, out, _ = cli_run("space", "convert-config", config, "--to", "properties")
    assert code == 0 and "port=20" in out
    converted = write(tmp_path / "app.properties", out)
    assert cli_run("space", "check", space, "--config", converted)[0] == 0


def test_check_strict_refuses_a_lossy_schema(cli_run: CliRun, tmp_path: Path) -> None:
    schema = tmp_path / "lossy.json"
    schema.write_text(json.dumps({"$schema": "http://json-schema.org/draft-07/schema#",
                                  "properties": {"s": {"type": "string", "maxLength": 3,
                                                       "contentEncoding": "base64"}}}))
    code, _, _ = cli_run("space", "check", str(schema))
    assert code == 0
    code, _, err = cli_run("space", "check", str(schema), "--strict")
    assert code == 2 and "strict import refused" in err and "contentEncoding" in err
    code, _, err = cli_run("space", "convert", str(schema), "--to", "yaml", "--strict")
    assert code == 2 and err.startswith("configlab: error:")


def test_pict_round_trip_keeps_sub_models_weights_and_negative_values(
    cli_run: CliRun, tmp_path: Path
) -> None:
    model = write(tmp_path / "m.pict",
                  "A: a1 (5), a2, ~bad\nB: b1, b2\nC: c1, c2\n\n{ A, B } @ 2\n")
    code, out, _ = cli_run("space", "convert", model, "--space-format", "pict", "--to", "pict")
    assert code == 0 and "a1 (5)" in out and "~bad" in out and "{ A, B } @ 2" in out
    assert space_from_pict(out).hints == space_from_pict(Path(model).read_text()).hints
