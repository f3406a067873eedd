"""How streamed pieces add up: merging dicts, lists, message content and usage.

The rules are LangChain's, so that chunks summed in runwire equal chunks summed there:
strings concatenate, dicts merge recursively, list items that carry the same
``index`` merge into one, integers add (except ``index``-like counters).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "add_usage",
    "merge_content",
    "merge_dicts",
    "merge_lists",
    "merge_obj",
    "parse_partial_json",
]

_KEEP_FIRST_STR = frozenset(("id", "output_version", "model_provider"))
_REPLACE_INT = frozenset(("index", "created", "timestamp"))


def merge_dicts(left: dict[str, Any], *others: dict[str, Any]) -> dict[str, Any]:
    """Merge ``others`` into a copy of ``left``; a ``None`` on either side yields to a value."""
    merged = dict(left)
    for right in others:
        for key, value in right.items():
            if key not in merged or (value is not None and merged[key] is None):
                merged[key] = value
                continue
            current = merged[key]
            if value is None:
                continue
            if type(current) is not type(value):
                raise TypeError(
                    f"cannot merge key {key!r}: {type(current).__name__} and {type(value).__name__}"
                )
            if isinstance(current, str):
                if (key == "index" and current.startswith("lc_")) or (
                    key in _KEEP_FIRST_STR and current == value
                ):
                    continue
                merged[key] = current + value
            elif isinstance(current, dict):
                merged[key] = merge_dicts(current, value)
            elif isinstance(current, list):
                merged[key] = merge_lists(current, value)
            elif current == value:
                continue
            elif isinstance(current, int) and not isinstance(current, bool):
                merged[key] = value if key in _REPLACE_INT else current + value
            else:
                raise TypeError(f"cannot merge key {key!r} of type {type(current).__name__}")
    return merged


def _has_index(item: Any) -> bool:
    if not isinstance(item, dict) or "index" not in item:
        return False
    index = item["index"]
    return isinstance(index, int) or (isinstance(index, str) and index.startswith("lc_"))


def merge_lists(left: list[Any] | None, *others: list[Any] | None) -> list[Any] | None:
    """Concatenate lists, merging dict items that share an ``index`` (and no conflicting id)."""
    merged = list(left) if left is not None else None
    for other in others:
        if other is None:
            continue
        if merged is None:
            merged = list(other)
            continue
        for item in other:
            if not _has_index(item):
                merged.append(item)
                continue
            target = next(
                (
                    i
                    for i, seen in enumerate(merged)
                    if isinstance(seen, dict)
                    and seen.get("index") == item["index"]
                    and (
                        seen.get("id") in (None, "")
                        or item.get("id") in (None, "")
                        or seen.get("id") == item.get("id")
                    )
                ),
                None,
            )
            if target is None:
                merged.append(item)
            else:
                update = {k: v for k, v in item.items() if k != "type"}
                merged[target] = merge_dicts(merged[target], update)
    return merged


def merge_content(first: str | list[Any] | None, *contents: str | list[Any]) -> str | list[Any]:
    """Merge message contents: strings concatenate, lists merge, a string joins a list."""
    merged: str | list[Any] = "" if first is None else first
    if isinstance(merged, list):
        merged = list(merged)
    for content in contents:
        if isinstance(merged, str):
            merged = merged + content if isinstance(content, str) else [merged, *content]
        elif isinstance(content, list):
            merged = merge_lists(merged, content) or []
        elif merged and isinstance(merged[-1], str):
            merged[-1] += content
        elif content != "":
            merged.append(content)
    return merged


def _add_counts(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    out = dict(left)
    for key, value in right.items():
        if isinstance(value, dict):
            out[key] = _add_counts(out.get(key) or {}, value)
        elif isinstance(value, int | float):
            out[key] = out.get(key, 0) + value
        else:
            out.setdefault(key, value)
    return out


def add_usage(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Sum two usage_metadata dicts, nested token details included."""
    if not (left or right):
        return {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    if not (left and right):
        return dict(left or right)  # type: ignore[arg-type]
    return _add_counts(left, right)


_CLOSERS = {"{": "}", "[": "]"}


def parse_partial_json(text: str) -> Any:
    """Parse JSON that may be cut off mid-way (as streamed), closing what is open.

    Returns ``None`` when no prefix of ``text`` can be completed into JSON.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    chars: list[str] = []
    stack: list[str] = []
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            elif char == "\n":
                char = "\\n"
        elif char == '"':
            in_string = True
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in "}]":
            if not stack or stack[-1] != char:
                return None
            stack.pop()
        chars.append(char)
    if in_string:
        if escaped:
            chars.pop()
        chars.append('"')
    closing = "".join(reversed(stack))
    while chars:
        try:
            return json.loads("".join(chars) + closing)
        except json.JSONDecodeError:
            chars.pop()
    return None


def merge_obj(left: Any, right: Any) -> Any:
    """Merge two values as LangChain's ``merge_obj`` does (tool artifacts)."""
    if left is None or right is None:
        return left if left is not None else right
    if type(left) is not type(right):
        raise TypeError(f"cannot merge {type(left).__name__} and {type(right).__name__}")
    if isinstance(left, str):
        return left + right
    if isinstance(left, dict):
        return merge_dicts(left, right)
    if isinstance(left, list):
        return merge_lists(left, right)
    if left == right:
        return left
    raise ValueError(f"cannot merge {left!r} and {right!r}")
