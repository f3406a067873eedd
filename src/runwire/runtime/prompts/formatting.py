"""Template formats: f-string, mustache and (opt-in) jinja2, as one table.

Each format is a :class:`TemplateFormat`: a ``render(template, values)`` function and a
``variables(template)`` function returning the sorted top-level variable names. The
semantics follow LangChain's: f-strings allow plain names only (no ``{a.b}`` or
``{a[0]}``); mustache escapes HTML in ``{{var}}`` (not in ``{{{var}}}`` or ``{{&var}}``)
and looks dotted names up through dicts, lists and tuples only; jinja2 renders in
jinja2's ``SandboxedEnvironment`` and needs the ``jinja2`` package.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from string import Formatter
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, create_model

__all__ = [
    "TEMPLATE_FORMATS",
    "PromptTemplateFormat",
    "TemplateFormat",
    "f_string_variables",
    "format_template",
    "jinja2_variables",
    "mustache_schema",
    "mustache_variables",
    "render_f_string",
    "render_jinja2",
    "render_mustache",
    "template_variables",
]

PromptTemplateFormat = Literal["f-string", "mustache", "jinja2"]


# -- f-strings -------------------------------------------------------------------------
@lru_cache(maxsize=2048)
def _f_string_names(template: str) -> tuple[str, ...]:
    names: set[str] = set()
    try:
        parsed = list(Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"invalid f-string template {template!r}: {exc}; "
            "write literal braces as '{{' and '}}'"
        ) from None
    for _, name, spec, _ in parsed:
        if name is None:
            continue
        if "." in name or "[" in name or "]" in name:
            raise ValueError(
                f"invalid variable {name!r} in f-string template: attribute access (.) "
                "and indexing ([]) are not allowed; pass the value itself as a variable"
            )
        if name == "" or name.isdigit():
            raise ValueError(
                f"invalid variable {{{name}}} in f-string template: positional fields are "
                "not allowed; name the variable, or write literal braces as '{{' and '}}'"
            )
        if spec and ("{" in spec or "}" in spec):
            raise ValueError(
                f"invalid format spec {spec!r} for {{{name}}} in f-string template: "
                "nested replacement fields are not allowed"
            )
        names.add(name)
    return tuple(sorted(names))


def f_string_variables(template: str) -> list[str]:
    """The variables of an f-string template, sorted (``{{``/``}}`` are literal braces)."""
    return list(_f_string_names(template))


def render_f_string(template: str, values: Mapping[str, Any]) -> str:
    """Format with ``str.format`` semantics, keyword variables only."""
    return template.format_map(values)


# -- mustache --------------------------------------------------------------------------
_TAG_KINDS = {
    "!": "comment",
    "#": "section",
    "^": "inverted section",
    "/": "end",
    ">": "partial",
    "=": "set delimiter",
    "{": "triple",
    "&": "no escape",
}
_STANDALONE_KINDS = frozenset(("comment", "section", "inverted section", "end", "set delimiter"))
Token = tuple[str, str]


def _blank(text: str) -> bool:
    return not text or text.isspace()


def _tag_kind(tag: str, rest: str, delimiters: tuple[str, str], line: int) -> tuple[str, str, str]:
    """(kind, key, rest) of one tag's inner text; ``rest`` loses a triple's third brace."""
    kind = _TAG_KINDS.get(tag[0], "variable")
    if kind != "variable":
        tag = tag[1:]
    if kind == "triple":
        if delimiters != ("{{", "}}") or not rest.startswith("}"):
            raise ValueError(f"mustache template: unclosed triple mustache at line {line}")
        kind, rest = "no escape", rest[1:]
    elif kind == "set delimiter" and not tag.endswith("="):
        raise ValueError(f"mustache template: unclosed set-delimiter tag at line {line}")
    elif kind == "partial":
        raise ValueError(
            f"mustache template: partials ({{{{> {tag.strip()}}}}}) are not supported (line {line})"
        )
    return kind, tag.strip(), rest


def _check_section(kind: str, key: str, open_sections: list[str], line: int) -> None:
    if kind in ("section", "inverted section"):
        open_sections.append(key)
    elif kind == "end":
        if not open_sections:
            raise ValueError(f"mustache template: {{{{/{key}}}}} closes nothing (line {line})")
        if open_sections[-1] != key:
            raise ValueError(
                f"mustache template: {{{{/{key}}}}} closes {open_sections[-1]!r}, "
                f"which is still open (line {line})"
            )
        open_sections.pop()


@lru_cache(maxsize=1024)
def _mustache_tokens(template: str) -> tuple[Token, ...]:
    """Tokens ``(kind, key)``; a standalone tag's line is dropped (mustache spec)."""
    tokens: list[Token] = []
    left, right = "{{", "}}"
    rest = template
    standalone = True  # the start of the template is the start of a line
    open_sections: list[str] = []
    line = 1
    while rest:
        literal, sep, rest = rest.partition(left)
        line += literal.count("\n")
        if not sep:
            tokens.append(("literal", literal))
            break
        if "\n" in literal or standalone:
            standalone = _blank(literal.rsplit("\n", 1)[-1])
        tag, sep, rest = rest.partition(right)
        if not sep:
            raise ValueError(f"mustache template: unclosed tag at line {line}")
        if not tag.strip():
            raise ValueError(f"mustache template: empty tag at line {line}")
        kind, key, rest = _tag_kind(tag, rest, (left, right), line)
        if kind == "set delimiter":
            parts = key[:-1].strip().split(" ")
            left, right = parts[0], parts[-1]
        _check_section(kind, key, open_sections, line)
        standalone = standalone and kind in _STANDALONE_KINDS and _blank(rest.split("\n", 1)[0])
        if standalone:
            _, newline, tail = rest.partition("\n")
            if newline:
                rest = tail
                line += 1
            literal = literal.rstrip(" ")
        if literal:
            tokens.append(("literal", literal))
        if kind not in ("comment", "set delimiter"):
            tokens.append((kind, key))
    if open_sections:
        raise ValueError(f"mustache template: section {open_sections[-1]!r} is never closed")
    return tuple(tokens)


Node = tuple[str, str, tuple[Any, ...]]


@lru_cache(maxsize=1024)
def _mustache_tree(template: str) -> tuple[Node, ...]:
    """The tokens nested: sections hold their children."""
    stack: list[list[Any]] = [[]]
    heads: list[Token] = []
    for kind, key in _mustache_tokens(template):
        if kind in ("section", "inverted section"):
            heads.append((kind, key))
            stack.append([])
        elif kind == "end":
            children = tuple(stack.pop())
            head_kind, head_key = heads.pop()
            stack[-1].append((head_kind, head_key, children))
        else:
            stack[-1].append((kind, key, ()))
    return tuple(stack[0])


class _Missing:
    __slots__ = ()


_NOT_FOUND: Any = _Missing()


def _is_zero_or_false(value: Any) -> bool:
    """0, 0.0 and False: LangChain's renderer returns these as they are, not as ``""``."""
    return type(value) in (int, float, bool) and value == 0


def _resolve(key: str, scopes: list[Any]) -> Any:
    """Look a (dotted) key up, innermost scope first; ``""`` when nothing has it."""
    if key == ".":
        return scopes[0]
    parts = key.split(".")
    for scope in scopes:
        if _is_zero_or_false(scope):
            return scope
        value = scope
        for part in parts:
            if _is_zero_or_false(value):
                return value
            if isinstance(value, Mapping):
                value = value.get(part, _NOT_FOUND)
            elif isinstance(value, list | tuple):
                try:
                    value = value[int(part)]
                except (ValueError, IndexError):
                    value = _NOT_FOUND
            else:
                value = _NOT_FOUND
            if value is _NOT_FOUND:
                break
        if value is _NOT_FOUND:
            continue
        if _is_zero_or_false(value):
            return value
        return value or ""
    return ""


def _escape_html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def _render_nodes(nodes: tuple[Node, ...], scopes: list[Any], out: list[str]) -> None:
    for kind, key, children in nodes:
        if kind == "literal":
            out.append(key)
        elif kind == "variable":
            value = _resolve(key, scopes)
            if value is True and key == "." and len(scopes) > 1:
                value = scopes[1]
            out.append(_escape_html(value if isinstance(value, str) else str(value)))
        elif kind == "no escape":
            value = _resolve(key, scopes)
            out.append(value if isinstance(value, str) else str(value))
        elif kind == "section":
            value = _resolve(key, scopes)
            if isinstance(value, list | tuple):
                for item in value:
                    if item:  # falsy items render nothing (as in LangChain's renderer)
                        _render_nodes(children, [item, *scopes], out)
            elif value:
                _render_nodes(children, [value, *scopes], out)
        elif kind == "inverted section" and not _resolve(key, scopes):
            _render_nodes(children, [True, *scopes], out)


def render_mustache(template: str, values: Mapping[str, Any]) -> str:
    """Render a mustache template: variables, sections, inverted sections, dotted names.

    Lambdas and partials are not supported; a missing key renders as ``""``.
    """
    out: list[str] = []
    _render_nodes(_mustache_tree(template), [values], out)
    return "".join(out)


_VARIABLE_KINDS = frozenset(("variable", "section", "inverted section", "no escape"))


@lru_cache(maxsize=1024)
def _mustache_names(template: str) -> tuple[str, ...]:
    names: set[str] = set()
    depth = 0
    for kind, key in _mustache_tokens(template):
        if kind == "end":
            depth -= 1
        elif kind in _VARIABLE_KINDS and key != "." and depth == 0:
            names.add(key.split(".")[0])
        if kind in ("section", "inverted section"):
            depth += 1
    return tuple(sorted(names))


def mustache_variables(template: str) -> list[str]:
    """The top-level variables of a mustache template (``{{a.b}}`` gives ``a``), sorted."""
    return list(_mustache_names(template))


def mustache_schema(template: str) -> type[BaseModel]:
    """A pydantic model of a mustache template's input: sections become nested models."""
    fields: dict[tuple[str, ...], bool] = {}  # path -> is a leaf (a plain variable)
    prefix: tuple[str, ...] = ()
    stack: list[tuple[str, ...]] = []
    for kind, key in _mustache_tokens(template):
        if key == "." or kind == "literal":
            continue
        if kind == "end":
            if stack:
                prefix = stack.pop()
        elif kind in ("section", "inverted section"):
            stack.append(prefix)
            prefix += tuple(key.split("."))
            fields[prefix] = False
        elif kind in ("variable", "no escape"):
            fields[prefix + tuple(key.split("."))] = True
    for path, leaf in fields.items():
        fields[path] = leaf and not any(
            other[: len(path)] == path for other in fields if other != path
        )
    tree: dict[str, Any] = {}
    while fields:
        path, leaf = fields.popitem()
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node.setdefault(path[-1], "" if leaf else {})
    return _nested_model("PromptInput", tree)


def _nested_model(name: str, tree: dict[str, Any]) -> type[BaseModel]:
    fields = {
        key: (_nested_model(key, sub), None) if sub else (type(sub), None)
        for key, sub in tree.items()
    }
    return create_model(name, **fields)  # type: ignore[call-overload,no-any-return]


# -- jinja2 ----------------------------------------------------------------------------
_JINJA2_MISSING = (
    "template_format='jinja2' needs the jinja2 package: pip install jinja2. "
    "Only use jinja2 templates you trust: they can execute code."
)


def _jinja2_env() -> Any:
    try:
        from jinja2.sandbox import SandboxedEnvironment
    except ImportError:
        raise ImportError(_JINJA2_MISSING) from None
    return SandboxedEnvironment()


def render_jinja2(template: str, values: Mapping[str, Any]) -> str:
    """Render in jinja2's ``SandboxedEnvironment`` (best effort; never for untrusted text)."""
    return str(_jinja2_env().from_string(template).render(**values))


def jinja2_variables(template: str) -> list[str]:
    """The undeclared variables of a jinja2 template, sorted."""
    env = _jinja2_env()
    from jinja2 import meta

    return sorted(meta.find_undeclared_variables(env.parse(template)))


# -- the table -------------------------------------------------------------------------
class TemplateFormat(NamedTuple):
    """How one template format renders and which variables it reads."""

    render: Callable[[str, Mapping[str, Any]], str]
    variables: Callable[[str], list[str]]


TEMPLATE_FORMATS: dict[str, TemplateFormat] = {
    "f-string": TemplateFormat(render_f_string, f_string_variables),
    "mustache": TemplateFormat(render_mustache, mustache_variables),
    "jinja2": TemplateFormat(render_jinja2, jinja2_variables),
}
"""Format name -> (renderer, variable extractor)."""


def _format_entry(template_format: str) -> TemplateFormat:
    try:
        return TEMPLATE_FORMATS[template_format]
    except (KeyError, TypeError):
        raise ValueError(
            f"unsupported template format {template_format!r}: use one of "
            f"{', '.join(repr(k) for k in TEMPLATE_FORMATS)}"
        ) from None


def template_variables(template: str, template_format: str) -> list[str]:
    """The sorted variables of ``template`` in ``template_format``."""
    return _format_entry(template_format).variables(template)


def format_template(template: str, template_format: str, values: Mapping[str, Any]) -> str:
    """Render ``template`` in ``template_format`` with ``values``."""
    return _format_entry(template_format).render(template, values)
