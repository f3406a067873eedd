"""``DictPromptTemplate``: a dict whose string values (at any depth) are templates.

It formats content blocks that are neither text nor ``image_url``
(``{"type": "image", "source_type": "url", "url": "{img}"}``) and runs on its own as a
runnable from variables to the filled dict. Keys are never templates. Only f-string and
mustache are allowed (jinja2 could run code), as in LangChain. An ``image_url`` dict with
a ``path`` is refused when formatted (LangChain warns): images are given by URL only.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self

from pydantic import model_validator

from runwire.runtime.callbacks import RunType
from runwire.runtime.config import RunnableConfig
from runwire.runtime.prompts.formatting import format_template, template_variables
from runwire.runtime.prompts.limits import OutputBudget
from runwire.runtime.serializable import RunnableSerializable

__all__ = ["DictPromptTemplate"]

DictTemplateFormat = Literal["f-string", "mustache"]


def _variables(template: Any, template_format: str, out: set[str]) -> None:
    """Collect the variables of every string value (and string list item) in ``template``."""
    for value in template.values():
        items = value if isinstance(value, list | tuple) else (value,)
        for item in items:
            if isinstance(item, str):
                out.update(template_variables(item, template_format))
            elif isinstance(item, dict):
                _variables(item, template_format, out)


def _fill(
    template: dict[str, Any], values: dict[str, Any], template_format: str, budget: OutputBudget
) -> dict[str, Any]:
    def one(item: Any) -> Any:
        if isinstance(item, str):
            text = format_template(item, template_format, values)
            budget.add(text)
            return text
        if isinstance(item, dict):
            return _fill(item, values, template_format, budget)
        return item

    out: dict[str, Any] = {}
    for key, value in template.items():
        if key == "image_url" and isinstance(value, dict) and "path" in value:
            raise ValueError(
                "an image_url given by 'path' is refused (a template could read local "
                "files): give the image by 'url'"
            )
        if isinstance(value, list | tuple):
            out[key] = type(value)(
                one(item) if isinstance(item, str | dict) else item for item in value
            )
        else:
            out[key] = one(value)
    return out


class DictPromptTemplate(RunnableSerializable[dict[str, Any], dict[str, Any]]):
    """A dict template: ``DictPromptTemplate(template={"text": "Hi {name}"},
    template_format="f-string").format(name="Ann") == {"text": "Hi Ann"}``."""

    template: dict[str, Any]
    """The dict; its string values (nested dicts and lists included) are templates."""
    template_format: DictTemplateFormat
    """``"f-string"`` or ``"mustache"`` (required, as in LangChain)."""

    lc_data_fields = frozenset({"template"})
    run_type: ClassVar[RunType] = "prompt"

    @property
    def sync_is_cheap(self) -> bool:  # type: ignore[override]
        """f-strings render inline in async calls; mustache in a worker thread."""
        return self.template_format == "f-string"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "prompts"]

    @model_validator(mode="after")
    def _check_template(self) -> Self:
        _variables(self.template, self.template_format, set())  # refuses unsafe fields
        return self

    @property
    def input_variables(self) -> list[str]:
        """The variables of the template's string values, sorted."""
        found: set[str] = set()
        _variables(self.template, self.template_format, found)
        return sorted(found)

    def format(self, **kwargs: Any) -> dict[str, Any]:
        """The dict with every string value filled from ``kwargs``."""
        budget = OutputBudget("dict prompt's")
        return _fill(self.template, kwargs, self.template_format, budget)

    async def aformat(self, **kwargs: Any) -> dict[str, Any]:
        """Async ``format``."""
        return self.format(**kwargs)

    def _run(self, value: dict[str, Any], config: RunnableConfig) -> dict[str, Any]:
        return self.format(**value)

    def invoke(
        self, input: dict[str, Any], config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Fill the template from a dict of variables."""
        return self._call_with_config(self._run, input, config, "prompt")
