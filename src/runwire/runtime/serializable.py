"""``RunnableSerializable``: a Runnable that is also a pydantic ``Serializable``."""

from __future__ import annotations

from typing import Any, Generic

from runwire.runtime.base import Input, Output, Runnable
from runwire.schema.serializable import Serializable

__all__ = ["RunnableSerializable"]


class RunnableSerializable(Serializable, Runnable[Input, Output], Generic[Input, Output]):
    """A runnable with a wire form; ``to_json`` also writes its ``name``."""

    name: str | None = None

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "runnables"]

    def _lc_node_extras(self) -> dict[str, Any]:
        return {"name": self.get_name()}
