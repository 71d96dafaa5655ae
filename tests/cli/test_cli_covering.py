"""``configlab generate`` covering options: seeds, extension, groups, weights, negatives."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from configlab.cli import cli
from configlab.results import Result, ResultSet
from configlab.space import Space

PICT = """\
PLATFORM: x86, x64, arm
CPUS:     1, 2, 4
RAM:      1GB, 4GB, 64GB
OS:       Win2016, Win2019, Linux
Browser:  Edge, Chrome (10), ~Lynx

{ PLATFORM, CPUS, RAM } @ 3

IF [PLATFORM] = "arm" THEN [OS] = "Linux";
"""


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def _configs(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _valid_pairs_missing(space: Space, configs: list[dict[str, Any]],
                         triples: tuple[str, ...] = ()) -> int:
    """Independent count of valid pairs (and triples of ``triples``) no config holds."""
    params = space.parameters
    sizes = [len(p.value_classes) for p in params]
    valid = [r for r in itertools.product(*map(range, sizes))
             if space.is_valid(space.decode(r))]
    subsets = list(itertools.combinations(range(len(params)), 2))
    idx = [n for n, p in enumerate(params) if p.path in triples]
    subsets += list(itertools.combinations(idx, 3))
    rows = [space.encode(c) for c in configs]
    need = {(s, tuple(r[p] for p in s)) for r in valid for s in subsets}
    have = {(s, tuple(r[p] for p in s)) for r in rows for s in subsets}
    return len(need - have)


def test_pict_model_with_seeding_file_submodel_weights_and_negative(tmp_path: Path) -> None:
    model = tmp_path / "m.pict"
    model.write_text(PICT)
    seeds = tmp_path / "seeds.tsv"
    seeds.write_text("PLATFORM\tCPUS\tOS\nx64\t4\tWin2019\narm\t\t\n")
    out = tmp_path / "suite.jsonl"
    result = invoke("generate", "--space", str(model), "--seeds", str(seeds), "--jsonl", str(out))
    assert result.exit_code == 0, result.output
    configs = _configs(out)
    space = Space.load(model)
    assert configs[0]["PLATFORM"] == "x64" and configs[0]["CPUS"] == 4
    assert configs[0]["OS"] == "Win2019"
    assert configs[1]["PLATFORM"] == "arm" and configs[1]["OS"] == "Linux"
    lynx = [c for c in configs if c["Browser"] == "Lynx"]
    assert len(lynx) >= 3  # Lynx meets each valid value of the others once
    positive = [c for c in configs if c["Browser"] != "Lynx"]
    no_lynx = Space.from_dict({
        "parameters": {p.path: {"type": "choice", "values": [v for v in p.values if v != "Lynx"]}
                       for p in space.parameters},  # type: ignore[attr-defined]
        "constraints": [c.text for c in space.constraints],
    })
    assert _valid_pairs_missing(no_lynx, positive, ("PLATFORM", "CPUS", "RAM")) == 0
    assert "from seeds" in result.stderr and "already covered" in result.stderr


def test_seeding_file_maps_element_fields_and_members_through_their_containers(
    tmp_path: Path,
) -> None:
    space_file = tmp_path / "space.yaml"
    space_file.write_text(yaml.safe_dump({"parameters": {
        "name": ["a", "b"],
        "items": {"type": "records", "max_items": 3},
        "items[*].kind": {"type": "enum", "values": ["x", "y", "z"],
                          "active_if": "len(items) > 0"},
        "items[*].port": {"type": "int", "min": 1, "max": 9, "active_if": "len(items) > 0"},
        "select": {"type": "members", "members": ["B", "E", "I"]},
        "select[B]": {"type": "member", "container": "select", "member": "B"},
        "select[E]": {"type": "member", "container": "select", "member": "E"},
        "select[I]": {"type": "member", "container": "select", "member": "I"},
    }}))
    seeds = tmp_path / "seeds.tsv"
    # Row 1: the list length given; row 2: an element field and a member without their
    # containers (the shortest non-empty list is made for them).
    seeds.write_text("name\titems\titems[*].kind\titems[*].port\tselect[E]\n"
                     "b\ttypical\tz\t9\t\n"
                     "\t\ty\t\ttrue\n")
    out = tmp_path / "suite.jsonl"
    result = invoke("generate", "--space", str(space_file), "--seeds", str(seeds),
                    "--jsonl", str(out))
    assert result.exit_code == 0, result.output
    configs = _configs(out)
    assert configs[0]["name"] == "b"
    assert configs[0]["items"] == [{"kind": "z", "port": 9}, {"kind": "z", "port": 9}]
    assert len(configs[1]["items"]) == 1 and configs[1]["items"][0]["kind"] == "y"
    assert "E" in configs[1]["select"]
    space = Space.load(space_file)
    assert all(space.is_valid(c) for c in configs)
    # The library call the CLI makes: the element value lands in the element.
    assert space.build_partial({"items[*].port": 3}) == {"items": [{"port": 3}]}
    assert space.build_partial({"select[I]": True, "select": ["B"]}) == {"select": ["B", "I"]}


def test_extend_a_suite_after_the_space_changed(tmp_path: Path) -> None:
    old_space = tmp_path / "old.yaml"
    old_space.write_text(yaml.safe_dump({"parameters": {
        "db": ["sqlite", "postgres"], "cache": ["none", "redis", "memcached"], "tls": "bool"}}))
    old = tmp_path / "old"
    assert invoke("generate", "--space", str(old_space), "--out", str(old),
                  "--format", "json").exit_code == 0
    new_space = tmp_path / "new.yaml"
    new_space.write_text(yaml.safe_dump({
        "parameters": {"db": ["sqlite", "postgres", "mysql"], "cache": ["none", "redis"],
                       "tls": "bool"},
        "constraints": ["db == 'sqlite' -> tls == false"]}))
    added = tmp_path / "added.jsonl"
    result = invoke("generate", "--space", str(new_space), "--extend", str(old),
                    "--jsonl", str(added))
    assert result.exit_code == 0, result.output
    assert "no longer valid in this space" in result.stderr
    space = Space.load(new_space)
    from configlab import formats

    kept = [formats.load(p) for p in sorted(old.glob("config-*.json"))]
    kept = [c for c in kept if space.is_valid(c)]
    assert _valid_pairs_missing(space, kept + _configs(added)) == 0
    # the same from a results file of the old run
    results = tmp_path / "results.jsonl"
    ResultSet([Result(config=c, outcome="pass") for c in kept]).to_jsonl(results)
    again = tmp_path / "again.jsonl"
    result = invoke("generate", "--space", str(new_space), "--extend-results", str(results),
                    "--jsonl", str(again), "--effort", "2", "--time-budget", "30",
                    "--group", "{db, cache, tls}@3")
    assert result.exit_code == 0, result.output
    assert _valid_pairs_missing(space, kept + _configs(again), ("db", "cache", "tls")) == 0


def test_covering_option_errors(tmp_path: Path) -> None:
    space = tmp_path / "s.yaml"
    space.write_text(yaml.safe_dump({"parameters": {"a": ["x", "y"], "b": "bool"}}))
    weights = tmp_path / "w.yaml"
    weights.write_text(yaml.safe_dump({"a": {"y": 5}}))
    ok = invoke("generate", "--space", str(space), "--jsonl", "-", "--weights", str(weights),
                "--negative", "b=true", "--count", "3")
    assert ok.exit_code == 0, ok.output
    assert len(ok.stdout.splitlines()) == 3
    flat = tmp_path / "flat.yaml"  # {path: number}: was a TypeError traceback (issue 19)
    flat.write_text("a: 3\n")
    bad_seeds = tmp_path / "bad.tsv"
    for args, needle in [
        (["--weights", str(flat)], "weights of 'a': expected {value: weight}, got 3"),
        (["--strategy", "random", "--count", "2", "--effort", "2"], "only for --strategy"),
        (["--negative", "zzz"], "expected PATH=VALUE"),
        (["--negative", "a=q"], "'q' is not one of its values"),
        (["--time-budget", "0"], "--time-budget must be positive"),
        (["--seeds", str(bad_seeds)], "empty seeding file"),
    ]:
        bad_seeds.write_text("")
        result = CliRunner().invoke(cli, ["generate", "--space", str(space), "--jsonl", "-",
                                          *args])
        assert result.exit_code == 2, result.output
        assert needle in result.output
    for text, needle in [("nope\nx\n", "unknown parameter(s) nope"), ("a\nq\n", "bad.tsv:2")]:
        bad_seeds.write_text(text)
        result = CliRunner().invoke(cli, ["generate", "--space", str(space), "--jsonl", "-",
                                          "--seeds", str(bad_seeds)])
        assert result.exit_code == 2 and needle in result.output
    missing = CliRunner().invoke(cli, ["generate", "--space", str(space), "--jsonl", "-",
                                       "--seeds", str(tmp_path / "none.txt")])
    assert missing.exit_code == 2 and "no such seeding file" in missing.output
