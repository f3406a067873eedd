"""Tools for the Bedrock Converse API: tool specs, ``toolChoice``, who supports what, and
tool blocks in requests that carry no tools.

Converse takes tools as ``{"toolSpec": {"name", "description", "inputSchema": {"json"}}}``
and a choice as ``{"auto": {}}``, ``{"any": {}}`` or ``{"tool": {"name": ...}}``. Not
every model accepts every choice: :func:`infer_tool_choice_values` gives the values a
model id supports, the way langchain-aws infers ``supports_tool_choice_values``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from runwire.runtime.models.tools import convert_to_openai_function

__all__ = [
    "TOOL_CHOICE_RULES",
    "format_tool_choice",
    "format_tools",
    "has_tool_blocks",
    "infer_tool_choice_values",
    "tool_blocks_as_text",
    "tool_choice_kind",
]

_ALL = ("auto", "any", "tool")
_EMPTY = "."  # Converse refuses empty text

TOOL_CHOICE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("claude", _ALL),
    ("grok", _ALL),
    ("zai.glm-5.3", _ALL),
    ("zai.glm-", ("auto", "any")),
    ("openai.gpt-oss", ()),
    ("openai.gpt-", _ALL),
    ("llama4", ("auto",)),
    ("llama3-1", ("auto",)),
    ("llama3-3", ("auto",)),
    ("llama3-2-11b", ("auto",)),
    ("llama3-2-90b", ("auto",)),
    ("llama3", ()),
    ("mistral-large", ("auto", "any")),
    ("nova", _ALL),
    ("deepseek.r1", ()),
    ("deepseek", ("auto", "any")),
)
"""(substring of the base model id, tool_choice values it supports), first match wins;
a model matching no rule supports none (the model decides whether to call a tool)."""

_THINKING_ONLY_AUTO = ("claude",)
"""Model families that accept only ``auto`` while extended thinking is enabled."""


def _thinking_enabled(request_fields: Mapping[str, Any] | None) -> bool:
    thinking = (request_fields or {}).get("thinking")
    return isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive")


def infer_tool_choice_values(
    base_model: str, request_fields: Mapping[str, Any] | None = None
) -> tuple[str, ...]:
    """The ``tool_choice`` kinds ``base_model`` supports (see :data:`TOOL_CHOICE_RULES`).

    Claude models with extended thinking enabled in ``request_fields`` accept ``auto``
    only: Anthropic refuses forced tool use while thinking.
    """
    name = base_model.lower()
    if _thinking_enabled(request_fields) and any(n in name for n in _THINKING_ONLY_AUTO):
        return ("auto",)
    for needle, values in TOOL_CHOICE_RULES:
        if needle in name:
            return values
    return ()


def format_tool_choice(choice: str | Mapping[str, Any]) -> dict[str, Any]:
    """A ``tool_choice`` as Converse's ``toolChoice``.

    ``"auto"``/``"any"`` (and OpenAI's ``"required"``, which means ``any``), a tool name,
    a Converse dict (``{"tool": {"name": ...}}``) or an OpenAI one
    (``{"type": "function", "function": {"name": ...}}``).
    """
    if isinstance(choice, Mapping):
        if choice.get("type") == "function" and isinstance(choice.get("function"), Mapping):
            return {"tool": {"name": choice["function"]["name"]}}
        if len(choice) == 1 and next(iter(choice)) in _ALL:
            return {key: dict(value) for key, value in choice.items()}
        if "name" in choice and set(choice) <= {"name", "type"}:
            return {"tool": {"name": choice["name"]}}
        raise ValueError(
            f"tool_choice {dict(choice)!r} is not a Converse toolChoice: expected "
            "{'auto': {}}, {'any': {}} or {'tool': {'name': ...}}"
        )
    if choice in ("auto", "any"):
        return {choice: {}}
    if choice == "required":
        return {"any": {}}
    return {"tool": {"name": choice}}


def tool_choice_kind(choice: Mapping[str, Any]) -> str:
    """``"auto"``, ``"any"`` or ``"tool"``: the kind of a formatted ``toolChoice``."""
    return next(iter(choice))


def _strip_null_unions(schema: Any) -> Any:
    """Drop ``null`` branches of ``anyOf`` and type lists (Bedrock caps union parameters)."""
    if isinstance(schema, list):
        return [_strip_null_unions(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "anyOf" and isinstance(value, list):
            kept = [
                _strip_null_unions(v)
                for v in value
                if not (isinstance(v, dict) and v.get("type") == "null")
            ]
            if len(kept) == 1 and isinstance(kept[0], dict):
                out.update(kept[0])
            else:
                out[key] = kept or value
        elif key == "type" and isinstance(value, list):
            kept = [t for t in value if t != "null"]
            out[key] = kept[0] if len(kept) == 1 else (kept or value)
        else:
            out[key] = _strip_null_unions(value)
    return out


def _format_tool(tool: Any) -> dict[str, Any]:
    if isinstance(tool, Mapping) and ("cachePoint" in tool or "systemTool" in tool):
        return dict(tool)
    if isinstance(tool, Mapping) and "toolSpec" in tool:
        spec = dict(tool["toolSpec"])
    else:
        function = convert_to_openai_function(tool)
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        spec = {
            "name": function["name"],
            "description": function.get("description") or "",
            "inputSchema": {"json": _strip_null_unions(parameters)},
        }
    spec["description"] = spec.get("description") or spec["name"]
    return {"toolSpec": spec}


def format_tools(tools: Sequence[Any]) -> list[dict[str, Any]]:
    """Tools (pydantic classes, TypedDicts, functions, JSON Schemas, OpenAI or Converse
    dicts, cache points) as Converse ``toolConfig.tools`` entries."""
    return [_format_tool(tool) for tool in tools]


def has_tool_blocks(turns: Sequence[Mapping[str, Any]]) -> bool:
    """Whether any turn holds a ``toolUse`` or ``toolResult`` block."""
    return any("toolUse" in b or "toolResult" in b for t in turns for b in t.get("content", ()))


def tool_blocks_as_text(turns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turns with tool blocks written as text (Converse refuses them without a toolConfig)."""
    out = []
    for turn in turns:
        blocks: list[dict[str, Any]] = []
        for block in turn.get("content", ()):
            if "toolUse" in block:
                use = block["toolUse"]
                args = json.dumps(use.get("input") or {}, ensure_ascii=False)
                blocks.append({"text": f"[Called {use.get('name')} with parameters: {args}]"})
            elif "toolResult" in block:
                parts = [
                    c["text"] if "text" in c else json.dumps(c["json"], ensure_ascii=False)
                    for c in block["toolResult"].get("content", ())
                    if "text" in c or "json" in c
                ]
                blocks.append({"text": f"[Tool output: {''.join(parts) or _EMPTY}]"})
            else:
                blocks.append(block)
        out.append({"role": turn["role"], "content": blocks})
    return out
