"""``runwire types [NAME]``: the ``_type``s a manifest can name, and one class's fields.

The list comes from the id table (:data:`runwire.schema.ids.id_table`, entry-point
classes included) plus the authoring helpers (``sequence``, ``parallel`` ...). A
class's fields come from its pydantic model and its :func:`class_plan` (alias, secret
id, excluded fields left out). Factories of defaults are never called: a default read
from the environment shows as ``<factory>()``, never as a value.

On a terminal (and ``NO_COLOR`` unset) the tables are drawn by rich; otherwise they are
plain text in aligned columns, stable for scripts and tests.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

__all__ = ["Table", "class_detail", "cmd_types", "resolve", "type_rows"]

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]
"""Column headers and rows of text."""

_GROUP_ORDER = {"helper": 0, "core": 1, "messages": 2, "providers": 3, "user": 4}
_MAX_DEFAULT = 40
_DOTTED = re.compile(r"""('[^']*'|"[^"]*")|\b(?:[A-Za-z_]\w*\.)+(?=[A-Za-z_])""")
"""A quoted literal (kept) or a dotted module prefix (dropped) in a type's repr."""


def _entries() -> list[Any]:
    from runwire.loader.registry import _load_entry_points
    from runwire.schema.ids import id_table

    _load_entry_points()
    return list(id_table.entries)


def type_rows() -> Table:
    """One row per ``_type``: name, group, runwire id, first LangChain id (or ``-``).

    Helpers come first (group ``helper``, id ``-> <class>``), then classes by group and
    name. A class whose short name a helper takes is still listed under its name.
    """
    from runwire.loader.authoring import HELPERS

    rows = [(name, "helper", f"-> {h.class_name}", "-") for name, h in sorted(HELPERS.items())]
    classes = sorted(_entries(), key=lambda e: (_GROUP_ORDER.get(e.group, 9), e.name))
    for entry in classes:
        langchain = ".".join(entry.langchain[0]) if entry.langchain else "-"
        rows.append((entry.name, entry.group, ".".join(entry.id), langchain))
    return ("NAME", "GROUP", "RUNWIRE ID", "LANGCHAIN ID"), rows


def resolve(name: str) -> tuple[str, Any] | None:
    """What NAME is: ``("helper", Helper)``, ``("class", ClassEntry)`` or ``None``.

    NAME is a helper or a short name (as in ``_type``), or a dotted id, runwire's or
    LangChain's (``langchain.prompts.prompt.PromptTemplate``).
    """
    from runwire.loader.authoring import HELPERS
    from runwire.loader.registry import entry_by_name, lookup

    if name in HELPERS:
        return "helper", HELPERS[name]
    entry = entry_by_name(name) or (lookup(name.split(".")) if "." in name else None)
    return ("class", entry) if entry is not None else None


def suggestions(name: str, limit: int = 3) -> list[str]:
    """The known ``_type`` names nearest to an unknown one (difflib), best first."""
    import difflib

    from runwire.loader.authoring import HELPERS

    names = [*HELPERS, *(e.name for e in _entries())]
    close = difflib.get_close_matches(name, names, n=limit, cutoff=0.6)
    if not close:  # case slips: chatbedrockconverse
        lowered = {n.lower(): n for n in names}
        close = [lowered[n] for n in difflib.get_close_matches(name.lower(), lowered, n=limit)]
    return close


def _type_text(annotation: Any) -> str:
    """A field's type as people write it: ``str | None``, ``list[BaseMessage]``."""
    import types
    import typing

    if annotation is None or annotation is type(None):
        return "None"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_text(args[0])
    if origin in (typing.Union, types.UnionType):
        parts = [_type_text(a) for a in args if a is not type(None)]
        return " | ".join(parts + ["None"] * (type(None) in args))
    if origin is typing.Literal:
        return f"Literal[{', '.join(map(repr, args))}]"
    if origin is not None and args:
        name = getattr(origin, "__name__", None) or _type_text(origin)
        return f"{name}[{', '.join('...' if a is Ellipsis else _type_text(a) for a in args)}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return _DOTTED.sub(lambda m: m.group(1) or "", repr(annotation))


def _needed(cls: Any) -> set[str]:
    """Fields a manifest must give: required in the class's kwargs schema (by name or
    alias), which leaves out fields a validator derives from others."""
    from runwire.schema.manifest_schema import kwargs_schema

    schema = kwargs_schema(cls)
    needed = set(schema.get("required", ()))
    for part in schema.get("allOf", ()):
        for choice in part.get("anyOf", ()):
            needed.update(choice.get("required", ()))
    return needed


def _default_text(plan: Any, needed: set[str]) -> str:
    from pydantic_core import PydanticUndefined

    from runwire.schema.serializable import FactoryDefault

    if plan.name in needed:
        return "required"
    if plan.required:  # required by the model, filled in from other fields when left out
        return "derived"
    default = plan.default
    if isinstance(default, FactoryDefault):  # never called: it may read the environment
        return f"{getattr(default.factory, '__name__', 'factory')}()"
    if default is PydanticUndefined:
        return "-"
    text = repr(default)
    return text if len(text) <= _MAX_DEFAULT else text[: _MAX_DEFAULT - 3] + "..."


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    paragraph = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines())


def class_detail(entry: Any) -> tuple[list[str], Table]:
    """Header lines (name, ids, first paragraph of the docstring) and the fields table:
    field, type, default, alias, secret id, description. Excluded fields are left out."""
    from runwire.loader.registry import class_for
    from runwire.schema.serializable import class_plan

    cls = class_for(entry)
    plan = class_plan(cls)
    needed = _needed(cls)
    lines = [f"{entry.name} ({entry.group})", f"id: {'.'.join(entry.id)}"]
    lines += [f"langchain id: {'.'.join(ident)}" for ident in entry.langchain[:1]]
    doc = _first_paragraph(cls.__dict__.get("__doc__"))
    if doc:
        lines += ["", doc]
    rows = []
    for field in plan.fields:
        if field.exclude:
            continue
        info = cls.model_fields[field.name]
        rows.append(
            (
                field.name,
                _type_text(info.annotation),
                _default_text(field, needed),
                field.alias or "",
                field.secret_id or "",
                _first_paragraph(info.description),
            )
        )
    return lines, (("FIELD", "TYPE", "DEFAULT", "ALIAS", "SECRET", "DESCRIPTION"), rows)


def _schema_type(schema: Mapping[str, Any]) -> str:
    """A JSON Schema fragment as a short type name (for helper keys)."""
    if str(schema.get("$ref", "")).endswith("/Node") or "then" in schema:
        return "runnable"
    if "anyOf" in schema:
        return " | ".join(dict.fromkeys(_schema_type(s) for s in schema["anyOf"]))
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list[{_schema_type(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"dict[str, {_schema_type(schema['additionalProperties'])}]"
    names = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
    names |= {"null": "None", "object": "dict"}
    return names.get(str(kind), str(kind))


def helper_detail(name: str, helper: Any) -> tuple[list[str], Table]:
    """A helper's keys (from its authoring schema), and which class it builds."""
    from runwire.loader.helper_schemas import helper_schemas

    schema = helper_schemas()[name]
    lines = [f"{name} (authoring helper)", f"builds: {helper.class_name}"]
    lines += [f"key {key}: written as {wire}" for key, wire in helper.renames.items()]
    doc = _first_paragraph(schema.get("description"))
    if doc:
        lines += ["", doc]
    required = set(schema.get("required", ()))
    rows = []
    for key, prop in schema.get("properties", {}).items():
        if key in helper.renames.values():
            continue  # shown under the authoring key
        default = (
            "required" if key in required else repr(prop["default"]) if "default" in prop else "-"
        )
        rows.append((key, _schema_type(prop), default, _first_paragraph(prop.get("description"))))
    return lines, (("KEY", "TYPE", "DEFAULT", "DESCRIPTION"), rows)


def _drop_empty_columns(table: Table) -> Table:
    headers, rows = table
    keep = [i for i in range(len(headers)) if any(row[i] for row in rows)] or [0]
    return tuple(headers[i] for i in keep), [tuple(row[i] for i in keep) for row in rows]


def _plain(table: Table, out: TextIO) -> None:
    headers, rows = table
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        out.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def _rich(table: Table, out: TextIO, title_lines: Sequence[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table as RichTable

    console = Console(file=out, highlight=False)
    for i, line in enumerate(title_lines):
        console.print(f"[bold]{escape(line)}[/]" if i == 0 else escape(line))
    if title_lines:
        console.print()
    headers, rows = table
    drawn = RichTable(box=None, header_style="bold", pad_edge=False)
    for i, header in enumerate(headers):
        drawn.add_column(header, style="cyan" if i == 0 else None, overflow="fold")
    for row in rows:
        drawn.add_row(*(escape(cell) for cell in row))
    console.print(drawn)


def write_table(table: Table, *, lines: Sequence[str] = (), stream: TextIO | None = None) -> None:
    """Print header lines and a table: rich on a colour terminal, else aligned text."""
    from runwire.cli.output import use_color

    out = sys.stdout if stream is None else stream
    table = _drop_empty_columns(table)
    if use_color(out):
        _rich(table, out, lines)
        return
    for line in lines:
        out.write(line + "\n")
    if lines:
        out.write("\n")
    _plain(table, out)


def cmd_types(args: argparse.Namespace) -> int:
    """``runwire types``: every ``_type``; ``runwire types NAME``: one in detail."""
    from runwire.cli.output import write_error

    if args.name is None:
        write_table(type_rows())
        return 0
    found = resolve(args.name)
    if found is None:
        near = suggestions(args.name)
        listed = ", ".join(near[:-1]) + " or " + near[-1] if len(near) > 1 else "".join(near)
        hint = f"; did you mean {listed}?" if near else ""
        write_error(f"error: no _type named {args.name!r}{hint} (`runwire types` lists them all)")
        return 1
    kind, what = found
    lines, table = helper_detail(args.name, what) if kind == "helper" else class_detail(what)
    write_table(table, lines=lines)
    return 0
