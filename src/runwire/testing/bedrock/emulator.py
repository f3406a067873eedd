"""The public face of the Bedrock emulator: start it, script it, break it, read it."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Collection, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runwire.testing.aws_loopback import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_CREDENTIALS,
    DEFAULT_SECRET_ACCESS_KEY,
    AwsEmulator,
)
from runwire.testing.bedrock.operations import OPERATIONS
from runwire.testing.bedrock.replies import Reply, Script
from runwire.testing.bedrock.server import EmulatorServer, RecordedRequest

if TYPE_CHECKING:
    from runwire.testing.corpus.documents import Corpus

__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_SECRET_ACCESS_KEY",
    "BedrockEmulator",
]


class BedrockEmulator(AwsEmulator[RecordedRequest]):
    """A local Bedrock (bedrock-runtime and bedrock-agent-runtime) on one HTTP port.

    Point a real boto3 client at :attr:`endpoint_url`. Requests must be SigV4-signed
    with a key pair from ``credentials``, or carry one of ``api_keys`` (Bedrock API
    keys) as a bearer token (``require_auth=False`` only checks that an Authorization
    header is there). Chat calls answer with the next scripted reply
    (:meth:`script`), else the default rule (echo the last user text, or call a tool the
    text names); :meth:`fail` injects errors; :attr:`requests` records every
    authenticated request. Knowledge Bases Retrieve searches ``knowledge_bases`` (id ->
    corpus; default: runwire's own corpus as ``RUNWIREKB1``), see
    :meth:`add_knowledge_base`.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    server_class = EmulatorServer
    thread_name = "bedrock-emulator"
    operations = OPERATIONS

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        api_keys: Collection[str] = (),
        require_auth: bool = True,
        latency_ms: int = 100,
        embedding_latency_ms: int = 20,
        simulate_latency: bool = False,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
        knowledge_bases: Mapping[str, Corpus] | None = None,
    ) -> None:
        super().__init__(host, port, credentials, log=log, max_recorded=max_recorded)
        self._api_keys = frozenset(api_keys)
        self.require_auth = require_auth
        self.latency_ms = latency_ms
        """What ``metrics.latencyMs`` and the invocation metrics report (fixed, so
        answers are deterministic)."""
        self.embedding_latency_ms = embedding_latency_ms
        """What an embedding call reports in ``X-Amzn-Bedrock-Invocation-Latency``."""
        self.simulate_latency = simulate_latency
        """Take as long as reported: a model call answers no sooner than its latency
        (a stream's first event waits for it), as a real model's generation time. Off by
        default, so tests run at loopback speed; benchmarks that compare against a model
        call turn it on."""
        self.scripted = Script()
        self._knowledge_bases = None if knowledge_bases is None else dict(knowledge_bases)

    # -- credentials ---------------------------------------------------------------------
    @property
    def access_key_ids(self) -> tuple[str, ...]:
        """The access key ids the emulator knows (never the secrets)."""
        return tuple(self._credentials)

    def knows_api_key(self, token: str) -> bool:
        """Whether ``token`` is one of the Bedrock API keys (bearer tokens) it accepts."""
        return any(hmac.compare_digest(token.encode(), key.encode()) for key in self._api_keys)

    # -- knowledge bases -----------------------------------------------------------------
    @property
    def knowledge_bases(self) -> dict[str, Corpus]:
        """Knowledge base id -> corpus (the default one until another is added)."""
        if self._knowledge_bases is None:
            from runwire.testing.bedrock.knowledge_bases import DEFAULT_KNOWLEDGE_BASE_ID
            from runwire.testing.corpus.documents import default_corpus

            self._knowledge_bases = {DEFAULT_KNOWLEDGE_BASE_ID: default_corpus()}
        return self._knowledge_bases

    def add_knowledge_base(
        self, knowledge_base_id: str, corpus: Corpus | str | Path | Iterable[Mapping[str, Any]]
    ) -> None:
        """Serve ``corpus`` (a Corpus, a JSONL path, or records) as ``knowledge_base_id``,
        next to the ones already served (a first call keeps the default one too)."""
        from runwire.testing.bedrock.knowledge_bases import KNOWLEDGE_BASE_ID
        from runwire.testing.corpus.documents import as_corpus

        if not KNOWLEDGE_BASE_ID.match(knowledge_base_id):
            raise ValueError(
                f"a knowledge base id is 10 letters or digits, not {knowledge_base_id!r}"
            )
        corpus = as_corpus(corpus)
        with self._lock:
            self.knowledge_bases[knowledge_base_id] = corpus

    # -- scripting -----------------------------------------------------------------------
    def script(self, *replies: Reply | str | Mapping[str, Any]) -> None:
        """Queue replies, consumed one per chat call (Converse, ConverseStream, and
        InvokeModel / InvokeModelWithResponseStream on a chat or text model). A string is
        ``Reply(text=...)``."""
        self.scripted.extend(replies)

    def fail(
        self,
        status: int = 429,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded",
        times: int = 1,
        operation: str | None = None,
        *,
        mid_stream: bool = False,
    ) -> None:
        """Make the next ``times`` requests (of ``operation``, default any) fail with
        this AWS error. ``mid_stream=True`` fails stream operations only, after half of
        their events, with an event-stream exception message. Failing requests are
        recorded and consume no scripted reply."""
        self._add_fault(status, code, message, times, operation, mid_stream)

    def reset(self) -> None:
        """Forget scripted replies, injected failures and recorded requests."""
        self.scripted.clear()
        super().reset()
