"""Hypothesis properties of configlab.generation on random small spaces (brute-force oracles)."""

from __future__ import annotations

import itertools
import json
import warnings
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab.errors import UnsatisfiableSpaceError
from configlab.generation import generate
from configlab.space import Space

KINDS = ("bool", "int", "choice", "string", "float", "list")


@st.composite
def small_spaces(draw: st.DrawFn) -> Space:
    """2-5 parameters of mixed kinds, optional/nullable/conditional, 0-3 random constraints."""
    n = draw(st.integers(2, 5))
    params: dict[str, Any] = {}
    kinds: dict[str, str] = {}
    for i in range(n):
        kind = draw(st.sampled_from(KINDS))
        path = f"g{i % 2}.p{i}"
        spec: dict[str, Any]
        if kind == "bool":
            spec = {"type": "bool"}
        elif kind == "int":
            lo = draw(st.integers(-3, 3))
            spec = {"type": "int", "min": lo, "max": lo + draw(st.integers(0, 6))}
        elif kind == "choice":
            spec = {"type": "choice", "values": ["x", "y", "z"][: draw(st.integers(1, 3))]}
        elif kind == "string":
            spec = {"type": "string", "max_length": draw(st.integers(0, 4))}
        elif kind == "float":
            spec = {"type": "float", "min": 0.0, "max": draw(st.sampled_from([0.5, 2.0]))}
        else:
            spec = {"type": "list", "item": {"type": "choice", "values": ["a", "b"]},
                    "max_items": draw(st.integers(0, 2))}
        if draw(st.booleans()) and draw(st.booleans()):
            spec["optional"] = True
        if draw(st.booleans()) and draw(st.booleans()):
            spec["nullable"] = True
        bools = [p for p, k in kinds.items() if k == "bool"]
        if bools and draw(st.booleans()):
            spec["active_if"] = draw(st.sampled_from(bools))
        params[path] = spec
        kinds[path] = kind
    paths = list(params)
    constraints = []
    for _ in range(draw(st.integers(0, 3))):
        a, b = draw(st.lists(st.sampled_from(paths), min_size=2, max_size=2, unique=True))
        ka, kb = kinds[a], kinds[b]
        if ka == kb and ka in ("int", "float"):
            text = f"{a} <= {b}"
        elif ka == "bool":
            text = f"{a} -> {b} != null" if draw(st.booleans()) else f"not ({a} and {b} == null)"
        elif ka == "choice":
            text = f"{a} == 'x' -> {b} != null"
        elif ka == "int":
            text = f"{a} != 0 or {b} == null"
        elif ka in ("string", "list"):
            text = f"len({a}) <= 1 or {b} != null"
        else:
            text = f"{a} < 1.0 or {b} == null"
        constraints.append(text)
    return Space.from_dict({"parameters": params, "constraints": constraints})


def valid_rows(space: Space) -> list[tuple[int, ...]]:
    """Every valid value-class combination (oracle: Space.is_valid on the decoded config)."""
    sizes = [len(p.value_classes) for p in space.parameters]
    return [r for r in itertools.product(*map(range, sizes)) if space.is_valid(space.decode(r))]


def canon(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True)


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def run(space: Space, strategy: str, **kwargs: Any) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(generate(space, strategy, **kwargs))


@SETTINGS
@given(small_spaces(), st.integers(0, 2**32))
def test_every_strategy_is_valid_unique_and_deterministic(space: Space, seed: int) -> None:
    valid = valid_rows(space)
    if not valid:
        try:
            run(space, "random", count=1)
        except UnsatisfiableSpaceError:
            return
        raise AssertionError("an unsatisfiable space must be refused")
    base = space.decode(valid[0])
    base["unrelated"] = {"k": 1}
    runs = {
        "boundary": {"count": 40},
        "random": {"count": 40},
        "random-raw": {"count": 40, "raw": True},
        "covering": {"max_steps": 30},
        "exhaustive": {},
        "mutate": {"base": base, "count": 40},
    }
    for name, kwargs in runs.items():
        strategy = name.split("-")[0]
        configs = run(space, strategy, seed=seed, **kwargs)
        # a space with one valid config has no mutant of its base: the only empty stream
        assert configs or (name == "mutate" and len(valid) == 1), name
        keys = [canon(c) for c in configs]
        assert len(set(keys)) == len(keys), name
        for config in configs:
            assert space.is_valid(config), (name, config, space.validate(config))
        assert keys == [canon(c) for c in run(space, strategy, seed=seed, **kwargs)], name
        if name == "mutate":
            assert all(c["unrelated"] == {"k": 1} for c in configs)
    all_valid = {canon(space.decode(r)) for r in valid}
    assert {canon(c) for c in run(space, "exhaustive")} == all_valid
    # class-level random and boundary streams end with every valid combination, each once
    assert {canon(c) for c in run(space, "random", seed=seed)} == all_valid
    assert {canon(c) for c in run(space, "boundary", seed=seed)} == all_valid


@SETTINGS
@given(small_spaces(), st.integers(0, 1000), st.integers(1, 3))
def test_covering_suites_cover_every_valid_tuple(space: Space, seed: int, t: int) -> None:
    valid = valid_rows(space)
    if not valid:
        return
    k = len(space.parameters)
    t = min(t, k)
    needed = {
        tuple((p, row[p]) for p in subset)
        for row in valid
        for subset in itertools.combinations(range(k), t)
    }
    suite = [space.encode(c) for c in run(space, "covering", seed=seed, strength=t, max_steps=50)]
    got = {tuple((p, row[p]) for p in subset)
           for row in suite for subset in itertools.combinations(range(k), t)}
    assert needed <= got
