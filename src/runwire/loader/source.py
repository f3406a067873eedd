"""Manifest files to plain data, remembering where every part came from.

A file is YAML (ruamel.yaml, round-trip parser: no Python object is ever built from a
tag) or JSON (orjson). ``!secret NAME`` becomes ``{"_secret": NAME}``; ``!include
path`` and ``{_include: path}`` splice another file in, relative to the including file
and never outside the project root. Overlays deep-merge later files over earlier ones,
and ``--set a.b.1=value`` overrides one value.

Positions are looked up only when an error needs one: a :class:`Source` maps a path in
the composed data back to ``file:line:column``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runwire.errors import LimitExceededError, ManifestError, ManifestSyntaxError, format_path
from runwire.loader.limits import Limits, parse_json

__all__ = [
    "Origin",
    "Source",
    "apply_set",
    "compose",
    "deep_merge",
    "find_root",
    "is_secret_node",
    "read_yaml_tree",
    "secret_name",
    "tag_of",
]

Parts = tuple[str | int, ...]
INCLUDE_KEY = "_include"
SECRET_KEY = "_secret"
YAML_SUFFIXES = frozenset((".yaml", ".yml"))
ROOT_MARKERS = (".git", "pyproject.toml", "runwire.yaml")


def secret_name(value: Any) -> str | None:
    """The name of a secret node (``{_secret: NAME}`` or a wire secret node), else None."""
    if not isinstance(value, dict):
        return None
    if len(value) == 1 and SECRET_KEY in value:
        name = value[SECRET_KEY]
    elif value.get("lc") == 1 and value.get("type") == "secret":
        ident = value.get("id")
        name = ident[0] if isinstance(ident, list) and len(ident) == 1 else None
    else:
        return None
    return name if isinstance(name, str) else None


def is_secret_node(value: Any) -> bool:
    """Whether ``value`` is a secret node, in the authoring or the wire form."""
    return isinstance(value, dict) and (
        (len(value) == 1 and SECRET_KEY in value)
        or (value.get("lc") == 1 and value.get("type") == "secret")
    )


_DEFAULT_LIMITS = Limits()


def read_yaml_tree(text: str, *, source: str, preserve_quotes: bool = False) -> Any:
    """Parse YAML text into ruamel's round-trip tree (comments, tags and positions kept)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    reader = YAML(typ="rt", pure=True)
    reader.preserve_quotes = preserve_quotes
    try:
        return reader.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise ManifestSyntaxError(
            f"invalid YAML: {problem}",
            hint="check the indentation and quoting near this position",
            file=source,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from None
    except YAMLError as exc:
        raise ManifestSyntaxError(f"invalid YAML: {exc}", file=source) from None


@dataclass(slots=True)
class Origin:
    """One file that contributed data: its text, parsed lazily for positions."""

    file: str
    text: str
    tree: Any = None
    parsed: bool = False

    def position(self, parts: Parts) -> tuple[int, tuple[int, int] | None]:
        """How many parts were found in the file, and the (line, column) of the deepest."""
        if not self.parsed:
            self.parsed = True
            try:
                self.tree = read_yaml_tree(self.text, source=self.file)
            except ManifestError:
                self.tree = None
        return _position_in(self.tree, parts)


def _position_in(tree: Any, parts: Parts) -> tuple[int, tuple[int, int] | None]:
    node, found, where = tree, 0, None
    for part in parts:
        lc = getattr(node, "lc", None)
        if lc is None:
            break
        try:
            if isinstance(node, dict) and part in node:
                line, col = lc.key(part)
            elif isinstance(node, list) and type(part) is int and 0 <= part < len(node):
                line, col = lc.item(part)
            else:
                break
        except (KeyError, IndexError, TypeError):
            break
        where, found, node = (line + 1, col + 1), found + 1, node[part]
    lc = getattr(tree, "lc", None)
    if where is None and lc is not None and lc.line is not None:
        where = (lc.line + 1, (lc.col or 0) + 1)
    return found, where


@dataclass(slots=True)
class Source:
    """Where the parts of a composed manifest came from (files, includes, overlays)."""

    files: list[str] = field(default_factory=list)
    # (data path prefix, origin, path of the prefix inside that origin's file)
    spans: list[tuple[Parts, Origin, Parts]] = field(default_factory=list)

    def locate(self, parts: Sequence[str | int]) -> tuple[str, int | None, int | None]:
        """(file, line, column) of a path in the composed data; later layers win."""
        parts = tuple(parts)
        best: tuple[int, int, str, tuple[int, int] | None] | None = None
        for order, (prefix, origin, inner) in enumerate(self.spans):
            if parts[: len(prefix)] != prefix:
                continue
            found, where = origin.position(inner + parts[len(prefix) :])
            rank = (len(prefix) + found, order)
            if best is None or rank >= best[:2]:
                best = (*rank, origin.file, where)
        if best is None:
            return (self.files[0] if self.files else "<manifest>", None, None)
        where = best[3]
        return best[2], where[0] if where else None, where[1] if where else None


def find_root(path: Path) -> Path:
    """The project root of a file: the nearest folder up with .git, pyproject.toml or
    runwire.yaml, else the file's own folder."""
    start = path.resolve().parent
    for folder in (start, *start.parents):
        if any((folder / marker).exists() for marker in ROOT_MARKERS):
            return folder
    return start


class _Reader:
    """Reads one top-level file and its includes into plain data."""

    def __init__(self, root: Path, limits: Limits, source: Source) -> None:
        self.root = root
        self.limits = limits
        self.source = source
        self.nodes = 0

    def read(self, path: Path, at: Parts, stack: tuple[Path, ...], shown: str) -> Any:
        resolved = path.resolve()
        try:
            size = resolved.stat().st_size
        except OSError as exc:
            raise ManifestError(
                f"cannot read {shown}: {exc.strerror}", hint="check the path", file=shown
            ) from None
        if size > self.limits.max_bytes:
            raise LimitExceededError(
                f"file is {size} bytes, more than the limit of {self.limits.max_bytes}",
                hint="split the manifest, or raise Limits.max_bytes for trusted files",
                file=shown,
            )
        raw = resolved.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ManifestSyntaxError(
                f"not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8", file=shown
            ) from None
        if not text.strip():
            raise ManifestError(
                "the file is empty",
                hint="a manifest is a mapping with `_type` (or an lc node), or a list of them",
                file=shown,
                line=1,
                column=1,
            )
        origin = Origin(shown, text)
        self.source.spans.append((at, origin, ()))
        if resolved.suffix.lower() in YAML_SUFFIXES:
            origin.tree = read_yaml_tree(text, source=shown)
            origin.parsed = True
            return self.plain(origin.tree, at, (resolved, *stack), origin)
        data = parse_json(raw, limits=self.limits, source=shown)
        return self.plain(data, at, (resolved, *stack), origin)

    def fail(self, message: str, at: Parts, hint: str = "", error: type = ManifestError) -> Any:
        file, line, column = self.source.locate(at)
        raise error(message, path=format_path(at), hint=hint, file=file, line=line, column=column)

    def plain(self, node: Any, at: Parts, stack: tuple[Path, ...], origin: Origin) -> Any:
        """A ruamel/orjson value as plain dicts, lists and scalars, includes spliced in."""
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            self.fail(
                f"more than {self.limits.max_nodes} nodes (YAML aliases expand)",
                at,
                "split the manifest or raise Limits.max_nodes",
                LimitExceededError,
            )
        if len(at) > self.limits.max_depth:
            self.fail(
                f"nested more than {self.limits.max_depth} levels deep",
                at,
                "flatten the manifest",
                LimitExceededError,
            )
        tag = tag_of(node)
        if tag == "!secret":
            return {SECRET_KEY: self.scalar_text(node, at, "!secret")}
        if tag == "!include":
            return self.include(self.scalar_text(node, at, "!include"), {}, at, stack)
        if tag is not None:
            self.fail(
                f"unknown YAML tag {tag}",
                at,
                "runwire reads only !secret NAME and !include PATH",
            )
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if isinstance(key, int) and not isinstance(key, bool):
                    key = str(key)  # list indexes in overlays: `steps: {1: ...}`
                if not isinstance(key, str):
                    self.fail(f"keys must be strings, got {key!r}", at, "quote the key")
                out[key] = self.plain(value, (*at, key), stack, origin)
            if INCLUDE_KEY in out:
                target = out.pop(INCLUDE_KEY)
                if not isinstance(target, str):
                    self.fail("_include takes a file path", (*at, INCLUDE_KEY))
                return self.include(target, out, at, stack)
            return out
        if isinstance(node, list):
            return [self.plain(item, (*at, i), stack, origin) for i, item in enumerate(node)]
        return _scalar(node)

    def scalar_text(self, node: Any, at: Parts, tag: str) -> str:
        value = getattr(node, "value", None)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{tag} takes a name or path", at, f"write e.g. `{tag} NAME`")
        return value.strip()

    def include(
        self, target: str, overrides: dict[str, Any], at: Parts, stack: tuple[Path, ...]
    ) -> Any:
        path = (stack[0].parent / target).resolve()
        if not path.is_relative_to(self.root):
            self.fail(
                f"include {target!r} is outside the project root {self.root}",
                at,
                "keep included fragments inside the project (or pass a wider root)",
            )
        if path in stack:
            chain = " -> ".join(p.name for p in (*reversed(stack), path))
            self.fail(f"include cycle: {chain}", at, "an included file must not include itself")
        shown = os.path.relpath(path) if not os.path.isabs(target) else str(path)
        data = self.read(path, at, stack, shown)
        if overrides:
            if not isinstance(data, dict):
                self.fail(
                    f"{target} is not a mapping, so keys next to _include cannot merge in", at
                )
            data = deep_merge(data, overrides)
        return data


_CORE_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")
)


def tag_of(node: Any) -> str | None:
    """An explicit tag other than YAML's core ones (``!!python/...`` included), or None."""
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", tag)
    if not value or not isinstance(value, str) or value in _CORE_TAGS:
        return None
    return value


def _scalar(value: Any) -> Any:
    """ruamel's scalar subclasses as plain Python values."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    if isinstance(value, int) and type(value).__name__ == "ScalarBoolean":  # an anchored bool
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)  # dates and other YAML scalars: their text


def deep_merge(base: Any, over: Any) -> Any:
    """``over`` merged into ``base``.

    Mappings merge key by key, and a ``null`` in ``over`` removes the key. A mapping
    with index keys over a list changes those items (``steps: {1: {temperature: 0}}``).
    Anything else in ``over`` replaces what ``base`` has.
    """
    if isinstance(base, dict) and isinstance(over, dict):
        merged = dict(base)
        for key, value in over.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    indexes = isinstance(over, dict) and over and all(k.isdigit() for k in over)
    if isinstance(base, list) and indexes and all(int(k) < len(base) for k in over):
        items = list(base)
        for key, value in over.items():
            items[int(key)] = deep_merge(items[int(key)], value)
        return items
    return over


def _parse_scalar(text: str) -> Any:
    from ruamel.yaml import YAML

    try:
        return _plain_value(YAML(typ="safe", pure=True).load(text))
    except Exception:
        return text


def _plain_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    return _scalar(value)


def apply_set(data: Any, assignment: str) -> Any:
    """``data`` with one ``dotted.path=value`` override (value read as a YAML scalar)."""
    dotted, eq, text = assignment.partition("=")
    if not eq or not dotted.strip():
        raise ManifestError(
            f"--set {assignment!r} is not PATH=VALUE",
            hint="write e.g. --set steps.1.temperature=0.3",
            file="--set",
        )
    keys = dotted.strip().split(".")
    value = _parse_scalar(text)

    def put(node: Any, depth: int) -> Any:
        key = keys[depth]
        where = format_path([int(k) if k.isdigit() else k for k in keys[: depth + 1]])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ManifestError(
                    f"--set {dotted}: no item {key} in a list of {len(node)}",
                    path=where,
                    hint="list items are addressed by index from 0",
                    file="--set",
                )
            out_list = list(node)
            index = int(key)
            out_list[index] = value if depth == len(keys) - 1 else put(node[index], depth + 1)
            return out_list
        if node is None:
            node = {}
        if not isinstance(node, dict):
            raise ManifestError(
                f"--set {dotted}: {format_path(keys[:depth]) or '$'} is a "
                f"{type(node).__name__}, not a mapping",
                path=where,
                file="--set",
            )
        out = dict(node)
        out[key] = value if depth == len(keys) - 1 else put(node.get(key), depth + 1)
        return out

    return put(data, 0)


def compose(
    paths: Sequence[str | os.PathLike[str]],
    *,
    sets: Iterable[str] = (),
    root: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
) -> tuple[Any, Source]:
    """Read ``paths`` (later files deep-merged over earlier ones), apply ``sets``.

    Returns the plain data and its :class:`Source` (for ``file:line:column``).
    """
    if not paths:
        raise ValueError("compose() needs at least one file")
    limits = limits or _DEFAULT_LIMITS
    source = Source(files=[str(p) for p in paths])
    data: Any = None
    for index, name in enumerate(paths):
        path = Path(name)
        base = Path(root).resolve() if root is not None else find_root(path)
        layer = _Reader(base, limits, source).read(path, (), (), str(name))
        data = layer if index == 0 else deep_merge(data, layer)
    for assignment in sets:
        data = apply_set(data, assignment)
    return data, source
