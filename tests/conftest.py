"""Shared fixtures: id-table isolation, test classes, node builders and sample objects.

Test modules import the plain helpers from here (``from conftest import ...``): pytest
puts this directory on ``sys.path`` because ``tests`` is not a package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import pytest
from pydantic import SecretStr, model_validator

from postgres_server import postgres_dsn, postgres_server  # noqa: F401 (fixtures)
from runwire.loader.registry import register
from runwire.runtime.binding import RunnableBinding
from runwire.runtime.branch import RunnableBranch
from runwire.runtime.configurable import ConfigurableField, ConfigurableFieldMultiOption
from runwire.runtime.each import RunnableEach
from runwire.runtime.fallbacks import RunnableWithFallbacks
from runwire.runtime.models.fakes import FakeChatModel, FakeEmbeddings
from runwire.runtime.parallel import RunnableParallel
from runwire.runtime.parsers import (
    CommaSeparatedListOutputParser,
    JsonOutputParser,
    PydanticOutputParser,
    StrOutputParser,
)
from runwire.runtime.passthrough import RunnablePassthrough, RunnablePick
from runwire.runtime.prompts import (
    AIMessagePromptTemplate,
    ChatPromptTemplate,
    ChatPromptValue,
    HumanMessagePromptTemplate,
    MessagesPlaceholder,
    PromptTemplate,
    StringPromptValue,
    SystemMessagePromptTemplate,
)
from runwire.runtime.retry import RunnableRetry
from runwire.runtime.sequence import RunnableSequence
from runwire.schema.documents import Document
from runwire.schema.ids import IdTable, id_table
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    SystemMessageChunk,
    ToolMessage,
    ToolMessageChunk,
)
from runwire.schema.serializable import Serializable

TEST_NS = "runwire_tests"
"""First id segment of the test classes; loads must pass ``valid_namespaces=[TEST_NS]``."""

FAKE_SECRET = "sk-fake-RUNWIRE-0xDEADBEEF-do-not-leak"
"""A recognisable secret value that must never appear in any output."""

CONSTRUCTED: list[str] = []
"""Names of test-class instances built so far (reset by the ``registered`` fixture)."""


class _Counted(Serializable):
    """Base of the test classes: serializable, in TEST_NS, and counted when built."""

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return [TEST_NS]

    @model_validator(mode="after")
    def _count(self) -> Any:
        CONSTRUCTED.append(type(self).__name__)
        return self


class Probe(_Counted):
    """Everything optional: a free payload, a template format and an optional secret."""

    payload: Any = None
    template_format: str = "f-string"
    token: SecretStr | None = None


class KeyedProbe(_Counted):
    """A required secret field (secret id ``API_KEY``) next to a plain one."""

    api_key: SecretStr
    model: str = "probe-1"


LOAD_TEST_CLASSES: dict[str, Any] = {"allowed_objects": "all", "valid_namespaces": [TEST_NS]}
"""Loader options that admit the test classes."""


@contextlib.contextmanager
def loopback_http(handler: type[Any]) -> Iterator[Any]:
    """A threaded ``http.server`` on 127.0.0.1 (a free port) serving ``handler``; the
    server is yielded (its port is ``server.server_address[1]``) and stopped after."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def ctor(ident: list[str], **kwargs: Any) -> dict[str, Any]:
    """A constructor node."""
    return {"lc": 1, "type": "constructor", "id": list(ident), "kwargs": kwargs}


def secret(name: str) -> dict[str, Any]:
    """A secret node."""
    return {"lc": 1, "type": "secret", "id": [name]}


def not_implemented(ident: list[str], text: str | None = "<obj>") -> dict[str, Any]:
    """A not_implemented node."""
    return {"lc": 1, "type": "not_implemented", "id": ident, "repr": text}


def probe(**kwargs: Any) -> dict[str, Any]:
    """A constructor node for :class:`Probe`."""
    return ctor([TEST_NS, "Probe"], **kwargs)


def keyed_probe(**kwargs: Any) -> dict[str, Any]:
    """A constructor node for :class:`KeyedProbe`."""
    return ctor([TEST_NS, "KeyedProbe"], **kwargs)


@pytest.fixture
def id_table_snapshot() -> Iterator[IdTable]:
    """Restore ``id_table`` (entries, by_id, by_name, _to_langchain) after the test.

    The table's ``version`` (if it has one) is bumped rather than restored, so that
    caches keyed on it (``allowed_ids``) never see an old version with new contents.
    """
    table = id_table
    saved = (
        list(table.entries),
        dict(table.by_id),
        dict(table.by_name),
        {k: list(v) for k, v in table._to_langchain.items()},
    )
    try:
        yield table
    finally:
        entries, by_id, by_name, to_langchain = saved
        table.entries = list(entries)
        table.by_id = dict(by_id)
        table.by_name = dict(by_name)
        table._to_langchain = {k: list(v) for k, v in to_langchain.items()}
        if hasattr(table, "version"):  # never rewind: caches keyed on it must refresh
            table.version += 1


@pytest.fixture
def registered(id_table_snapshot: IdTable) -> Iterator[list[str]]:
    """Register Probe and KeyedProbe for one test; yields the CONSTRUCTED log (emptied)."""
    register(Probe)
    register(KeyedProbe)
    CONSTRUCTED.clear()
    yield CONSTRUCTED
    CONSTRUCTED.clear()


# -- one representative instance per built-in class -----------------------------------


def _ai_message() -> AIMessage:
    return AIMessage(
        content="It is 18 degrees in Paris.",
        additional_kwargs={"refusal": None, "meta": {"lc": 7, "note": "user data with lc"}},
        response_metadata={"model_name": "gpt-4o-mini", "finish_reason": "tool_calls"},
        id="chatcmpl-abc123",
        name="forecaster",
        tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}],
        invalid_tool_calls=[{"name": "broken", "args": "{oops", "id": "call_2", "error": "bad"}],
        usage_metadata={
            "input_tokens": 12,
            "output_tokens": 7,
            "total_tokens": 19,
            "input_token_details": {"cache_read": 4},
        },
    )


def _ai_message_chunk() -> AIMessageChunk:
    return AIMessageChunk(
        content=[{"type": "text", "text": "Hel", "index": 0}],
        id="run-0001",
        tool_call_chunks=[
            {"name": "get_weather", "args": '{"city": "Pa', "id": "call_1", "index": 0}
        ],
        usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4},
        chunk_position="last",
    )


def _human_message() -> HumanMessage:
    return HumanMessage(
        [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        ],
        additional_kwargs={
            "looks_like_secret": {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]},
            "looks_escaped": {"__lc_escaped__": "x"},
        },
        id="human-1",
    )


EMULATOR_KEY_ID = "AKIDEXAMPLE"
EMULATOR_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
"""AWS's documented example key pair (not a credential): the samples' keys, and the
pair the test emulator accepts."""
_AWS_KEYS = {
    "aws_access_key_id": SecretStr(EMULATOR_KEY_ID),
    "aws_secret_access_key": SecretStr(EMULATOR_SECRET),
}
SAMPLE_SECRETS = {name.upper(): value.get_secret_value() for name, value in _AWS_KEYS.items()}
"""The secret values the samples hold, by secret id: what a round trip loads them with."""
_AWS_SAMPLES: dict[str, dict[str, Any]] = {
    "ChatBedrockConverse": {
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "region_name": "us-west-2",
        "temperature": 0.2,
        "max_tokens": 256,
        **_AWS_KEYS,
    },
    "ChatBedrock": {
        "model": "anthropic.claude-3-haiku-20240307-v1:0",
        "region": "us-east-1",
        "model_kwargs": {"temperature": 0.1},
        "streaming": True,
    },
    "BedrockLLM": {
        "model": "meta.llama3-8b-instruct-v1:0",
        "region": "us-east-1",
        "model_kwargs": {"max_gen_len": 64},
    },
    "BedrockEmbeddings": {
        "model_id": "cohere.embed-english-v3",
        "region_name": "us-east-1",
        "normalize": True,
    },
    "BedrockRerank": {
        "model_arn": "arn:aws:bedrock:us-west-2::foundation-model/amazon.rerank-v1:0",
        "top_n": 2,
        "region_name": "us-west-2",
    },
}
"""Constructor kwargs of the AWS provider samples (their modules load on first use)."""


def _aws_sample(name: str) -> Serializable:
    from runwire.providers import aws

    return getattr(aws, name)(**_AWS_SAMPLES[name])


SAMPLES: dict[str, Callable[[], Serializable]] = {
    "AIMessage": _ai_message,
    "AIMessageChunk": _ai_message_chunk,
    "HumanMessage": _human_message,
    "HumanMessageChunk": lambda: HumanMessageChunk("par", name="alice"),
    "SystemMessage": lambda: SystemMessage("You are terse.", response_metadata={"v": 1.5}),
    "SystemMessageChunk": lambda: SystemMessageChunk("Be ", id="sys-1"),
    "ToolMessage": lambda: ToolMessage(
        "18", tool_call_id="call_1", artifact={"raw": [1, 2.5, None]}, status="error"
    ),
    "ToolMessageChunk": lambda: ToolMessageChunk("1", tool_call_id="call_1", name="weather"),
    "RemoveMessage": lambda: RemoveMessage("msg-1"),
    "Document": lambda: Document(
        "Paris is the capital of France.",
        id="doc-1",
        metadata={"source": "wiki", "page": 3, "score": 0.25, "tags": ["geo", "fr"]},
    ),
    # runnables ------------------------------------------------------------------------
    "RunnablePassthrough": lambda: RunnablePassthrough(name="keep"),
    "RunnablePick": lambda: RunnablePick(keys=["question", "context"]),
    "RunnableParallel": lambda: RunnableParallel(
        {"question": RunnablePick(keys="question"), "raw": RunnablePassthrough()}
    ),
    "RunnableAssign": lambda: RunnablePassthrough.assign(copy=RunnablePassthrough()),
    "RunnableSequence": lambda: RunnableSequence(
        RunnablePassthrough(), RunnablePick(keys="question"), RunnablePassthrough(), name="qa"
    ),
    "RunnableBinding": lambda: RunnableBinding(
        bound=RunnablePick(["a", "b"]),
        kwargs={"stop": ["\n"], "lc": {"user": "data"}},
        config={"tags": ["bound"], "metadata": {"team": "qa"}, "run_name": "picker"},
    ),
    "RunnableRetry": lambda: RunnableRetry(
        bound=RunnablePassthrough(),
        retry_exception_types=(TimeoutError, ConnectionError),
        wait_exponential_jitter=False,
        exponential_jitter_params={"initial": 0.5, "max": 4.0},
        max_attempt_number=5,
    ),
    "RunnableWithFallbacks": lambda: RunnableWithFallbacks(
        runnable=RunnablePick("answer"),
        fallbacks=[RunnablePassthrough(), RunnablePick(["a"]).with_config(tags=["fb"])],
        exceptions_to_handle=(KeyError, ValueError),
        exception_key="error",
    ),
    "RunnableBranch": lambda: RunnableBranch(
        (RunnablePick("is_question"), RunnableParallel({"q": RunnablePick("text")})),
        (RunnablePick("is_command"), RunnablePick("text")),
        RunnablePassthrough(),
    ),
    "RunnableEach": lambda: RunnableEach(bound=RunnablePick("text"), name="texts"),
    "RunnableConfigurableFields": lambda: RunnablePick(keys="a").configurable_fields(
        keys=ConfigurableField(id="pick_key", name="Key", description="Which key to pick")
    ),
    "RunnableConfigurableAlternatives": lambda: RunnablePassthrough().configurable_alternatives(
        ConfigurableField(id="step", name="Step"),
        default_key="keep",
        prefix_keys=True,
        pick=RunnablePick(keys="a").configurable_fields(
            keys=ConfigurableFieldMultiOption(
                id="keys", options={"a": "a", "b": "b"}, default=["a"]
            )
        ),
    ),
    # prompts --------------------------------------------------------------------------
    "PromptTemplate": lambda: PromptTemplate.from_template(
        "Tell me about {topic} in {style}", partial_variables={"style": "haiku"}, tags=["t"]
    ),
    "ChatPromptTemplate": lambda: ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            MessagesPlaceholder("history", optional=True),
            SystemMessage(content="fixed"),
            ("human", "{question}"),
        ]
    ),
    "MessagesPlaceholder": lambda: MessagesPlaceholder("history", optional=True, n_messages=5),
    "SystemMessagePromptTemplate": lambda: SystemMessagePromptTemplate.from_template(
        "You are {role}."
    ),
    "HumanMessagePromptTemplate": lambda: HumanMessagePromptTemplate.from_template(
        "{question}", additional_kwargs={"k": "v"}
    ),
    "AIMessagePromptTemplate": lambda: AIMessagePromptTemplate.from_template(
        ["First {a}", "then {b}"]
    ),
    "StringPromptValue": lambda: StringPromptValue(text="Tell me a joke"),
    "ChatPromptValue": lambda: ChatPromptValue(
        messages=[SystemMessage(content="be brief"), HumanMessage(content="hi"), AIMessage("yo")]
    ),
    # output parsers and models --------------------------------------------------------
    "StrOutputParser": lambda: StrOutputParser(),
    "CommaSeparatedListOutputParser": lambda: CommaSeparatedListOutputParser(name="items"),
    "JsonOutputParser": lambda: JsonOutputParser(
        json_schema={"type": "object", "properties": {"answer": {"type": "string"}}}
    ),
    "PydanticOutputParser": lambda: PydanticOutputParser(
        json_schema={
            "title": "Answer",
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
        }
    ),
    "FakeChatModel": lambda: FakeChatModel(responses=["hello", "world"], chunk_size=2, usage=True),
    "FakeEmbeddings": lambda: FakeEmbeddings(size=8),
    **{name: partial(_aws_sample, name) for name in _AWS_SAMPLES},
}
"""Class short name -> factory of a representative instance. Every class in
``id_table`` needs one: ``test_roundtrip`` fails for a class without a sample."""


def _area_samples() -> None:
    """Merge the per-area sample tables (tests/samples_*.py) into SAMPLES."""
    import samples_aws_data
    import samples_aws_retrieval
    import samples_data
    import samples_graph
    import samples_history
    import samples_http_providers
    import samples_parsers
    import samples_prompts

    for area in (
        samples_data,
        samples_prompts,
        samples_parsers,
        samples_history,
        samples_graph,
        samples_aws_retrieval,
        samples_aws_data,
        samples_http_providers,
    ):
        SAMPLES.update(area.SAMPLES)


_area_samples()


_AWS_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
    "AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME",
    "AWS_BEARER_TOKEN_BEDROCK",
    "BEDROCK_ENDPOINT_URL",
)


@pytest.fixture(autouse=True)
def _hermetic_aws(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """No test sees the machine's AWS settings, and boto3 never asks an instance endpoint."""
    for name in _AWS_ENV:
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path_factory.getbasetemp() / "no-aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def _forget_registered_secrets() -> Iterator[None]:
    """Secret values registered for masking (process-wide) do not outlive a test."""
    yield
    from runwire.redaction import clear_secrets

    clear_secrets()


def sample(name: str) -> Serializable:
    """A fresh sample of a registered class; per-class tests skip a class without one (the
    registry test in ``test_roundtrip`` fails for it instead, once, naming every such class)."""
    if name not in SAMPLES:
        pytest.skip(f"no sample for registered class {name}: add one to conftest.SAMPLES")
    return SAMPLES[name]()


# -- AWS: the Bedrock emulator and credentials pointing at it ---------------------------
@pytest.fixture
def bedrock() -> Iterator[Any]:
    """A running Bedrock emulator on 127.0.0.1 that knows the test key pair."""
    from runwire.testing.bedrock import BedrockEmulator

    with BedrockEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def module_bedrock() -> Iterator[Any]:
    """One emulator for a module's end-to-end tests (a boto3 client costs ~0.1 s)."""
    from runwire.testing.bedrock import BedrockEmulator

    with BedrockEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emulator:
        yield emulator


@pytest.fixture(scope="module")
def emulator_client(module_bedrock: Any) -> Any:
    """A bedrock-runtime client of ``module_bedrock``, built by runwire's factory; no retries."""
    from runwire.providers.aws.client import build_client

    return build_client(
        "bedrock-runtime",
        region_name="us-east-1",
        aws_access_key_id=EMULATOR_KEY_ID,
        aws_secret_access_key=EMULATOR_SECRET,
        endpoint_url=module_bedrock.endpoint_url,
        config={"retries": {"total_max_attempts": 1}},
    )


@pytest.fixture
def emu(module_bedrock: Any) -> Iterator[Any]:
    """``module_bedrock`` with no scripts, faults or recorded requests, before and after."""
    module_bedrock.reset()
    yield module_bedrock
    module_bedrock.reset()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, bedrock: Any) -> Any:
    """The test key pair and region in the environment; returns the emulator."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return bedrock
