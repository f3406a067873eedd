"""Pydantic models for runnable input/output/config schemas (cached by name and type)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

__all__ = ["config_model", "object_model", "root_model"]

_CONFIG_KEYS: dict[str, Any] = {
    "tags": list[str],
    "metadata": dict[str, Any],
    "run_name": str,
    "max_concurrency": int | None,
    "recursion_limit": int,
}


@lru_cache(maxsize=1024)
def _root_model(name: str, annotation: Any) -> type[BaseModel]:
    return type(name, (RootModel[annotation],), {"__module__": __name__})  # type: ignore[valid-type]


def root_model(name: str, annotation: Any) -> type[BaseModel]:
    """A model whose whole value is of ``annotation`` (e.g. ``str``, ``list[Message]``)."""
    try:
        return _root_model(name, annotation)
    except TypeError:  # unhashable annotation
        return _root_model.__wrapped__(name, annotation)


def object_model(name: str, fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    """A model with named fields: ``{"question": (str, ...), "k": (int, 3)}``."""
    return create_model(name, __config__=ConfigDict(arbitrary_types_allowed=True), **fields)  # type: ignore[call-overload]


def config_model(name: str, specs: Sequence[Any], include: Sequence[str]) -> type[BaseModel]:
    """The config model: ``configurable`` from the specs, plus the included config keys."""
    fields: dict[str, Any] = {}
    if specs:
        configurable = create_model(  # type: ignore[call-overload]
            "Configurable",
            **{
                spec.id: (
                    spec.annotation,
                    Field(spec.default, title=spec.name, description=spec.description),
                )
                for spec in specs
            },
        )
        fields["configurable"] = (configurable, None)
    for key in include:
        if key in _CONFIG_KEYS:
            fields[key] = (_CONFIG_KEYS[key], None)
    return create_model(name, **fields)  # type: ignore[call-overload]
