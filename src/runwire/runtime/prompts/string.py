"""``PromptTemplate``: a string template (f-string, mustache or jinja2) to a text prompt.

``StringPromptTemplate`` is the base of every prompt that formats to one string
(``PromptTemplate``, the few-shot prompts): its prompt value is a ``StringPromptValue``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

from runwire.runtime.config import RunnableConfig
from runwire.runtime.prompts.base import BasePromptTemplate
from runwire.runtime.prompts.formatting import (
    TEMPLATE_FORMATS,
    PromptTemplateFormat,
    mustache_schema,
    template_names,
    template_variables,
)
from runwire.runtime.prompts.values import StringPromptValue

__all__ = ["PromptTemplate", "StringPromptTemplate"]


def _check_template(template: str, template_format: str, given: list[str]) -> None:
    """``validate_template=True``: the template's variables must all be given."""
    if template_format == "mustache":
        raise ValueError("mustache templates cannot be validated: set validate_template=False")
    found = template_variables(template, template_format)
    missing = sorted(set(found) - set(given))
    if template_format == "jinja2":
        extra = sorted(set(given) - set(found))
        if missing or extra:
            warnings.warn(
                f"jinja2 template variables differ: missing {missing}, extra {extra}",
                stacklevel=4,
            )
    elif missing:
        raise ValueError(
            f"the template uses variables {missing} that are neither input_variables "
            f"{sorted(given)} nor partial variables"
        )


_validate_string_value = StringPromptValue.__pydantic_validator__.validate_python


class StringPromptTemplate(BasePromptTemplate):
    """A prompt that formats to one string; its prompt value is a ``StringPromptValue``."""

    def format_prompt(self, **kwargs: Any) -> StringPromptValue:
        """The filled template as a :class:`StringPromptValue`."""
        return _validate_string_value({"text": self.format(**kwargs)})  # type: ignore[no-any-return]


_IGNORED_KWARGS = frozenset(("additional_content_fields",))
"""Kwargs LangChain.js writes for content-block templates (the block's other keys);
langchain-core ignores them when loading and never writes them, and so does runwire."""


class PromptTemplate(StringPromptTemplate):
    """A text prompt: ``PromptTemplate.from_template("Tell me about {topic}")``.

    ``input_variables`` are always inferred from the template (minus the partial
    variables). jinja2 templates can run code: only use ones you wrote; the loader
    refuses them by default.
    """

    template: str
    """The template text."""
    template_format: PromptTemplateFormat = "f-string"
    """``"f-string"`` (default), ``"mustache"`` or ``"jinja2"``."""
    validate_template: bool = False
    """Check at construction that the given ``input_variables`` cover the template."""
    additional_content_fields: dict[str, Any] | None = Field(default=None, exclude=True)
    """Read and dropped: LangChain.js writes a content block's other keys here, and
    langchain-core ignores them (never stored, never written)."""

    lc_positional = "template"
    lc_data_fields = frozenset({"additional_content_fields"})

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """f-strings render inline in async calls; mustache and jinja2 (whose bounded
        worst case is about a second) render in a worker thread, off the event loop."""
        return self.template_format == "f-string"

    @model_validator(mode="before")
    @classmethod
    def _infer_input_variables(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        if not _IGNORED_KWARGS.isdisjoint(values):
            values = {k: v for k, v in values.items() if k not in _IGNORED_KWARGS}
        template = values.get("template")
        if not isinstance(template, str):
            return values  # pydantic reports the missing or mistyped template
        template_format = values.get("template_format") or "f-string"
        partials = values.get("partial_variables") or {}
        if values.get("validate_template"):
            if "input_variables" not in values:
                raise ValueError("validate_template=True needs input_variables to check")
            _check_template(template, template_format, [*values["input_variables"], *partials])
        names = template_names(template, template_format)  # a cached parse
        out = dict(values)
        out["input_variables"] = (
            [name for name in names if name not in partials] if partials else list(names)
        )
        return out

    # -- construction ------------------------------------------------------------------
    @classmethod
    def from_template(
        cls,
        template: str,
        *,
        template_format: PromptTemplateFormat = "f-string",
        partial_variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PromptTemplate:
        """A prompt from its template text; the variables are inferred."""
        return cls(
            template=template,
            template_format=template_format,
            partial_variables=partial_variables or {},
            **kwargs,
        )

    @classmethod
    def from_file(
        cls, template_file: str | Path, encoding: str | None = None, **kwargs: Any
    ) -> PromptTemplate:
        """A prompt whose template is the text of a file."""
        return cls.from_template(Path(template_file).read_text(encoding=encoding), **kwargs)

    @classmethod
    def from_examples(
        cls,
        examples: list[str],
        suffix: str,
        input_variables: list[str],
        example_separator: str = "\n\n",
        prefix: str = "",
        **kwargs: Any,
    ) -> PromptTemplate:
        """A prompt of ``prefix``, the examples and ``suffix``, joined by the separator."""
        template = example_separator.join([prefix, *examples, suffix])
        return cls(input_variables=input_variables, template=template, **kwargs)

    # -- formatting --------------------------------------------------------------------
    def format(self, **kwargs: Any) -> str:
        """The template filled with ``kwargs`` and the partial variables."""
        render = TEMPLATE_FORMATS[self.template_format].render
        return render(self.template, self._merge_partials(kwargs))

    def get_input_schema(self, config: RunnableConfig | None = None) -> type[BaseModel]:
        """Fields per variable; a mustache template gives nested models for its sections."""
        if self.template_format == "mustache":
            return mustache_schema(self.template)
        return super().get_input_schema(config)

    def __add__(self, other: Any) -> PromptTemplate:
        """Concatenate two prompts (or a prompt and a string) of the same format."""
        if isinstance(other, str):
            other = PromptTemplate.from_template(other, template_format=self.template_format)
        if not isinstance(other, PromptTemplate):
            return NotImplemented
        if self.template_format != other.template_format:
            raise ValueError(
                f"cannot add a {self.template_format} template to a "
                f"{other.template_format} template"
            )
        partials = dict(self.partial_variables)
        for key, value in other.partial_variables.items():
            if key in partials:
                raise ValueError(f"both prompts fill the partial variable {key!r}")
            partials[key] = value
        return PromptTemplate(
            template=self.template + other.template,
            input_variables=sorted(set(self.input_variables) | set(other.input_variables)),
            partial_variables=partials,
            template_format=self.template_format,
            validate_template=self.validate_template and other.validate_template,
        )
