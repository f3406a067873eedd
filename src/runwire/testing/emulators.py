"""The emulators ``runwire emulate NAME`` can start: one row per service.

Each row starts an emulator on a loopback port and says what a child command gets in
its environment (endpoint and credentials the emulator accepts) and what the serve-mode
banner prints. Adding a service is adding a row; the CLI reads only this table.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from runwire.testing.corpus.documents import Corpus

__all__ = [
    "CORPUS_ENV",
    "EMULATORS",
    "EmulatorOptions",
    "EmulatorSpec",
    "RunningEmulator",
    "Started",
]

CORPUS_ENV = "RUNWIRE_EMULATOR_CORPUS"
"""A JSONL corpus file the retrieval emulators serve instead of runwire's own corpus
(Knowledge Bases as ``RUNWIREKB1`` in the Bedrock emulator, the Kendra index)."""


def _corpus() -> Corpus | None:
    """The corpus named by ``RUNWIRE_EMULATOR_CORPUS``, or None (the default corpus)."""
    path = os.environ.get(CORPUS_ENV)
    if not path:
        return None
    from runwire.testing.corpus.documents import load_corpus

    return load_corpus(path)


class RunningEmulator(Protocol):
    """What the CLI needs of a started emulator."""

    @property
    def endpoint_url(self) -> str: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class EmulatorOptions:
    """The command line's choices: address, the credentials to accept (``None``: the
    emulator's public dummy pair) and a request log (serve mode only)."""

    host: str = "127.0.0.1"
    port: int = 0
    access_key_id: str | None = None
    secret_access_key: str | None = None
    log: Callable[[str], None] | None = None


@dataclass(frozen=True)
class Started:
    """A started emulator, the environment a child command runs with, and the lines
    of the serve-mode banner (``shown`` masks credentials the user passed in)."""

    emulator: RunningEmulator
    env: Mapping[str, str]
    shown: Mapping[str, str]
    unset: tuple[str, ...] = ()
    title: str = ""
    report: Callable[[], str] | None = None
    """After a child command: a line saying what the emulator answered (or ``""``)."""


@dataclass(frozen=True)
class EmulatorSpec:
    """One service: its summary and how to start it."""

    summary: str
    start: Callable[[EmulatorOptions], Started]
    aws: bool = field(default=True)  # takes --access-key-id / --secret-access-key


def _aws_keys(options: EmulatorOptions) -> tuple[str, str]:
    """The key pair an AWS emulator accepts: the one given, else the public dummy pair."""
    from runwire.testing.aws_loopback import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

    key = options.access_key_id or DEFAULT_ACCESS_KEY_ID
    return key, options.secret_access_key or DEFAULT_SECRET_ACCESS_KEY


def _aws_started(
    options: EmulatorOptions,
    emulator: RunningEmulator,
    env: Mapping[str, str],
    title: str,
    report: Callable[[], str] | None = None,
) -> Started:
    """An AWS emulator's Started: the banner masks a secret the user gave, and the child
    loses AWS_SESSION_TOKEN (it belongs to other keys)."""
    shown = dict(env)
    if options.secret_access_key is not None:
        shown["AWS_SECRET_ACCESS_KEY"] = "<the --secret-access-key given>"
    return Started(emulator, env, shown, unset=("AWS_SESSION_TOKEN",), title=title, report=report)


def _start_bedrock(options: EmulatorOptions) -> Started:
    from runwire.testing.bedrock import BedrockEmulator
    from runwire.testing.bedrock.knowledge_bases import DEFAULT_KNOWLEDGE_BASE_ID

    key, secret = _aws_keys(options)
    corpus = _corpus()
    emulator = BedrockEmulator(
        options.host,
        options.port,
        {key: secret},
        log=options.log,
        max_recorded=1000,
        knowledge_bases=None if corpus is None else {DEFAULT_KNOWLEDGE_BASE_ID: corpus},
    ).start()
    env = {
        "BEDROCK_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "KNOWLEDGE_BASE_ID": DEFAULT_KNOWLEDGE_BASE_ID,
    }
    return _aws_started(
        options,
        emulator,
        env,
        f"Bedrock emulator on {emulator.endpoint_url}",
        lambda: _bedrock_report(emulator.requests),
    )


def _bedrock_report(requests: list[Any]) -> str:
    """Where the answers came from: the calls the Bedrock emulator answered, by
    operation and model."""
    if not requests:
        return ""
    counts = Counter(f"{r.operation} {r.model_id}".rstrip() for r in requests)
    calls = ", ".join(f"{n} x {what}" for what, n in sorted(counts.items()))
    return (
        f"(answered by runwire's Bedrock emulator: {calls}; it replies with the last user "
        "message or tool result, or calls a tool the message names. Unset "
        "BEDROCK_ENDPOINT_URL and give AWS credentials to ask Amazon Bedrock.)"
    )


def _start_oci_vllm(options: EmulatorOptions) -> Started:
    from runwire.testing.oci_vllm import DEFAULT_TOKEN, OCIVllmEmulator

    emulator = OCIVllmEmulator(
        options.host, options.port, [DEFAULT_TOKEN], log=options.log, max_recorded=1000
    ).start()
    env = {"OCI_LLM_ENDPOINT": emulator.predict_url, "OCI_LLM_BEARER_TOKEN": DEFAULT_TOKEN}
    return Started(
        emulator,
        env,
        dict(env),
        title=f"OCI Data Science vLLM deployment emulator on {emulator.predict_url}",
    )


def _start_kendra(options: EmulatorOptions) -> Started:
    from runwire.testing.kendra import DEFAULT_INDEX_ID, KendraEmulator

    key, secret = _aws_keys(options)
    corpus = _corpus()
    emulator = KendraEmulator(
        options.host,
        options.port,
        {key: secret},
        indexes=None if corpus is None else {DEFAULT_INDEX_ID: corpus},
        log=options.log,
        max_recorded=1000,
    ).start()
    env = {
        "KENDRA_ENDPOINT_URL": emulator.endpoint_url,
        "KENDRA_INDEX_ID": DEFAULT_INDEX_ID,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    return _aws_started(options, emulator, env, f"Kendra emulator on {emulator.endpoint_url}")


def _start_openai_assistants(options: EmulatorOptions) -> Started:
    from runwire.testing.openai_assistants import DEFAULT_API_KEY, AssistantsEmulator

    emulator = AssistantsEmulator(
        options.host, options.port, [DEFAULT_API_KEY], log=options.log, max_recorded=1000
    ).start()
    env = {"OPENAI_BASE_URL": emulator.base_url, "OPENAI_API_KEY": DEFAULT_API_KEY}
    return Started(
        emulator,
        env,
        dict(env),
        title=f"OpenAI Assistants emulator on {emulator.base_url}",
    )


def _start_memorydb(options: EmulatorOptions) -> Started:
    from runwire.testing.memorydb import DEFAULT_PASSWORD, MemoryDBEmulator

    # the password is a public dummy, as the Bedrock emulator's keys: shown as it is
    emulator = MemoryDBEmulator(options.host, options.port, password=DEFAULT_PASSWORD).start()
    env = {"REDIS_URL": emulator.url, "MEMORYDB_URL": emulator.url}
    return Started(
        emulator,
        env,
        dict(env),
        title=f"MemoryDB emulator (Redis protocol, vector search) on {emulator.endpoint_url}",
        report=lambda: _memorydb_report(emulator.calls),
    )


def _memorydb_report(calls: Mapping[str, int]) -> str:
    """The commands the MemoryDB emulator ran, by name."""
    if not calls:
        return ""
    shown = ", ".join(f"{n} x {name}" for name, n in sorted(calls.items()))
    return f"(answered by runwire's MemoryDB emulator: {shown})"


def _start_sagemaker(options: EmulatorOptions) -> Started:
    from runwire.testing.sagemaker import SageMakerEmulator

    key, secret = _aws_keys(options)
    emulator = SageMakerEmulator(
        options.host, options.port, {key: secret}, log=options.log, max_recorded=1000
    ).start()
    env = {
        "SAGEMAKER_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    return _aws_started(
        options, emulator, env, f"SageMaker runtime emulator on {emulator.endpoint_url}"
    )


def _start_s3vectors(options: EmulatorOptions) -> Started:
    from runwire.testing.s3vectors import S3VectorsEmulator

    key, secret = _aws_keys(options)
    emulator = S3VectorsEmulator(
        options.host, options.port, {key: secret}, log=options.log, max_recorded=1000
    ).start()
    env = {
        "S3VECTORS_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    return _aws_started(options, emulator, env, f"S3 Vectors emulator on {emulator.endpoint_url}")


def _start_neptune(options: EmulatorOptions) -> Started:
    from runwire.testing.neptune import NeptuneEmulator

    key, secret = _aws_keys(options)
    emulator = NeptuneEmulator(options.host, options.port, {key: secret}).start()
    env = {
        "NEPTUNE_ENDPOINT_URL": emulator.endpoint_url,
        "NEPTUNE_GRAPH_ID": emulator.graph_identifier,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
    }
    return _aws_started(
        options,
        emulator,
        env,
        f"Neptune emulator (openCypher, SPARQL; a movie graph) on {emulator.endpoint_url}",
    )


EMULATORS: dict[str, EmulatorSpec] = {
    "bedrock": EmulatorSpec(
        "Bedrock (bedrock-runtime, and bedrock-agent-runtime with Knowledge Bases)",
        _start_bedrock,
    ),
    "kendra": EmulatorSpec("Amazon Kendra (Retrieve and Query over a corpus)", _start_kendra),
    "sagemaker": EmulatorSpec(
        "SageMaker runtime (InvokeEndpoint and response streams; TGI, OpenAI, JumpStart bodies)",
        _start_sagemaker,
    ),
    "s3vectors": EmulatorSpec(
        "Amazon S3 Vectors (vector buckets, indexes, exact nearest-neighbour queries)",
        _start_s3vectors,
    ),
    "memorydb": EmulatorSpec(
        "Amazon MemoryDB (Redis protocol with vector search: FT.CREATE, FT.SEARCH KNN)",
        _start_memorydb,
        aws=False,
    ),
    "neptune": EmulatorSpec(
        "Amazon Neptune: openCypher, SPARQL and Neptune Analytics on embedded engines",
        _start_neptune,
    ),
    "oci-vllm": EmulatorSpec(
        "OCI Data Science model deployment serving vLLM's chat API", _start_oci_vllm, aws=False
    ),
    "openai-assistants": EmulatorSpec(
        "OpenAI Assistants v2 (assistants, threads, runs, tool outputs)",
        _start_openai_assistants,
        aws=False,
    ),
}
"""Service name -> how to start its emulator (the choices of ``runwire emulate``)."""
