"""``Tool``: any runnable offered to a chat model as a tool, written as data.

```yaml
_type: Tool
name: lookup_order
description: Find an order by its number.
args_schema: {type: object, properties: {order_id: {type: string}}, required: [order_id]}
runnable: {_type: ..., }          # gets the arguments dict, returns the result
```

It behaves as LangChain's tools do: ``invoke(args)`` checks the arguments against
``args_schema`` and returns the result; ``invoke(tool_call)`` (a model's
``{"name", "args", "id", "type": "tool_call"}``) returns a ``ToolMessage`` whose content
is the result (text as is, anything else as JSON). Chat models' ``bind_tools`` take it
like any tool definition. LangChain writes its tools as ``not_implemented``; runwire
writes and loads these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator

from runwire.runtime.base import Runnable, child
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable
from runwire.schema.documents import Document
from runwire.schema.messages import ToolMessage

__all__ = ["Tool", "ToolArgumentsError", "ToolException", "tool_content"]

_EMPTY_ARGS: dict[str, Any] = {"type": "object", "properties": {}}


class ToolException(ValueError):
    """A tool reported a failure (or its arguments were wrong)."""


class ToolArgumentsError(ToolException):
    """The arguments a model sent do not match the tool's ``args_schema``."""

    def __init__(self, tool: str, args: Any, error: str) -> None:
        super().__init__(f"tool {tool!r}: {error}"[:500])
        self.tool, self.arguments, self.error = tool, args, error[:500]


def tool_content(output: Any) -> Any:
    """A tool result as message content: text and content blocks as they are, a prompt
    value as its text, documents as their texts (a blank line apart, as LangChain's
    retriever tool writes them), anything else as JSON (``str()`` when it is not JSON)."""
    if isinstance(output, str):
        return output
    if callable(getattr(output, "to_string", None)):  # a prompt value: a template tool
        return str(output.to_string())
    if isinstance(output, list) and output and all(isinstance(d, Document) for d in output):
        return "\n\n".join(d.page_content for d in output)  # a retriever's documents
    if isinstance(output, list) and all(isinstance(x, str | dict) for x in output):
        return output
    try:
        return json.dumps(output, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(output)


class Tool(RunnableSerializable[Any, Any]):
    """A runnable exposed to a model as a tool (see the module docstring)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")  # type: ignore[assignment]
    """What the model calls it (letters, digits, ``_`` and ``-``; at most 64)."""
    description: str = Field(max_length=4000)
    """What the tool does, for the model."""
    args_schema: dict[str, Any] = Field(default_factory=lambda: dict(_EMPTY_ARGS))
    """JSON Schema of the arguments (an object)."""
    runnable: Runnable[Any, Any]
    """What runs: it gets the arguments dict (a runnable taking a string, such as a
    retriever, gets the one argument's value)."""
    return_direct: bool = False
    """An agent stops after this tool and answers with its result."""
    response_format: Literal["content", "content_and_artifact"] = "content"
    """``content_and_artifact``: the runnable returns ``[content, artifact]``."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "tools"]

    @field_validator("args_schema")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        from runwire.runtime.parser_schema import check_schema_refs

        if schema.get("type", "object") != "object":
            raise ValueError("a tool's args_schema describes an object (its arguments)")
        check_schema_refs(schema)
        return schema

    # -- what a model sees -------------------------------------------------------------
    def as_openai_function(self) -> dict[str, Any]:
        """``{"name", "description", "parameters"}``, the OpenAI function form."""
        return {"name": self.name, "description": self.description, "parameters": self.args_schema}

    # -- calls -------------------------------------------------------------------------
    def _arguments(self, input: Any) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
        """The arguments, and the tool call they came in (if any)."""
        call = None
        if isinstance(input, Mapping) and input.get("type") == "tool_call":
            call, input = input, input.get("args") or {}
        if isinstance(input, str):
            props = list(self.args_schema.get("properties") or {})
            input = {props[0]: input} if len(props) == 1 else {"input": input}
        if not isinstance(input, Mapping):
            raise ToolException(
                f"tool {self.name!r} takes a dict of arguments, got {type(input).__name__}"
            )
        args = dict(input)
        self._check(args)
        return args, call

    def _check(self, args: dict[str, Any]) -> None:
        from runwire.runtime.parser_schema import counting_steps, schema_validator

        with counting_steps():
            error = next(iter(schema_validator(self.args_schema).iter_errors(args)), None)
        if error is not None:
            where = "/".join(map(str, error.absolute_path)) or "arguments"
            raise ToolArgumentsError(self.name, args, f"{where}: {error.message}")

    def _result(self, output: Any, call: Mapping[str, Any] | None) -> Any:
        if call is None:
            return output
        artifact = None
        if self.response_format == "content_and_artifact":
            if not (isinstance(output, list | tuple) and len(output) == 2):
                raise ToolException(
                    f"tool {self.name!r} has response_format content_and_artifact: its "
                    "runnable must return [content, artifact]"
                )
            output, artifact = output
        return ToolMessage(
            content=tool_content(output),
            tool_call_id=str(call.get("id") or ""),
            name=self.name,
            artifact=artifact,
        )

    def _runnable_input(self, args: dict[str, Any]) -> Any:
        """The arguments dict; its one value for a runnable taking a string (a retriever
        given ``{query: ...}``)."""
        if len(args) == 1 and self.runnable.InputType is str:
            return next(iter(args.values()))
        return args

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run on arguments (the result) or on a tool call (a ``ToolMessage``)."""

        def run(value: Any, cfg: RunnableConfig) -> Any:
            args, call = self._arguments(value)
            output = self.runnable.invoke(self._runnable_input(args), child(cfg))
            return self._result(output, call)

        return self._call_with_config(run, input, config, run_type="tool")

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""

        async def run(value: Any, cfg: RunnableConfig) -> Any:
            args, call = self._arguments(value)
            output = await self.runnable.ainvoke(self._runnable_input(args), child(cfg))
            return self._result(output, call)

        return await self._acall_with_config(run, input, config, run_type="tool")
