"""Prompt templates from untrusted manifests and requests: bounded output, depth and time.

Regression corpus for issue 13: ``{question:>200000000}`` turned a 100-byte request into a
200 MB response, ``{x.__class__}`` from a request was a 500, 2000 nested mustache sections
raised ``RecursionError``, a jinja2 template (``init_validator=None``) hung, and a request's
config could make a template render as jinja2.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from runwire import dumps
from runwire.errors import FieldValidationError, TemplateError
from runwire.loader import loads
from runwire.runtime.configurable import ConfigurableField
from runwire.runtime.prompts import ChatPromptTemplate, PromptTemplate, limits
from runwire.runtime.prompts.formatting import render_f_string, render_mustache

GENEROUS_S = 10
"""Only for what hung before: a bound no loaded machine misses, far below the old hang."""


def _prompt_manifest(template: str, template_format: str = "f-string") -> str:
    return json.dumps(
        {
            "lc": 1,
            "type": "constructor",
            "id": ["runwire", "prompts", "PromptTemplate"],
            "kwargs": {"template": template, "template_format": template_format},
        }
    )


def _client_template(default: str = "Q: {q}", **kwargs: Any) -> Any:
    """A prompt whose template a request's config sets (id ``t``)."""
    prompt = PromptTemplate.from_template(default, **kwargs)
    return prompt.configurable_fields(template=ConfigurableField(id="t"))


@pytest.fixture
def small_output(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(limits, "MAX_TEMPLATE_OUTPUT", 1000)
    return 1000


# -- f-strings: widths, attribute access, output size --------------------------------
@pytest.mark.parametrize("template", ["{question:>200000000}", "{x:.999999f}", "{x:0>99999}"])
def test_huge_widths_are_refused_when_built_and_when_rendered(template: str) -> None:
    with pytest.raises(FieldValidationError, match="over the limit of 10000"):
        loads(_prompt_manifest(template))
    with pytest.raises(TemplateError, match="width or precision"):
        render_f_string(template, {"question": "x", "x": 1.5})


def test_reasonable_specs_still_format() -> None:
    prompt = PromptTemplate.from_template("{a:>6}|{b:.2f}|{c!r}|{{literal}}")
    assert prompt.format(a="x", b=3.14159, c="y") == "     x|3.14|'y'|{literal}"


@pytest.mark.parametrize("template", ["{x.__class__}", "{x[0]}", "{x.__class__.__mro__}", "{0}"])
def test_attribute_access_and_positional_fields_are_refused(template: str) -> None:
    with pytest.raises(FieldValidationError):
        loads(_prompt_manifest(template))
    with pytest.raises(TemplateError):
        render_f_string(template, {"x": "value"})


def test_a_request_chosen_template_is_a_template_error_not_a_500() -> None:
    chain = _client_template()
    for template in ("{q.__class__}", "{q:>200000000}", "{q[0]}", "{q"):
        with pytest.raises(TemplateError):
            chain.invoke({"q": "hi"}, {"configurable": {"t": template}})
    assert chain.invoke({"q": "hi"}, {"configurable": {"t": "A: {q}"}}).to_string() == "A: hi"


def test_a_spec_that_does_not_fit_the_value_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="cannot format"):
        render_f_string("{q:d}", {"q": "text"})


def test_output_is_bounded_while_rendering(small_output: int) -> None:
    assert render_f_string("{q}", {"q": "a" * small_output}) == "a" * small_output
    with pytest.raises(TemplateError, match=f"limit of {small_output} bytes"):
        render_f_string("{q}{q}", {"q": "a" * 600})
    chain = _client_template()
    with pytest.raises(TemplateError):
        chain.invoke({"q": "a" * 50}, {"configurable": {"t": "{q}" * 100}})


def test_output_limit_counts_bytes(small_output: int) -> None:
    with pytest.raises(TemplateError):
        render_f_string("{q}", {"q": "\u00e9" * 600})  # 600 characters, 1200 bytes


def test_output_limit_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_TEMPLATE_OUTPUT", None)
    monkeypatch.setenv(limits.OUTPUT_ENV_VAR, "64")
    with pytest.raises(TemplateError, match="limit of 64 bytes"):
        render_f_string("{q}", {"q": "b" * 65})
    monkeypatch.setenv(limits.OUTPUT_ENV_VAR, "lots")
    with pytest.raises(TemplateError, match=limits.OUTPUT_ENV_VAR) as info:
        render_f_string("{q}", {"q": "b"})
    assert "1048576" in info.value.hint
    monkeypatch.delenv(limits.OUTPUT_ENV_VAR)
    assert limits.max_template_output() == limits.DEFAULT_MAX_TEMPLATE_OUTPUT == 1 << 20


def test_chat_prompt_message_templates_are_bounded(small_output: int) -> None:
    prompt = ChatPromptTemplate.from_messages([("system", "S"), ("human", "{q}{q}")])
    with pytest.raises(TemplateError):
        prompt.invoke({"q": "z" * 600})


def test_chat_prompt_output_is_bounded_in_total(small_output: int) -> None:
    """Many messages, each under the limit, from a request that sets ``messages``."""
    chain = ChatPromptTemplate.from_messages([("human", "{q}")]).configurable_fields(
        messages=ConfigurableField(id="m")
    )
    messages = [["human", "{q:>400}"]] * 3
    with pytest.raises(TemplateError, match="chat prompt"):
        chain.invoke({"q": "z"}, {"configurable": {"m": messages}})
    history = [("human", "h" * 2000)]  # placeholder contents are input, not template output
    with_history = ChatPromptTemplate.from_messages([("placeholder", "{h}"), ("human", "{q}")])
    assert len(with_history.invoke({"h": history, "q": "z"}).to_messages()) == 2


# -- mustache: depth, work, output -------------------------------------------------------
def test_deeply_nested_sections_are_refused_at_parse_time() -> None:
    template = "{{#a}}" * 2000 + "x" + "{{/a}}" * 2000
    with pytest.raises(TemplateError, match="over the limit of 100"):
        render_mustache(template, {"a": True})
    with pytest.raises(FieldValidationError, match="nest"):
        loads(_prompt_manifest(template, "mustache"))
    ok = "{{#a}}" * 100 + "x" + "{{/a}}" * 100
    assert render_mustache(ok, {"a": True}) == "x"


def test_long_dotted_names_count_towards_the_depth() -> None:
    with pytest.raises(TemplateError, match="nest"):
        render_mustache("{{" + ".".join(["a"] * 150) + "}}", {})


def test_sections_over_lists_are_bounded_in_work() -> None:
    template = "{{#a}}" * 8 + "{{missing}}" + "{{/a}}" * 8  # 10**8 visits, no output
    start = time.monotonic()
    with pytest.raises(TemplateError, match="steps"):
        render_mustache(template, {"a": list(range(1, 11))})
    assert time.monotonic() - start < GENEROUS_S


def test_mustache_output_is_bounded(small_output: int) -> None:
    with pytest.raises(TemplateError, match="larger than the limit"):
        render_mustache("{{#a}}{{v}}{{/a}}", {"a": list(range(1, 100)), "v": "y" * 20})


def test_mustache_parsing_is_linear() -> None:
    template = "{{x}}" * 100_000  # quadratic before: each tag copied the rest of the text
    start = time.monotonic()
    assert render_mustache(template, {"x": "y"}) == "y" * 100_000
    assert time.monotonic() - start < GENEROUS_S


def test_a_value_too_deep_to_print_is_a_template_error() -> None:
    deep: list[Any] = []
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(TemplateError, match="nested too deeply"):
        render_mustache("{{x}}", {"x": deep})


# -- jinja2: only when allowed, and then bounded -------------------------------------------
@pytest.fixture
def jinja(monkeypatch: pytest.MonkeyPatch) -> Any:
    pytest.importorskip("jinja2")
    from runwire.runtime.prompts import jinja

    monkeypatch.setattr(limits, "JINJA2_TIME_LIMIT_S", 0.3)
    return jinja


def test_jinja2_loop_without_output_stops_at_the_time_limit(
    jinja: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The case that hung: a trusted-by-mistake manifest (``init_validator=None``)."""
    loop = "{% for i in range(9999) %}{% for j in range(9999) %}{% endfor %}{% endfor %}"
    prompt = loads(_prompt_manifest(loop, "jinja2"), init_validator=None)
    start = time.monotonic()
    with pytest.raises(TemplateError, match="steps in all"):
        prompt.invoke({})
    assert time.monotonic() - start < GENEROUS_S
    monkeypatch.setattr(limits, "JINJA2_MAX_LOOP_STEPS", 10**12)  # then time stops it
    with pytest.raises(TemplateError, match="ran longer than"):
        prompt.invoke({})
    assert time.monotonic() - start < GENEROUS_S


@pytest.mark.parametrize(
    ("template", "values"),
    [
        (
            "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}"
            "{% endfor %}",
            {"xs": list(range(2000))},
        ),
        (
            "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
            "{{ f(40) }}",
            {},
        ),
    ],
    ids=["nested-loops-over-values", "exponential-macro"],
)
def test_jinja2_work_is_time_bounded(jinja: Any, template: str, values: dict[str, Any]) -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError, match=r"ran longer than|steps in all"):
        jinja.render_jinja2(template, values)
    assert time.monotonic() - start < GENEROUS_S


@pytest.mark.parametrize(
    "template",
    [
        "{% for i in range(100000000) %}{% endfor %}",
        "{{ 'a' * 1000000000 }}",
        "{{ [1] * 1000000000 }}",
        "{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "{% set ns = namespace(s='ab') %}{% for i in range(60) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ '{:>{w}}'.format(1, w=999999999) }}",
        "{{ 'a'|center(999999999) }}",
        "{{ 'a'.rjust(999999999) }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '%*d'|format(999999999, 1) }}",
        "{{ ('x' * 100000)|replace('', 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy') }}",
        "{{ 99999 ** 99999 }}",
        "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
        "{{ lipsum(1000000) }}",
    ],
)
def test_jinja2_values_built_in_the_template_are_bounded(jinja: Any, template: str) -> None:
    start = time.monotonic()
    with pytest.raises(TemplateError):
        jinja.render_jinja2(template, {})
    assert time.monotonic() - start < GENEROUS_S


def test_jinja2_output_is_bounded_while_generating(jinja: Any, small_output: int) -> None:
    with pytest.raises(TemplateError, match="larger than"):
        jinja.render_jinja2("{% for i in range(9999) %}{{ x }}{% endfor %}", {"x": "abc"})
    with pytest.raises(TemplateError, match="larger than the limit"):
        jinja.render_jinja2("{% for i in range(9999) %}abc{% endfor %}", {})


@pytest.mark.parametrize(
    "template",
    [
        "{% filter upper %}{% for i in range(9999) %}{{ x }}{% endfor %}{% endfilter %}",
        "{% macro m() %}{% for i in range(9999) %}{{ x }}{% endfor %}{% endmacro %}{{ m() }}",
        "{% set s %}{% for i in range(9999) %}{{ x }}{% endfor %}{% endset %}",
    ],
    ids=["filter-block", "macro", "set-block"],
)
def test_jinja2_buffered_blocks_are_bounded(jinja: Any, template: str) -> None:
    """Output jinja2 buffers (not yet yielded) counts as it is printed."""
    with pytest.raises(TemplateError, match="printed expressions"):
        jinja.render_jinja2(template, {"x": "x" * 1000})


def test_jinja2_sandbox_and_ordinary_templates(jinja: Any) -> None:
    with pytest.raises(TemplateError, match="unsafe"):
        jinja.render_jinja2("{{ x.__class__.__mro__ }}", {"x": 1})
    text = jinja.render_jinja2(
        "Hi {{ name }}:{% for i in range(3) %} {{ i }}{% endfor %} {{ '%05.1f' % 2.25 }} "
        "{{ '{:>4}'.format(7) }} {{ 'a' ~ name }} {{ 'Order 123456: %s' % 'ok' }}",
        {"name": "Bo"},
    )
    assert text == "Hi Bo: 0 1 2 002.2    7 aBo Order 123456: ok"
    assert jinja.jinja2_variables("{% for i in range(2) %}{{ a ~ b }}{% endfor %}") == ["a", "b"]


# -- a request's config may not choose jinja2 ---------------------------------------------
def test_a_request_cannot_switch_a_template_to_jinja2() -> None:
    prompt = PromptTemplate.from_template("Q: {q}")
    chain = prompt.configurable_fields(
        template=ConfigurableField(id="t"), template_format=ConfigurableField(id="fmt")
    )
    config = {"configurable": {"t": "{{ q }}", "fmt": "jinja2"}}
    with pytest.raises(TemplateError, match="jinja2") as info:
        chain.invoke({"q": "x"}, config)
    assert "allow_jinja2" in info.value.hint
    mustache = {"configurable": {"t": "{{ q }}", "fmt": "mustache"}}
    assert chain.invoke({"q": "x"}, mustache).to_string() == "x"


def test_a_request_cannot_set_the_text_of_a_jinja2_template() -> None:
    pytest.importorskip("jinja2")
    chain = _client_template("{{ q }}", template_format="jinja2")
    assert chain.invoke({"q": "deployer's"}).to_string() == "deployer's"
    with pytest.raises(TemplateError, match="refused"):
        chain.invoke({"q": "x"}, {"configurable": {"t": "{{ q.__class__ }}"}})


def test_the_deployment_can_opt_in() -> None:
    pytest.importorskip("jinja2")
    chain = _client_template("{{ q }}", template_format="jinja2").model_copy(
        update={"allow_jinja2": True}
    )
    result = chain.invoke({"q": "x"}, {"configurable": {"t": "<{{ q }}>"}})
    assert result.to_string() == "<x>"
    again = loads(dumps(chain), init_validator=None)  # the opt-in is part of the manifest
    assert again.allow_jinja2 and again.configurable_fields().allow_jinja2
    assert "allow_jinja2" not in dumps(_client_template())


# -- async calls never render slow formats on the event loop --------------------------------
def test_async_jinja2_rendering_runs_off_the_event_loop(jinja: Any) -> None:
    """A time-bounded render still takes its time: it must not stall other requests."""
    import asyncio

    slow = (  # runs until the time limit (0.3 s here)
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}"
    )
    prompt = PromptTemplate.from_template(slow, template_format="jinja2")
    chat = ChatPromptTemplate.from_messages([("human", slow)], template_format="jinja2")

    async def main(runnable: Any) -> int:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticker = asyncio.create_task(tick())
        with pytest.raises(TemplateError, match="ran longer than"):
            await runnable.ainvoke({})
        ticker.cancel()
        return ticks

    for runnable in (prompt, chat):
        assert asyncio.run(main(runnable)) >= 2  # 0 when the render blocked the loop
    assert PromptTemplate.from_template("{q}").sync_is_cheap  # f-strings stay inline
    switchable = PromptTemplate.from_template("{q}").configurable_fields(
        template_format=ConfigurableField(id="fmt")
    )
    assert not switchable.sync_is_cheap
