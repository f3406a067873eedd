"""Few-shot prompts with literal examples: ``FewShotPromptTemplate`` (text) and
``FewShotChatMessagePromptTemplate`` (messages).

LangChain writes both as ``not_implemented`` (they may hold an example selector, a
Python object). runwire writes and loads them under its own ids when their examples are
literal (a list of dicts in the file). An example selector is refused: none is
serializable, so a file could not hold one.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from runwire.runtime.prompts.chat import BaseChatPromptTemplate, BaseMessagePromptTemplate
from runwire.runtime.prompts.formatting import format_template, template_variables
from runwire.runtime.prompts.string import PromptTemplate, StringPromptTemplate
from runwire.schema.messages import BaseMessage

__all__ = ["FewShotChatMessagePromptTemplate", "FewShotPromptTemplate", "check_examples"]


def check_examples(values: Any) -> Any:
    """Literal ``examples`` are required; an ``example_selector`` is refused."""
    if not isinstance(values, dict):
        return values
    if values.get("example_selector") is not None:
        raise ValueError(
            "example selectors are not supported: they are Python objects that cannot be "
            "written to a file; give the examples as a literal list ('examples')"
        )
    values = {k: v for k, v in values.items() if k != "example_selector"}
    if values.get("examples") is None:
        raise ValueError("One of 'examples' and 'example_selector' should be provided")
    return values


def _example_inputs(examples: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """Each example cut to the example prompt's variables (LangChain's rule)."""
    try:
        return [{name: example[name] for name in names} for example in examples]
    except KeyError as exc:
        raise KeyError(f"an example lacks the example prompt's variable {exc}") from None


class FewShotPromptTemplate(StringPromptTemplate):
    """``prefix``, each example formatted by ``example_prompt``, then ``suffix``, joined by
    ``example_separator``; the joined text is then filled with the caller's variables.

    ``input_variables`` are those of ``prefix`` + ``suffix`` (minus partial variables).
    """

    examples: list[dict[str, Any]]
    """The examples: dicts of the example prompt's variables."""
    example_prompt: PromptTemplate
    """Formats one example."""
    suffix: str
    """Template text after the examples."""
    example_separator: str = "\n\n"
    """Joins the prefix, the examples and the suffix."""
    prefix: str = ""
    """Template text before the examples."""
    template_format: Literal["f-string", "jinja2"] = "f-string"
    """Format of ``prefix`` + ``suffix``: ``"f-string"`` or ``"jinja2"``, as in LangChain."""
    validate_template: bool = False
    """Check that the given ``input_variables`` cover ``prefix`` + ``suffix``."""

    lc_data_fields = frozenset({"examples"})

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """f-strings render inline in async calls; jinja2 in a worker thread."""
        return self.template_format == "f-string" and self.example_prompt.sync_is_cheap

    @model_validator(mode="before")
    @classmethod
    def _infer_variables(cls, values: Any) -> Any:
        values = check_examples(values)
        if not isinstance(values, dict) or not isinstance(values.get("suffix"), str):
            return values
        text = (values.get("prefix") or "") + values["suffix"]
        template_format = values.get("template_format") or "f-string"
        partials = values.get("partial_variables") or {}
        found = template_variables(text, template_format)
        if values.get("validate_template"):
            given = [*values.get("input_variables", ()), *partials]
            missing = sorted(set(found) - set(given))
            if missing:
                raise ValueError(
                    f"the prefix and suffix use variables {missing} that are neither "
                    "input_variables nor partial variables"
                )
            return values
        return {**values, "input_variables": [n for n in found if n not in partials]}

    def format(self, **kwargs: Any) -> str:
        """The prompt text: prefix, formatted examples and suffix, then filled in."""
        values = self._merge_partials(kwargs)
        examples = _example_inputs(self.examples, self.example_prompt.input_variables)
        pieces = [self.prefix, *(self.example_prompt.format(**e) for e in examples)]
        pieces.append(self.suffix)
        template = self.example_separator.join(piece for piece in pieces if piece)
        return format_template(template, self.template_format, values)


class FewShotChatMessagePromptTemplate(BaseChatPromptTemplate):
    """The messages of each example, formatted by ``example_prompt`` (a message template
    or a chat prompt). Put it among a chat prompt's messages:
    ``ChatPromptTemplate.from_messages([("system", "..."), few_shot, ("human", "{q}")])``.
    """

    input_variables: list[str] = Field(default_factory=list)
    """Variables passed to an example selector in LangChain; unused with literal examples."""
    examples: list[dict[str, Any]]
    """The examples: dicts of the example prompt's variables."""
    example_prompt: BaseMessagePromptTemplate | BaseChatPromptTemplate
    """Formats one example to messages."""

    lc_data_fields = frozenset({"examples"})

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """Inline in async calls when the example prompt is."""
        prompt = getattr(self.example_prompt, "prompt", self.example_prompt)
        items = prompt if isinstance(prompt, list) else [prompt]
        return all(bool(getattr(item, "sync_is_cheap", True)) for item in items)

    @model_validator(mode="before")
    @classmethod
    def _check_examples(cls, values: Any) -> Any:
        return check_examples(values)

    def format_messages(self, **kwargs: Any) -> list[BaseMessage]:
        """Every example's messages, in order."""
        examples = _example_inputs(self.examples, self.example_prompt.input_variables)
        return [
            message
            for example in examples
            for message in self.example_prompt.format_messages(**example)
        ]
