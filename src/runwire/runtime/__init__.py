"""The runtime: the Runnable protocol, composition, and components.

Names load on first use (``from runwire.runtime import RunnableSequence``), so importing
this package costs nothing until a class is needed.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False

_EXPORTS: dict[str, str] = {
    "Runnable": "base",
    "RunnableSerializable": "serializable",
    "RunnableConfig": "config",
    "ensure_config": "config",
    "merge_configs": "config",
    "Run": "callbacks",
    "RunnableSequence": "sequence",
    "RunnableParallel": "parallel",
    "RunnablePassthrough": "passthrough",
    "RunnableAssign": "passthrough",
    "RunnablePick": "passthrough",
    "RunnableLambda": "lambdas",
    "RunnableGenerator": "lambdas",
    "RunnableBinding": "binding",
    "RunnableRetry": "retry",
    "RunnableWithFallbacks": "fallbacks",
    "RunnableBranch": "branch",
    "RunnableEach": "each",
    "ConfigurableField": "configurable",
    "ConfigurableFieldSingleOption": "configurable",
    "ConfigurableFieldMultiOption": "configurable",
    "ConfigurableFieldSpec": "configurable_spec",
    "RunnableConfigurableFields": "configurable",
    "RunnableConfigurableAlternatives": "configurable",
    "dispatch_custom_event": "events",
    "adispatch_custom_event": "events",
    "PromptTemplate": "prompts",
    "ChatPromptTemplate": "prompts",
    "MessagesPlaceholder": "prompts",
    "SystemMessagePromptTemplate": "prompts",
    "HumanMessagePromptTemplate": "prompts",
    "AIMessagePromptTemplate": "prompts",
    "StringPromptValue": "prompts",
    "ChatPromptValue": "prompts",
    "StrOutputParser": "parsers",
    "JsonOutputParser": "parsers",
    "PydanticOutputParser": "parsers",
    "CommaSeparatedListOutputParser": "parsers",
    "OutputParserException": "parsers",
    "BaseChatModel": "models",
    "BaseLLM": "models",
    "BaseRetriever": "models",
    "Embeddings": "models",
    "FakeChatModel": "models",
    "FakeEmbeddings": "models",
}

__all__ = [
    "AIMessagePromptTemplate",
    "BaseChatModel",
    "BaseLLM",
    "BaseRetriever",
    "ChatPromptTemplate",
    "ChatPromptValue",
    "CommaSeparatedListOutputParser",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "ConfigurableFieldSpec",
    "Embeddings",
    "FakeChatModel",
    "FakeEmbeddings",
    "HumanMessagePromptTemplate",
    "JsonOutputParser",
    "MessagesPlaceholder",
    "OutputParserException",
    "PromptTemplate",
    "PydanticOutputParser",
    "Run",
    "Runnable",
    "RunnableAssign",
    "RunnableBinding",
    "RunnableBranch",
    "RunnableConfig",
    "RunnableConfigurableAlternatives",
    "RunnableConfigurableFields",
    "RunnableEach",
    "RunnableGenerator",
    "RunnableLambda",
    "RunnableParallel",
    "RunnablePassthrough",
    "RunnablePick",
    "RunnableRetry",
    "RunnableSequence",
    "RunnableSerializable",
    "RunnableWithFallbacks",
    "StrOutputParser",
    "StringPromptValue",
    "SystemMessagePromptTemplate",
    "adispatch_custom_event",
    "dispatch_custom_event",
    "ensure_config",
    "merge_configs",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runwire.runtime' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"runwire.runtime.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
