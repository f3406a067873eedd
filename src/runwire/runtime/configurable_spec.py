"""``ConfigurableFieldSpec``: one configurable value a runnable exposes in its config.

Also the rule that a request's config never makes a template render as jinja2.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from runwire.errors import TemplateError

__all__ = ["ConfigurableFieldSpec", "refuse_client_jinja2", "unique_specs"]


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


_TEMPLATE_FIELDS = frozenset(("template", "template_format"))
"""Fields through which a request's config could choose what a jinja2 template runs."""


def refuse_client_jinja2(default: Any, chosen: Mapping[str, Any], updates: dict[str, Any]) -> None:
    """A request may not make a template render as jinja2 (it can run code).

    ``chosen`` maps the fields a request's config set freely (``ConfigurableField``, not
    the deployer's options) to their ids.
    """
    touched = _TEMPLATE_FIELDS.intersection(chosen)
    if not touched:
        return
    template_format = updates.get("template_format", getattr(default, "template_format", None))
    if template_format == "jinja2":
        ids = ", ".join(repr(chosen[field]) for field in sorted(touched))
        raise TemplateError(
            f"configurable {ids} would render a template chosen by the request as jinja2, "
            "which is refused (jinja2 templates can run code)",
            hint="use an f-string or mustache template, or set allow_jinja2: true on this "
            "RunnableConfigurableFields if every caller is trusted",
        )
