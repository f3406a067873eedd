"""Configurable values: the field declarations and the specs a runnable exposes.

``ConfigurableField`` and its option variants declare what a ``configurable_fields``
call makes settable; they are plain named tuples, JSON lists on the wire as LangChain
writes them (``["temperature", null, null, null, false]``). ``ConfigurableFieldSpec`` is
one value a runnable exposes in its config. Also the rule that a request's config never
makes a template render as jinja2.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Annotated, Any, NamedTuple

from pydantic import PlainValidator

from runwire.errors import TemplateError

__all__ = [
    "FIELD_TYPES",
    "WIRE_FORM",
    "AnyConfigurableField",
    "ConfigurableField",
    "ConfigurableFieldMultiOption",
    "ConfigurableFieldSingleOption",
    "ConfigurableFieldSpec",
    "FieldDecl",
    "WhichDecl",
    "as_field",
    "as_which",
    "options_enum",
    "options_spec",
    "pick_option",
    "prefix_config_spec",
    "refuse_client_jinja2",
    "unique_specs",
]


class ConfigurableFieldSpec(NamedTuple):
    """A value settable through ``config["configurable"][id]``."""

    id: str
    annotation: Any
    name: str | None = None
    description: str | None = None
    default: Any = None
    is_shared: bool = False
    dependencies: list[str] | None = None


class ConfigurableField(NamedTuple):
    """A field whose value ``config["configurable"][id]`` may set."""

    id: str
    name: str | None = None
    description: str | None = None
    annotation: Any | None = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, self.annotation))


class ConfigurableFieldSingleOption(NamedTuple):
    """A field set to one of ``options`` by its key (``default`` when not configured)."""

    id: str
    options: Mapping[str, Any]
    default: str
    name: str | None = None
    description: str | None = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options), self.default))


class ConfigurableFieldMultiOption(NamedTuple):
    """A field set to a list of ``options`` picked by their keys."""

    id: str
    options: Mapping[str, Any]
    default: Sequence[str]
    name: str | None = None
    description: str | None = None
    is_shared: bool = False

    def __hash__(self) -> int:
        return hash((self.id, tuple(self.options), tuple(self.default)))


AnyConfigurableField = (
    ConfigurableField | ConfigurableFieldSingleOption | ConfigurableFieldMultiOption
)
FIELD_TYPES = (ConfigurableField, ConfigurableFieldSingleOption, ConfigurableFieldMultiOption)


def as_field(value: Any) -> AnyConfigurableField:
    """A configurable field from itself, its wire list or a dict of its parts."""
    if isinstance(value, ConfigurableFieldMultiOption):
        return value._replace(default=tuple(value.default))
    if isinstance(value, FIELD_TYPES):
        return value
    if isinstance(value, dict):
        parts: dict[str, Any] = dict(value)
    elif isinstance(value, list | tuple) and value:
        options = len(value) > 1 and isinstance(value[1], Mapping)
        names = ConfigurableFieldSingleOption._fields if options else ConfigurableField._fields
        if len(value) > len(names):
            raise ValueError(f"a configurable field list has at most {len(names)} items")
        parts = dict(zip(names, value, strict=False))
    else:
        raise ValueError(
            "expected a ConfigurableField, its list form [id, name, description, "
            "annotation, is_shared] or an option field [id, options, default, ...]"
        )
    if not isinstance(parts.get("id"), str):
        raise ValueError("a configurable field needs a string 'id'")
    try:
        if "options" not in parts:
            return ConfigurableField(**parts)
        default = parts.get("default")
        if isinstance(default, list | tuple):
            return ConfigurableFieldMultiOption(**{**parts, "default": tuple(default)})
        return ConfigurableFieldSingleOption(**parts)
    except TypeError as exc:
        raise ValueError(f"invalid configurable field {parts['id']!r}: {exc}") from None


def as_which(value: Any) -> ConfigurableField:
    field = as_field(value)
    if not isinstance(field, ConfigurableField):
        raise ValueError("'which' must be a ConfigurableField, not an option field")
    return field


WIRE_FORM = list[Any] | dict[str, Any]
FieldDecl = Annotated[
    AnyConfigurableField, PlainValidator(as_field, json_schema_input_type=WIRE_FORM)
]
"""A configurable field, also read from its wire list (or a dict of its parts)."""
WhichDecl = Annotated[ConfigurableField, PlainValidator(as_which, json_schema_input_type=WIRE_FORM)]


@lru_cache(maxsize=256)
def options_enum(name: str, keys: tuple[str, ...]) -> type[enum.StrEnum]:
    """One enum class per (name, keys), so equal specs compare equal."""
    return enum.StrEnum(name, [(key, key) for key in keys])  # type: ignore[return-value]


def options_spec(spec: AnyConfigurableField, description: str | None) -> ConfigurableFieldSpec:
    choices = options_enum(spec.name or spec.id, tuple(spec.options))  # type: ignore[union-attr]
    multi = isinstance(spec, ConfigurableFieldMultiOption)
    return ConfigurableFieldSpec(
        id=spec.id,
        name=spec.name,
        description=spec.description or description,
        annotation=Sequence[choices] if multi else choices,  # type: ignore[valid-type]
        default=spec.default,  # type: ignore[union-attr]
        is_shared=spec.is_shared,
    )


def prefix_config_spec(spec: ConfigurableFieldSpec, prefix: str) -> ConfigurableFieldSpec:
    """The spec with its id under ``prefix/`` (shared specs keep their id)."""
    return spec if spec.is_shared else spec._replace(id=f"{prefix}/{spec.id}", dependencies=None)


def pick_option(spec: AnyConfigurableField, key: Any) -> Any:
    try:
        return spec.options[key]  # type: ignore[union-attr]
    except (KeyError, TypeError):
        raise ValueError(
            f"configurable {spec.id!r}: unknown option {key!r}, expected one of "
            f"{sorted(spec.options)}"  # type: ignore[union-attr]
        ) from None


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
