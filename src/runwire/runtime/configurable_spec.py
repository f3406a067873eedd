"""``ConfigurableFieldSpec``: one configurable value a runnable exposes in its config."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

__all__ = ["ConfigurableFieldSpec", "unique_specs"]


class ConfigurableFieldSpec(NamedTuple):
    """A value settable through ``config["configurable"][id]``."""

    id: str
    annotation: Any
    name: str | None = None
    description: str | None = None
    default: Any = None
    is_shared: bool = False
    dependencies: list[str] | None = None


def unique_specs(specs: Iterable[ConfigurableFieldSpec]) -> list[ConfigurableFieldSpec]:
    """Specs sorted by id, duplicates folded; two different specs with one id are an error."""
    by_id: dict[str, ConfigurableFieldSpec] = {}
    for spec in specs:
        seen = by_id.get(spec.id)
        if seen is None:
            by_id[spec.id] = spec
        elif seen != spec:
            raise ValueError(f"configurable id {spec.id!r} is declared twice, differently")
    return [by_id[key] for key in sorted(by_id)]
