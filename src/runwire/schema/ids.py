"""The id table: every class runwire can write or read, by short name, runwire id and LangChain ids.

This is data, in one place. The loader resolves a manifest's ``id`` through it (and
only through it: no module path from a manifest is ever imported), and ``dumps(...,
dialect="langchain")`` writes the first LangChain id of a row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BUILTIN_CLASSES", "ClassEntry", "Group", "IdTable", "id_table"]

Id = tuple[str, ...]
Group = Literal["messages", "core", "providers", "user"]


@dataclass(slots=True)
class ClassEntry:
    """One registered class.

    ``langchain`` lists the LangChain ids that load as this class; the first one is
    what the ``langchain`` dialect writes. ``module`` is runwire's own module that
    defines a built-in class (imported on first use); user classes carry ``cls``.
    """

    name: str
    namespace: Id
    group: Group
    module: str | None = None
    langchain: tuple[Id, ...] = ()
    cls: type | None = field(default=None, compare=False)

    @property
    def id(self) -> Id:
        return (*self.namespace, self.name)


_LEGACY_SCHEMA_MESSAGES = frozenset(
    ("AIMessage", "HumanMessage", "SystemMessage", "ChatMessage", "FunctionMessage")
)
"""Messages LangChain's oldest files name as ``langchain.schema.<Class>``."""


def _lc_message(name: str, module: str) -> tuple[Id, ...]:
    legacy: tuple[Id, ...] = (
        (("langchain", "schema", name),) if name in _LEGACY_SCHEMA_MESSAGES else ()
    )
    return (
        ("langchain", "schema", "messages", name),
        ("langchain_core", "messages", module, name),
        ("langchain_core", "messages", name),
        *legacy,
    )


_MESSAGES: Id = ("runwire", "messages")
_MSG_MODULE = "runwire.schema.messages"

BUILTIN_CLASSES: tuple[ClassEntry, ...] = (
    # messages ---------------------------------------------------------------------
    ClassEntry("AIMessage", _MESSAGES, "messages", _MSG_MODULE, _lc_message("AIMessage", "ai")),
    ClassEntry(
        "AIMessageChunk", _MESSAGES, "messages", _MSG_MODULE, _lc_message("AIMessageChunk", "ai")
    ),
    ClassEntry(
        "HumanMessage", _MESSAGES, "messages", _MSG_MODULE, _lc_message("HumanMessage", "human")
    ),
    ClassEntry(
        "HumanMessageChunk",
        _MESSAGES,
        "messages",
        _MSG_MODULE,
        _lc_message("HumanMessageChunk", "human"),
    ),
    ClassEntry(
        "SystemMessage", _MESSAGES, "messages", _MSG_MODULE, _lc_message("SystemMessage", "system")
    ),
    ClassEntry(
        "SystemMessageChunk",
        _MESSAGES,
        "messages",
        _MSG_MODULE,
        _lc_message("SystemMessageChunk", "system"),
    ),
    ClassEntry(
        "ToolMessage", _MESSAGES, "messages", _MSG_MODULE, _lc_message("ToolMessage", "tool")
    ),
    ClassEntry(
        "ToolMessageChunk",
        _MESSAGES,
        "messages",
        _MSG_MODULE,
        _lc_message("ToolMessageChunk", "tool"),
    ),
    ClassEntry(
        "RemoveMessage",
        _MESSAGES,
        "messages",
        _MSG_MODULE,
        _lc_message("RemoveMessage", "modifier"),
    ),
    # documents --------------------------------------------------------------------
    ClassEntry(
        "Document",
        ("runwire", "documents"),
        "core",
        "runwire.schema.documents",
        (
            ("langchain", "schema", "document", "Document"),
            ("langchain_core", "documents", "base", "Document"),
            ("langchain_core", "documents", "Document"),
        ),
    ),
)


def _lc_runnable(name: str, lc_module: str) -> tuple[Id, ...]:
    return (
        ("langchain", "schema", "runnable", name),
        ("langchain_core", "runnables", lc_module, name),
        ("langchain_core", "runnables", name),
    )


_RUNNABLES: Id = ("runwire", "runnables")

RUNNABLE_CLASSES: tuple[ClassEntry, ...] = tuple(
    ClassEntry(name, _RUNNABLES, "core", f"runwire.runtime.{module}", _lc_runnable(name, lc_module))
    for name, module, lc_module in (
        ("RunnableSequence", "sequence", "base"),
        ("RunnableParallel", "parallel", "base"),
        ("RunnablePassthrough", "passthrough", "passthrough"),
        ("RunnableAssign", "passthrough", "passthrough"),
        ("RunnablePick", "passthrough", "passthrough"),
        ("RunnableBinding", "binding", "base"),
        ("RunnableEach", "each", "base"),
        ("RunnableBranch", "branch", "branch"),
        ("RunnableWithFallbacks", "fallbacks", "fallbacks"),
        ("RunnableRetry", "retry", "retry"),
        ("RunnableConfigurableFields", "configurable", "configurable"),
        ("RunnableConfigurableAlternatives", "configurable", "configurable"),
    )
)

_PROMPTS: Id = ("runwire", "prompts")


def _lc_prompt(name: str, legacy_module: str, core_module: str) -> tuple[Id, ...]:
    return (
        ("langchain", "prompts", legacy_module, name),
        ("langchain_core", "prompts", core_module, name),
        ("langchain_core", "prompts", name),
    )


PROMPT_CLASSES: tuple[ClassEntry, ...] = (
    *(
        ClassEntry(name, _PROMPTS, "core", f"runwire.runtime.prompts.{module}", lc)
        for name, module, lc in (
            ("PromptTemplate", "string", _lc_prompt("PromptTemplate", "prompt", "prompt")),
            ("ChatPromptTemplate", "chat", _lc_prompt("ChatPromptTemplate", "chat", "chat")),
            ("MessagesPlaceholder", "chat", _lc_prompt("MessagesPlaceholder", "chat", "chat")),
            *(
                (n, "chat", _lc_prompt(n, "chat", "chat"))
                for n in (
                    "SystemMessagePromptTemplate",
                    "HumanMessagePromptTemplate",
                    "AIMessagePromptTemplate",
                )
            ),
        )
    ),
    ClassEntry(
        "StringPromptValue",
        _PROMPTS,
        "core",
        "runwire.runtime.prompts.values",
        (
            ("langchain", "prompts", "base", "StringPromptValue"),
            ("langchain_core", "prompt_values", "StringPromptValue"),
        ),
    ),
    ClassEntry(
        "ChatPromptValue",
        _PROMPTS,
        "core",
        "runwire.runtime.prompts.values",
        (
            ("langchain", "prompts", "chat", "ChatPromptValue"),
            ("langchain_core", "prompt_values", "ChatPromptValue"),
        ),
    ),
)

_PARSERS: Id = ("runwire", "output_parsers")
_PARSER_MODULE = "runwire.runtime.parsers"

PARSER_CLASSES: tuple[ClassEntry, ...] = (
    ClassEntry(
        "StrOutputParser",
        _PARSERS,
        "core",
        _PARSER_MODULE,
        (
            ("langchain", "schema", "output_parser", "StrOutputParser"),
            ("langchain_core", "output_parsers", "string", "StrOutputParser"),
        ),
    ),
    ClassEntry(
        "CommaSeparatedListOutputParser",
        _PARSERS,
        "core",
        _PARSER_MODULE,
        (
            ("langchain", "output_parsers", "list", "CommaSeparatedListOutputParser"),
            ("langchain_core", "output_parsers", "list", "CommaSeparatedListOutputParser"),
        ),
    ),
    # LangChain does not serialize these two; runwire does (runwire ids only)
    ClassEntry("JsonOutputParser", _PARSERS, "core", _PARSER_MODULE),
    ClassEntry("PydanticOutputParser", _PARSERS, "core", _PARSER_MODULE),
)

MODEL_CLASSES: tuple[ClassEntry, ...] = (
    # deterministic test doubles, serializable so example manifests can name them
    ClassEntry("FakeChatModel", ("runwire", "models"), "core", "runwire.runtime.models.fakes"),
    ClassEntry("FakeEmbeddings", ("runwire", "models"), "core", "runwire.runtime.models.fakes"),
)


_AWS: Id = ("runwire", "providers", "aws")

PROVIDER_CLASSES: tuple[ClassEntry, ...] = (
    # AWS Bedrock (langchain-aws): LangChain's own ids first, then the module paths
    # langchain-aws classes carry when they are not Serializable
    ClassEntry(
        "ChatBedrockConverse",
        _AWS,
        "providers",
        "runwire.providers.aws.converse",
        (
            ("langchain_aws", "chat_models", "ChatBedrockConverse"),
            ("langchain_aws", "chat_models", "bedrock_converse", "ChatBedrockConverse"),
        ),
    ),
    ClassEntry(
        "ChatBedrock",
        _AWS,
        "providers",
        "runwire.providers.aws.bedrock_chat",
        (
            ("langchain", "chat_models", "bedrock", "ChatBedrock"),
            ("langchain_aws", "chat_models", "bedrock", "ChatBedrock"),
            ("langchain_aws", "chat_models", "ChatBedrock"),
            ("langchain", "chat_models", "bedrock", "BedrockChat"),
        ),
    ),
    ClassEntry(
        "BedrockLLM",
        _AWS,
        "providers",
        "runwire.providers.aws.bedrock_llm",
        (
            ("langchain", "llms", "bedrock", "BedrockLLM"),
            ("langchain_aws", "llms", "bedrock", "BedrockLLM"),
            ("langchain_aws", "llms", "BedrockLLM"),
            ("langchain", "llms", "bedrock", "Bedrock"),
        ),
    ),
    ClassEntry(
        "BedrockEmbeddings",
        _AWS,
        "providers",
        "runwire.providers.aws.embeddings",
        (("langchain_aws", "embeddings", "bedrock", "BedrockEmbeddings"),),
    ),
    ClassEntry(
        "BedrockRerank",
        _AWS,
        "providers",
        "runwire.providers.aws.rerank",
        (("langchain_aws", "document_compressors", "rerank", "BedrockRerank"),),
    ),
)


# issue 15 areas: each tuple is edited by one area only (messages and data, prompts,
# parsers and structured output, message history); merged below like the others
DATA_CLASSES: tuple[ClassEntry, ...] = (
    # messages that LangChain's allowed_objects="messages" leaves out: group "core"
    *(
        ClassEntry(name, _MESSAGES, "core", _MSG_MODULE, _lc_message(name, module))
        for name, module in (
            ("ChatMessage", "chat"),
            ("ChatMessageChunk", "chat"),
            ("FunctionMessage", "function"),
            ("FunctionMessageChunk", "function"),
            ("BaseMessage", "base"),
            ("BaseMessageChunk", "base"),
        )
    ),
    *(
        ClassEntry(
            name,
            ("runwire", "outputs"),
            "core",
            "runwire.schema.outputs",
            (
                ("langchain", "schema", "output", name),
                ("langchain_core", "outputs", module, name),
                ("langchain_core", "outputs", name),
            ),
        )
        for name, module in (
            ("Generation", "generation"),
            ("GenerationChunk", "generation"),
            ("ChatGeneration", "chat_generation"),
            ("ChatGenerationChunk", "chat_generation"),
        )
    ),
    *(
        ClassEntry(
            name,
            ("runwire", "agents"),
            "core",
            "runwire.schema.agents",
            (("langchain", "schema", "agent", name), ("langchain_core", "agents", name)),
        )
        for name in ("AgentAction", "AgentActionMessageLog", "AgentFinish")
    ),
    # langchain (not langchain-core) defines it; OpenAIToolAgentAction is its alias there
    ClassEntry(
        "ToolAgentAction",
        ("runwire", "agents"),
        "core",
        "runwire.schema.agents",
        (
            ("langchain", "schema", "agent", "ToolAgentAction"),
            ("langchain", "agents", "output_parsers", "tools", "ToolAgentAction"),
            ("langchain", "schema", "agent", "OpenAIToolAgentAction"),
            ("langchain", "agents", "output_parsers", "openai_tools", "OpenAIToolAgentAction"),
        ),
    ),
    *(
        ClassEntry(name, _RUNNABLES, "core", f"runwire.runtime.{module}", _lc_runnable(name, lc))
        for name, module, lc in (
            ("RouterRunnable", "router", "router"),
            ("RunnableBindingBase", "binding", "base"),
            ("RunnableEachBase", "each", "base"),
        )
    ),
)
"""More messages, LLM generations, agent actions, router/binding/each bases."""
PROMPT_EXTRA_CLASSES: tuple[ClassEntry, ...] = (
    *(
        ClassEntry(name, _PROMPTS, "core", f"runwire.runtime.prompts.{module}", lc)
        for name, module, lc in (
            (
                "ImagePromptTemplate",
                "image",
                (
                    ("langchain", "prompts", "image", "ImagePromptTemplate"),
                    ("langchain_core", "prompts", "image", "ImagePromptTemplate"),
                    ("langchain", "schema", "prompt_template", "ImagePromptTemplate"),
                ),
            ),
            (
                "DictPromptTemplate",
                "dict",
                (
                    ("langchain_core", "prompts", "dict", "DictPromptTemplate"),
                    ("langchain_core", "prompts", "message", "_DictMessagePromptTemplate"),
                ),
            ),
            (
                "ChatMessagePromptTemplate",
                "chat",
                _lc_prompt("ChatMessagePromptTemplate", "chat", "chat")[:2],
            ),
            (
                "FewShotPromptWithTemplates",
                "few_shot_with_templates",
                _lc_prompt("FewShotPromptWithTemplates", *("few_shot_with_templates",) * 2)[:2],
            ),
            (
                "StructuredPrompt",
                "structured",
                (("langchain_core", "prompts", "structured", "StructuredPrompt"),),
            ),
            (
                "ChatPromptValueConcrete",
                "values",
                (
                    ("langchain", "prompts", "chat", "ChatPromptValueConcrete"),
                    ("langchain_core", "prompt_values", "ChatPromptValueConcrete"),
                ),
            ),
            (
                "ImagePromptValue",
                "values",
                (("langchain", "schema", "prompt", "ImagePromptValue"),),
            ),
            # LangChain writes these two as not_implemented; runwire ids only
            ("FewShotPromptTemplate", "few_shot", ()),
            ("FewShotChatMessagePromptTemplate", "few_shot", ()),
        )
    ),
)
"""Image, dict, few-shot and structured prompts, chat message templates, prompt values."""
PARSER_EXTRA_CLASSES: tuple[ClassEntry, ...] = (
    # LangChain writes these as not_implemented: runwire ids only
    *(
        ClassEntry(name, _PARSERS, "core", f"runwire.runtime.{module}")
        for name, module in (
            ("NumberedListOutputParser", "parsers_lists"),
            ("MarkdownListOutputParser", "parsers_lists"),
            ("XMLOutputParser", "parsers_xml"),
            ("JsonOutputToolsParser", "parsers_tools"),
            ("JsonOutputKeyToolsParser", "parsers_tools"),
            ("PydanticToolsParser", "parsers_tools"),
        )
    ),
    ClassEntry(
        "RunnableWithStructuredOutput",
        ("runwire", "models"),
        "core",
        "runwire.runtime.models.structured",
    ),
)
"""List, XML and tool-call parsers, structured output."""
HISTORY_CLASSES: tuple[ClassEntry, ...] = (
    ClassEntry(
        "RunnableWithMessageHistory",
        _RUNNABLES,
        "core",
        "runwire.runtime.history",
        (
            ("langchain", "schema", "runnable", "RunnableWithMessageHistory"),
            ("langchain_core", "runnables", "history", "RunnableWithMessageHistory"),
        ),
    ),
    # LangChain's chat histories are not serializable; runwire's stores are (runwire ids)
    *(
        ClassEntry(name, ("runwire", "history"), "core", "runwire.runtime.history_stores")
        for name in ("InMemoryChatHistoryStore", "SqliteChatHistoryStore")
    ),
    # a network service, like the other providers (allowed_objects: core leaves it out)
    ClassEntry(
        "PostgresChatHistoryStore",
        ("runwire", "history"),
        "providers",
        "runwire.runtime.history_postgres",
    ),
)
"""RunnableWithMessageHistory and its serializable history stores."""

GRAPH_FILE_CLASSES: tuple[ClassEntry, ...] = (
    # graphs as files (runwire only: LangChain cannot load a graph)
    ClassEntry("StateGraph", ("runwire", "graph"), "core", "runwire.graph.files.component"),
    ClassEntry("ToolNode", ("runwire", "graph"), "core", "runwire.graph.prebuilt"),
    ClassEntry("AskHuman", ("runwire", "graph"), "core", "runwire.graph.prebuilt"),
    ClassEntry("ReactAgent", ("runwire", "graph"), "core", "runwire.graph.agents"),
    ClassEntry("Tool", ("runwire", "tools"), "core", "runwire.runtime.tool"),
)

AWS_RETRIEVAL_CLASSES: tuple[ClassEntry, ...] = (
    # SageMaker, Kendra, Knowledge Bases and S3 Vectors (issue 19). langchain-aws writes
    # its retrievers as not_implemented; their module paths still load here
    ClassEntry(
        "AmazonKnowledgeBasesRetriever",
        _AWS,
        "providers",
        "runwire.providers.aws.knowledge_bases",
        (
            ("langchain_aws", "retrievers", "bedrock", "AmazonKnowledgeBasesRetriever"),
            ("langchain_aws", "retrievers", "AmazonKnowledgeBasesRetriever"),
            ("langchain_community", "retrievers", "AmazonKnowledgeBasesRetriever"),
        ),
    ),
    ClassEntry(
        "AmazonKendraRetriever",
        _AWS,
        "providers",
        "runwire.providers.aws.kendra",
        (
            ("langchain_aws", "retrievers", "kendra", "AmazonKendraRetriever"),
            ("langchain_aws", "retrievers", "AmazonKendraRetriever"),
            ("langchain_community", "retrievers", "AmazonKendraRetriever"),
        ),
    ),
    ClassEntry(
        "SagemakerEndpoint",
        _AWS,
        "providers",
        "runwire.providers.aws.sagemaker",
        (
            ("langchain_aws", "llms", "sagemaker_endpoint", "SagemakerEndpoint"),
            ("langchain_aws", "llms", "SagemakerEndpoint"),
            ("langchain_community", "llms", "sagemaker_endpoint", "SagemakerEndpoint"),
            ("langchain_community", "llms", "SagemakerEndpoint"),
        ),
    ),
    ClassEntry("JsonContentHandler", _AWS, "providers", "runwire.providers.aws.sagemaker_handlers"),
    ClassEntry(
        "AmazonS3Vectors",
        _AWS,
        "providers",
        "runwire.providers.aws.s3vectors",
        (
            ("langchain_aws", "vectorstores", "s3_vectors", "base", "AmazonS3Vectors"),
            ("langchain_aws", "vectorstores", "s3_vectors", "AmazonS3Vectors"),
            ("langchain_aws", "vectorstores", "AmazonS3Vectors"),
        ),
    ),
    ClassEntry(
        "AmazonS3VectorsRetriever",
        _AWS,
        "providers",
        "runwire.providers.aws.s3vectors_retriever",
        (
            ("langchain_aws", "retrievers", "s3_vectors", "AmazonS3VectorsRetriever"),
            ("langchain_aws", "retrievers", "AmazonS3VectorsRetriever"),
        ),
    ),
    ClassEntry(
        "AmazonS3VectorsIngest", _AWS, "providers", "runwire.providers.aws.s3vectors_ingest"
    ),
    ClassEntry(
        "FormatDocuments",
        ("runwire", "documents"),
        "core",
        "runwire.runtime.format_documents",
    ),
)

HTTP_PROVIDER_CLASSES: tuple[ClassEntry, ...] = (
    # providers over plain HTTP (issue 18): OCI Data Science vLLM deployments
    ClassEntry(
        "ChatOCIModelDeploymentVLLM",
        ("runwire", "providers", "oci"),
        "providers",
        "runwire.providers.oci.vllm",
        (
            (
                "langchain_community",
                "chat_models",
                "oci_data_science",
                "ChatOCIModelDeploymentVLLM",
            ),
            # Oracle's langchain-oci package (its module path: it keeps the default namespace)
            ("langchain_oci", "chat_models", "oci_data_science", "ChatOCIModelDeploymentVLLM"),
        ),
    ),
    ClassEntry(
        "OpenAIAssistantV2Runnable",
        ("runwire", "providers", "openai"),
        "providers",
        "runwire.providers.openai.assistant",
        (
            (
                "langchain_community",
                "agents",
                "openai_assistant",
                "base",
                "OpenAIAssistantV2Runnable",
            ),
            ("langchain_community", "agents", "openai_assistant", "OpenAIAssistantV2Runnable"),
        ),
    ),
)

AWS_DATA_CLASSES: tuple[ClassEntry, ...] = (
    # MemoryDB vector store and semantic cache, Neptune graphs and QA chains (issue 20).
    # LangChain serializes none of them (vector stores and caches are not Serializable)
    ClassEntry("InMemoryVectorStore", _AWS, "providers", "runwire.providers.aws.memorydb"),
    ClassEntry(
        "InMemoryVectorStoreRetriever",
        _AWS,
        "providers",
        "runwire.providers.aws.memorydb_retriever",
    ),
    ClassEntry("InMemorySemanticCache", _AWS, "providers", "runwire.providers.aws.memorydb_cache"),
    # the exact-match model caches every chat model and LLM can name in its ``cache`` field
    ClassEntry("InMemoryCache", ("runwire", "caches"), "core", "runwire.runtime.cache"),
    ClassEntry("SQLiteCache", ("runwire", "caches"), "core", "runwire.runtime.cache_sqlite"),
    ClassEntry("NeptuneGraph", _AWS, "providers", "runwire.providers.aws.neptune"),
    ClassEntry(
        "NeptuneAnalyticsGraph", _AWS, "providers", "runwire.providers.aws.neptune_analytics"
    ),
    ClassEntry("NeptuneOpenCypherQAChain", _AWS, "providers", "runwire.providers.aws.neptune_qa"),
    ClassEntry("NeptuneRdfGraph", _AWS, "providers", "runwire.providers.aws.neptune_rdf"),
    ClassEntry(
        "NeptuneSparqlQAChain", _AWS, "providers", "runwire.providers.aws.neptune_sparql_qa"
    ),
)

LANGCHAIN_NOT_IMPLEMENTED: dict[str, Id] = {
    # runwire writes and loads these; LangChain writes them as not_implemented (a class
    # it does not serialize, or has not at all), so the ``langchain`` dialect does too
    **{
        name: ("langchain_core", "prompts", "few_shot", name)
        for name in ("FewShotPromptTemplate", "FewShotChatMessagePromptTemplate")
    },
    **{
        name: ("langchain_core", "output_parsers", "list", name)
        for name in ("NumberedListOutputParser", "MarkdownListOutputParser")
    },
    "XMLOutputParser": ("langchain_core", "output_parsers", "xml", "XMLOutputParser"),
    **{
        name: ("langchain_core", "output_parsers", "openai_tools", name)
        for name in ("JsonOutputToolsParser", "JsonOutputKeyToolsParser", "PydanticToolsParser")
    },
    "Tool": ("langchain_core", "tools", "structured", "StructuredTool"),
    "ToolNode": ("langgraph", "prebuilt", "tool_node", "ToolNode"),
    "StateGraph": ("langgraph", "graph", "state", "CompiledStateGraph"),
    "ReactAgent": ("langgraph", "graph", "state", "CompiledStateGraph"),
    "AskHuman": ("runwire", "graph", "prebuilt", "AskHuman"),
}
"""Short name -> the id of the not_implemented node the ``langchain`` dialect writes for
it (LangChain's class path, or runwire's where LangChain has no such class)."""


class IdTable:
    """Lookup over the entries: by id (runwire or LangChain) and by short name."""

    def __init__(self, entries: tuple[ClassEntry, ...] = ()) -> None:
        self.entries: list[ClassEntry] = []
        self.by_id: dict[Id, ClassEntry] = {}
        self.by_name: dict[str, ClassEntry] = {}
        self._to_langchain: dict[Id, list[str]] = {}
        self.version = 0
        """Bumped by every ``add``, so caches derived from the table know when to refresh."""
        for entry in entries:
            self.add(entry)

    def add(self, entry: ClassEntry) -> None:
        """Add an entry; an id or short name already taken by another class is an error."""
        for ident in (entry.id, *entry.langchain):
            taken = self.by_id.get(ident)
            if taken is not None and taken.id != entry.id:
                raise ValueError(f"id {list(ident)} is already registered for {taken.name}")
        taken = self.by_name.get(entry.name)
        if taken is not None and taken.id != entry.id:
            raise ValueError(
                f"short name {entry.name!r} is already registered for {list(taken.id)}"
            )
        previous = self.by_id.get(entry.id)
        if previous is not None:  # registered again: the new entry replaces it
            self.entries = [e for e in self.entries if e is not previous]
        self.entries.append(entry)
        self.by_name[entry.name] = entry
        for ident in (entry.id, *entry.langchain):
            self.by_id[ident] = entry
        if entry.langchain:
            self._to_langchain[entry.id] = list(entry.langchain[0])
        self.version += 1

    def langchain_not_implemented(self, runwire_id: list[str]) -> list[str] | None:
        """The id of the not_implemented node the ``langchain`` dialect writes for a
        runwire id, when LangChain cannot load that class (see LANGCHAIN_NOT_IMPLEMENTED)."""
        entry = self.by_id.get(tuple(runwire_id))
        if entry is None or entry.id != tuple(runwire_id):
            return None
        ident = LANGCHAIN_NOT_IMPLEMENTED.get(entry.name)
        return list(ident) if ident is not None else None

    def langchain_id(self, runwire_id: list[str]) -> list[str] | None:
        """The id the ``langchain`` dialect writes for a runwire id, if LangChain has one."""
        return self._to_langchain.get(tuple(runwire_id))


id_table = IdTable(
    BUILTIN_CLASSES
    + RUNNABLE_CLASSES
    + PROMPT_CLASSES
    + PARSER_CLASSES
    + MODEL_CLASSES
    + PROVIDER_CLASSES
    + DATA_CLASSES
    + PROMPT_EXTRA_CLASSES
    + PARSER_EXTRA_CLASSES
    + HISTORY_CLASSES
    + GRAPH_FILE_CLASSES
    + AWS_DATA_CLASSES
    + AWS_RETRIEVAL_CLASSES
    + HTTP_PROVIDER_CLASSES
)
"""The process-wide table: built-ins plus what ``runwire.register`` adds."""
