"""Template formats: f-string, mustache and (opt-in) jinja2, as one table.

Each format is a :class:`TemplateFormat`: a ``render(template, values)`` function and a
``variables(template)`` function returning the sorted top-level variable names. The
semantics follow LangChain's: f-strings allow plain names only (no ``{a.b}`` or
``{a[0]}``); mustache escapes HTML in ``{{var}}`` (not in ``{{{var}}}`` or ``{{&var}}``)
and looks dotted names up through dicts, lists and tuples only; jinja2 renders in a
bounded ``SandboxedEnvironment`` (:mod:`runwire.runtime.prompts.jinja`) and needs the
``jinja2`` package.

Templates may be untrusted, so rendering never blocks for long: f-string and mustache
rendering are linear in the template and values, with the output (and mustache's work)
counted while it is produced against :mod:`runwire.runtime.prompts.limits`. Template
problems found at render time raise :class:`~runwire.errors.TemplateError`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from string import Formatter
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, create_model

from runwire.errors import TemplateError
from runwire.runtime.prompts import limits
from runwire.runtime.prompts.jinja import jinja2_variables, render_jinja2
from runwire.runtime.prompts.limits import OutputBudget, check_spec_numbers

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
    "template_names",
    "template_variables",
]

PromptTemplateFormat = Literal["f-string", "mustache", "jinja2"]


# -- f-strings -------------------------------------------------------------------------
FieldPart = tuple[str, str | None, str, str | None]
"""``(literal, name, format spec, conversion)``, as ``string.Formatter.parse`` gives."""


def _field_error(message: str, hint: str) -> TemplateError:
    return TemplateError(f"f-string template: {message}", hint=hint)


def _check_field(name: str, spec: str, conversion: str | None) -> None:
    """Plain keyword names only; no nested fields; bounded widths (LangChain's rules+)."""
    if "." in name or "[" in name or "]" in name:
        raise _field_error(
            f"invalid variable {name[:60]!r}: attribute access (.) and indexing ([]) are "
            "not allowed",
            "pass the value itself as a variable",
        )
    if name == "" or name.isdigit():
        raise _field_error(
            f"invalid variable {{{name}}}: positional fields are not allowed",
            "name the variable, or write literal braces as '{{' and '}}'",
        )
    if spec and ("{" in spec or "}" in spec):
        raise _field_error(
            f"invalid format spec {spec[:40]!r} for {{{name}}}: nested replacement fields "
            "are not allowed",
            "write the width and precision as numbers",
        )
    if conversion not in (None, "r", "s", "a"):
        raise _field_error(
            f"invalid conversion !{conversion} for {{{name}}}", "use !r, !s or !a, or none"
        )
    if spec:
        check_spec_numbers(spec, f"{{{name}}}")


@lru_cache(maxsize=2048)
def _f_string_parts(template: str) -> tuple[FieldPart, ...]:
    """The checked fields of an f-string template (cached: templates repeat)."""
    try:
        parts = tuple(Formatter().parse(template))
    except ValueError as exc:
        raise _field_error(
            f"cannot parse the template: {exc}", "write literal braces as '{{' and '}}'"
        ) from None
    for _, name, spec, conversion in parts:
        if name is not None:
            _check_field(name, spec or "", conversion)
    return parts


@lru_cache(maxsize=2048)
def _f_string_names(template: str) -> tuple[str, ...]:
    return tuple(sorted({name for _, name, _, _ in _f_string_parts(template) if name}))


def f_string_variables(template: str) -> list[str]:
    """The variables of an f-string template, sorted (``{{``/``}}`` are literal braces)."""
    return list(_f_string_names(template))


_CONVERSIONS = {"r": repr, "s": str, "a": ascii}


def render_f_string(template: str, values: Mapping[str, Any]) -> str:
    """Format with ``str.format`` semantics, keyword variables only.

    The template is checked as when it was built (no ``{x.attr}``, ``{x[0]}``, nested
    or over-wide specs: :class:`TemplateError`), and the output is counted while it is
    produced (:data:`~runwire.runtime.prompts.limits.MAX_TEMPLATE_OUTPUT`), so rendering
    is linear in the template and values and never builds an oversized string.
    A missing variable raises ``KeyError`` (as ``str.format_map`` does).
    """
    budget = OutputBudget("f-string")
    out: list[str] = []
    for literal, name, spec, conversion in _f_string_parts(template):
        if literal:
            budget.add(literal)
            out.append(literal)
        if name is None:
            continue
        value = values[name]
        if conversion:
            value = _CONVERSIONS[conversion](value)
        try:
            text = format(value, spec or "")
        except (ValueError, TypeError) as exc:
            raise _field_error(
                f"cannot format {{{name}}} ({type(value).__name__}) with spec "
                f"{(spec or '')[:40]!r}: {str(exc)[:120]}",
                "fix the format spec, or pass a value of the type it expects",
            ) from None
        budget.add(text)
        out.append(text)
    return budget.finish("".join(out))


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


def _tag_kind(
    tag: str, third_brace: bool, delimiters: tuple[str, str], line: int
) -> tuple[str, str, int]:
    """(kind, key, characters to skip after the tag: a triple's third brace)."""
    kind = _TAG_KINDS.get(tag[0], "variable")
    if kind != "variable":
        tag = tag[1:]
    skip = 0
    if kind == "triple":
        if delimiters != ("{{", "}}") or not third_brace:
            raise _mustache_error("unclosed triple mustache", line)
        kind, skip = "no escape", 1
    elif kind == "set delimiter" and not tag.endswith("="):
        raise _mustache_error("unclosed set-delimiter tag", line)
    elif kind == "partial":
        raise TemplateError(
            f"mustache template: partials ({{{{> {tag.strip()[:40]}}}}}) are not supported "
            f"(line {line})",
            hint="inline the partial's text into the template",
        )
    return kind, tag.strip(), skip


def _mustache_error(message: str, line: int) -> TemplateError:
    return TemplateError(
        f"mustache template: {message} (line {line})",
        hint="check that every {{#section}} and {{^section}} is closed by its {{/section}}",
    )


def _check_section(kind: str, key: str, open_sections: list[tuple[str, int]], line: int) -> int:
    """Track open sections; the nesting depth (dotted names count each part) after the tag."""
    depth = open_sections[-1][1] if open_sections else 0
    if kind in ("section", "inverted section"):
        depth += key.count(".") + 1
        open_sections.append((key, depth))
    elif kind == "end":
        if not open_sections:
            raise _mustache_error(f"{{{{/{key}}}}} closes nothing", line)
        if open_sections[-1][0] != key:
            raise _mustache_error(
                f"{{{{/{key}}}}} closes {open_sections[-1][0]!r}, which is still open", line
            )
        open_sections.pop()
    elif kind in ("variable", "no escape"):
        depth += key.count(".") + 1
    if depth > limits.MAX_MUSTACHE_DEPTH:
        raise TemplateError(
            f"mustache template: sections and dotted names nest {depth} deep at line {line}, "
            f"over the limit of {limits.MAX_MUSTACHE_DEPTH}",
            hint="flatten the template: pass nested data as fewer, shallower sections",
        )
    return depth


def _rest_of_line_blank(template: str, pos: int) -> bool:
    end = template.find("\n", pos)
    return _blank(template[pos : end if end >= 0 else len(template)])


@lru_cache(maxsize=1024)
def _mustache_tokens(template: str) -> tuple[Token, ...]:
    """Tokens ``(kind, key)``; a standalone tag's line is dropped (mustache spec).

    One pass over the template by index: linear in its length.
    """
    tokens: list[Token] = []
    left, right = "{{", "}}"
    pos, size = 0, len(template)
    standalone = True  # the start of the template is the start of a line
    open_sections: list[tuple[str, int]] = []
    line = 1
    while pos < size:
        start = template.find(left, pos)
        if start < 0:
            tokens.append(("literal", template[pos:]))
            break
        literal = template[pos:start]
        line += literal.count("\n")
        if "\n" in literal or standalone:
            standalone = _blank(literal.rsplit("\n", 1)[-1])
        end = template.find(right, start + len(left))
        if end < 0:
            raise _mustache_error("unclosed tag", line)
        tag = template[start + len(left) : end]
        pos = end + len(right)
        if not tag.strip():
            raise _mustache_error("empty tag", line)
        kind, key, triple = _tag_kind(tag, template.startswith("}", pos), (left, right), line)
        pos += triple
        if kind == "set delimiter":
            parts = key[:-1].strip().split(" ")
            left, right = parts[0], parts[-1]
            if not left or not right or left == "=" or right == "=":
                raise _mustache_error("invalid set-delimiter tag", line)
        _check_section(kind, key, open_sections, line)
        standalone = standalone and kind in _STANDALONE_KINDS and _rest_of_line_blank(template, pos)
        if standalone:
            newline = template.find("\n", pos)
            if newline >= 0:
                pos = newline + 1
                line += 1
            literal = literal.rstrip(" ")
        if literal:
            tokens.append(("literal", literal))
        if kind not in ("comment", "set delimiter"):
            tokens.append((kind, key))
    if open_sections:
        raise TemplateError(
            f"mustache template: section {open_sections[-1][0]!r} is never closed",
            hint=f"add {{{{/{open_sections[-1][0]}}}}} where the section ends",
        )
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


def _emit(text: str, out: list[str], budget: OutputBudget) -> None:
    budget.add(text)
    out.append(text)


def _render_nodes(
    nodes: tuple[Node, ...], scopes: list[Any], out: list[str], budget: OutputBudget
) -> None:
    for kind, key, children in nodes:
        budget.step(1 if kind == "literal" else len(scopes))
        if kind == "literal":
            _emit(key, out, budget)
        elif kind == "variable":
            value = _resolve(key, scopes)
            if value is True and key == "." and len(scopes) > 1:
                value = scopes[1]
            _emit(_escape_html(value if isinstance(value, str) else str(value)), out, budget)
        elif kind == "no escape":
            value = _resolve(key, scopes)
            _emit(value if isinstance(value, str) else str(value), out, budget)
        elif kind == "section":
            value = _resolve(key, scopes)
            if isinstance(value, list | tuple):
                for item in value:
                    if item:  # falsy items render nothing (as in LangChain's renderer)
                        _render_nodes(children, [item, *scopes], out, budget)
            elif value:
                _render_nodes(children, [value, *scopes], out, budget)
        elif kind == "inverted section" and not _resolve(key, scopes):
            _render_nodes(children, [True, *scopes], out, budget)


def render_mustache(template: str, values: Mapping[str, Any]) -> str:
    """Render a mustache template: variables, sections, inverted sections, dotted names.

    Lambdas and partials are not supported; a missing key renders as ``""``. Nesting is
    bounded when the template is parsed (:data:`~runwire.runtime.prompts.limits.
    MAX_MUSTACHE_DEPTH`), and the render counts its output and the nodes it visits as it
    goes (``MAX_TEMPLATE_OUTPUT``, ``MAX_TEMPLATE_STEPS``): its time is linear in the
    template and values up to those bounds. Problems raise :class:`TemplateError`.
    """
    budget = OutputBudget("mustache")
    out: list[str] = []
    try:
        _render_nodes(_mustache_tree(template), [values], out, budget)
    except RecursionError:
        raise TemplateError(
            "mustache template: a value is nested too deeply to render",
            hint="pass flatter values (or render only their inner parts)",
        ) from None
    return budget.finish("".join(out))


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
    prefixes = {path[:i] for path in fields for i in range(1, len(path))}
    for path, leaf in fields.items():
        fields[path] = leaf and path not in prefixes
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
        raise TemplateError(
            f"unsupported template format {template_format!r}: use one of "
            f"{', '.join(repr(k) for k in TEMPLATE_FORMATS)}"
        ) from None


def template_variables(template: str, template_format: str) -> list[str]:
    """The sorted variables of ``template`` in ``template_format``."""
    return _format_entry(template_format).variables(template)


_CACHED_NAMES: dict[Any, Callable[[str], tuple[str, ...]]] = {
    "f-string": _f_string_names,
    "mustache": _mustache_names,
}
"""Formats whose variables are a pure, cached parse of the template text."""


def template_names(template: str, template_format: str) -> tuple[str, ...]:
    """:func:`template_variables` as a tuple, from the parse caches where the format has
    one (a prompt's construction asks for them on every build)."""
    cached = _CACHED_NAMES.get(template_format) if type(template_format) is str else None
    if cached is None:
        return tuple(template_variables(template, template_format))
    return cached(template)


def format_template(template: str, template_format: str, values: Mapping[str, Any]) -> str:
    """Render ``template`` in ``template_format`` with ``values``."""
    return _format_entry(template_format).render(template, values)
