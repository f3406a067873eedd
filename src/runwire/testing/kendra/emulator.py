"""The public face of the Kendra emulator: start it, give it indexes, break it, read it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from runwire.testing.aws_loopback import AwsEmulator
from runwire.testing.corpus.documents import Corpus, as_corpus, default_corpus
from runwire.testing.kendra.operations import DEFAULT_INDEX_ID, OPERATIONS
from runwire.testing.kendra.server import KendraServer, RecordedCall

__all__ = ["KendraEmulator"]


class KendraEmulator(AwsEmulator[RecordedCall]):
    """A local Amazon Kendra (Retrieve, Query) on one HTTP port.

    Point a real boto3 ``kendra`` client at :attr:`endpoint_url`; requests must be
    SigV4-signed with a key pair from ``credentials`` (default: the Bedrock emulator's
    public dummy pair). ``indexes`` maps index ids to corpora (default: runwire's own
    corpus as :data:`DEFAULT_INDEX_ID`); :meth:`add_index` adds more, :meth:`fail`
    injects errors, :attr:`requests` records every authenticated call.
    """

    server_class = KendraServer
    thread_name = "kendra-emulator"
    operations = OPERATIONS

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: Mapping[str, str] | None = None,
        *,
        indexes: Mapping[str, Corpus] | None = None,
        log: Callable[[str], None] | None = None,
        max_recorded: int | None = None,
    ) -> None:
        super().__init__(host, port, credentials, log=log, max_recorded=max_recorded)
        self._indexes = None if indexes is None else dict(indexes)

    @property
    def indexes(self) -> dict[str, Corpus]:
        """Index id -> corpus (the default one until another is added)."""
        if self._indexes is None:
            self._indexes = {DEFAULT_INDEX_ID: default_corpus()}
        return self._indexes

    def add_index(
        self, index_id: str, corpus: Corpus | str | Path | Iterable[Mapping[str, Any]]
    ) -> None:
        """Serve ``corpus`` (a Corpus, a JSONL path, or records) as ``index_id``."""
        if len(index_id) != 36:
            raise ValueError(f"a Kendra index id has 36 characters, not {index_id!r}")
        corpus = as_corpus(corpus)
        with self._lock:
            self.indexes[index_id] = corpus

    def fail(
        self,
        status: int = 400,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded",
        times: int = 1,
        operation: str | None = None,
    ) -> None:
        """Make the next ``times`` calls (of ``operation``, default any) fail with this
        AWS error."""
        self._add_fault(status, code, message, times, operation)
