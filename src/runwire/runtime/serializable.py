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

    def get_graph(self, config: Any = None) -> Any:
        """The chain as a drawable graph (``.draw_mermaid()``), as LangChain draws it."""
        from runwire.graph.drawing import chain_graph

        return chain_graph(self)

    def configurable_fields(self, **fields: Any) -> RunnableSerializable[Input, Output]:
        """Make fields settable at run time through ``config["configurable"]``."""
        from runwire.runtime.configurable import RunnableConfigurableFields

        return RunnableConfigurableFields(default=self, fields=fields)

    def configurable_alternatives(
        self,
        which: Any,
        *,
        default_key: str = "default",
        prefix_keys: bool = False,
        **kwargs: Any,
    ) -> RunnableSerializable[Input, Output]:
        """Let ``config["configurable"][which.id]`` pick this runnable or an alternative."""
        from runwire.runtime.configurable import RunnableConfigurableAlternatives

        return RunnableConfigurableAlternatives(
            which=which,
            default=self,
            alternatives=kwargs,
            default_key=default_key,
            prefix_keys=prefix_keys,
        )
