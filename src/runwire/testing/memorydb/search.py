"""The search commands: FT.CREATE, FT.SEARCH (filters, exact KNN and vector ranges),
FT.INFO, FT.DROPINDEX and FT._LIST over the hashes of database 0.

Each index watches the keyspace, so a hash is (re)indexed when written and forgotten
when deleted or expired. Nearest neighbours are exact: every document that passes the
filter is measured (COSINE ``1 - cos``, IP ``1 - dot``, L2 the squared Euclidean
distance, as Redis reports them); FLAT and HNSW indexes answer alike.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from operator import mul
from typing import Any

from runwire.testing.memorydb.keyspace import Keyspace
from runwire.testing.memorydb.query import parse_query
from runwire.testing.memorydb.resp import ReplyError, Simple
from runwire.testing.memorydb.schema import (
    IndexDoc,
    IndexSpec,
    parse_create,
    query_vector,
    read_doc,
)

__all__ = ["MAX_INDEXES", "SearchEngine"]

MAX_INDEXES = 256
MAX_LIMIT = 10_000
_FLAG_OPTIONS = {"VERBATIM", "NOSTOPWORDS", "WITHSCORES", "INORDER", "EXPLAINSCORE"}


@dataclass
class _Index:
    spec: IndexSpec
    docs: dict[bytes, IndexDoc] = field(default_factory=dict)
    failures: int = 0

    def watch(self, key: bytes, fields: dict[bytes, bytes] | None) -> None:
        if not self.spec.covers(key):
            return
        self.docs.pop(key, None)
        if fields is None:
            return
        doc = read_doc(self.spec, key, fields)
        if doc is None:
            self.failures += 1
        else:
            self.docs[key] = doc


def _distance(metric: str, a: tuple[list[float], float], b: tuple[list[float], float]) -> float:
    if metric == "L2":
        return sum((x - y) * (x - y) for x, y in zip(a[0], b[0], strict=True))
    dot = sum(map(mul, a[0], b[0]))
    if metric == "IP":
        return 1.0 - dot
    norms = a[1] * b[1]
    return 1.0 - dot / norms if norms else 1.0


def _format(distance: float) -> str:
    return f"{distance:.12g}"


@dataclass
class _SearchArgs:
    nocontent: bool = False
    withscores: bool = False
    returns: list[tuple[str, str]] | None = None
    sortby: tuple[str, bool] | None = None
    offset: int = 0
    num: int = 10
    params: dict[str, bytes] = field(default_factory=dict)


def _int_arg(args: list[bytes], i: int, what: str) -> int:
    try:
        return int(args[i])
    except (IndexError, ValueError):
        raise ReplyError(f"Bad arguments for {what}: expected an argument") from None


def _search_args(args: list[bytes]) -> _SearchArgs:
    out = _SearchArgs()
    i = 0
    while i < len(args):
        word = args[i].decode("utf-8", "replace").upper()
        if word == "NOCONTENT":
            out.nocontent = True
            i += 1
        elif word in _FLAG_OPTIONS:
            out.withscores = out.withscores or word == "WITHSCORES"
            i += 1
        elif word == "RETURN":
            count = _int_arg(args, i + 1, "RETURN")
            if count < 0 or i + 2 + count > len(args):
                raise ReplyError("Bad arguments for RETURN: not enough arguments")
            names = [a.decode("utf-8", "replace") for a in args[i + 2 : i + 2 + count]]
            out.returns = []
            j = 0
            while j < len(names):
                if j + 2 < len(names) and names[j + 1].upper() == "AS":
                    out.returns.append((names[j], names[j + 2]))
                    j += 3
                else:
                    out.returns.append((names[j], names[j]))
                    j += 1
            i += 2 + count
        elif word == "SORTBY":
            if i + 1 >= len(args):
                raise ReplyError("Bad arguments for SORTBY: expected an argument")
            name = args[i + 1].decode("utf-8", "replace").lstrip("@")
            i += 2
            descending = False
            if i < len(args) and args[i].upper() in (b"ASC", b"DESC"):
                descending = args[i].upper() == b"DESC"
                i += 1
            out.sortby = (name, descending)
        elif word == "LIMIT":
            out.offset = _int_arg(args, i + 1, "LIMIT")
            out.num = _int_arg(args, i + 2, "LIMIT")
            if out.offset < 0 or out.num < 0 or out.num > MAX_LIMIT:
                raise ReplyError("LIMIT exceeds maximum of MAXSEARCHRESULTS")
            i += 3
        elif word == "PARAMS":
            count = _int_arg(args, i + 1, "PARAMS")
            if count < 0 or count % 2 or i + 2 + count > len(args):
                raise ReplyError("Parameters must be name/value pairs")
            pairs = args[i + 2 : i + 2 + count]
            for name, value in zip(pairs[::2], pairs[1::2], strict=True):
                out.params[name.decode("utf-8", "replace")] = value
            i += 2 + count
        elif word in ("DIALECT", "TIMEOUT", "SLOP", "LANGUAGE", "SCORER", "EXPANDER"):
            if i + 1 >= len(args):
                raise ReplyError(f"Bad arguments for {word}: expected an argument")
            if word == "DIALECT" and args[i + 1] not in (b"1", b"2", b"3", b"4"):
                raise ReplyError("DIALECT requires a non negative integer >=1 and <= 4")
            i += 2
        elif word in ("INKEYS", "INFIELDS"):
            i += 2 + max(_int_arg(args, i + 1, word), 0)
        else:
            raise ReplyError(f"Unknown argument `{args[i].decode('utf-8', 'replace')}`")
    return out


def _sort_key(doc: IndexDoc, name: str, scores: dict[bytes, float]) -> tuple[int, Any]:
    if name in doc.numbers:
        return (0, doc.numbers[name])
    if doc.key in scores and name not in doc.text and name not in doc.tags:
        return (0, scores[doc.key])
    raw = doc.fields.get(name.encode())
    return (1, raw) if raw is not None else (2, b"")


class SearchEngine:
    """The indexes of one emulator, watching database 0."""

    def __init__(self, keyspace: Keyspace) -> None:
        self.keyspace = keyspace
        self.indexes: dict[str, _Index] = {}

    def _get(self, name: bytes) -> _Index:
        index = self.indexes.get(name.decode("utf-8", "replace"))
        if index is None:
            raise ReplyError(f"{name.decode('utf-8', 'replace')}: no such index")
        return index

    # -- commands -------------------------------------------------------------------------
    def create(self, args: list[bytes]) -> Any:
        """FT.CREATE index [ON HASH] [PREFIX n p...] SCHEMA field type [options]..."""
        if len(args) < 1:
            raise ReplyError("wrong number of arguments for 'ft.create' command")
        name = args[0].decode("utf-8", "replace")
        if name in self.indexes:
            raise ReplyError("Index already exists")
        if len(self.indexes) >= MAX_INDEXES:
            raise ReplyError(f"Max number of indexes reached ({MAX_INDEXES})")
        index = _Index(parse_create(name, args[1:]))
        for key in self.keyspace.live_keys():
            value = self.keyspace.get(key)
            if isinstance(value, dict):
                index.watch(key, value)
        self.indexes[name] = index
        self.keyspace.watchers.append(index.watch)
        return Simple("OK")

    def drop(self, args: list[bytes]) -> Any:
        """FT.DROPINDEX index [DD]: forget the index (and with DD delete its hashes)."""
        if not args or len(args) > 2:
            raise ReplyError("wrong number of arguments for 'ft.dropindex' command")
        index = self._get(args[0])
        if len(args) == 2 and args[1].upper() != b"DD":
            raise ReplyError(f"Unknown argument `{args[1].decode('utf-8', 'replace')}`")
        del self.indexes[index.spec.name]
        self.keyspace.watchers.remove(index.watch)
        if len(args) == 2:
            for key in list(index.docs):
                self.keyspace.delete(key)
        return Simple("OK")

    def list(self, args: list[bytes]) -> Any:
        """FT._LIST: the index names."""
        return sorted(self.indexes)

    def info(self, args: list[bytes]) -> Any:
        """FT.INFO index: definition, attributes and counts."""
        if len(args) != 1:
            raise ReplyError("wrong number of arguments for 'ft.info' command")
        index = self._get(args[0])
        spec = index.spec
        return {
            "index_name": spec.name,
            "index_options": [],
            "index_definition": {
                "key_type": "HASH",
                "prefixes": [p.decode("utf-8", "replace") for p in spec.prefixes],
                "default_score": "1",
            },
            "attributes": [f.info() for f in spec.fields],
            "num_docs": len(index.docs),
            "max_doc_id": len(index.docs),
            "num_terms": 0,
            "num_records": len(index.docs),
            "hash_indexing_failures": index.failures,
            "indexing": 0,
            "percent_indexed": "1",
        }

    def search(self, args: list[bytes], proto: int) -> Any:
        """FT.SEARCH index query [options]: matching hashes, or the k nearest."""
        if len(args) < 2:
            raise ReplyError("wrong number of arguments for 'ft.search' command")
        index = self._get(args[0])
        options = _search_args(args[2:])
        query = parse_query(args[1].decode("utf-8", "replace"), index.spec, options.params)
        docs = [d for d in index.docs.values() if query.predicate(d)]
        scores: dict[bytes, float] = {}
        alias = None
        clause = query.knn or query.range
        if clause is not None:
            vec_field = index.spec.field(clause.field)
            if vec_field is None or vec_field.type != "VECTOR":
                raise ReplyError(f"Unknown field `{clause.field}`")
            if clause.param not in options.params:
                raise ReplyError(f"No such parameter `{clause.param}`")
            target = query_vector(options.params[clause.param], vec_field.options)
            metric = vec_field.options["distance_metric"]
            measured = [
                (_distance(metric, target, d.vectors[clause.field]), d.key, d)
                for d in docs
                if clause.field in d.vectors
            ]
            if query.knn is not None:
                measured = heapq.nsmallest(query.knn.k, measured, key=lambda m: (m[0], m[1]))
                alias = query.knn.alias
            else:
                measured = sorted(
                    (m for m in measured if m[0] <= query.range.radius),  # type: ignore[union-attr]
                    key=lambda m: (m[0], m[1]),
                )
                alias = query.range.alias  # type: ignore[union-attr]
            docs = [m[2] for m in measured]
            scores = {m[1]: m[0] for m in measured}
        else:
            docs.sort(key=lambda d: d.key)
        if options.sortby is not None:
            name, descending = options.sortby
            if alias is not None and name == alias:
                docs.sort(key=lambda d: (scores[d.key], d.key), reverse=descending)
            else:
                docs.sort(key=lambda d: _sort_key(d, name, scores), reverse=descending)
        total = len(docs)
        page = docs[options.offset : options.offset + options.num]
        return self._reply(page, total, options, scores, alias, proto)

    def _fields(
        self, doc: IndexDoc, options: _SearchArgs, scores: dict[bytes, float], alias: str | None
    ) -> dict[bytes, Any]:
        values: dict[bytes, Any] = dict(doc.fields)
        if alias is not None and doc.key in scores:
            values[alias.encode()] = _format(scores[doc.key])
        if options.returns is None:
            return values
        picked: dict[bytes, Any] = {}
        for name, shown in options.returns:
            value = values.get(name.encode())
            if value is not None:
                picked[shown.encode()] = value
        return picked

    def _reply(
        self,
        page: list[IndexDoc],
        total: int,
        options: _SearchArgs,
        scores: dict[bytes, float],
        alias: str | None,
        proto: int,
    ) -> Any:
        if proto == 3:
            results = []
            for doc in page:
                item: dict[str, Any] = {"id": doc.key}
                if options.withscores:
                    item["score"] = 1.0
                if not options.nocontent:
                    item["extra_attributes"] = self._fields(doc, options, scores, alias)
                item["values"] = []
                results.append(item)
            return {
                "attributes": [],
                "format": Simple("STRING"),
                "results": results,
                "total_results": total,
                "warning": [],
            }
        reply: list[Any] = [total]
        for doc in page:
            reply.append(doc.key)
            if options.withscores:
                reply.append("1")
            if not options.nocontent:
                fields = self._fields(doc, options, scores, alias)
                reply.append([x for pair in fields.items() for x in pair])
        return reply
