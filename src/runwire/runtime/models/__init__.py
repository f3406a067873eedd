"""Language models, retrievers and embeddings: the bases providers build on, and fakes.

Names are loaded on first use, so importing one module does not import them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runwire._lazy import lazy_exports

__all__ = [
    "BaseChatModel",
    "BaseLLM",
    "BaseLanguageModel",
    "BaseRetriever",
    "Embeddings",
    "FakeChatModel",
    "FakeEmbeddings",
    "RunnableWithStructuredOutput",
    "ToolCallOutputParser",
    "convert_to_openai_function",
    "convert_to_openai_tool",
    "to_messages",
]

_EXPORTS = {
    "BaseChatModel": ".chat",
    "BaseLanguageModel": ".chat",
    "BaseLLM": ".llm",
    "BaseRetriever": ".retriever",
    "Embeddings": ".embeddings",
    "FakeChatModel": ".fakes",
    "FakeEmbeddings": ".fakes",
    "RunnableWithStructuredOutput": ".structured",
    "ToolCallOutputParser": ".tools",
    "convert_to_openai_function": ".tools",
    "convert_to_openai_tool": ".tools",
    "to_messages": ".inputs",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)

if TYPE_CHECKING:
    from runwire.runtime.models.chat import BaseChatModel, BaseLanguageModel
    from runwire.runtime.models.embeddings import Embeddings
    from runwire.runtime.models.fakes import FakeChatModel, FakeEmbeddings
    from runwire.runtime.models.inputs import to_messages
    from runwire.runtime.models.llm import BaseLLM
    from runwire.runtime.models.retriever import BaseRetriever
    from runwire.runtime.models.structured import RunnableWithStructuredOutput
    from runwire.runtime.models.tools import (
        ToolCallOutputParser,
        convert_to_openai_function,
        convert_to_openai_tool,
    )
