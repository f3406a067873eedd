"""Layers of manifest data: overlays deep-merged, ``--set`` paths assigned.

Pure functions on plain data (what :mod:`runwire.loader.source` composes); reading the
files and the ``--set`` values is the source's job.
"""

from __future__ import annotations

from typing import Any

from runwire.errors import ManifestError, format_path

__all__ = ["deep_merge", "set_path"]


def _index(key: Any) -> int | None:
    """A list index written as a key (``"1"``), else None. ASCII digits only: ``"²"`` is
    a digit to ``str.isdigit`` but not to ``int``."""
    if isinstance(key, str) and key.isascii() and key.isdecimal() and len(key) <= 9:
        return int(key)
    return None


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
    if isinstance(base, list) and isinstance(over, dict) and over:
        indexes = [_index(key) for key in over]
        if all(i is not None and i < len(base) for i in indexes):
            items = list(base)
            for i, value in zip(indexes, over.values(), strict=True):
                items[i] = deep_merge(items[i], value)  # type: ignore[index]
            return items
    return over


def set_path(data: Any, dotted: str, value: Any) -> Any:
    """``data`` with ``value`` at the ``--set`` path ``dotted`` (``steps.1.temperature``);
    list items by index, missing mappings created."""
    dotted = dotted.strip()
    keys = dotted.split(".")

    def put(node: Any, depth: int) -> Any:
        key = keys[depth]
        parts = [k if _index(k) is None else _index(k) for k in keys[: depth + 1]]
        where = format_path(parts)  # type: ignore[arg-type]
        if isinstance(node, list):
            index = _index(key)
            if index is None or index >= len(node):
                raise ManifestError(
                    f"--set {dotted}: no item {key} in a list of {len(node)}",
                    path=where,
                    hint="list items are addressed by index from 0",
                    file="--set",
                )
            out_list = list(node)
            out_list[index] = value if depth == len(keys) - 1 else put(node[index], depth + 1)
            return out_list
        if node is None:
            node = {}
        if not isinstance(node, dict):
            raise ManifestError(
                f"--set {dotted}: {format_path(parts[:-1])} is a "  # type: ignore[arg-type]
                f"{type(node).__name__}, not a mapping",
                path=where,
                file="--set",
            )
        out = dict(node)
        out[key] = value if depth == len(keys) - 1 else put(node.get(key), depth + 1)
        return out

    return put(data, 0)
