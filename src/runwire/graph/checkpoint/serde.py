"""Checkpoint values to bytes and back: runwire's lc JSON, read through the safe loader.

What a value may hold, and how it is written:

- JSON scalars, lists and dicts with string keys: as themselves.
- runwire ``Serializable`` objects (messages, documents, registered classes): as lc
  constructor nodes (``runwire.dumpd``). They are rebuilt by ``runwire.load`` with
  ``allowed_objects`` limited to the message classes, ``Document`` and the classes the
  serializer was given; untrusted, and no secret is ever resolved.
- A user dict shaped like an lc node or escape (an ``"lc"`` key anywhere: in a state
  field, a message's ``additional_kwargs``, a tool call's args) is escaped as
  ``{"__lc_escaped__": {...}}`` and comes back as the same plain dict.
- Other common values get small tagged envelopes of runwire's own, never lc nodes:
  ``{"__rw__": kind, "v": ...}`` for tuples, sets, frozensets, bytes, datetimes, dates,
  times, timedeltas, UUIDs, Decimals, non-finite floats, integers beyond 64 bits, dicts
  with non-string keys (and escaped dicts holding such values), exceptions (as their
  builtin type, else :class:`StoredError`, with the message), and the graph's ``Send``,
  ``Interrupt`` and ``Command``.
- The user's own pydantic models, dataclasses and Enums only when registered with
  ``LcJsonSerializer(types=[...])``; any other object is a ``NotSerializableError`` on
  write. Secret values (``SecretStr``) are never written.

Reading imports no module named by the data, builds no class outside those lists, and
turns any tampered or unknown value into a ``ManifestError``. No pickle, no msgpack.
Subclasses of str/int/float/list/dict/tuple are written as their base type.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from enum import Enum
from typing import Any

import orjson

from runwire.errors import ManifestError, NotSerializableError
from runwire.graph.checkpoint.scalars import (
    BUILTIN_ERRORS,
    CONSTANTS,
    DECODE_SCALAR,
    ESC,
    INT_MAX,
    INT_MIN,
    MAX_DEPTH,
    SIMPLE_KINDS,
    TAG,
    StoredError,
    as_is,
    corrupt,
    is_plain,
    redact,
    short_text,
)

__all__ = ["FORMAT", "TAG", "LcJsonSerializer", "StoredError"]

FORMAT = "lc-json"
"""The type name stored next to each value (``dumps_typed``); other types are refused."""

_GRAPH_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Send": ("runwire.graph.types", ("node", "arg")),
    "Interrupt": ("runwire.graph.types", ("value", "id")),
    "Command": ("runwire.graph.types", ("graph", "update", "resume", "goto")),
}
"""Graph classes stored in checkpoints (pending sends, interrupts, resumes): their fixed
module, and the fields written and passed back to the class."""
_GRAPH_READ_ONLY: dict[str, tuple[str, tuple[str, ...]]] = {
    "RemoveMessage": ("runwire.schema.messages", ("id",)),
}
"""Envelopes earlier runwire versions wrote, still read: ``RemoveMessage`` is now a
registered message, written as an lc constructor node like the others."""


def _graph_class(name: str) -> type:
    """A class of :data:`_GRAPH_FIELDS`, from its fixed module (never one the data names)."""
    import importlib

    module_name = (_GRAPH_FIELDS.get(name) or _GRAPH_READ_ONLY[name])[0]
    try:
        cls = getattr(importlib.import_module(module_name), name, None)
    except ImportError:
        cls = None
    if not isinstance(cls, type):
        raise ManifestError(
            f"stored graph value {name} cannot be rebuilt: {module_name}.{name} is missing",
            hint="read this checkpoint with a runwire version that has the graph runtime",
        )
    return cls


def _graph_type_of(obj: Any) -> str | None:
    name = type(obj).__name__
    known = _GRAPH_FIELDS.get(name)
    if known is None:
        return None
    module = sys.modules.get(known[0])
    return name if module is not None and getattr(module, name, None) is type(obj) else None


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class LcJsonSerializer:
    """Writes checkpoint values as lc JSON bytes and reads them back safely.

    Args:
        allowed_objects: runwire ``Serializable`` classes (registered with
            ``@runwire.register``) that state may hold besides messages and documents.
        types: the user's pydantic models, dataclasses and Enums that state may hold;
            they are stored under their ``module.qualname`` and rebuilt only from this list.
    """

    def __init__(
        self,
        *,
        allowed_objects: Iterable[type] = (),
        types: Iterable[type] = (),
    ) -> None:
        self._extra_objects = tuple(allowed_objects)
        self._allowed: list[type] | None = None
        self._types: dict[str, type] = {}
        for cls in types:
            if not isinstance(cls, type):
                raise TypeError(f"types= takes classes, got {cls!r}")
            self._types[_type_name(cls)] = cls
        self._names = {cls: name for name, cls in self._types.items()}

    # -- the typed pair interface (LangGraph's SerializerProtocol shape) ---------------
    def dumps_typed(self, value: Any) -> tuple[str, bytes]:
        """``(FORMAT, bytes)`` for ``value``."""
        return FORMAT, self.dumps(value)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """The value of a ``(type, bytes)`` pair; a type other than :data:`FORMAT` is refused."""
        kind, raw = data
        if kind != FORMAT:
            raise ManifestError(
                f"stored value has type {str(kind)[:40]!r}, not {FORMAT!r}",
                hint="runwire reads only its own lc JSON checkpoints (never pickle or msgpack)",
            )
        return self.loads(raw)

    # -- writing -------------------------------------------------------------------------
    def encode(self, value: Any) -> Any:
        """``value`` as JSON-ready data (what :meth:`dumps` writes)."""
        try:
            return self._enc(value)
        except RecursionError:
            raise NotSerializableError(
                "value is nested too deeply to store", hint="flatten the state"
            ) from None

    def dumps(self, value: Any) -> bytes:
        """``value`` as lc JSON bytes; ``NotSerializableError`` for what cannot be stored."""
        if value is None or value is True or value is False:
            return CONSTANTS[value]
        data = value if as_is(value) else self.encode(value)
        try:
            # a right-sized copy: orjson's own buffer, kept alive by the thousand (as a
            # saver does), fragments the heap and makes every later dumps ~10x slower
            return bytes(memoryview(orjson.dumps(data)))
        except TypeError as exc:
            raise NotSerializableError(
                f"cannot write checkpoint value: {exc}",
                hint="keep state to JSON values, messages, documents and registered types",
            ) from None

    def _enc(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is str or kind is bool or obj is None:
            return obj
        if kind is int:
            return obj if INT_MIN <= obj <= INT_MAX else {TAG: "int", "v": str(obj)}
        if kind is float:
            return obj if math.isfinite(obj) else {TAG: "float", "v": repr(obj)}
        if kind is list:
            return [x if type(x) is str else self._enc(x) for x in obj]
        if kind is dict:
            return self._enc_dict(obj)
        return self._enc_object(obj)

    def _enc_dict(self, obj: dict[Any, Any]) -> Any:
        if "lc" in obj or TAG in obj or (ESC in obj and len(obj) == 1):
            if is_plain(obj):
                return {ESC: obj}
            return self._pairs(obj)
        out = {}
        for key, value in obj.items():
            if type(key) is not str:
                return self._pairs(obj)
            kind = type(value)
            out[key] = value if kind is str or kind is bool or value is None else self._enc(value)
        return out

    def _pairs(self, obj: dict[Any, Any]) -> dict[str, Any]:
        return {TAG: "dict", "v": [[self._enc(k), self._enc(v)] for k, v in obj.items()]}

    def _enc_object(self, obj: Any) -> Any:
        kind = type(obj)
        graph = _graph_type_of(obj)
        if graph is not None:
            fields = {f: self._enc(getattr(obj, f)) for f in _GRAPH_FIELDS[graph][1]}
            return {TAG: "graph", "name": graph, "v": fields}
        lc = _LC or _lc()
        if isinstance(obj, lc["Serializable"]):
            return lc["dumpd"](obj)
        name = self._names.get(kind)
        if name is not None:
            return self._enc_registered(obj, name)
        if isinstance(obj, Enum):
            raise NotSerializableError(
                f"Enum {_type_name(kind)} is not registered for checkpoints",
                hint=f"pass LcJsonSerializer(types=[{kind.__name__}]) to the saver's serde",
            )
        simple = SIMPLE_KINDS.get(kind)
        if simple is not None:
            return {TAG: simple[0], "v": simple[1](obj)}
        if kind is tuple or kind is set or kind is frozenset:
            return {TAG: kind.__name__, "v": [self._enc(x) for x in obj]}
        if isinstance(obj, BaseException):
            args = obj.args
            text = args[0] if len(args) == 1 and type(args[0]) is str else str(obj)
            return {TAG: "error", "name": kind.__name__, "v": redact(text)}
        return self._enc_subclass(obj)

    def _enc_registered(self, obj: Any, name: str) -> dict[str, Any]:
        import dataclasses

        if isinstance(obj, Enum):
            return {TAG: "enum", "name": name, "v": self._enc(obj.value)}
        if dataclasses.is_dataclass(obj):
            fields = {
                f.name: self._enc(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init
            }
        elif hasattr(obj, "model_dump"):
            fields = self._enc(obj.model_dump(mode="python", by_alias=False))
        else:
            raise NotSerializableError(
                f"{name} is registered but is not a pydantic model, dataclass or Enum",
                hint="store it as JSON values, or make it a pydantic model",
            )
        return {TAG: "model", "name": name, "v": fields}

    def _enc_subclass(self, obj: Any) -> Any:
        """Subclasses of builtin types as their base type; anything else is refused."""
        for base in (str, int, float, dict, list, tuple, set, frozenset):
            if isinstance(obj, base):
                return self._enc(base(obj))
        for base, (kind, write) in SIMPLE_KINDS.items():
            if isinstance(obj, base):
                return {TAG: kind, "v": write(obj)}
        import dataclasses

        cls = type(obj)
        if cls.__name__ in ("SecretStr", "SecretBytes"):
            raise NotSerializableError(
                "secret values are never written to checkpoints",
                hint="keep secrets out of graph state; read them where they are used",
            )
        if dataclasses.is_dataclass(obj) or hasattr(cls, "model_dump"):
            raise NotSerializableError(
                f"{_type_name(cls)} is not registered for checkpoints",
                hint=f"pass LcJsonSerializer(types=[{cls.__name__}]) to the saver's serde",
            )
        raise NotSerializableError(
            f"cannot store a {_type_name(cls)} in a checkpoint",
            hint="keep state to JSON values, messages, documents and registered types",
        )

    # -- reading -------------------------------------------------------------------------
    def loads(self, data: bytes) -> Any:
        """The value ``data`` holds; a ``ManifestError`` for anything tampered or unknown."""
        try:
            value = orjson.loads(data)
        except (orjson.JSONDecodeError, TypeError):
            raise ManifestError(
                "stored value is not lc JSON",
                hint="runwire reads only its own lc JSON checkpoints (never pickle or msgpack)",
            ) from None
        if type(value) is not dict and type(value) is not list:
            return value  # a scalar holds no node
        if (b"\\" in data and b"\\u" in data) or b'"__rw__"' in data:
            return self._dec(value, 0)  # \u escapes can hide keys from the byte scans
        if b'"lc"' in data or b'"__lc_escaped__"' in data:
            return self._load(value, data)
        return value

    def decode(self, data: Any) -> Any:
        """The value of JSON data written by :meth:`encode` (the safe path of :meth:`loads`)."""
        return self._dec(data, 0)

    def _load(self, value: Any, raw: bytes | None = None) -> Any:
        """``value``'s objects; ``raw``, the whole text ``value`` was read from, lets the
        loader's fast path build them (a long message history)."""
        lc = _LC or _lc()
        if self._allowed is None:
            self._allowed = [*lc["state_classes"], *self._extra_objects]
        if raw is not None:
            built = lc["load_fast"](
                value, raw, allowed_objects=self._allowed, limits=lc["limits"], trusted=False
            )
            if built is not lc["FALLBACK"]:
                return built
        return lc["load"](
            value,
            allowed_objects=self._allowed,
            secrets_map={},
            secrets_from_env=False,
            trusted=False,
            limits=lc["limits"],
        )

    def _dec(self, value: Any, depth: int) -> Any:
        kind = type(value)
        if kind is not list and kind is not dict:
            return value
        if depth > MAX_DEPTH:
            raise ManifestError(f"stored value is nested more than {MAX_DEPTH} levels deep")
        if kind is list:
            return [self._dec(v, depth + 1) for v in value]
        if TAG in value:
            return self._dec_tag(value, depth)
        if "lc" in value:
            return self._load(value)
        if len(value) == 1 and ESC in value:
            return value[ESC]
        return {k: self._dec(v, depth + 1) for k, v in value.items()}

    def _dec_tag(self, value: dict[str, Any], depth: int) -> Any:
        kind = value[TAG]
        payload = value.get("v")
        if type(kind) is not str:
            raise corrupt("tagged", "its kind is not text")
        try:
            scalar = DECODE_SCALAR.get(kind)
            if scalar is not None:
                return scalar(payload)
            if kind in ("tuple", "set", "frozenset"):
                if type(payload) is not list:
                    raise TypeError("not a list")
                items = [self._dec(v, depth + 1) for v in payload]
                return {"tuple": tuple, "set": set, "frozenset": frozenset}[kind](items)
            if kind == "dict":
                if type(payload) is not list or any(
                    type(p) is not list or len(p) != 2 for p in payload
                ):
                    raise TypeError("not a list of [key, value] pairs")
                return {self._dec(k, depth + 1): self._dec(v, depth + 1) for k, v in payload}
            if kind == "error":
                return self._dec_error(value.get("name"), payload)
            if kind == "graph":
                return self._dec_graph(value.get("name"), payload, depth)
            if kind in ("model", "enum"):
                return self._dec_model(kind, value.get("name"), payload, depth)
        except ManifestError:
            raise
        except (TypeError, ValueError, KeyError, OverflowError, ArithmeticError) as exc:
            raise corrupt(kind[:40], str(exc)[:200]) from None
        raise ManifestError(
            f"unknown stored value kind {kind[:40]!r}",
            hint="the checkpoint was edited, or written by a newer runwire",
        )

    @staticmethod
    def _dec_error(name: Any, payload: Any) -> BaseException:
        message = short_text(payload)
        cls = BUILTIN_ERRORS.get(name) if type(name) is str else None
        if cls is not None:
            return cls(message)
        return StoredError(message, name if type(name) is str else "Exception")

    def _dec_graph(self, name: Any, payload: Any, depth: int) -> Any:
        known = _GRAPH_FIELDS.get(name) or _GRAPH_READ_ONLY.get(name) if type(name) is str else None
        if known is None or type(payload) is not dict or not set(payload) <= set(known[1]):
            raise TypeError(f"not one of {', '.join(_GRAPH_FIELDS)}")
        cls = _graph_class(name)
        return cls(**{k: self._dec(v, depth + 1) for k, v in payload.items()})

    def _dec_model(self, kind: str, name: Any, payload: Any, depth: int) -> Any:
        cls = self._types.get(name) if type(name) is str else None
        if cls is None:
            shown = name[:120] if type(name) is str else "?"
            raise ManifestError(
                f"stored {kind} {shown} is not registered for checkpoints",
                hint="pass LcJsonSerializer(types=[...]) with the classes state may hold",
            )
        if kind == "enum":
            if not issubclass(cls, Enum):
                raise TypeError(f"{name} is not an Enum")
            return cls(self._dec(payload, depth + 1))
        fields = self._dec(payload, depth + 1)
        if type(fields) is not dict:
            raise TypeError("fields are not an object")
        if issubclass(cls, Enum):
            raise TypeError(f"{name} is an Enum")
        if hasattr(cls, "model_validate"):
            from pydantic import ValidationError

            try:
                return cls.model_validate(fields)
            except ValidationError as exc:
                raise corrupt(name, f"{exc.error_count()} validation error(s)") from None
        return cls(**fields)


_LC: dict[str, Any] = {}
"""runwire's lc machinery, imported on first use (pydantic is not needed for plain state)."""


def _lc() -> dict[str, Any]:
    from runwire.loader.fast_load import FALLBACK, load_fast
    from runwire.loader.limits import Limits
    from runwire.loader.registry import class_for
    from runwire.loader.wire import load
    from runwire.schema.dump import dumpd
    from runwire.schema.ids import id_table
    from runwire.schema.serializable import Serializable

    # the classes state holds by default: every message class and Document
    state = [class_for(e) for e in id_table.entries if e.group == "messages"]
    state += [class_for(e) for e in id_table.entries if e.name == "Document"]
    _LC.update(
        Serializable=Serializable,
        dumpd=dumpd,
        load=load,
        load_fast=load_fast,
        FALLBACK=FALLBACK,
        limits=Limits(max_depth=MAX_DEPTH),
        state_classes=tuple(state),
    )
    return _LC
