"""Document corpora for the retrieval emulators (Knowledge Bases, Kendra).

A corpus is a list of documents read from JSONL (one JSON object a line) and searched
with a deterministic keyword scorer, so answers are the same on every machine::

    {"id": "ship-1", "title": "Shipping", "text": "Orders ship within 2 days.",
     "uri": "s3://docs/shipping.md", "metadata": {"topic": "shipping", "year": 2024}}

Names load on first use.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "Corpus": "runwire.testing.corpus.documents",
    "CorpusDocument": "runwire.testing.corpus.documents",
    "CorpusError": "runwire.testing.corpus.documents",
    "DEFAULT_CORPUS_PATH": "runwire.testing.corpus.documents",
    "default_corpus": "runwire.testing.corpus.documents",
    "load_corpus": "runwire.testing.corpus.documents",
    "Hit": "runwire.testing.corpus.scoring",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
