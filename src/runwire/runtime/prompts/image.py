"""``ImagePromptTemplate``: a template for an image reference (``{"url": ..., "detail": ...}``).

Used alone (it formats to an :class:`ImagePromptValue`) and, mostly, as an
``image_url`` content block of a chat message template. As in LangChain, an image is
given by URL only: a ``path`` (in the template or the variables) is refused, so a
manifest can never make runwire read a local file.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from runwire.runtime.prompts.base import BasePromptTemplate
from runwire.runtime.prompts.formatting import (
    PromptTemplateFormat,
    format_template,
    template_variables,
)
from runwire.runtime.prompts.limits import OutputBudget
from runwire.runtime.prompts.values import ImagePromptValue

__all__ = ["ImagePromptTemplate", "image_template"]

_RESERVED = ("url", "path", "detail")
"""Keys of the formatted image: never input variable names (LangChain's rule)."""

_PATH_REFUSED = (
    "Loading images from 'path' has been removed as of 0.3.15 for security reasons. "
    "Please specify images by 'url'."
)
"""LangChain's message, word for word."""


def _string_variables(template: dict[str, Any], template_format: str) -> list[str]:
    """The variables of the template's string values (also checks them for safety)."""
    names: set[str] = set()
    for value in template.values():
        if isinstance(value, str):
            names.update(template_variables(value, template_format))
    return sorted(names)


class ImagePromptTemplate(BasePromptTemplate):
    """An image by URL, its string values templates: ``{"url": "{img}", "detail": "low"}``.

    ``input_variables`` are kept as given (LangChain's behaviour: only they are passed
    when the template sits in a chat message); when not given they are inferred from
    the template's string values.
    """

    template: dict[str, Any] = Field(default_factory=dict)
    """The image: ``url`` (required once formatted), optional ``detail``."""
    template_format: PromptTemplateFormat = "f-string"
    """``"f-string"`` (default), ``"mustache"`` or ``"jinja2"``."""

    additional_content_fields: dict[str, Any] | None = Field(default=None, exclude=True)
    """Read and dropped, as langchain-core does (LangChain.js writes it)."""

    lc_data_fields = frozenset({"template", "additional_content_fields"})

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """f-strings render inline in async calls; the other formats in a worker thread."""
        return self.template_format == "f-string"

    @model_validator(mode="before")
    @classmethod
    def _check_variables(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        values = {k: v for k, v in values.items() if k != "additional_content_fields"}
        template = values.get("template") or {}
        if not isinstance(template, dict):
            return values  # pydantic reports the mistyped template
        found = _string_variables(template, values.get("template_format") or "f-string")
        if "input_variables" not in values:
            partials = values.get("partial_variables") or {}
            values["input_variables"] = [name for name in found if name not in partials]
        overlap = sorted(set(values["input_variables"] or ()) & set(_RESERVED))
        if overlap:
            raise ValueError(
                "input_variables for the image template cannot contain any of 'url', "
                f"'path', or 'detail'. Found: {overlap}"
            )
        return values

    def format(self, **kwargs: Any) -> dict[str, Any]:
        """The image dict (``url`` and, when set, ``detail``) filled from ``kwargs``."""
        values = self._merge_partials(kwargs)
        budget = OutputBudget("image prompt's")
        formatted: dict[str, Any] = {}
        for key, value in self.template.items():
            if isinstance(value, str):
                value = format_template(value, self.template_format, values)
                budget.add(value)
            formatted[key] = value
        if values.get("path") or formatted.get("path"):
            raise ValueError(_PATH_REFUSED)
        url = values.get("url") or formatted.get("url")
        if not url:
            raise ValueError("Must provide url.")
        if not isinstance(url, str):
            raise ValueError("url must be a string.")
        output: dict[str, Any] = {"url": url}
        detail = values.get("detail") or formatted.get("detail")
        if detail:
            output["detail"] = detail  # not checked here: the model's API checks it
        return output

    def format_prompt(self, **kwargs: Any) -> ImagePromptValue:
        """The image as an :class:`ImagePromptValue`."""
        return ImagePromptValue(image_url=self.format(**kwargs))


def image_template(block: Any, template_format: str) -> ImagePromptTemplate:
    """The template of an ``{"type": "image_url", "image_url": ...}`` content block.

    ``image_url`` is a URL template (one variable at most) or a dict of templates
    (``url``, ``detail``; a ``path`` is refused when formatted), as LangChain reads it.
    """
    image = block["image_url"]
    if isinstance(image, str):
        found = template_variables(image, template_format)
        if len(found) > 1:
            raise ValueError(
                f"Only one format variable allowed per image template.\nGot: {found}\nFrom: {block}"
            )
        return ImagePromptTemplate(
            input_variables=found,
            template={"url": image},
            template_format=template_format,  # type: ignore[arg-type]
        )
    if isinstance(image, dict):
        names: list[str] = []
        for key in _RESERVED:
            if isinstance(image.get(key), str):
                names.extend(template_variables(image[key], template_format))
        return ImagePromptTemplate(
            input_variables=names,
            template=dict(image),
            template_format=template_format,  # type: ignore[arg-type]
        )
    raise ValueError(f"Invalid image template: {block}")
