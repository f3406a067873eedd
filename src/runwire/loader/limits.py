"""The loader's bounds, and JSON text to data within them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from runwire.errors import LimitExceededError, ManifestSyntaxError

__all__ = ["DEFAULT_LIMITS", "Limits", "parse_json"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what the loader accepts."""

    max_depth: int = 100
    """Deepest nesting of dicts and lists."""
    max_nodes: int = 1_000_000
    """Most dicts, lists and scalars visited."""
    max_bytes: int = 16 * 1024 * 1024
    """Largest JSON text ``loads`` will parse."""


DEFAULT_LIMITS = Limits()


def parse_json(
    text: str | bytes, *, limits: Limits | None = None, source: str | None = None
) -> Any:
    """Parse JSON text within the size limit, as a ``ManifestError`` on failure."""
    limits = limits or DEFAULT_LIMITS
    if isinstance(text, str):
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    else:
        size = len(text)
    if size > limits.max_bytes:
        raise LimitExceededError(
            f"text is {size} bytes, more than the limit of {limits.max_bytes}",
            hint="raise Limits.max_bytes for trusted large manifests",
            file=source,
        )
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).split(":", 1)[0]
        error = (
            LimitExceededError
            if "depth" in reason or "recursion" in reason
            else (ManifestSyntaxError)
        )
        raise error(
            f"invalid JSON: {reason}",
            hint="check the JSON near the position shown",
            file=source or "<string>",
            line=exc.lineno,
            column=exc.colno,
        ) from None
