"""Published JSON Schemas used as real test data (tests and benchmarks/bench_schemas.py).

* Kubernetes resource schemas shipped by the PyPI package ``kubernetes-validate`` (the strict
  variant of one Kubernetes release), bundled into one self-contained document: the shared
  ``_definitions.json`` entries a resource reaches are copied under ``$defs`` and the
  cross-file ``$ref`` s rewritten to local ones.
* CloudFormation resource schemas shipped by ``cfn-lint`` (found by ``typeName``).
* The SchemaStore schemas in ``tests/data/schemas``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from tests.paths import DATA_DIR

DATA = DATA_DIR / "schemas"
#: Kubernetes release whose schemas are used (a directory of kubernetes-validate).
KUBERNETES_RELEASE = "v1.34.0-local-strict"

KUBERNETES = ("deployment-apps-v1", "service-v1", "ingress-networking-v1", "cronjob-batch-v1",
              "configmap-v1", "secret-v1", "persistentvolumeclaim-v1",
              "horizontalpodautoscaler-autoscaling-v2", "networkpolicy-networking-v1",
              "serviceaccount-v1", "role-rbac-v1", "poddisruptionbudget-policy-v1")
CLOUDFORMATION = ("AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::Logs::LogGroup",
                  "AWS::IAM::Role", "AWS::Lambda::Function", "AWS::EC2::Instance",
                  "AWS::S3::Bucket", "AWS::DynamoDB::Table")
SCHEMASTORE = ("prettierrc.json", "bowerrc.json", "lerna.json")
#: Template-section schemas of cfn-lint (``data/schemas/other``) whose root has no
#: ``properties``: a map of generated names (``patternProperties``) to an entry schema.
CLOUDFORMATION_SECTIONS = ("outputs", "mappings", "parameters", "rules")


def _kubernetes_dir() -> Path:
    import kubernetes_validate

    return Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / KUBERNETES_RELEASE


def _rewrite(node: Any, found: set[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and "#/$defs/" in value:
                name = value.split("#/$defs/", 1)[1]
                found.add(name)
                out[key] = f"#/$defs/{name}"
            else:
                out[key] = _rewrite(value, found)
        return out
    if isinstance(node, list):
        return [_rewrite(item, found) for item in node]
    return node


@cache
def kubernetes_schema(name: str) -> dict[str, Any]:
    """One Kubernetes resource schema (e.g. ``deployment-apps-v1``), bundled self-contained."""
    directory = _kubernetes_dir()
    definitions = json.loads((directory / "_definitions.json").read_text())["$defs"]
    wanted: set[str] = set()
    schema = _rewrite(json.loads((directory / f"{name}.json").read_text()), wanted)
    bundled: dict[str, Any] = {}
    while wanted - set(bundled):
        for def_name in sorted(wanted - set(bundled)):
            bundled[def_name] = _rewrite(definitions[def_name], wanted)
    schema["$defs"] = dict(sorted(bundled.items()))
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    schema.setdefault("title", name)
    return schema  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def _cloudformation_index() -> dict[str, Path]:
    import cfnlint

    index: dict[str, Path] = {}
    folder = Path(cfnlint.__file__).parent / "data" / "schemas" / "resources"
    for path in sorted(folder.glob("*.json")):
        data = json.loads(path.read_text())
        name = data.get("typeName") if isinstance(data, dict) else None
        if isinstance(name, str):
            index.setdefault(name, path)
    return index


@cache
def cloudformation_schema(type_name: str) -> dict[str, Any]:
    """The cfn-lint resource schema of a CloudFormation type (e.g. ``AWS::SQS::Queue``)."""
    data = json.loads(_cloudformation_index()[type_name].read_text())
    data.setdefault("$schema", "http://json-schema.org/draft-07/schema#")
    data.setdefault("title", type_name)
    return data  # type: ignore[no-any-return]


@cache
def cloudformation_section_schema(section: str) -> dict[str, Any]:
    """The cfn-lint schema of one CloudFormation template section (e.g. ``outputs``)."""
    import cfnlint

    path = Path(cfnlint.__file__).parent / "data" / "schemas" / "other" / section
    data = json.loads((path / "configuration.json").read_text())
    data.setdefault("$schema", "http://json-schema.org/draft-07/schema#")
    data.setdefault("title", f"CloudFormation {section}")
    return data  # type: ignore[no-any-return]


def schemastore_schema(name: str) -> dict[str, Any]:
    """A SchemaStore schema kept in tests/data/schemas."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def corpus() -> list[tuple[str, Callable[[], dict[str, Any]]]]:
    """``(label, loader)`` for every schema of the corpus, in a stable order."""
    items: list[tuple[str, Callable[[], dict[str, Any]]]] = []
    for name in KUBERNETES:
        items.append((f"k8s:{name}", lambda n=name: kubernetes_schema(n)))  # type: ignore[misc]
    for type_name in CLOUDFORMATION:
        items.append((f"cfn:{type_name}",
                      lambda n=type_name: cloudformation_schema(n)))  # type: ignore[misc]
    for section in CLOUDFORMATION_SECTIONS:
        items.append((f"cfn-section:{section}",
                      lambda n=section: cloudformation_section_schema(n)))  # type: ignore[misc]
    for name in SCHEMASTORE:
        items.append((f"schemastore:{name}", lambda n=name: schemastore_schema(n)))  # type: ignore[misc]
    return items
