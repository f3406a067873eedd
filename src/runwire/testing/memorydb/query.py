"""The search query language (DIALECT 2) of the filters MemoryDB and RediSearch take:
parsed into predicates over indexed documents, plus the vector clause.

Supported::

    *                               every document
    @tag:{a | b\\ c}                  tag equals one of (``a*``: prefix)
    @num:[lo hi]  @num:[(lo +inf]   numeric range (``(`` exclusive, ``-inf``/``+inf``, $param)
    @text:(word other) @text:"a b"  all words / the phrase, in that field
    word  w*  *w  *w*  %w%  %%w%%   a word: exact, prefix, suffix, infix, fuzzy (distance 1, 2)
    a b   a | b   -x   (...)        intersection, union, negation, grouping
    ~x                              optional: matches everything
    <filter>=>[KNN k @vec $blob AS name]              k nearest (k may be $param)
    @vec:[VECTOR_RANGE r $blob]=>{$yield_distance_as: name}   within distance r

Words match whole tokens, case-insensitively (no stemming, no stopwords). Errors are
Redis's ``Syntax error at offset N near X``; nesting and length are bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from runwire.testing.memorydb.resp import ReplyError
from runwire.testing.memorydb.schema import IndexDoc, IndexSpec

__all__ = ["KnnClause", "ParsedQuery", "RangeClause", "parse_query"]

Predicate = Callable[[IndexDoc], bool]
MAX_QUERY = 64 * 1024
MAX_DEPTH = 64
_STOP = set(' \t\r\n()|{}[]"@:~')
_TRUE: Predicate = lambda doc: True  # noqa: E731


@dataclass
class KnnClause:
    """``=>[KNN k @field $param AS alias]``."""

    k: int
    field: str
    param: str
    alias: str


@dataclass
class RangeClause:
    """``@field:[VECTOR_RANGE radius $param]`` (its distance yielded as ``alias``)."""

    field: str
    radius: float
    param: str
    alias: str | None = None


@dataclass
class ParsedQuery:
    """A filter predicate and at most one vector clause."""

    predicate: Predicate
    knn: KnnClause | None = None
    range: RangeClause | None = None


def _levenshtein(a: str, b: str, limit: int) -> int:
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        best = row[0]
        for j, cb in enumerate(b, 1):
            cur = min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
            prev, row[j] = row[j], cur
            best = min(best, cur)
        if best > limit:
            return limit + 1
    return row[-1]


def _word_matcher(word: str) -> Callable[[str], bool]:
    """How one query word matches a document token."""
    for marks, distance in (("%%%", 3), ("%%", 2), ("%", 1)):
        if len(word) > 2 * len(marks) and word.startswith(marks) and word.endswith(marks):
            core = word[len(marks) : -len(marks)]
            return lambda token: _levenshtein(core, token, distance) <= distance
    if len(word) > 2 and word.startswith("*") and word.endswith("*"):
        core = word[1:-1]
        return lambda token: core in token
    if len(word) > 1 and word.endswith("*"):
        core = word[:-1]
        return lambda token: token.startswith(core)
    if len(word) > 1 and word.startswith("*"):
        core = word[1:]
        return lambda token: token.endswith(core)
    return lambda token: token == word


class _Parser:
    def __init__(self, text: str, spec: IndexSpec, params: dict[str, bytes]) -> None:
        self.text = text
        self.pos = 0
        self.spec = spec
        self.params = params
        self.depth = 0
        self.range: RangeClause | None = None

    # -- helpers --------------------------------------------------------------------------
    def error(self, near: str | None = None) -> ReplyError:
        shown = near if near is not None else self.text[self.pos : self.pos + 10] or "<end>"
        return ReplyError(f"Syntax error at offset {self.pos} near {shown}")

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.error()
        self.pos += 1

    def word(self, stop: set[str] = _STOP) -> str:
        """Characters up to a special one (``\\`` escapes the next)."""
        self.skip()
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char in stop:
                break
            out.append(char)
            self.pos += 1
        return "".join(out)

    def param(self, name: str) -> bytes:
        if name not in self.params:
            raise ReplyError(f"No such parameter `{name}`")
        return self.params[name]

    def number(self, token: str) -> tuple[float, bool]:
        exclusive = token.startswith("(")
        token = token[1:] if exclusive else token
        if token.startswith("$"):
            token = self.param(token[1:]).decode("utf-8", "replace")
        lowered = token.lower()
        if lowered in ("inf", "+inf"):
            return float("inf"), exclusive
        if lowered == "-inf":
            return float("-inf"), exclusive
        try:
            return float(token), exclusive
        except ValueError:
            raise self.error(token) from None

    # -- grammar --------------------------------------------------------------------------
    def union(self, field: str | None) -> Predicate:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("(: the query nests too deeply")
        parts = [self.intersect(field)]
        while self.peek() == "|":
            self.pos += 1
            parts.append(self.intersect(field))
        self.depth -= 1
        if len(parts) == 1:
            return parts[0]
        return lambda doc: any(p(doc) for p in parts)

    def intersect(self, field: str | None) -> Predicate:
        parts: list[Predicate] = []
        while self.peek() not in ("", ")", "|"):
            parts.append(self.unary(field))
        if not parts:
            raise self.error()
        if len(parts) == 1:
            return parts[0]
        return lambda doc: all(p(doc) for p in parts)

    def unary(self, field: str | None) -> Predicate:
        char = self.peek()
        if char == "-":
            self.pos += 1
            inner = self.unary(field)
            return lambda doc: not inner(doc)
        if char == "~":
            self.pos += 1
            self.unary(field)
            return _TRUE
        return self.atom(field)

    def atom(self, field: str | None) -> Predicate:
        char = self.peek()
        if char == "(":
            self.pos += 1
            inner = self.union(field)
            self.expect(")")
            return inner
        if char == "@":
            self.pos += 1
            name = self.word(_STOP | {"-"} - {"@"})
            if not name:
                raise self.error()
            self.expect(":")
            return self.field_expr(name)
        if char == '"':
            return self.phrase(field)
        if char == "*" and self.text[self.pos + 1 : self.pos + 2] in ("", " ", ")", "|"):
            self.pos += 1
            return _TRUE
        word = self.word()
        if not word:
            raise self.error()
        return self.text_word(field, word)

    def field_expr(self, name: str) -> Predicate:
        spec = self.spec.field(name)
        if spec is None:
            raise ReplyError(f"Unknown field at offset {self.pos} near {name}")
        char = self.peek()
        if spec.type == "TAG":
            if char != "{":
                raise self.error()
            return self.tags(name, "CASESENSITIVE" in spec.flags)
        if spec.type == "NUMERIC":
            if char != "[":
                raise self.error()
            return self.numeric(name)
        if spec.type == "VECTOR":
            return self.vector_range(name)
        if char == "(":
            self.pos += 1
            inner = self.union(name)
            self.expect(")")
            return inner
        if char == "-":
            self.pos += 1
            inner = self.unary(name)
            return lambda doc: not inner(doc)
        if char == '"':
            return self.phrase(name)
        word = self.word()
        if not word:
            raise self.error()
        return self.text_word(name, word)

    def tags(self, name: str, case_sensitive: bool) -> Predicate:
        self.expect("{")
        wanted: list[Callable[[str], bool]] = []
        while True:
            value = self.word({"|", "}"}).strip()
            if value.startswith("$"):
                value = self.param(value[1:]).decode("utf-8", "replace")
            if not case_sensitive:
                value = value.lower()
            if value:
                if value.endswith("*") and len(value) > 1:
                    stem = value[:-1]
                    wanted.append(lambda tag, stem=stem: tag.startswith(stem))
                else:
                    wanted.append(lambda tag, value=value: tag == value)
            char = self.peek()
            if char == "|":
                self.pos += 1
                continue
            if char == "}":
                self.pos += 1
                break
            raise self.error()
        if not wanted:
            raise self.error("{}")

        def match(doc: IndexDoc) -> bool:
            return any(w(tag) for tag in doc.tags.get(name, ()) for w in wanted)

        return match

    def numeric(self, name: str) -> Predicate:
        self.expect("[")
        low, low_x = self.number(self.word({" ", "\t", "]"}))
        high, high_x = self.number(self.word({" ", "\t", "]"}))
        self.expect("]")

        def match(doc: IndexDoc) -> bool:
            value = doc.numbers.get(name)
            if value is None:
                return False
            above = value > low if low_x else value >= low
            below = value < high if high_x else value <= high
            return above and below

        return match

    def vector_range(self, name: str) -> Predicate:
        self.expect("[")
        if self.word({" ", "\t", "]"}).upper() != "VECTOR_RANGE":
            raise self.error()
        radius, _ = self.number(self.word({" ", "\t", "]"}))
        param = self.word({" ", "\t", "]"})
        if not param.startswith("$"):
            raise self.error(param)
        self.expect("]")
        if self.range is not None:
            raise ReplyError("Only one vector range clause is supported per query")
        self.range = RangeClause(name, radius, param[1:])
        return _TRUE

    def phrase(self, field: str | None) -> Predicate:
        self.expect('"')
        start = self.pos
        end = start
        while end < len(self.text) and self.text[end] != '"':
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise self.error('"')
        from runwire.testing.memorydb.schema import tokenize

        raw = self.text[start:end].replace('\\"', '"').replace("\\\\", "\\")
        words = tokenize(raw)
        self.pos = end + 1
        if not words:
            return _TRUE
        fields = self.text_fields(field)

        def match(doc: IndexDoc) -> bool:
            n = len(words)
            for name in fields:
                tokens = doc.text.get(name)
                if tokens and any(tokens[i : i + n] == words for i in range(len(tokens) - n + 1)):
                    return True
            return False

        return match

    def text_fields(self, field: str | None) -> list[str]:
        if field is not None:
            return [field]
        return [f.attribute for f in self.spec.fields if f.type == "TEXT"]

    def text_word(self, field: str | None, word: str) -> Predicate:
        if word.startswith("$"):
            word = self.param(word[1:]).decode("utf-8", "replace")
        matcher = _word_matcher(word.lower())
        fields = self.text_fields(field)

        def match(doc: IndexDoc) -> bool:
            return any(matcher(t) for name in fields for t in doc.text.get(name, ()))

        return match


def _knn(text: str, params: dict[str, bytes]) -> KnnClause:
    words = text.strip().removeprefix("[").removesuffix("]").split()
    if len(words) < 3 or words[0].upper() != "KNN":
        raise ReplyError(f"Syntax error at offset 0 near {text[:20]}")
    k_text = words[1]
    if k_text.startswith("$"):
        if k_text[1:] not in params:
            raise ReplyError(f"No such parameter `{k_text[1:]}`")
        k_text = params[k_text[1:]].decode("utf-8", "replace")
    try:
        k = int(k_text)
    except ValueError:
        raise ReplyError(f"Syntax error at offset 0 near {words[1]}") from None
    if k < 0:
        raise ReplyError("Invalid K value")
    field, param = words[2], words[3] if len(words) > 3 else ""
    if not field.startswith("@") or not param.startswith("$"):
        raise ReplyError(f"Syntax error at offset 0 near {field}")
    alias = f"__{field[1:]}_score"
    rest = words[4:]
    while rest:
        option = rest[0].upper()
        if option == "AS" and len(rest) > 1:
            alias, rest = rest[1], rest[2:]
        elif option in ("EF_RUNTIME", "EPSILON") and len(rest) > 1:
            rest = rest[2:]
        else:
            raise ReplyError(f"Syntax error at offset 0 near {rest[0]}")
    return KnnClause(k, field[1:], param[1:], alias)


def _split_arrow(text: str) -> tuple[str, str | None]:
    """The filter and the part after a top-level ``=>`` (None when there is none)."""
    depth = 0
    in_range = False  # inside [...], where "(" marks an exclusive bound
    quoted = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif quoted:
            pass
        elif in_range:
            in_range = char != "]"
        elif char == "[":
            in_range = True
        elif char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        elif depth == 0 and text.startswith("=>", i):
            return text[:i], text[i + 2 :]
        i += 1
    return text, None


def parse_query(text: str, spec: IndexSpec, params: dict[str, bytes]) -> ParsedQuery:
    """A query string as a predicate and vector clause over ``spec``'s documents."""
    if len(text) > MAX_QUERY:
        raise ReplyError("Query string is too long")
    left, right = _split_arrow(text)
    parser = _Parser(left, spec, params)
    predicate = parser.union(None) if left.strip() else _TRUE
    if parser.peek():
        raise parser.error()
    result = ParsedQuery(predicate, range=parser.range)
    if right is not None:
        right = right.strip()
        if right.startswith("["):
            result.knn = _knn(right, params)
            spec_field = spec.field(result.knn.field)
            if spec_field is None or spec_field.type != "VECTOR":
                raise ReplyError(f"Unknown field `{result.knn.field}`")
        elif right.startswith("{") and result.range is not None:
            body = right.strip("{} ")
            for item in body.split(";"):
                key, _, value = item.partition(":")
                if key.strip().lower() == "$yield_distance_as":
                    result.range.alias = value.strip()
        else:
            raise ReplyError(f"Syntax error at offset {len(left)} near =>")
    return result
