"""A graph file's ``routes:``: conditional edges as JMESPath over the state, no code.

```yaml
routes:
  agent:
    - when: "messages[-1].tool_calls"   # the first route whose expression is truthy
      to: tools
    - send: {to: grade, each: "documents"}  # one Send per item of the list
    - to: END                            # no ``when``: always
```

The state is read as JSON data (messages and documents as their fields), with declared
defaults for unset keys; JMESPath's truthiness applies (empty lists, objects and
strings, ``false`` and ``null`` are false). When no route matches, the run ends there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runwire.graph.constants import END, START
from runwire.graph.files.state import ChannelSpec, with_defaults
from runwire.graph.types import Send

__all__ = ["MAX_EXPRESSION", "Route", "Router", "SendSpec", "node_name", "state_data"]

MAX_EXPRESSION = 1000
"""Longest JMESPath expression a file may hold, in characters."""

_NAMES = {"START": START, "END": END}


def node_name(name: str) -> str:
    """``START``/``END`` as written in files, as the graph's own names."""
    return _NAMES.get(name, name)


def _compiled(expression: str) -> Any:
    try:
        return jmespath.compile(expression)
    except JMESPathError as exc:
        raise ValueError(f"invalid JMESPath expression {expression!r}: {exc}") from None


class SendSpec(BaseModel):
    """``send: {to: node, each: expr}``: run ``to`` once per item of the list ``each``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: str
    each: str = Field(max_length=MAX_EXPRESSION)

    @field_validator("each")
    @classmethod
    def _parses(cls, value: str) -> str:
        _compiled(value)
        return value


class Route(BaseModel):
    """One route: where to go (``to``) or what to send (``send``), maybe ``when``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    when: str | None = Field(default=None, max_length=MAX_EXPRESSION)
    to: str | list[str] | None = None
    send: SendSpec | None = None

    @field_validator("when")
    @classmethod
    def _parses(cls, value: str | None) -> str | None:
        if value is not None:
            _compiled(value)
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Route:
        if (self.to is None) == (self.send is None):
            raise ValueError("a route has exactly one of `to` and `send`")
        return self

    @property
    def targets(self) -> list[str]:
        """The nodes this route can lead to."""
        if self.send is not None:
            return [node_name(self.send.to)]
        names = [self.to] if isinstance(self.to, str) else list(self.to or ())
        return [node_name(n) for n in names]


def state_data(value: Any) -> Any:
    """``value`` as JSON data for JMESPath: models become their fields' data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): state_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [state_data(v) for v in value]
    return value


class Router:
    """The router function of one node's routes, for ``add_conditional_edges``."""

    def __init__(
        self, source: str, routes: Sequence[Route], channels: Mapping[str, ChannelSpec]
    ) -> None:
        self.source = source
        self.routes = tuple(routes)
        self.channels = channels
        self.__name__ = f"routes_of_{source}"

    @cached_property
    def _compiled(self) -> list[tuple[Any, Route]]:
        return [(_compiled(r.when) if r.when else None, r) for r in self.routes]

    @property
    def destinations(self) -> list[str]:
        """Every node the routes can lead to (for drawing and checks)."""
        seen: dict[str, None] = {}
        for route in self.routes:
            seen.update(dict.fromkeys(route.targets))
        return list(seen)

    def __call__(self, state: Mapping[str, Any]) -> Any:
        data = state_data(with_defaults(state, self.channels))
        for expression, route in self._compiled:
            if expression is not None and not _truthy(expression.search(data)):
                continue
            if route.send is None:
                return route.targets if isinstance(route.to, list) else route.targets[0]
            items = jmespath.search(route.send.each, data)
            if not isinstance(items, list):
                raise ValueError(
                    f"route of {self.source!r}: send.each {route.send.each!r} gave "
                    f"{type(items).__name__}, expected a list"
                )
            return [Send(node_name(route.send.to), item) for item in items]
        return END


def _truthy(value: Any) -> bool:
    """JMESPath's truthiness: empty containers, empty strings, false and null are false."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and not value)
