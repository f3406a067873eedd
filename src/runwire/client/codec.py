"""Request bodies out, outputs in: LangServe's encoding, with runwire's objects.

Inputs are JSON with messages, documents and prompt values as their pydantic dumps,
tagged by ``type`` (what :mod:`runwire.deploy.server.protocol` and LangServe's servers
decode). Outputs, chunks and events come back with every well-known tagged dict made a
runwire object again (``{"type": "ai", ...}`` -> :class:`~runwire.AIMessage`,
``"AIMessageChunk"`` -> :class:`~runwire.AIMessageChunk`), as LangServe's client gives
LangChain objects. Streamed dicts become ``AddableDict`` so chunks still add up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from runwire.deploy.server.protocol import decode_objects, encode
from runwire.runtime.config import RunnableConfig
from runwire.runtime.tracing import AddableDict

__all__ = ["decode", "decode_chunk", "dump_json", "load_json", "request_body", "server_config"]

SENT_CONFIG_KEYS = ("configurable", "tags", "metadata", "run_name")
"""The config keys sent to the server; callbacks, limits and run ids stay local."""

_JSON_SCALARS = (str, int, float, bool, type(None))


def _json_only(value: Any) -> Any:
    """``value`` without what JSON cannot hold (LangServe drops such entries, not fails)."""
    if isinstance(value, Mapping):
        return {
            key: _json_only(item)
            for key, item in value.items()
            if isinstance(key, str) and isinstance(item, (*_JSON_SCALARS, list, tuple, Mapping))
        }
    if isinstance(value, list | tuple):
        return [
            _json_only(item)
            for item in value
            if isinstance(item, (*_JSON_SCALARS, list, tuple, Mapping))
        ]
    return value


def server_config(config: RunnableConfig) -> dict[str, Any]:
    """The part of ``config`` a server may see: configurable values, tags, metadata and
    run name, keeping JSON values only and no internal keys (``__``-prefixed)."""
    sent: dict[str, Any] = {}
    for key in SENT_CONFIG_KEYS:
        value = config.get(key)
        if not value:
            continue
        if isinstance(value, Mapping):
            value = {k: v for k, v in _json_only(value).items() if not k.startswith("__")}
            if not value:
                continue
        elif isinstance(value, list | tuple):
            value = [tag for tag in value if isinstance(tag, str)]
        sent[key] = value
    return sent


def request_body(key: str, value: Any, config: Any, **extra: Any) -> bytes:
    """The JSON body of a call: ``{key: value, "config": ..., "kwargs": {}, **extra}``."""
    return encode({key: value, "config": config, "kwargs": {}, **extra})


def dump_json(value: Any) -> bytes:
    """JSON bytes of ``value``, runwire objects as their dumps."""
    return encode(value)


def load_json(raw: bytes | str) -> Any:
    """Parsed JSON (raises ``orjson.JSONDecodeError``)."""
    return orjson.loads(raw)


def decode(value: Any) -> Any:
    """``value`` with tagged dicts made runwire objects (messages, documents, ...)."""
    return decode_objects(value)


def decode_chunk(value: Any) -> Any:
    """A streamed chunk: decoded, and a plain dict made an ``AddableDict``."""
    chunk = decode_objects(value)
    return AddableDict(chunk) if type(chunk) is dict else chunk
