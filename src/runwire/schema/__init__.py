"""The wire format: ``Serializable``, lc nodes, escaping, the id table, ``dumpd``/``dumps``.

Public names are imported from their modules on first use, so loading one module of the
package (the id table, the messages) does not build every schema class.
"""

from runwire._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from runwire.schema.agents import (
        AgentAction,
        AgentActionMessageLog,
        AgentFinish,
        AgentStep,
        ToolAgentAction,
    )
    from runwire.schema.documents import Document
    from runwire.schema.dump import dumpd, dumps
    from runwire.schema.ids import ClassEntry, id_table
    from runwire.schema.nodes import (
        SerializedConstructor,
        SerializedNotImplemented,
        SerializedSecret,
    )
    from runwire.schema.outputs import (
        ChatGeneration,
        ChatGenerationChunk,
        Generation,
        GenerationChunk,
    )
    from runwire.schema.serializable import Serializable

__all__ = [
    "AgentAction",
    "AgentActionMessageLog",
    "AgentFinish",
    "AgentStep",
    "ChatGeneration",
    "ChatGenerationChunk",
    "ClassEntry",
    "Document",
    "Generation",
    "GenerationChunk",
    "Serializable",
    "SerializedConstructor",
    "SerializedNotImplemented",
    "SerializedSecret",
    "ToolAgentAction",
    "dumpd",
    "dumps",
    "id_table",
]

_EXPORTS: dict[str, str] = {
    **dict.fromkeys(
        ("AgentAction", "AgentActionMessageLog", "AgentFinish", "AgentStep", "ToolAgentAction"),
        ".agents",
    ),
    **dict.fromkeys(
        ("ChatGeneration", "ChatGenerationChunk", "Generation", "GenerationChunk"), ".outputs"
    ),
    **dict.fromkeys(
        ("SerializedConstructor", "SerializedNotImplemented", "SerializedSecret"), ".nodes"
    ),
    "ClassEntry": ".ids",
    "id_table": ".ids",
    "Document": ".documents",
    "Serializable": ".serializable",
    "dumpd": ".dump",
    "dumps": ".dump",
}
"""Public name -> the module (in this package) that defines it."""

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
