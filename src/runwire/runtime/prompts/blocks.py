"""Content-block templates of a chat message: text, ``image_url`` and other dict blocks.

A message template's prompt may be a list of blocks, read as LangChain reads them:

- a string or ``{"type": "text", "text": ...}``: a :class:`PromptTemplate` (a text block);
- ``{"type": "image_url", "image_url": ...}``: an :class:`ImagePromptTemplate`;
- any other dict: a :class:`DictPromptTemplate` (f-string or mustache only).

Formatted, they give the message's content list: empty text blocks are dropped.
"""

from __future__ import annotations

from typing import Any

from runwire.runtime.prompts.dict import DictPromptTemplate
from runwire.runtime.prompts.image import ImagePromptTemplate, image_template
from runwire.runtime.prompts.string import PromptTemplate, StringPromptTemplate

__all__ = [
    "BlockTemplate",
    "block_template",
    "block_variables",
    "format_blocks",
    "single_template",
]

BlockTemplate = StringPromptTemplate | ImagePromptTemplate | DictPromptTemplate
"""What one content block of a message template is."""


def _is_text_block(item: dict[str, Any]) -> bool:
    return "text" in item and set(item) <= {"type", "text"}


def _is_image_block(item: dict[str, Any]) -> bool:
    return "image_url" in item and set(item) <= {"type", "image_url"}


def single_template(item: Any, template_format: str) -> StringPromptTemplate:
    """A message's one text template: a string prompt, a string or a text-block dict."""
    if isinstance(item, StringPromptTemplate):
        return item
    if isinstance(item, str):
        return PromptTemplate.from_template(item, template_format=template_format)  # type: ignore[arg-type]
    if isinstance(item, dict) and _is_text_block(item) and isinstance(item["text"], str):
        return PromptTemplate.from_template(item["text"], template_format=template_format)  # type: ignore[arg-type]
    got = f"a dict with keys {sorted(item)}" if isinstance(item, dict) else type(item).__name__
    raise ValueError(
        "a message template's prompt must be a PromptTemplate (or another string prompt), "
        f"a template string or a list of content blocks, got {got}"
    )


def block_template(item: Any, template_format: str) -> BlockTemplate:
    """The template of one content block (see the module docstring)."""
    if isinstance(item, StringPromptTemplate | ImagePromptTemplate | DictPromptTemplate):
        return item
    if isinstance(item, dict) and not _is_text_block(item):
        if _is_image_block(item):
            return image_template(item, template_format)
        if template_format == "jinja2":
            raise ValueError(
                "jinja2 is unsafe and is not supported for templates expressed as dicts. "
                "Please use 'f-string' or 'mustache' format."
            )
        return DictPromptTemplate(template=item, template_format=template_format)  # type: ignore[arg-type]
    return single_template(item, template_format)


def block_variables(prompts: list[BlockTemplate]) -> list[str]:
    """The input variables of the blocks, in order (repeats kept, as in LangChain)."""
    return [name for prompt in prompts for name in prompt.input_variables]


def format_blocks(prompts: list[BlockTemplate], values: dict[str, Any]) -> list[Any]:
    """The content list: each block formatted with its own variables only."""
    content: list[Any] = []
    for prompt in prompts:
        inputs = {name: values[name] for name in prompt.input_variables}
        if isinstance(prompt, ImagePromptTemplate):
            content.append({"type": "image_url", "image_url": prompt.format(**inputs)})
        elif isinstance(prompt, DictPromptTemplate):
            content.append(prompt.format(**inputs))
        else:
            text = prompt.format(**inputs)
            if text != "":
                content.append({"type": "text", "text": text})
    return content
