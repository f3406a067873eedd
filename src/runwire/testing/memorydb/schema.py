"""Index definitions: ``FT.CREATE``'s arguments parsed into fields, and hashes turned into
indexed documents (text tokens, tags, numbers, vectors) as the search engine reads them.

Only hash indexes exist (``ON HASH``, MemoryDB's only kind besides JSON, which is not
emulated). Text is tokenized on punctuation and whitespace and lower-cased; there is no
stemming and there are no stopwords. Vectors are FLOAT32 or FLOAT64 of ``DIM`` values;
a hash whose vector has the wrong size, or whose numeric field is not a number, is not
indexed and counts as an indexing failure, as in Redis.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from runwire.testing.memorydb.resp import ReplyError

__all__ = ["FieldSpec", "IndexDoc", "IndexSpec", "parse_create", "tokenize"]

_SEPARATORS = re.compile(r"[\s,.<>{}\[\]\"':;!@#$%^&*()\-+=~|/\\?]+")
_VECTOR_TYPES = {"FLOAT32": "f", "FLOAT64": "d"}
_METRICS = ("COSINE", "L2", "IP")
MAX_DIM = 32768
MAX_FIELDS = 1024


def tokenize(text: str) -> list[str]:
    """The lower-cased words of ``text`` (split on punctuation and whitespace)."""
    return [t for t in _SEPARATORS.split(text.lower()) if t]


@dataclass
class FieldSpec:
    """One attribute of an index: a hash field read as TEXT, TAG, NUMERIC or VECTOR."""

    identifier: str
    attribute: str
    type: str
    options: dict[str, Any] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)

    def info(self) -> list[Any]:
        """The attribute as FT.INFO lists it."""
        out: list[Any] = ["identifier", self.identifier, "attribute", self.attribute]
        out += ["type", self.type]
        if self.type == "VECTOR":
            for key, value in self.options.items():
                out += [key.lower(), value]
        else:
            for key, value in self.options.items():
                out += [key, value]
        return out + self.flags


@dataclass
class IndexSpec:
    """An index: its name, key prefixes and attributes."""

    name: str
    prefixes: list[bytes]
    fields: list[FieldSpec]

    def field(self, attribute: str) -> FieldSpec | None:
        """The attribute named ``attribute`` (its alias), or None."""
        for spec in self.fields:
            if spec.attribute == attribute:
                return spec
        return None

    def covers(self, key: bytes) -> bool:
        """Whether the index holds the hash at ``key`` (its key starts with a prefix)."""
        return any(key.startswith(p) for p in self.prefixes)


@dataclass
class IndexDoc:
    """A hash as the index reads it."""

    key: bytes
    fields: dict[bytes, bytes]
    text: dict[str, list[str]] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    numbers: dict[str, float] = field(default_factory=dict)
    vectors: dict[str, tuple[list[float], float]] = field(default_factory=dict)


def _upper(arg: bytes) -> str:
    return arg.decode("utf-8", "replace").upper()


def _number(arg: bytes, what: str) -> float:
    try:
        return float(arg)
    except ValueError:
        raise ReplyError(f"Bad arguments for {what}: expected a number") from None


def _vector_options(name: str, args: list[bytes], i: int) -> tuple[dict[str, Any], int]:
    if i >= len(args):
        raise ReplyError("Bad arguments for vector similarity algorithm")
    algorithm = _upper(args[i])
    if algorithm not in ("FLAT", "HNSW"):
        raise ReplyError(f"Bad arguments for vector similarity algorithm: `{algorithm}`")
    try:
        count = int(args[i + 1])
    except (IndexError, ValueError):
        raise ReplyError("Bad arguments for vector similarity number of parameters") from None
    if count % 2 or count < 0 or i + 2 + count > len(args):
        raise ReplyError("Bad number of arguments for vector similarity index")
    options: dict[str, Any] = {"algorithm": algorithm}
    pairs = args[i + 2 : i + 2 + count]
    for key, value in zip(pairs[::2], pairs[1::2], strict=True):
        option = _upper(key)
        if option == "TYPE":
            kind = _upper(value)
            if kind not in _VECTOR_TYPES:
                raise ReplyError(f"Bad arguments for vector similarity {algorithm} index type")
            options["data_type"] = kind
        elif option == "DIM":
            dim = int(_number(value, "vector similarity dimension"))
            if not 0 < dim <= MAX_DIM:
                raise ReplyError(f"Bad arguments for vector similarity {algorithm} index dim")
            options["dim"] = dim
        elif option == "DISTANCE_METRIC":
            metric = _upper(value)
            if metric not in _METRICS:
                raise ReplyError(f"Bad arguments for vector similarity {algorithm} index metric")
            options["distance_metric"] = metric
        elif option in ("INITIAL_CAP", "BLOCK_SIZE", "M", "EF_CONSTRUCTION", "EF_RUNTIME"):
            options[option.lower()] = int(_number(value, option))
        elif option == "EPSILON":
            options["epsilon"] = _number(value, option)
        else:
            raise ReplyError(f"Bad arguments for vector similarity {algorithm} index: `{option}`")
    for required in ("data_type", "dim", "distance_metric"):
        if required not in options:
            raise ReplyError(
                f"Missing mandatory parameter: cannot create {algorithm} index without "
                f"specifying {required.upper()} argument"
            )
    return options, i + 2 + count


_FLAGS = {
    "TEXT": {
        "NOSTEM",
        "SORTABLE",
        "NOINDEX",
        "WITHSUFFIXTRIE",
        "UNF",
        "INDEXEMPTY",
        "INDEXMISSING",
    },
    "TAG": {"CASESENSITIVE", "SORTABLE", "NOINDEX", "WITHSUFFIXTRIE", "UNF", "INDEXEMPTY"},
    "NUMERIC": {"SORTABLE", "NOINDEX", "UNF", "INDEXMISSING"},
}
_VALUED = {"TEXT": {"WEIGHT", "PHONETIC"}, "TAG": {"SEPARATOR"}, "NUMERIC": set()}


def _field(args: list[bytes], i: int) -> tuple[FieldSpec, int]:
    identifier = args[i].decode("utf-8", "replace")
    i += 1
    attribute = identifier
    if i < len(args) and _upper(args[i]) == "AS":
        if i + 1 >= len(args):
            raise ReplyError("Bad arguments for AS: expected an alias")
        attribute = args[i + 1].decode("utf-8", "replace")
        i += 2
    if i >= len(args):
        raise ReplyError(f"Field `{identifier}` has no type")
    kind = _upper(args[i])
    i += 1
    if kind == "VECTOR":
        options, i = _vector_options(identifier, args, i)
        return FieldSpec(identifier, attribute, kind, options), i
    if kind not in _FLAGS:
        raise ReplyError(f"Invalid field type for field `{identifier}`")
    spec = FieldSpec(identifier, attribute, kind)
    if kind == "TEXT":
        spec.options["WEIGHT"] = "1"
    if kind == "TAG":
        spec.options["SEPARATOR"] = ","
    while i < len(args):
        word = _upper(args[i])
        if word in _VALUED[kind]:
            if i + 1 >= len(args):
                raise ReplyError(f"Bad arguments for {word}: missing value")
            value = args[i + 1].decode("utf-8", "replace")
            if word == "SEPARATOR" and len(value) != 1:
                raise ReplyError("Tag separator must be a single character")
            if word == "WEIGHT":
                value = f"{_number(args[i + 1], 'WEIGHT'):g}"
            spec.options[word] = value
            i += 2
        elif word in _FLAGS[kind]:
            if word not in spec.flags:
                spec.flags.append(word)
            i += 1
        else:
            break
    return spec, i


_CREATE_VALUED = {"LANGUAGE", "LANGUAGE_FIELD", "SCORE", "SCORE_FIELD", "PAYLOAD_FIELD", "FILTER"}
_CREATE_FLAGS = {"NOOFFSETS", "NOHL", "NOFIELDS", "NOFREQS", "SKIPINITIALSCAN", "MAXTEXTFIELDS"}


def parse_create(name: str, args: list[bytes]) -> IndexSpec:
    """``FT.CREATE name <args>`` as an index definition (Redis's errors otherwise)."""
    prefixes: list[bytes] = []
    i = 0
    while i < len(args):
        word = _upper(args[i])
        if word == "SCHEMA":
            i += 1
            break
        if word == "ON":
            kind = _upper(args[i + 1]) if i + 1 < len(args) else ""
            if kind != "HASH":
                raise ReplyError(f"Unsupported index type `{kind}`: only ON HASH is emulated")
            i += 2
        elif word == "PREFIX":
            try:
                count = int(args[i + 1])
            except (IndexError, ValueError):
                raise ReplyError("Bad arguments for PREFIX: expected a count") from None
            if count < 0 or i + 2 + count > len(args):
                raise ReplyError("Bad arguments for PREFIX: not enough prefixes")
            prefixes += args[i + 2 : i + 2 + count]
            i += 2 + count
        elif word == "STOPWORDS":
            try:
                count = int(args[i + 1])
            except (IndexError, ValueError):
                raise ReplyError("Bad arguments for STOPWORDS: expected a count") from None
            i += 2 + max(count, 0)
        elif word in _CREATE_VALUED:
            i += 2
        elif word in _CREATE_FLAGS or word == "TEMPORARY":
            i += 2 if word == "TEMPORARY" else 1
        else:
            raise ReplyError(f"Unknown argument `{args[i].decode('utf-8', 'replace')}`")
    else:
        raise ReplyError("No schema found")
    fields: list[FieldSpec] = []
    while i < len(args):
        spec, i = _field(args, i)
        if any(f.attribute == spec.attribute for f in fields):
            raise ReplyError(f"Duplicate field in schema - {spec.attribute}")
        fields.append(spec)
        if len(fields) > MAX_FIELDS:
            raise ReplyError("Too many fields in schema")
    if not fields:
        raise ReplyError("Fields arguments are missing")
    return IndexSpec(name, prefixes or [b""], fields)


def read_doc(spec: IndexSpec, key: bytes, fields: dict[bytes, bytes]) -> IndexDoc | None:
    """The hash as ``spec`` indexes it, or None when a value cannot be indexed."""
    doc = IndexDoc(key, fields)
    for attr in spec.fields:
        raw = fields.get(attr.identifier.encode())
        if raw is None or "NOINDEX" in attr.flags:
            continue
        if attr.type == "VECTOR":
            vector = _vector(raw, attr.options)
            if vector is None:
                return None
            doc.vectors[attr.attribute] = vector
            continue
        text = raw.decode("utf-8", "replace")
        if attr.type == "TEXT":
            doc.text[attr.attribute] = tokenize(text)
        elif attr.type == "TAG":
            separator = attr.options.get("SEPARATOR", ",")
            case = "CASESENSITIVE" in attr.flags
            tags = [t.strip() for t in text.split(separator)]
            doc.tags[attr.attribute] = [t if case else t.lower() for t in tags if t]
        elif attr.type == "NUMERIC":
            try:
                number = float(text)
            except ValueError:
                return None
            if math.isnan(number):
                return None
            doc.numbers[attr.attribute] = number
    return doc


def _vector(raw: bytes, options: dict[str, Any]) -> tuple[list[float], float] | None:
    code = _VECTOR_TYPES[options["data_type"]]
    width = struct.calcsize(code)
    if len(raw) != width * options["dim"]:
        return None
    values = list(struct.unpack(f"<{options['dim']}{code}", raw))
    if not all(math.isfinite(v) for v in values):
        return None
    return values, math.sqrt(sum(v * v for v in values))


def query_vector(raw: bytes, options: dict[str, Any]) -> tuple[list[float], float]:
    """A query's vector parameter (its blob must be ``DIM`` values of the field's type)."""
    vector = _vector(raw, options)
    if vector is None:
        raise ReplyError(
            f"Error parsing vector similarity query: query vector blob size ({len(raw)}) "
            "does not match index's expected size "
            f"({struct.calcsize(_VECTOR_TYPES[options['data_type']]) * options['dim']})."
        )
    return vector
