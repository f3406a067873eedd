"""Manifest files to plain data, remembering where every part came from.

A file is YAML (ruamel.yaml, round-trip parser: no Python object is ever built from a
tag) or JSON (orjson). ``!secret NAME`` becomes ``{"_secret": NAME}``; ``!include
path`` and ``{_include: path}`` splice another file in, relative to the including file
and never outside the project root. Overlays deep-merge later files over earlier ones,
and ``--set a.b.1=value`` overrides one value.

Positions are looked up only when an error needs one: a :class:`Source` maps a path in
the composed data back to ``file:line:column``.

Every load is bounded (:class:`~runwire.loader.limits.Limits`): YAML text and nodes
parsed, aliases counted at their full expansion, includes spliced and their depth, bytes
read; includes are read only from regular files (a FIFO or a device never blocks a load).
"""

from __future__ import annotations

import os
import reprlib
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runwire.errors import LimitExceededError, ManifestError, ManifestSyntaxError, format_path
from runwire.loader.limits import Limits, parse_json
from runwire.loader.overlays import deep_merge, set_path
from runwire.loader.yaml_text import Budget, read_yaml_tree, text_size

__all__ = [
    "YAML_TAGS",
    "Budget",
    "Origin",
    "Source",
    "apply_set",
    "brief",
    "compose",
    "deep_merge",
    "find_root",
    "is_secret_node",
    "read_yaml_tree",
    "secret_name",
    "tag_of",
    "text_size",
]

Parts = tuple[str | int, ...]
INCLUDE_KEY = "_include"
SECRET_KEY = "_secret"
YAML_SUFFIXES = frozenset((".yaml", ".yml"))
YAML_TAGS = ("!secret", "!include")
"""The YAML tags runwire reads, both on a scalar (editors: customTags ``"!secret scalar"``)."""
ROOT_MARKERS = (".git", "pyproject.toml", "runwire.yaml")


_BRIEF = reprlib.Repr()
_BRIEF.maxstring = _BRIEF.maxother = 80
_BRIEF.maxlevel, _BRIEF.maxdict, _BRIEF.maxlist = 2, 4, 4


def brief(value: Any) -> str:
    """A short ``repr`` of a value from a manifest, for messages (it may be huge)."""
    return _BRIEF.repr(value)


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


@dataclass(slots=True)
class Origin:
    """One file that contributed data: its text, parsed lazily for positions."""

    file: str
    text: str
    tree: Any = None
    parsed: bool = False
    budget: Budget | None = None
    """What parsing the text for positions may use (shared by a load's files)."""

    def position(self, parts: Parts) -> tuple[int, tuple[int, int] | None]:
        """How many parts were found in the file, and the (line, column) of the deepest.

        A JSON file is parsed for positions only when an error needs one, and only within
        the YAML limits: a file too large for them gets errors without a line.
        """
        if not self.parsed:
            self.parsed = True
            try:
                self.tree = read_yaml_tree(self.text, source=self.file, budget=self.budget)
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


_OPEN = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_OPEN_NONBLOCKING = _OPEN | getattr(os, "O_NONBLOCK", 0)


def _read_file(path: Path, limit: int, *, regular_only: bool) -> tuple[bytes, int]:
    """(the bytes, the size) of a file; nothing is read when the size is over ``limit``.

    ``regular_only``: refuse anything but a regular file, opened without blocking (a FIFO
    never hangs the load). Otherwise a pipe or a device is read up to ``limit + 1`` bytes.
    """
    fd = os.open(path, _OPEN_NONBLOCKING if regular_only else _OPEN)
    try:
        info = os.fstat(fd)
        regular = stat.S_ISREG(info.st_mode)
        if stat.S_ISDIR(info.st_mode) or (regular_only and not regular):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
            raise OSError(0, kind)  # reported by the caller, with its position
        if regular and info.st_size > limit:
            return b"", info.st_size
        chunks, left = [], limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data, len(data)
    finally:
        os.close(fd)


class _Reader:
    """Reads files and their includes into plain data, within one load's :class:`Budget`."""

    def __init__(self, root: Path, budget: Budget, source: Source) -> None:
        self.root = root
        self.budget = budget
        self.limits = budget.limits
        self.source = source

    def read(self, path: Path, at: Parts, stack: tuple[Path, ...], shown: str) -> Any:
        limits, budget = self.limits, self.budget
        try:
            resolved = path.resolve()
            yaml = resolved.suffix.lower() in YAML_SUFFIXES
            rooms = [("max_bytes", limits.max_bytes - budget.read, "")]  # reported first
            if yaml:
                rooms.append(("max_yaml_bytes", limits.max_yaml_bytes - budget.yaml_bytes, "YAML "))
            left = max(min(room for _, room, _ in rooms), 0)
            raw, size = _read_file(resolved, left, regular_only=bool(stack))
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            hint = "include regular files only" if stack else "check the path"
            self.fail_reading(f"cannot read {shown}: {reason}", at, stack, shown, hint)
        budget.read += len(raw)
        for name, room, kind in rooms:
            if size > room:
                total = getattr(limits, name)
                so_far = f" with the {total - room} read before it" if room < total else ""
                self.fail_reading(
                    f"file is {size} bytes{so_far}, more than the limit of {total} "
                    f"({kind}text one load reads)",
                    at,
                    stack,
                    shown,
                    f"split the manifest{', or write it as JSON' if kind else ''}, or raise "
                    f"Limits.{name} for trusted files",
                    LimitExceededError,
                )
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
        origin = Origin(shown, text, budget=budget.positions)
        self.source.spans.append((at, origin, ()))
        if yaml:
            origin.tree = read_yaml_tree(text, source=shown, budget=self.budget)
            origin.parsed = True
            return self.plain(origin.tree, at, (resolved, *stack))
        data = parse_json(raw, limits=self.limits, source=shown)
        return self.plain(data, at, (resolved, *stack))

    def fail(self, message: str, at: Parts, hint: str = "", error: type = ManifestError) -> Any:
        file, line, column = self.source.locate(at)
        raise error(message, path=format_path(at), hint=hint, file=file, line=line, column=column)

    def fail_reading(
        self,
        message: str,
        at: Parts,
        stack: tuple[Path, ...],
        shown: str,
        hint: str,
        error: type = ManifestError,
    ) -> Any:
        """An include's problem is at its ``!include``; a named file's is that file's."""
        if stack:
            self.fail(message, at, hint, error)
        raise error(message, hint=hint, file=shown)

    def plain(self, node: Any, at: Parts, stack: tuple[Path, ...]) -> Any:
        """A ruamel/orjson value as plain dicts, lists and scalars, includes spliced in."""
        budget = self.budget
        budget.nodes += 1
        if budget.nodes > self.limits.max_nodes:
            self.fail(
                f"more than {self.limits.max_nodes} nodes, includes and YAML aliases counted "
                "in full",
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
                f"unknown YAML tag {tag[:100]}",
                at,
                "runwire reads only !secret NAME and !include PATH",
            )
        if isinstance(node, Mapping):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if isinstance(key, int) and not isinstance(key, bool):
                    key = str(key)  # list indexes in overlays: `steps: {1: ...}`
                if not isinstance(key, str):
                    shown = f"a {type(key).__name__}"
                    self.fail(f"keys must be strings, got {shown}", at, "quote the key")
                self.count_text(key, at)
                out[key] = self.plain(value, (*at, key), stack)
            if INCLUDE_KEY in out:
                target = out.pop(INCLUDE_KEY)
                if not isinstance(target, str):
                    self.fail("_include takes a file path", (*at, INCLUDE_KEY))
                return self.include(target, out, at, stack)
            return out
        if isinstance(node, list):
            return [self.plain(item, (*at, i), stack) for i, item in enumerate(node)]
        if isinstance(node, str):
            self.count_text(node, at)
        return _scalar(node)

    def count_text(self, text: str, at: Parts) -> None:
        self.budget.text += text_size(text)
        if self.budget.text > self.limits.max_bytes:
            self.fail(
                f"more than {self.limits.max_bytes} bytes of text, includes and YAML aliases "
                "counted in full",
                at,
                "split the manifest or raise Limits.max_bytes",
                LimitExceededError,
            )

    def scalar_text(self, node: Any, at: Parts, tag: str) -> str:
        value = getattr(node, "value", None)
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{tag} takes a name or path", at, f"write e.g. `{tag} NAME`")
        return value.strip()

    def include(
        self, target: str, overrides: dict[str, Any], at: Parts, stack: tuple[Path, ...]
    ) -> Any:
        if not stack:
            self.fail("a --set value cannot include a file", at, "set the value itself")
        limits, budget = self.limits, self.budget
        budget.includes += 1
        if budget.includes > limits.max_includes:
            self.fail(
                f"more than {limits.max_includes} includes in one manifest",
                at,
                "include each fragment once (YAML anchors can repeat it), or raise "
                "Limits.max_includes",
                LimitExceededError,
            )
        if len(stack) >= limits.max_include_depth:
            self.fail(
                f"includes nested more than {limits.max_include_depth} files deep",
                at,
                "include the fragments from fewer levels, or raise Limits.max_include_depth",
                LimitExceededError,
            )
        try:
            path = (stack[0].parent / target).resolve()
        except (OSError, ValueError) as exc:  # a NUL byte, a path too long, a symlink loop
            return self.fail(f"cannot include {brief(target)}: {exc}", at, "check the path")
        if not path.is_relative_to(self.root):
            self.fail(
                f"include {brief(target)} is outside the project root {self.root}",
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


def _set_value(text: str, budget: Budget) -> Any:
    """A ``--set`` value read as YAML within the load's limits; text that is not YAML
    (or uses an unknown tag) stays the text."""
    reader = _Reader(Path.cwd(), budget, Source(files=["--set"]))
    try:
        return reader.plain(read_yaml_tree(text, source="--set", budget=budget), (), ())
    except LimitExceededError:
        raise
    except ManifestError:
        return text


def apply_set(data: Any, assignment: str, *, limits: Limits | None = None) -> Any:
    """``data`` with one ``dotted.path=value`` override (the value read as YAML)."""
    return _apply_set(data, assignment, Budget(limits))


def _apply_set(data: Any, assignment: str, budget: Budget) -> Any:
    dotted, eq, text = assignment.partition("=")
    if not eq or not dotted.strip():
        raise ManifestError(
            f"--set {brief(assignment)} is not PATH=VALUE",
            hint="write e.g. --set steps.1.temperature=0.3",
            file="--set",
        )
    keys = dotted.strip().split(".")
    if len(keys) > budget.limits.max_depth:
        raise LimitExceededError(
            f"--set path has more than {budget.limits.max_depth} keys",
            hint="set a shallower value (a mapping can be the value)",
            file="--set",
        )
    return set_path(data, dotted, _set_value(text, budget))


def compose(
    paths: Sequence[str | os.PathLike[str]],
    *,
    sets: Iterable[str] = (),
    root: str | os.PathLike[str] | None = None,
    limits: Limits | None = None,
) -> tuple[Any, Source]:
    """Read ``paths`` (later files deep-merged over earlier ones), apply ``sets``.

    One :class:`Budget` of ``limits`` covers every file, include and ``--set`` value.
    Returns the plain data and its :class:`Source` (for ``file:line:column``).
    """
    if not paths:
        raise ValueError("compose() needs at least one file")
    budget = Budget(limits)
    source = Source(files=[str(p) for p in paths])
    data: Any = None
    for index, name in enumerate(paths):
        path = Path(name)
        base = Path(root).resolve() if root is not None else find_root(path)
        layer = _Reader(base, budget, source).read(path, (), (), str(name))
        data = layer if index == 0 else deep_merge(data, layer)
    for assignment in sets:
        data = _apply_set(data, assignment, budget)
    return data, source
