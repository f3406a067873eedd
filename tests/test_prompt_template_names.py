"""``template_names``: the cached variable parse prompts use while they are built gives
what ``template_variables`` gives, and the same errors."""

from __future__ import annotations

import pytest

from runwire.errors import TemplateError
from runwire.runtime.prompts import ChatPromptTemplate, PromptTemplate
from runwire.runtime.prompts.formatting import template_names, template_variables


@pytest.mark.parametrize(
    ("template", "template_format"),
    [
        ("Hi {name}, {b} and {a}", "f-string"),
        ("{{#items}}{{x}}{{/items}} {{who.name}}", "mustache"),
        ("no variables", "f-string"),
    ],
)
def test_same_names_as_template_variables(template: str, template_format: str) -> None:
    assert template_names(template, template_format) == tuple(
        template_variables(template, template_format)
    )


@pytest.mark.parametrize("template_format", ["f-strings", ["f-string"], None])
def test_unknown_format_raises_as_before(template_format: object) -> None:
    with pytest.raises(TemplateError, match="unsupported template format"):
        template_variables("{a}", template_format)  # type: ignore[arg-type]
    with pytest.raises(TemplateError, match="unsupported template format"):
        template_names("{a}", template_format)  # type: ignore[arg-type]


def test_bad_template_raises_each_time() -> None:
    for _ in range(2):  # a failed parse is not cached as a result
        with pytest.raises(TemplateError, match="positional"):
            template_names("{0}", "f-string")


def test_built_prompts_do_not_share_variable_lists() -> None:
    first = PromptTemplate.from_template("{a} {b}")
    second = PromptTemplate.from_template("{a} {b}")
    assert first.input_variables == ["a", "b"]
    first.input_variables.append("c")
    assert second.input_variables == ["a", "b"]
    assert PromptTemplate.from_template("{a} {b}").input_variables == ["a", "b"]


def test_partials_and_checks_unchanged() -> None:
    prompt = PromptTemplate.from_template("{a} {b}", partial_variables={"b": "x"})
    assert prompt.input_variables == ["a"]
    with pytest.raises(ValueError, match="reserved"):
        PromptTemplate.from_template("{stop}")
    with pytest.raises(ValueError, match="reserved"):
        PromptTemplate.from_template("{a}", partial_variables={"stop": "x"})
    chat = ChatPromptTemplate.from_messages([("system", "{a}"), ("placeholder", "{history}")])
    assert chat.input_variables == ["a"]
    assert chat.optional_variables == ["history"]
    assert chat.partial_variables == {"history": []}
