"""Corpus documents: reading them from JSONL and searching them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from runwire.testing.corpus.scoring import Hit, Scorer

__all__ = [
    "DEFAULT_CORPUS_PATH",
    "MAX_CORPUS_BYTES",
    "Corpus",
    "CorpusDocument",
    "CorpusError",
    "as_corpus",
    "default_corpus",
    "load_corpus",
]

DEFAULT_CORPUS_PATH = Path(__file__).with_name("default.jsonl")
"""The corpus the emulators serve when given none: facts about runwire itself."""
MAX_CORPUS_BYTES = 64 * 1024 * 1024
"""A corpus file larger than this is refused (the emulator holds it in memory)."""

_KEYS = frozenset(("id", "text", "title", "uri", "metadata", "kind", "question", "access"))


class CorpusError(ValueError):
    """A corpus file or record that cannot be used; the message names file and line."""


@dataclass(frozen=True)
class CorpusDocument:
    """One document. ``kind`` is ``"document"`` or ``"faq"`` (a question and its answer
    in ``text``: Kendra's Query returns these, Retrieve and Knowledge Bases do not).
    ``access`` optionally limits who may see it: ``{"users": [...], "groups": [...]}``
    (Kendra user context)."""

    id: str
    text: str
    title: str = ""
    uri: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "document"
    question: str = ""
    access: Mapping[str, list[str]] | None = None

    @classmethod
    def from_record(cls, record: Any, where: str) -> CorpusDocument:
        """A document from a parsed JSON record; ``where`` names it in errors."""
        if not isinstance(record, dict):
            raise CorpusError(f"{where}: expected a JSON object, got {type(record).__name__}")
        unknown = sorted(set(record) - _KEYS)
        if unknown:
            raise CorpusError(f"{where}: unknown key(s) {unknown}; known: {sorted(_KEYS)}")
        for key in ("id", "text"):
            if not isinstance(record.get(key), str) or not record[key]:
                raise CorpusError(f"{where}: {key!r} must be a non-empty string")
        for key in ("title", "uri", "question"):
            if not isinstance(record.get(key, ""), str):
                raise CorpusError(f"{where}: {key!r} must be a string")
        if not isinstance(record.get("metadata", {}), dict):
            raise CorpusError(f"{where}: 'metadata' must be an object")
        kind = record.get("kind", "document")
        if kind not in ("document", "faq"):
            raise CorpusError(f"{where}: 'kind' must be 'document' or 'faq', not {kind!r}")
        access = record.get("access")
        if access is not None and not (
            isinstance(access, dict)
            and set(access) <= {"users", "groups"}
            and all(isinstance(v, list) for v in access.values())
        ):
            raise CorpusError(f"{where}: 'access' must be {{'users': [...], 'groups': [...]}}")
        return cls(
            id=record["id"],
            text=record["text"],
            title=record.get("title", ""),
            uri=record.get("uri", ""),
            metadata=dict(record.get("metadata", {})),
            kind=kind,
            question=record.get("question", ""),
            access=access,
        )


class Corpus:
    """Documents and their keyword index; immutable once built."""

    def __init__(self, documents: Iterable[CorpusDocument]) -> None:
        self.documents: tuple[CorpusDocument, ...] = tuple(documents)
        ids = [doc.id for doc in self.documents]
        if len(set(ids)) != len(ids):
            duplicated = sorted({i for i in ids if ids.count(i) > 1})
            raise CorpusError(f"duplicate document id(s): {duplicated}")
        self._scorer = Scorer([f"{d.title} {d.question} {d.text}" for d in self.documents])

    @classmethod
    def from_records(cls, records: Iterable[Any], source: str = "<records>") -> Corpus:
        """A corpus of parsed JSON records (see the package docstring)."""
        return cls(
            CorpusDocument.from_record(record, f"{source}: record {i}")
            for i, record in enumerate(records, 1)
        )

    def __len__(self) -> int:
        return len(self.documents)

    def search(
        self, query: str, accept: Callable[[CorpusDocument], bool] | None = None
    ) -> list[tuple[Hit, CorpusDocument]]:
        """Documents matching ``query`` (score > 0), best first, ties in corpus order;
        ``accept`` filters them (metadata filters, access control)."""
        return [
            (hit, self.documents[hit.index])
            for hit in self._scorer.rank(query)
            if accept is None or accept(self.documents[hit.index])
        ]


def load_corpus(path: str | Path) -> Corpus:
    """A corpus from a JSONL file (blank lines and lines starting with ``#`` skipped)."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_CORPUS_BYTES:
            raise CorpusError(f"{path}: {size} bytes, over the {MAX_CORPUS_BYTES}-byte limit")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"cannot read corpus {path}: {exc}") from None
    documents = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise CorpusError(f"{path}:{number}: not JSON: {exc}") from None
        documents.append(CorpusDocument.from_record(record, f"{path}:{number}"))
    return Corpus(documents)


def as_corpus(source: Corpus | str | Path | Iterable[Mapping[str, Any]]) -> Corpus:
    """``source`` as a Corpus: a Corpus as it is, a JSONL path loaded, records read."""
    if isinstance(source, Corpus):
        return source
    if isinstance(source, str | Path):
        return load_corpus(source)
    return Corpus.from_records(source)


@cache
def default_corpus() -> Corpus:
    """The corpus shipped with runwire (:data:`DEFAULT_CORPUS_PATH`)."""
    return load_corpus(DEFAULT_CORPUS_PATH)
