"""A graph file's nodes: any runnable, with ``reads``/``writes`` mapping state to it.

``reads`` picks the runnable's input from the state: a key (its value), a list of keys
(a dict of them) or ``{input_key: state_key}``; absent, the whole state. ``writes``
turns its output into the update: a key (``{key: output}``), a list of keys (picked from
a dict output) or ``{state_key: output_key}``; an ``array`` key gets ``[value]`` (a list
as is, a chat prompt's messages) whichever form writes it. Absent, the output is the
update itself (a dict,
a ``Command`` or a list of ``Send``, as a LangGraph node returns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from runwire.graph.errors import InvalidUpdateError
from runwire.graph.files.state import ChannelSpec, with_defaults
from runwire.runtime.base import Runnable
from runwire.runtime.config import RunnableConfig

__all__ = ["MappedNode", "NodeFile", "Reads", "Writes"]

Reads = str | list[str] | dict[str, str] | None
Writes = str | list[str] | dict[str, str] | None


class NodeFile(BaseModel):
    """A node written as ``{run: <runnable>, reads: ..., writes: ...}``."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    run: Runnable[Any, Any]
    """What the node runs."""
    reads: Reads = None
    """Where its input comes from (see the module docstring)."""
    writes: Writes = None
    """Where its output goes (see the module docstring)."""


def state_keys(value: Reads | Writes, *, writes: bool = False) -> list[str]:
    """The state keys a ``reads`` or ``writes`` value names."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return list(value)
    return list(value.keys()) if writes else list(value.values())


class MappedNode(Runnable[Any, Any]):
    """Runs ``run`` on the input ``reads`` picks and returns the update ``writes`` makes."""

    def __init__(self, name: str, spec: NodeFile, channels: Mapping[str, ChannelSpec]) -> None:
        self.name = name
        self.spec = spec
        self.channels = channels

    def _input(self, state: Mapping[str, Any]) -> Any:
        reads, full = self.spec.reads, with_defaults(state, self.channels)
        if reads is None:
            return full
        if isinstance(reads, str):
            return full.get(reads)
        if isinstance(reads, list):
            return {key: full.get(key) for key in reads}
        return {name: full.get(key) for name, key in reads.items()}

    def _value(self, key: str, value: Any) -> Any:
        """``value`` as written to ``key``: an ``array`` key gets a list (``[value]``,
        a list as is, a chat prompt's messages)."""
        spec = self.channels.get(key)
        if spec is not None and spec.type == "array" and not isinstance(value, list):
            to_messages = getattr(value, "to_messages", None)  # a chat prompt's value
            return list(to_messages()) if callable(to_messages) else [value]
        return value

    def _update(self, output: Any) -> Any:
        writes = self.spec.writes
        if writes is None:
            return output
        if isinstance(writes, str):
            return {writes: self._value(writes, output)}
        if not isinstance(output, Mapping):
            raise InvalidUpdateError(
                f"node {self.name!r} writes {writes!r} from its output, which must be a dict, "
                f"got {type(output).__name__}"
            )
        if isinstance(writes, list):
            return {key: self._value(key, output[key]) for key in writes if key in output}
        return {
            key: self._value(key, output[name]) for key, name in writes.items() if name in output
        }

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Run the node on the state ``input``; the update it writes."""
        return self._update(self.spec.run.invoke(self._input(input), config))

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        """Async ``invoke``."""
        return self._update(await self.spec.run.ainvoke(self._input(input), config))
