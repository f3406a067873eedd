"""The OpenAPI document: each pipeline's real input, output and config schemas.

The routes read their bodies themselves (no FastAPI body model), so their request and
response schemas are added here: each pipeline's JSON Schemas go under
``components/schemas`` with their ``$defs`` hoisted and ``$ref``s rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["add_pipeline_schemas"]

_RUN_ROUTES = ("invoke", "batch", "stream", "stream_events")


def _hoist(schema: dict[str, Any], prefix: str, components: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its ``$defs`` moved into ``components`` under ``prefix``."""
    defs = schema.get("$defs", {})

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "$defs":
                    continue
                if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/"):
                    value = f"#/components/schemas/{prefix}{value.removeprefix('#/$defs/')}"
                out[key] = rewrite(value)
            return out
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    for name, definition in defs.items():
        components[f"{prefix}{name}"] = rewrite(definition)
    return rewrite(schema)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def add_pipeline_schemas(document: dict[str, Any], pipelines: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` (FastAPI's OpenAPI dict) with every pipeline route's bodies described.

    ``pipelines`` maps a name to its :class:`~runwire.deploy.server.endpoints.PipelineEndpoints`.
    """
    components = document.setdefault("components", {}).setdefault("schemas", {})
    paths = document.setdefault("paths", {})
    for name, endpoints in pipelines.items():
        prefix = f"{name}_"
        for kind, schema in (
            ("Input", endpoints.input_jsonschema),
            ("Output", endpoints.output_jsonschema),
            ("Config", endpoints.config_jsonschema),
        ):
            components[f"{prefix}{kind}"] = _hoist(schema, prefix, components)
        config = _ref(f"{prefix}Config")
        single = {
            "type": "object",
            "required": ["input"],
            "properties": {
                "input": _ref(f"{prefix}Input"),
                "config": config,
                "kwargs": {"type": "object"},
            },
        }
        bodies = {
            "invoke": single,
            "stream": single,
            "stream_events": {
                **single,
                "properties": {
                    **single["properties"],
                    **{
                        f"{way}_{what}": {"type": ["array", "null"], "items": {"type": "string"}}
                        for way in ("include", "exclude")
                        for what in ("names", "types", "tags")
                    },
                },
            },
            "batch": {
                "type": "object",
                "required": ["inputs"],
                "properties": {
                    "inputs": {"type": "array", "items": _ref(f"{prefix}Input")},
                    "config": {"anyOf": [config, {"type": "array", "items": config}]},
                    "kwargs": {"type": "object"},
                },
            },
        }
        run_id = {"type": "string", "format": "uuid"}
        answers = {
            "invoke": _json_content(
                {
                    "type": "object",
                    "properties": {
                        "output": _ref(f"{prefix}Output"),
                        "metadata": {"type": "object", "properties": {"run_id": run_id}},
                    },
                }
            ),
            "batch": _json_content(
                {
                    "type": "object",
                    "properties": {
                        "output": {"type": "array", "items": _ref(f"{prefix}Output")},
                        "metadata": {
                            "type": "object",
                            "properties": {"run_ids": {"type": "array", "items": run_id}},
                        },
                    },
                }
            ),
            "stream": {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
            "stream_events": {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
        }
        for route in _RUN_ROUTES:
            operation = paths.get(f"/{name}/{route}", {}).get("post")
            if operation is None:
                continue
            operation["requestBody"] = {"required": True, **_json_content(bodies[route])}
            operation["responses"] = {
                "200": {"description": "Successful Response", **answers[route]},
                "422": {"description": "The input or config does not match the schema"},
                "502": {"description": "A provider failed; the body has its error code"},
                "504": {"description": "The pipeline did not finish in time"},
            }
        for kind in ("input", "output", "config"):
            operation = paths.get(f"/{name}/{kind}_schema", {}).get("get")
            if operation is not None:
                operation["responses"] = {
                    "200": {"description": f"The JSON Schema of the {kind}", **_json_content({})}
                }
    return document
