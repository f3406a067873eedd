"""The class registry: which classes a manifest may name, and how to get them.

Built-ins come from the id table (``runwire.schema.ids``) and are imported from
runwire's own modules on first use. Users add classes with ``@runwire.register`` or an
entry point in the ``runwire.components`` group. Nothing else can ever be built:
a manifest's id is looked up here and never turned into an import.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypeVar, overload

from runwire.schema.ids import ClassEntry, Group, id_table
from runwire.schema.serializable import Serializable

__all__ = [
    "DEFAULT_NAMESPACES",
    "AllowedObjects",
    "allowed_ids",
    "class_for",
    "entry_by_name",
    "lookup",
    "nearest_names",
    "register",
]

T = TypeVar("T", bound=type[Serializable])
AllowedObjects = Literal["core", "messages", "all"] | Iterable[type[Serializable]]

DEFAULT_NAMESPACES: frozenset[str] = frozenset(
    (
        "runwire",
        "langchain",
        "langchain_core",
        "langchain_aws",
        "langchain_community",
        "langchain_openai",
        "langchain_oci",
    )
)
"""First id segments accepted by default; ``valid_namespaces`` adds to them."""

_GROUPS: dict[str, frozenset[Group]] = {
    "messages": frozenset(("messages",)),
    "core": frozenset(("messages", "core")),
    "all": frozenset(("messages", "core", "providers", "user")),
}
ENTRY_POINT_GROUP = "runwire.components"
_entry_points_loaded = False
_allowed_cache: dict[Any, tuple[int, frozenset[tuple[str, ...]]]] = {}
"""Allowed ids by group name (with the registry version) or by tuple of classes."""


def _load_entry_points() -> bool:
    """Import the ``runwire.components`` entry points once; True if this call did it."""
    global _entry_points_loaded
    if _entry_points_loaded:
        return False
    _entry_points_loaded = True
    from importlib.metadata import entry_points  # ~40 ms: only when a lookup needs it

    for point in entry_points(group=ENTRY_POINT_GROUP):
        loaded = point.load()
        if isinstance(loaded, type) and issubclass(loaded, Serializable):
            register(loaded)
    return True


def lookup(ident: Sequence[str]) -> ClassEntry | None:
    """The entry for an id (runwire's or LangChain's), or ``None``."""
    key = tuple(ident)
    entry = id_table.by_id.get(key)
    if entry is None and _load_entry_points():
        entry = id_table.by_id.get(key)
    return entry


def entry_by_name(name: str) -> ClassEntry | None:
    """The entry of a short name (``"ChatPromptTemplate"``), or ``None``."""
    entry = id_table.by_name.get(name)
    if entry is None and _load_entry_points():
        entry = id_table.by_name.get(name)
    return entry


def class_for(entry: ClassEntry) -> type[Serializable]:
    """The class of an entry, importing runwire's own module on first use."""
    if entry.cls is None:
        assert entry.module is not None, f"entry {entry.name} has neither class nor module"
        entry.cls = getattr(importlib.import_module(entry.module), entry.name)
    return entry.cls  # type: ignore[return-value]


def nearest_names(ident: Sequence[str], limit: int = 3) -> list[str]:
    """Registered names closest to an unknown id (by its last part, then the whole id)."""
    import difflib

    _load_entry_points()
    names = list(id_table.by_name)
    last = ident[-1] if ident else ""
    close = difflib.get_close_matches(str(last), names, n=limit, cutoff=0.5)
    if not close:
        joined = {".".join(e.id): e.name for e in id_table.entries}
        whole = difflib.get_close_matches(".".join(map(str, ident)), joined, n=limit, cutoff=0.4)
        close = [joined[w] for w in whole]
    return close


def allowed_ids(allowed: AllowedObjects) -> frozenset[tuple[str, ...]]:
    """The runwire ids ``allowed_objects`` permits."""
    if isinstance(allowed, str):
        try:
            groups = _GROUPS[allowed]
        except KeyError:
            raise ValueError(
                f"allowed_objects={allowed!r}: use 'core', 'messages', 'all' or a list of classes"
            ) from None
        if "user" in groups:
            _load_entry_points()
        cached = _allowed_cache.get(allowed)
        if cached is not None and cached[0] == id_table.version:
            return cached[1]
        ids = frozenset(e.id for e in id_table.entries if e.group in groups)
        _allowed_cache[allowed] = (id_table.version, ids)
        return ids
    key = tuple(allowed) if isinstance(allowed, tuple | list) else None
    if key is not None:
        try:
            hit = _allowed_cache.get(key)
        except TypeError:  # an unhashable member: checked below
            hit = None
        if hit is not None:
            return hit[1]
    listed = []
    for cls in allowed:
        if not (isinstance(cls, type) and issubclass(cls, Serializable)):
            raise TypeError(f"allowed_objects must hold Serializable classes, got {cls!r}")
        listed.append(tuple(cls.lc_id()))
    ids = frozenset(listed)
    if key is not None and len(_allowed_cache) < 256:  # lists of classes: a few per program
        _allowed_cache[key] = (id_table.version, ids)
    return ids


@overload
def register(cls: T, /) -> T: ...
@overload
def register(*, langchain_id: Sequence[str] | Sequence[Sequence[str]] | None = None) -> Any: ...
def register(
    cls: T | None = None,
    /,
    *,
    langchain_id: Sequence[str] | Sequence[Sequence[str]] | None = None,
) -> Any:
    """Register a Serializable class so manifests may name it.

    Use as ``@register`` or ``@register(langchain_id=[...])``. The class must be
    serializable (``is_lc_serializable()`` true); its id is ``cls.lc_id()``, its short
    name (for the authoring form) the class name.
    """

    def apply(klass: T) -> T:
        if not (isinstance(klass, type) and issubclass(klass, Serializable)):
            raise TypeError(f"register() takes a Serializable subclass, got {klass!r}")
        if not klass.is_lc_serializable():
            raise TypeError(f"{klass.__name__}.is_lc_serializable() is False: it cannot load")
        *namespace, last = klass.lc_id()
        aliases: tuple[tuple[str, ...], ...] = ()
        if langchain_id:
            if isinstance(langchain_id[0], str):
                aliases = (tuple(langchain_id),)  # type: ignore[arg-type]
            else:
                aliases = tuple(tuple(a) for a in langchain_id)
        id_table.add(
            ClassEntry(
                name=last,
                namespace=tuple(namespace),
                group="user",
                langchain=aliases,
                cls=klass,
            )
        )
        return klass

    return apply(cls) if cls is not None else apply
