"""Tools for chat models: tool definitions to OpenAI-style specs, tool calls back to data.

``convert_to_openai_function`` accepts what LangChain's does (a pydantic class, a
TypedDict, a JSON Schema with a ``title``, an OpenAI/Anthropic/Bedrock tool dict, or a
function with a Google-style docstring) and returns ``{"name", "description",
"parameters"}``. ``ToolCallOutputParser`` reads a model's tool call back as a dict or
a pydantic instance: it is the parsing half of ``with_structured_output``.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, Field, create_model
from typing_extensions import get_type_hints, is_typeddict

from runwire.runtime.base import Runnable, add_chunks
from runwire.runtime.config import RunnableConfig
from runwire.runtime.parsers import OutputParserException
from runwire.schema.messages import AIMessage, BaseMessage

__all__ = [
    "ToolCallOutputParser",
    "convert_to_openai_function",
    "convert_to_openai_tool",
    "parse_google_docstring",
]

_SECTIONS = ("Args:", "Arguments:", "Returns:", "Raises:", "Yields:", "Example:", "Examples:")
_SKIPPED_PARAMS = frozenset(("run_manager", "callbacks", "config"))
_BUILTIN_TOOLS = frozenset(
    (
        "file_search",
        "computer",
        "computer_use_preview",
        "code_interpreter",
        "mcp",
        "image_generation",
        "web_search",
        "web_search_preview",
        "tool_search",
        "apply_patch",
        "namespace",
    )
)
"""OpenAI built-in tool types, passed through ``convert_to_openai_tool`` unchanged."""


def parse_google_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """A Google-style docstring's summary (paragraphs joined) and its ``Args:`` entries."""
    if not doc:
        return "", {}
    summary: list[str] = []
    args: dict[str, str] = {}
    in_summary = True
    for block in doc.split("\n\n"):
        stripped = block.strip()
        if stripped.startswith(("Args:", "Arguments:")):
            in_summary = False
            name: str | None = None
            indent: int | None = None
            for line in stripped.split("\n")[1:]:
                if not line.strip():
                    continue
                depth = len(line) - len(line.lstrip())
                if indent is None and ":" in line:
                    indent = depth
                if name is not None and indent is not None and depth > indent:
                    args[name] += " " + line.strip()
                elif ":" in line:
                    head, desc = line.split(":", 1)
                    name = head.strip().split(" ", 1)[0]
                    args[name] = desc.strip()
                elif name is not None:
                    args[name] += " " + line.strip()
        elif stripped.startswith(_SECTIONS):
            in_summary = False
        elif in_summary:
            summary.append(stripped)
    return " ".join(summary).strip(), args


def _inline_refs(node: Any, defs: dict[str, Any], seen: frozenset[str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(("#/$defs/", "#/definitions/")):
            name = ref.rsplit("/", 1)[1]
            if name in defs and name not in seen:
                target = _inline_refs(defs[name], defs, seen | {name})
                rest = {k: _inline_refs(v, defs, seen) for k, v in node.items() if k != "$ref"}
                return {**target, **rest}
            return node
        return {k: _inline_refs(v, defs, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline_refs(item, defs, seen) for item in node]
    return node


def _drop_titles(node: dict[str, Any], parent: str = "") -> dict[str, Any]:
    """Remove schema ``title``s, keeping properties that happen to be named "title".

    Like LangChain, lists (``anyOf`` ...) are not descended into.
    """
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and not (isinstance(value, dict) and parent == "properties"):
            continue
        out[key] = _drop_titles(value, key) if isinstance(value, dict) else value
    return out


def _from_json_schema(
    schema: dict[str, Any], name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    schema = _inline_refs(schema, defs, frozenset()) if defs else dict(schema)
    schema.pop("$defs", None)
    schema.pop("definitions", None)
    title = schema.pop("title", "")
    default_description = schema.pop("description", "")
    return {
        "name": name or title,
        "description": description or default_description,
        "parameters": _drop_titles(schema),
    }


def _from_typed_dict(typed_dict: type) -> dict[str, Any]:
    description, arg_docs = parse_google_docstring(inspect.getdoc(typed_dict))
    required = getattr(typed_dict, "__required_keys__", frozenset())
    fields: dict[str, Any] = {}
    for key, hint in get_type_hints(typed_dict, include_extras=True).items():
        default: Any = ... if key in required else None
        doc = arg_docs.get(key)
        if get_origin(hint) is Annotated:
            hint, *meta = get_args(hint)
            if meta:
                default = meta[0]
            if len(meta) > 1 and doc is None:
                if not isinstance(meta[1], str):
                    raise ValueError(f"Annotated description of {key!r} must be a string")
                doc = meta[1]
        fields[key] = (hint, Field(default, description=doc))
    model = create_model(typed_dict.__name__, **fields)
    return _from_json_schema(model.model_json_schema(), description=description)


def _from_function(func: Callable[..., Any]) -> dict[str, Any]:
    description, arg_docs = parse_google_docstring(inspect.getdoc(func))
    try:
        hints = get_type_hints(func, include_extras=True)
    except Exception:
        hints = {}
    params = list(inspect.signature(func).parameters.values())
    if params and params[0].name in ("self", "cls") and "." in func.__qualname__:
        params = params[1:]
    fields: dict[str, Any] = {}
    for param in params:
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name in _SKIPPED_PARAMS:
            continue
        default = ... if param.default is param.empty else param.default
        hint = hints.get(param.name, Any)
        fields[param.name] = (hint, Field(default, description=arg_docs.get(param.name)))
    model = create_model(func.__name__, **fields)
    return _from_json_schema(model.model_json_schema(), func.__name__, description)


def convert_to_openai_function(tool: Any) -> dict[str, Any]:
    """A tool definition as ``{"name", "description", "parameters"}`` (OpenAI function form)."""
    as_function = getattr(tool, "as_openai_function", None)
    if callable(as_function):  # a runwire Tool
        return dict(as_function())
    if isinstance(tool, dict):
        if "name" in tool and "input_schema" in tool:  # Anthropic
            out = {"name": tool["name"], "parameters": tool["input_schema"]}
            if "description" in tool:
                out["description"] = tool["description"]
            return out
        if "toolSpec" in tool:  # Bedrock Converse
            spec = tool["toolSpec"]
            out = {"name": spec["name"], "parameters": spec["inputSchema"]["json"]}
            if "description" in spec:
                out["description"] = spec["description"]
            return out
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict):
            return convert_to_openai_function(tool["function"])
        if "name" in tool:  # already an OpenAI function
            keys = ("name", "description", "parameters", "strict")
            return {k: v for k, v in tool.items() if k in keys}
        if "title" in tool:  # a JSON Schema
            rest = dict(tool)
            out = {"name": rest.pop("title")}
            if "description" in rest:
                out["description"] = rest.pop("description")
            if rest and "properties" in rest:
                out["parameters"] = rest
            return out
        raise ValueError(
            "a JSON Schema used as a tool needs a top-level 'title' (the tool name); "
            f"got keys {sorted(tool)}"
        )
    if isinstance(tool, type) and issubclass(tool, BaseModel):
        return _from_json_schema(tool.model_json_schema())
    if is_typeddict(tool):
        return _from_typed_dict(tool)
    if callable(tool):
        return _from_function(tool)
    raise TypeError(
        f"cannot use {type(tool).__name__} as a tool: pass a pydantic class, a TypedDict, "
        "a JSON Schema dict with a 'title', an OpenAI tool dict or a function"
    )


def convert_to_openai_tool(tool: Any) -> dict[str, Any]:
    """``{"type": "function", "function": convert_to_openai_function(tool)}``."""
    if isinstance(tool, dict):
        kind = tool.get("type")
        if isinstance(kind, str) and (kind in _BUILTIN_TOOLS or kind.startswith("web_search")):
            return tool  # a provider's built-in tool: passed as is
    return {"type": "function", "function": convert_to_openai_function(tool)}


def _tool_name(schema: Any) -> str:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return str(schema.model_config.get("title") or schema.__name__)
    return str(convert_to_openai_function(schema)["name"])


def _tool_calls(message: BaseMessage) -> list[dict[str, Any]]:
    if isinstance(message, AIMessage) and message.tool_calls:
        return [dict(call) for call in message.tool_calls]
    calls = []
    for raw in message.additional_kwargs.get("tool_calls") or ():  # OpenAI-style, legacy
        function = raw.get("function") or {}
        text = function.get("arguments") or ""
        try:
            args = json.loads(text, strict=False) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise OutputParserException(
                f"arguments of tool {function.get('name')!r} are not valid JSON: {text}"
            ) from exc
        calls.append({"name": function.get("name") or "", "args": args, "id": raw.get("id")})
    return calls


class ToolCallOutputParser(Runnable[Any, Any]):
    """Reads the structured answer out of a model message's tool call.

    With a pydantic class, the first tool call is validated into an instance; otherwise
    the ``args`` of the first call to the tool named like the schema are returned (a
    dict), or ``None`` when there is none. With ``include_raw`` the output is ``{"raw":
    message, "parsed": ..., "parsing_error": exception or None}`` and errors are caught.
    """

    run_type = "parser"
    sync_is_cheap = True

    def __init__(self, schema: Any, *, include_raw: bool = False, name: str | None = None):
        self.schema = schema
        self.model = schema if isinstance(schema, type) and issubclass(schema, BaseModel) else None
        self.key_name = _tool_name(schema)
        self.include_raw = include_raw
        self.name = name

    def __repr__(self) -> str:
        return f"ToolCallOutputParser({self.key_name!r}, include_raw={self.include_raw})"

    @property
    def OutputType(self) -> Any:
        if self.include_raw:
            return dict[str, Any]
        return self.model or dict[str, Any]

    def parse_message(self, message: BaseMessage, *, partial: bool = False) -> Any:
        """The structured value in ``message`` (``None`` if it has no matching tool call)."""
        calls = _tool_calls(message)
        if self.model is None:
            call = next((c for c in calls if c["name"] == self.key_name), None)
            return None if call is None else call["args"]
        if not calls:
            return None
        call = calls[0]
        if call["name"] != self.key_name:
            raise OutputParserException(
                f"Unknown tool type: {call['name']!r}. Available tools: {self.key_name}"
            )
        if not isinstance(call["args"], dict):
            if partial:
                return None
            raise ValueError(f"tool arguments must be a dict, got {call['args']!r}")
        if partial:
            try:
                return self.model(**call["args"])
            except ValueError:  # pydantic's ValidationError is a ValueError
                return None
        return self.model(**call["args"])

    def _parse(self, message: Any, config: RunnableConfig) -> Any:
        if not isinstance(message, BaseMessage):
            raise TypeError(f"expected a model message, got {type(message).__name__}")
        if not self.include_raw:
            return self.parse_message(message)
        try:
            return {"raw": message, "parsed": self.parse_message(message), "parsing_error": None}
        except Exception as exc:
            return {"raw": message, "parsed": None, "parsing_error": exc}

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        return self._call_with_config(self._parse, input, config)

    def _partials(self, total: Any, last: Any) -> tuple[Any, bool]:
        parsed = self.parse_message(total, partial=True)
        return parsed, parsed is not None and parsed != last

    def _transform(self, chunks: Iterator[Any], config: RunnableConfig) -> Iterator[Any]:
        total: Any = None
        last: Any = None
        for chunk in chunks:
            total = chunk if total is None else add_chunks(total, chunk)
            parsed, changed = self._partials(total, last)
            if changed:
                last = parsed
                yield parsed

    async def _atransform(
        self, chunks: AsyncIterator[Any], config: RunnableConfig
    ) -> AsyncIterator[Any]:
        total: Any = None
        last: Any = None
        async for chunk in chunks:
            total = chunk if total is None else add_chunks(total, chunk)
            parsed, changed = self._partials(total, last)
            if changed:
                last = parsed
                yield parsed

    def transform(
        self, input: Iterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> Iterator[Any]:
        if self.include_raw:  # one complete output: raw message, parsed value, error
            yield from super().transform(input, config, **kwargs)
            return
        yield from self._transform_with_config(input, self._transform, config)

    async def atransform(
        self, input: AsyncIterator[Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> AsyncIterator[Any]:
        if self.include_raw:
            async for out in super().atransform(input, config, **kwargs):
                yield out
            return
        async for out in self._atransform_with_config(input, self._atransform, config):
            yield out
