"""Reads a CloudFormation/SAM template, short-form intrinsic functions included.

PyYAML rejects `!Ref`, `!Sub` and friends as unknown tags. Here each becomes the long JSON form
CloudFormation itself uses (`{"Ref": ...}`, `{"Fn::Sub": ...}`), so callers see one shape only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "template.yaml"


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)

    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        # The short form takes "Resource.Attribute"; only the first dot separates them, since
        # attribute names such as Endpoint.Address contain dots themselves.
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _construct_intrinsic)


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain dicts and lists, intrinsics in their long form."""
    with open(path, encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
