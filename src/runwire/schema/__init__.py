"""The wire format: ``Serializable``, lc nodes, escaping, the id table, ``dumpd``/``dumps``."""

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
from runwire.schema.nodes import SerializedConstructor, SerializedNotImplemented, SerializedSecret
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
