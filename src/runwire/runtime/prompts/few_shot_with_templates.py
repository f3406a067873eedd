"""``FewShotPromptWithTemplates``: a few-shot text prompt whose prefix and suffix are
prompt templates (LangChain serializes this one; runwire reads and writes it the same way).
"""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from runwire.runtime.prompts.few_shot import check_examples
from runwire.runtime.prompts.formatting import PromptTemplateFormat, format_template
from runwire.runtime.prompts.string import PromptTemplate, StringPromptTemplate

__all__ = ["FewShotPromptWithTemplates"]


def _names(prompt: Any) -> set[str]:
    return set(prompt.input_variables) if isinstance(prompt, StringPromptTemplate) else set()


class FewShotPromptWithTemplates(StringPromptTemplate):
    """``prefix`` (a template), each example formatted by ``example_prompt``, then
    ``suffix`` (a template), joined by ``example_separator``; the joined text is then
    filled with the variables neither prefix nor suffix took.

    ``input_variables`` are inferred from ``prefix`` and ``suffix`` (minus partial
    variables) unless ``validate_template`` is set, which checks the given ones instead.
    """

    examples: list[dict[str, Any]]
    """The examples: dicts of the example prompt's variables."""
    example_prompt: PromptTemplate
    """Formats one example."""
    suffix: StringPromptTemplate
    """The template after the examples."""
    example_separator: str = "\n\n"
    """Joins the prefix, the examples and the suffix."""
    prefix: StringPromptTemplate | None = None
    """The template before the examples."""
    template_format: PromptTemplateFormat = "f-string"
    """Format of the joined text: ``"f-string"``, ``"mustache"`` or ``"jinja2"``."""
    validate_template: bool = False
    """Check that the given ``input_variables`` cover prefix, suffix and partials."""

    lc_data_fields = frozenset({"examples"})

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """Inline in async calls when every part is an f-string template."""
        parts = [self.example_prompt, self.suffix, self.prefix]
        return self.template_format == "f-string" and all(
            p is None or p.sync_is_cheap for p in parts
        )

    @model_validator(mode="before")
    @classmethod
    def _infer_variables(cls, values: Any) -> Any:
        values = check_examples(values)
        if not isinstance(values, dict):
            return values
        expected = _names(values.get("suffix")) | _names(values.get("prefix"))
        partials = set(values.get("partial_variables") or ())
        if values.get("validate_template"):
            missing = expected - partials - set(values.get("input_variables") or ())
            if missing:
                raise ValueError(
                    f"Got input_variables={values.get('input_variables')}, but based on "
                    f"prefix/suffix expected {sorted(expected - partials)}"
                )
            return values
        return {**values, "input_variables": sorted(expected - partials)}

    def format(self, **kwargs: Any) -> str:
        """The prompt text, formatted as LangChain formats it."""
        values = self._merge_partials(kwargs)
        examples = [self.example_prompt.format(**example) for example in self.examples]
        prefix = ""
        if self.prefix is not None:
            taken = {k: values.pop(k) for k in self.prefix.input_variables if k in values}
            prefix = self.prefix.format(**taken)
        taken = {k: values.pop(k) for k in self.suffix.input_variables if k in values}
        suffix = self.suffix.format(**taken)
        pieces = [prefix, *examples, suffix]
        template = self.example_separator.join(piece for piece in pieces if piece)
        return format_template(template, self.template_format, values)
