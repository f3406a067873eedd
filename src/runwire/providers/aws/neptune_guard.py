"""Read-only guards for model-written graph queries (openCypher and SPARQL), and a
result-size limit.

LangChain's Neptune QA chains run whatever query the model writes, behind a security
note. These checks refuse a query that could change the graph or reach elsewhere, each
refusal naming the clause and where it is:

- openCypher: ``CREATE``, ``MERGE``, ``SET``, ``DELETE``/``DETACH``, ``REMOVE``,
  ``DROP``, ``FOREACH``, ``LOAD CSV``, a ``CALL`` of a procedure not known to only read,
  and more than one statement;
- SPARQL: every SPARQL Update operation (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``,
  ``CREATE``, ``DROP``, ``COPY``, ``MOVE``, ``ADD``), ``SERVICE`` (a federated query
  sends requests to another endpoint), and anything that is not a SELECT, ASK,
  CONSTRUCT or DESCRIBE query.

The query is lexed, not pattern-matched: strings, comments, IRIs, backquoted names,
property keys, labels, map keys, variables and prefixed names never trigger a refusal,
and a keyword hidden in odd case or spacing still does. Names are refused
conservatively: a variable called ``set`` is refused too (rename it).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from runwire.errors import RunwireError

__all__ = [
    "CYPHER_READ_PROCEDURES",
    "QueryLimitError",
    "ReadOnlyQueryError",
    "check_cypher_read_only",
    "check_result_size",
    "check_sparql_read_only",
]

MAX_QUERY_CHARS = 100_000
CYPHER_WRITES = frozenset(
    ("CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "FOREACH", "LOAD")
)
CYPHER_READ_PROCEDURES = frozenset(
    ("neptune.graph.pg_schema", "db.labels", "db.relationshiptypes", "db.propertykeys")
)
"""Procedures a read-only query may CALL (compared lower-cased); ``neptune.algo.*``
algorithms are allowed too, except their ``.mutate`` forms, which write results back."""
SPARQL_UPDATES = frozenset(
    ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD")
)
SPARQL_FORMS = frozenset(("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"))


class ReadOnlyQueryError(RunwireError, ValueError):
    """A generated query was refused: it could write, or reach another endpoint."""

    def __init__(self, language: str, clause: str, line: int, column: int, why: str) -> None:
        self.language = language
        self.clause = clause
        self.line = line
        self.column = column
        super().__init__(
            f"the {language} query is refused: {clause} at line {line}, column {column} "
            f"{why}; the chain runs read-only queries unless the file says read_only: false"
        )


class QueryLimitError(RunwireError, ValueError):
    """A query's result is over the chain's row or byte limit."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "word", "punct"
    text: str
    pos: int


def _where(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _skip_quoted(text: str, i: int, quote: str, language: str) -> int:
    """The index after the string or name opened at ``i``."""
    triple = quote * 3
    if language == "SPARQL" and text.startswith(triple, i):
        end = text.find(triple, i + 3)
        if end < 0:
            raise _unterminated(text, i, language, "string")
        return end + 3
    j = i + 1
    while j < len(text):
        char = text[j]
        if char == "\\" and quote != "`":
            j += 2
            continue
        if char == quote:
            if quote == "`" and text.startswith("``", j):
                j += 2
                continue
            return j + 1
        j += 1
    raise _unterminated(text, i, language, "name" if quote == "`" else "string")


def _unterminated(text: str, pos: int, language: str, what: str) -> ReadOnlyQueryError:
    line, column = _where(text, pos)
    return ReadOnlyQueryError(language, f"an unterminated {what}", line, column, "cannot be read")


def _lex(text: str, language: str) -> list[_Token]:
    if len(text) > MAX_QUERY_CHARS:
        raise ReadOnlyQueryError(language, "the query", 1, 1, f"is over {MAX_QUERY_CHARS} chars")
    tokens: list[_Token] = []
    i = 0
    quotes = "'\"`" if language == "openCypher" else "'\""
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in quotes:
            i = _skip_quoted(text, i, char, language)
            tokens.append(_Token("literal", "", i))
        elif language == "openCypher" and text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif language == "openCypher" and text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise _unterminated(text, i, language, "comment")
            i = end + 2
        elif language == "SPARQL" and char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif language == "SPARQL" and char == "<" and _iri_end(text, i) > 0:
            i = _iri_end(text, i)
            tokens.append(_Token("literal", "", i))
        elif char.isalnum() or char == "_":
            word_chars = "_-" if language == "SPARQL" else "_"  # SPARQL names may hold '-'
            j = i
            while j < len(text) and (text[j].isalnum() or text[j] in word_chars):
                j += 1
            tokens.append(_Token("word", text[i:j], i))
            i = j
        else:
            tokens.append(_Token("punct", char, i))
            i += 1
    return tokens


def _iri_end(text: str, i: int) -> int:
    """The index after an IRI ``<...>`` opened at ``i`` (0 when ``<`` is a comparison)."""
    for j in range(i + 1, min(len(text), i + 4096)):
        char = text[j]
        if char == ">":
            return j + 1
        if char.isspace() or char in '<"{}|^`\\':
            return 0
    return 0


def _is_name(tokens: Sequence[_Token], i: int) -> bool:
    """Whether the word at ``i`` is a name (property, label, map key, parameter,
    variable or prefixed name) rather than a keyword."""
    before = tokens[i - 1].text if i > 0 and tokens[i - 1].kind == "punct" else ""
    after = tokens[i + 1].text if i + 1 < len(tokens) and tokens[i + 1].kind == "punct" else ""
    if before in (".", ":", "$", "?"):
        return True
    return after == ":"


def _refuse(language: str, text: str, token: _Token, clause: str, why: str) -> ReadOnlyQueryError:
    line, column = _where(text, token.pos)
    return ReadOnlyQueryError(language, clause, line, column, why)


def _procedure(tokens: Sequence[_Token], i: int) -> tuple[str, int]:
    """The dotted procedure name starting at ``i`` and the index after it."""
    parts: list[str] = []
    while i < len(tokens) and tokens[i].kind == "word":
        parts.append(tokens[i].text)
        if i + 1 < len(tokens) and tokens[i + 1].text == ".":
            i += 2
        else:
            i += 1
            break
    return ".".join(parts), i


def _procedure_reads(name: str, allowed: Iterable[str]) -> bool:
    lowered = name.lower()
    if lowered in {p.lower() for p in allowed}:
        return True
    return lowered.startswith("neptune.algo.") and not lowered.endswith(".mutate")


def check_cypher_read_only(
    query: str, read_procedures: Iterable[str] = CYPHER_READ_PROCEDURES
) -> None:
    """Refuse an openCypher query that could write (see the module docstring)."""
    tokens = _lex(query, "openCypher")
    for i, token in enumerate(tokens):
        if token.kind == "punct" and token.text == ";":
            if any(t.kind != "punct" or t.text != ";" for t in tokens[i + 1 :]):
                raise _refuse("openCypher", query, token, "a second statement", "follows ';'")
            continue
        if token.kind != "word" or _is_name(tokens, i):
            continue
        word = token.text.upper()
        if word in CYPHER_WRITES:
            clause = "LOAD CSV" if word == "LOAD" else word
            raise _refuse("openCypher", query, token, clause, "writes to the graph or reads files")
        if word == "CALL" and i + 1 < len(tokens) and tokens[i + 1].kind == "word":
            name, _ = _procedure(tokens, i + 1)
            if not _procedure_reads(name, read_procedures):
                raise _refuse(
                    "openCypher", query, token, f"CALL {name}", "is not a known read procedure"
                )


def check_sparql_read_only(query: str) -> None:
    """Refuse a SPARQL request that is not a plain query (see the module docstring)."""
    tokens = _lex(query, "SPARQL")
    form_seen = False
    for i, token in enumerate(tokens):
        if token.kind != "word" or _is_name(tokens, i):
            continue
        word = token.text.upper()
        if word in SPARQL_UPDATES:
            raise _refuse("SPARQL", query, token, word, "is a SPARQL Update operation")
        if word == "SERVICE":
            raise _refuse("SPARQL", query, token, word, "sends a request to another endpoint")
        if not form_seen and word not in ("PREFIX", "BASE"):
            if word not in SPARQL_FORMS:
                raise _refuse(
                    "SPARQL", query, token, word, "is not SELECT, ASK, CONSTRUCT or DESCRIBE"
                )
            form_seen = True
    if not form_seen:
        raise ReadOnlyQueryError(
            "SPARQL", "the query", 1, 1, "has no SELECT, ASK, CONSTRUCT or DESCRIBE"
        )


def check_result_size(rows: Sequence[Any], max_rows: int, max_bytes: int) -> None:
    """Refuse a result over ``max_rows`` rows or ``max_bytes`` bytes of JSON."""
    if len(rows) > max_rows:
        raise QueryLimitError(
            f"the query returned {len(rows)} rows, over the limit of {max_rows}: ask for "
            "fewer rows (LIMIT) or raise max_rows"
        )
    size = len(json.dumps(rows, default=str).encode())
    if size > max_bytes:
        raise QueryLimitError(
            f"the query returned {size} bytes, over the limit of {max_bytes}: return fewer "
            "or smaller values, or raise max_result_bytes"
        )
