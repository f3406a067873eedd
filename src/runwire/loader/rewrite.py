"""``runwire fmt``: rewrite a manifest's text, keeping comments and key order.

Three modes: ``keep`` (layout only), ``canonical`` (the wire form: constructor and
secret nodes) and ``compact`` (the authoring form: ``_type``, helpers, ``!secret``).
YAML goes through ruamel.yaml's round-trip tree, so comments, key order, quoting and
``!include`` tags survive; JSON is rewritten with 2-space indentation.
"""

from __future__ import annotations

import io
import json
from typing import Any, Literal

from runwire.errors import LimitExceededError, ManifestError, UnknownIdError, format_path
from runwire.loader.authoring import (
    HELPERS,
    TYPE_KEY,
    ShapeError,
    compact,
    expand,
    is_parallel_shorthand,
    resolve_type,
)
from runwire.loader.limits import DEFAULT_LIMITS, parse_json
from runwire.loader.registry import entry_by_name, lookup
from runwire.loader.source import brief, read_yaml_tree, secret_name, tag_of

__all__ = ["Mode", "format_text"]

Mode = Literal["keep", "canonical", "compact"]
_BY_CLASS = {helper.class_name: helper for helper in HELPERS.values()}


def format_text(text: str, *, yaml: bool, mode: Mode = "keep", source: str = "<text>") -> str:
    """The formatted text of a manifest (YAML when ``yaml``, else JSON)."""
    if yaml:
        tree = read_yaml_tree(text, source=source, preserve_quotes=True)
        if mode != "keep":
            tree = _Tree(source).canonical(tree, ()) if mode == "canonical" else _compact(tree)
        return _dump_yaml(tree)
    data = parse_json(text, source=source)
    _check_depth(data, source)
    if mode == "canonical":
        data = expand(data)
    elif mode == "compact":
        data = compact(data)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _check_depth(data: Any, source: str) -> None:
    """Refuse JSON nested deeper than the loader accepts (the rewrites recurse)."""
    limit = DEFAULT_LIMITS.max_depth
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        value, depth = todo.pop()
        if depth > limit:
            raise LimitExceededError(
                f"nested more than {limit} levels deep",
                hint="flatten the manifest (Limits.max_depth)",
                file=source,
            )
        if isinstance(value, dict | list):
            children = value.values() if isinstance(value, dict) else value
            todo.extend((child, depth + 1) for child in children)


def _yaml() -> Any:
    from ruamel.yaml import YAML

    writer = YAML(typ="rt", pure=True)
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.width = 100
    writer.preserve_quotes = True
    return writer


def _dump_yaml(tree: Any) -> str:
    out = io.StringIO()
    _yaml().dump(tree, out)
    return out.getvalue()


def _flow(items: list[Any]) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _map(pairs: list[tuple[str, Any]], comments_from: Any = None) -> Any:
    """A new mapping; comments on keys it shares with ``comments_from`` come along."""
    from ruamel.yaml.comments import CommentedMap

    out = CommentedMap()
    for key, value in pairs:
        out[key] = value
        items = getattr(getattr(comments_from, "ca", None), "items", {})
        if key in items:
            out.ca.items[key] = items[key]
    return out


def _unflow(container: Any, force: bool = False) -> None:
    """Write a flow-style container in block style once it holds wire nodes."""
    values = container.values() if isinstance(container, dict) else container
    fa = getattr(container, "fa", None)
    if fa is not None and (force or any(isinstance(v, dict) and "lc" in v for v in values)):
        fa.set_block_style()


def _secret_node(name: str) -> Any:
    return _map([("lc", 1), ("type", "secret"), ("id", _flow([name]))])


class _Tree:
    """Authoring tree -> wire tree (new maps for nodes, other containers edited in place)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def canonical(self, node: Any, at: tuple[str | int, ...]) -> Any:
        if tag_of(node) == "!secret":
            return _secret_node(str(node.value).strip())
        if isinstance(node, dict):
            if TYPE_KEY in node:
                return self.node(node, at)
            name = secret_name(node)
            if name is not None:
                return _secret_node(name)
            for key in list(node):
                node[key] = self.canonical(node[key], (*at, key))
            _unflow(node)
        elif isinstance(node, list):
            for index, item in enumerate(node):
                node[index] = self.canonical(item, (*at, index))
            _unflow(node)
        return node

    def runnable(self, node: Any, at: tuple[str | int, ...]) -> Any:
        if is_parallel_shorthand(node):
            branches = self.canonical(node, at)
            _unflow(branches, force=True)
            kwargs = _map([("steps__", branches)])
            ident = _flow(["runwire", "runnables", "RunnableParallel"])
            return _map([("lc", 1), ("type", "constructor"), ("id", ident), ("kwargs", kwargs)])
        return self.canonical(node, at)

    def node(self, node: Any, at: tuple[str | int, ...]) -> Any:
        helper, entry = resolve_type(node[TYPE_KEY])
        if helper is None and entry is None:
            line, col = node.lc.key(TYPE_KEY) if hasattr(node, "lc") else (None, None)
            raise UnknownIdError(
                f"unknown _type {brief(node[TYPE_KEY])}",
                path=format_path((*at, TYPE_KEY)),
                file=self.source,
                line=line + 1 if line is not None else None,
                column=col + 1 if col is not None else None,
            )
        kwargs = []
        for key, value in node.items():
            if key == TYPE_KEY:
                continue
            where = (*at, key)
            if helper is not None and key in helper.runnable_lists and isinstance(value, list):
                for index, item in enumerate(value):
                    value[index] = self.runnable(item, (*where, index))
            elif helper is not None and key in helper.runnable_maps and isinstance(value, dict):
                for name in list(value):
                    value[name] = self.runnable(value[name], (*where, name))
            else:
                value = self.canonical(value, where)
            kwargs.append((helper.renames.get(key, key) if helper else key, value))
        shaped = {**helper.defaults, **dict(kwargs)} if helper is not None else dict(kwargs)
        if helper is not None and helper.to_wire is not None:
            try:
                shaped = helper.to_wire(shaped)
            except ShapeError as exc:
                raise ManifestError(
                    exc.args[0], path=format_path((*at, exc.args[1])), file=self.source
                ) from None
            shaped = {k: self._rebuild(v) for k, v in shaped.items()}
        ident = helper.ident if helper is not None else entry.id  # type: ignore[union-attr]
        out = _map(
            [
                ("lc", 1),
                ("type", "constructor"),
                ("id", _flow(list(ident))),
                ("kwargs", _map(list(shaped.items()), comments_from=node)),
            ]
        )
        if getattr(node, "ca", None) is not None and node.ca.comment:
            out.ca.comment = node.ca.comment
        if TYPE_KEY in node.ca.items:
            out.ca.items["id"] = node.ca.items[TYPE_KEY]
        return out

    def _rebuild(self, value: Any) -> Any:
        """Plain containers a helper made (``middle``, assign's mapper) as ruamel ones."""
        from ruamel.yaml.comments import CommentedSeq

        if type(value) is dict:
            return _map([(k, self._rebuild(v)) for k, v in value.items()])
        if type(value) is list:
            return CommentedSeq([self._rebuild(v) for v in value])
        return value


def _compact(node: Any) -> Any:
    """Wire tree -> authoring tree."""
    from ruamel.yaml.comments import TaggedScalar

    if isinstance(node, dict):
        name = secret_name(node)
        if name is not None:
            return TaggedScalar(value=name, tag="!secret")
        if node.get("lc") == 1 and node.get("type") == "constructor":
            entry = lookup(node.get("id") or ())
            kwargs = node.get("kwargs") or {}
            if entry is not None and isinstance(kwargs, dict):
                return _compact_node(node, entry, kwargs)
        for key in list(node):
            node[key] = _compact(node[key])
    elif isinstance(node, list):
        for index, item in enumerate(node):
            node[index] = _compact(item)
    return node


def _compact_node(node: Any, entry: Any, kwargs: Any) -> Any:
    helper = _BY_CLASS.get(entry.name) if entry.namespace == ("runwire", "runnables") else None
    pairs: list[tuple[str, Any]] = list(kwargs.items())
    kind = entry.name if entry_by_name(entry.name) is entry else ".".join(entry.id)
    if helper is not None:
        shaped = helper.from_wire(dict(kwargs)) if helper.from_wire else dict(kwargs)
        if shaped is not None:
            back = {wire: key for key, wire in helper.renames.items()}
            pairs = [(back.get(k, k), v) for k, v in shaped.items()]
            kind = helper.name
    out = _map([(TYPE_KEY, kind), *((k, _compact(v)) for k, v in pairs)], comments_from=kwargs)
    if getattr(node, "ca", None) is not None and node.ca.comment:
        out.ca.comment = node.ca.comment
    return out
