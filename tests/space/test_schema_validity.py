"""The product promise on real published schemas: every generated config validates.

Kubernetes (kubernetes-validate), CloudFormation (cfn-lint) and SchemaStore schemas are imported,
then boundary, random, raw random and pairwise configs are generated and each one is checked
by ``jsonschema`` itself (with format checking) against the source schema.
"""

from __future__ import annotations

import warnings
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from configlab.generation import generate
from configlab.space import ABSENT, JsonParam, Space
from tests.space.schema_corpus import cloudformation_schema, corpus, kubernetes_schema

#: A few schemas of each family, kept small so the suite stays fast.
FAST = ("k8s:deployment-apps-v1", "k8s:service-v1", "k8s:ingress-networking-v1",
        "k8s:configmap-v1", "cfn:AWS::SQS::Queue", "cfn:AWS::Lambda::Function",
        "cfn:AWS::DynamoDB::Table", "schemastore:bowerrc.json", "cfn-section:outputs",
        "cfn-section:mappings")
LOADERS = dict(corpus())


def validator(schema: dict[str, Any]) -> Any:
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def configs(space: Space, strategy: str, seed: int, **options: Any) -> list[dict[str, Any]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(generate(space, strategy, seed=seed, **options))


def first_error(check: Any, config: dict[str, Any]) -> str:
    error = next(iter(check.iter_errors(config)))
    return f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"


@pytest.mark.parametrize("label", FAST)
def test_every_generated_config_validates(label: str) -> None:
    schema = LOADERS[label]()
    space = Space.from_json_schema(schema, source=label)
    check = validator(schema)
    for strategy, options in (("boundary", {"count": 60}), ("random", {"count": 60}),
                              ("random", {"count": 30, "raw": True}),
                              ("covering", {"max_steps": 40})):
        produced = configs(space, strategy, 7, **options)
        assert produced
        for config in produced:
            assert check.is_valid(config), (label, strategy, first_error(check, config))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(("k8s:cronjob-batch-v1", "k8s:persistentvolumeclaim-v1",
                        "cfn:AWS::S3::Bucket", "cfn:AWS::EC2::Instance",
                        "cfn-section:rules", "cfn-section:outputs")),
       st.integers(0, 2**32 - 1))
def test_random_seeds_stay_valid(label: str, seed: int) -> None:
    schema = LOADERS[label]()
    space = _cached_space(label)
    check = validator(schema)
    for config in configs(space, "random", seed, count=25):
        assert check.is_valid(config), (label, seed, first_error(check, config))


_SPACES: dict[str, Space] = {}


def _cached_space(label: str) -> Space:
    if label not in _SPACES:
        _SPACES[label] = Space.from_json_schema(LOADERS[label](), source=label)
    return _SPACES[label]


def test_deployment_structure_is_modelled_not_dropped() -> None:
    space = Space.from_json_schema(kubernetes_schema("deployment-apps-v1"))
    # The pod template's containers (an array of objects) and the label maps are parameters
    # whose value classes are whole valid values, not silently skipped keys.
    structured = [p for p in space.parameters if isinstance(p, JsonParam)]
    assert structured
    assert not [w for w in space.warnings if "skipped" in w], space.warnings
    for param in structured:
        for cls in param.value_classes:
            if cls.value is not ABSENT and cls.value is not None:
                assert param.check_value(cls.value) is None


def test_required_structured_properties_are_never_dropped() -> None:
    schema = cloudformation_schema("AWS::Lambda::Function")
    space = Space.from_json_schema(schema)
    for name in schema["required"]:
        assert name in space or any(p.startswith(f"{name}.") for p in space.paths), name
