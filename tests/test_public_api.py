"""The package root exposes one public namespace (lazily loaded)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import configlab


@pytest.mark.parametrize("name", configlab.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(configlab, name) is not None
    assert name in dir(configlab)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        configlab.nope  # noqa: B018


def test_every_error_derives_from_configlab_error() -> None:
    errors = [getattr(configlab, n) for n in configlab.__all__ if n.endswith("Error")]
    assert all(issubclass(e, configlab.ConfiglabError) for e in errors)


def test_generate_and_prioritize_are_callable_from_the_root() -> None:
    space = configlab.Space.from_dict(
        {"parameters": {"a": "bool", "b": ["x", "y", "z"]}, "constraints": ["a or b != 'z'"]}
    )
    configs = list(configlab.generate(space, strategy="covering", strength=2, seed=1))
    assert configs and all(space.is_valid(c) for c in configs)
    suite = configlab.prioritize(configs, space, strength=2)
    assert suite.coverage_curve[-1] == 1.0


def test_import_is_light() -> None:
    code = "import sys, configlab; print(int('numpy' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
