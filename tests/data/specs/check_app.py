"""A pytest check run by the PytestRunner tests: the config comes from CONFIGLAB_CONFIG."""

import os

import yaml


def test_app() -> None:
    with open(os.environ["CONFIGLAB_CONFIG"], encoding="utf-8") as handle:
        config = yaml.safe_load(handle)
    assert config["cache"]["size"] <= 32, "cache too large"
