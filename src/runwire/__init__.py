"""runwire: LLM pipelines as files.

Public names are loaded on first use, so ``import runwire`` stays cheap (no pydantic,
boto3 or httpx until something needs them).
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

TYPE_CHECKING = False  # typing is not imported at run time: it costs ~15 ms

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "load": "runwire.loader.wire",
    "load_file": "runwire.loader.files",
    "validate_manifest": "runwire.loader.validate",
    "loads": "runwire.loader.wire",
    "Limits": "runwire.loader.limits",
    "register": "runwire.loader.registry",
    "dumpd": "runwire.schema.dump",
    "dumps": "runwire.schema.dump",
    "Serializable": "runwire.schema.serializable",
    "Document": "runwire.schema.documents",
    "ManifestError": "runwire.errors",
    "RunwireError": "runwire.errors",
    **dict.fromkeys(
        (
            "AIMessage",
            "AIMessageChunk",
            "BaseMessage",
            "BaseMessageChunk",
            "ChatMessage",
            "ChatMessageChunk",
            "FunctionMessage",
            "FunctionMessageChunk",
            "HumanMessage",
            "HumanMessageChunk",
            "SystemMessage",
            "SystemMessageChunk",
            "ToolMessage",
            "ToolMessageChunk",
        ),
        "runwire.schema.messages",
    ),
}

__all__ = [
    "AIMessage",
    "AIMessageChunk",
    "BaseMessage",
    "BaseMessageChunk",
    "ChatMessage",
    "ChatMessageChunk",
    "Document",
    "FunctionMessage",
    "FunctionMessageChunk",
    "HumanMessage",
    "HumanMessageChunk",
    "Limits",
    "ManifestError",
    "RunwireError",
    "Serializable",
    "SystemMessage",
    "SystemMessageChunk",
    "ToolMessage",
    "ToolMessageChunk",
    "__version__",
    "dumpd",
    "dumps",
    "load",
    "load_file",
    "loads",
    "register",
    "validate_manifest",
]


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)


if TYPE_CHECKING:
    from runwire.errors import ManifestError, RunwireError
    from runwire.loader.files import load_file
    from runwire.loader.limits import Limits
    from runwire.loader.registry import register
    from runwire.loader.validate import validate_manifest
    from runwire.loader.wire import load, loads
    from runwire.schema.documents import Document
    from runwire.schema.dump import dumpd, dumps
    from runwire.schema.messages import (
        AIMessage,
        AIMessageChunk,
        BaseMessage,
        BaseMessageChunk,
        ChatMessage,
        ChatMessageChunk,
        FunctionMessage,
        FunctionMessageChunk,
        HumanMessage,
        HumanMessageChunk,
        SystemMessage,
        SystemMessageChunk,
        ToolMessage,
        ToolMessageChunk,
    )
    from runwire.schema.serializable import Serializable
