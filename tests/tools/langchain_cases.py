"""The cases of ``write_langchain_fixtures.py``: LangChain objects and the calls to record.

Each case builds one object with langchain-core / langchain-aws (several per class where
fields matter); its probes are the calls and attribute reads whose LangChain results
the fixture records. Messages and data are in ``langchain_cases_data.py``, Bedrock in
``langchain_cases_aws.py``; prompts, parsers and runnables here. Imported only
by the generator (the ``bench`` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Probe:
    """A method call (``call``) or attribute read (``attr``) on the loaded object.

    ``bedrock`` stubs the model's bedrock-runtime client for the call: ``operation``
    (``converse`` or ``invoke_model``) answers ``response`` (for ``invoke_model``, the
    JSON ``body`` and the HTTP ``headers``); the request LangChain sent is recorded.
    """

    call: str | None = None
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    attr: str | None = None
    bedrock: dict[str, Any] | None = None


@dataclass
class Case:
    name: str
    build: Callable[[], Any]
    probes: list[Probe] = field(default_factory=list)
    secrets_map: dict[str, str] = field(default_factory=dict)


def invoke(value: Any, **config: Any) -> Probe:
    return Probe("invoke", (value,), {"config": config} if config else {})


def attrs(*names: str) -> list[Probe]:
    return [Probe(attr=n) for n in names]


def cases() -> list[Case]:
    from langchain_cases_aws import aws_cases
    from langchain_cases_data import data_cases
    from langchain_core import messages as m
    from langchain_core.output_parsers import CommaSeparatedListOutputParser, StrOutputParser
    from langchain_core.prompts import (
        AIMessagePromptTemplate,
        ChatMessagePromptTemplate,
        ChatPromptTemplate,
        FewShotPromptTemplate,
        FewShotPromptWithTemplates,
        HumanMessagePromptTemplate,
        MessagesPlaceholder,
        PromptTemplate,
        SystemMessagePromptTemplate,
    )
    from langchain_core.prompts.dict import DictPromptTemplate
    from langchain_core.prompts.image import ImagePromptTemplate
    from langchain_core.prompts.structured import StructuredPrompt
    from langchain_core.runnables import (
        ConfigurableField,
        ConfigurableFieldSingleOption,
        RouterRunnable,
        RunnableBranch,
        RunnableParallel,
        RunnablePassthrough,
    )
    from langchain_core.runnables.base import RunnableBindingBase, RunnableEachBase
    from langchain_core.runnables.passthrough import RunnableAssign, RunnablePick
    from langchain_core.runnables.retry import RunnableRetry

    hello = PromptTemplate.from_template("Hello {name}!")
    bye = PromptTemplate.from_template("Bye {name}.")
    chat = ChatPromptTemplate.from_messages(
        [("system", "You are {role}."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    chat_in = {
        "role": "terse",
        "history": [m.HumanMessage("hi"), m.AIMessage("hello")],
        "question": "why?",
    }
    return [
        *data_cases(),
        # prompts ------------------------------------------------------------------
        Case(
            "prompt_template",
            lambda: hello,
            [Probe("format", kwargs={"name": "Ann"}), invoke({"name": "Ann"})],
        ),
        Case(
            "prompt_template_partial",
            lambda: PromptTemplate.from_template("{a} and {b}").partial(a="x"),
            [Probe("format", kwargs={"b": "y"}), invoke({"b": "y"})],
        ),
        Case(
            "prompt_template_typed",
            lambda: PromptTemplate(
                template="{a} {b}",
                input_variables=["a", "b"],
                input_types={"a": str},
                partial_variables={"b": "bee"},
                metadata={"owner": "x"},
                tags=["t"],
                name="typed",
            ),
            [invoke({"a": "ay"})],
        ),
        Case(
            "prompt_template_mustache",
            lambda: PromptTemplate.from_template(
                "Hi {{name}}, {{#x}}yes{{/x}}", template_format="mustache"
            ),
            [invoke({"name": "Bo", "x": True})],
        ),
        Case(
            "prompt_template_jinja2",
            lambda: PromptTemplate.from_template("Hi {{ name }}", template_format="jinja2"),
            [invoke({"name": "Bo"})],
        ),
        Case(
            "chat_prompt_template", lambda: chat, [invoke(chat_in), Probe("format", kwargs=chat_in)]
        ),
        Case(
            "chat_prompt_template_all_roles",
            lambda: ChatPromptTemplate.from_messages(
                [
                    SystemMessagePromptTemplate.from_template("sys {a}"),
                    HumanMessagePromptTemplate.from_template("human {a}"),
                    AIMessagePromptTemplate.from_template("ai {a}"),
                    ChatMessagePromptTemplate.from_template("critic {a}", role="critic"),
                    ("placeholder", "{extra}"),
                    m.SystemMessage("literal"),
                ]
            ),
            [invoke({"a": "1"}), invoke({"a": "2", "extra": [m.HumanMessage("more")]})],
        ),
        Case(
            "chat_prompt_template_mustache",
            lambda: ChatPromptTemplate.from_messages(
                [("human", "{{q}}")], template_format="mustache"
            ),
            [invoke({"q": "what"})],
        ),
        Case(
            "chat_prompt_template_partial",
            lambda: chat.partial(role="kind"),
            [invoke({"history": [], "question": "q"})],
        ),
        Case(
            "chat_prompt_template_image",
            lambda: ChatPromptTemplate.from_messages(
                [
                    (
                        "human",
                        [
                            {"type": "text", "text": "Describe {thing}"},
                            {"type": "image_url", "image_url": "{img}"},
                            {"type": "image_url", "image_url": {"url": "{img}", "detail": "low"}},
                        ],
                    )
                ]
            ),
            [invoke({"thing": "it", "img": "https://example.com/i.png"})],
        ),
        Case(
            "chat_prompt_template_cache_control",
            lambda: ChatPromptTemplate.from_messages(
                [
                    (
                        "system",
                        [
                            {
                                "type": "text",
                                "text": "Know {topic}.",
                                "cache_control": {"type": "ephemeral"},
                            }
                        ],
                    ),
                    ("human", "{q}"),
                ]
            ),
            [invoke({"topic": "tides", "q": "when?"})],
        ),
        Case(
            "chat_prompt_template_dict_block",
            lambda: ChatPromptTemplate.from_messages(
                [
                    (
                        "human",
                        [
                            {
                                "type": "image",
                                "source_type": "base64",
                                "data": "{source_data}",
                                "metadata": {"cache_control": {"type": "{cache_type}"}},
                            }
                        ],
                    )
                ]
            ),
            [invoke({"source_data": "aGk=", "cache_type": "ephemeral"})],
        ),
        Case(
            "messages_placeholder",
            lambda: MessagesPlaceholder("history", optional=True, n_messages=1),
            [
                Probe(
                    "format_messages", kwargs={"history": [m.HumanMessage("a"), m.AIMessage("b")]}
                ),
                Probe("format_messages"),
            ],
        ),
        Case(
            "human_message_prompt_template",
            lambda: HumanMessagePromptTemplate.from_template("q: {q}"),
            [Probe("format", kwargs={"q": "1"}), Probe("format_messages", kwargs={"q": "1"})],
        ),
        Case(
            "system_message_prompt_template",
            lambda: SystemMessagePromptTemplate.from_template("s: {q}"),
            [Probe("format", kwargs={"q": "1"})],
        ),
        Case(
            "ai_message_prompt_template",
            lambda: AIMessagePromptTemplate.from_template("a: {q}"),
            [Probe("format", kwargs={"q": "1"})],
        ),
        Case(
            "chat_message_prompt_template",
            lambda: ChatMessagePromptTemplate.from_template("c: {q}", role="judge"),
            [Probe("format", kwargs={"q": "1"})],
        ),
        Case(
            "image_prompt_template",
            lambda: ImagePromptTemplate(
                template={"url": "https://example.com/{name}.png", "detail": "high"},
                input_variables=["name"],
            ),
            [Probe("format", kwargs={"name": "cat"})],
        ),
        Case(
            "dict_prompt_template",
            lambda: DictPromptTemplate(
                template={"a": "{x}", "b": ["{y}", 3], "c": {"d": "x={x}"}},
                template_format="f-string",
            ),
            [Probe("format", kwargs={"x": "1", "y": "2"}), invoke({"x": "1", "y": "2"})],
        ),
        Case(
            "few_shot_prompt_with_templates",
            lambda: FewShotPromptWithTemplates(
                examples=[{"q": "1+1", "a": "2"}, {"q": "2+2", "a": "4"}],
                example_prompt=PromptTemplate.from_template("Q: {q} A: {a}"),
                prefix=PromptTemplate.from_template("Solve for {who}:"),
                suffix=PromptTemplate.from_template("Q: {input} A:"),
                input_variables=["who", "input"],
                example_separator="\n",
            ),
            [Probe("format", kwargs={"who": "me", "input": "3+3"})],
        ),
        Case(
            "few_shot_prompt_template",
            lambda: FewShotPromptTemplate(
                examples=[{"q": "1"}],
                example_prompt=PromptTemplate.from_template("{q}"),
                suffix="{input}",
                input_variables=["input"],
            ),
            [Probe("format", kwargs={"input": "x"})],
        ),
        Case(
            "structured_prompt",
            lambda: StructuredPrompt.from_messages_and_schema(
                [("human", "Extract from {text}")],
                {
                    "title": "Person",
                    "type": "object",
                    "properties": {"name": {"type": "string"}},
                },
            ),
            [invoke({"text": "Ann is 3"})],
        ),
        # parsers ------------------------------------------------------------------
        Case(
            "str_output_parser",
            StrOutputParser,
            [invoke("plain"), invoke(m.AIMessage("from ai")), Probe("parse", ("x",))],
        ),
        Case(
            "comma_separated_list_output_parser",
            CommaSeparatedListOutputParser,
            [Probe("parse", ("a, b,c",)), invoke("x, y"), Probe("get_format_instructions")],
        ),
        # runnables ----------------------------------------------------------------
        Case(
            "runnable_sequence",
            lambda: RunnableParallel(name=RunnablePick("who")) | hello,
            [invoke({"who": "Cy"})],
        ),
        Case(
            "runnable_sequence_list",
            lambda: RunnablePick("text") | StrOutputParser() | CommaSeparatedListOutputParser(),
            [invoke({"text": "a, mid, b"})],
        ),
        Case(
            "runnable_parallel",
            lambda: RunnableParallel(
                greet=hello, same=RunnablePassthrough(), n=RunnablePick("name")
            ),
            [invoke({"name": "Di"})],
        ),
        Case("runnable_passthrough", RunnablePassthrough, [invoke({"a": 1})]),
        Case(
            "runnable_assign",
            lambda: RunnablePassthrough.assign(greeting=hello),
            [invoke({"name": "Ed"})],
        ),
        Case(
            "runnable_assign_direct",
            lambda: RunnableAssign(RunnableParallel(n=RunnablePick("name"))),
            [invoke({"name": "Ed"})],
        ),
        Case("runnable_pick", lambda: RunnablePick("a"), [invoke({"a": 1, "b": 2})]),
        Case(
            "runnable_pick_list",
            lambda: RunnablePick(["a", "b"]),
            [invoke({"a": 1, "b": 2, "c": 3})],
        ),
        Case(
            "runnable_binding",
            lambda: hello.bind(stop=["x"]).with_config(tags=["t1"], run_name="greet"),
            [invoke({"name": "Fay"})],
        ),
        Case(
            "runnable_binding_base",
            lambda: RunnableBindingBase(bound=hello, kwargs={}),
            [invoke({"name": "Gus"})],
        ),
        Case("runnable_each", lambda: hello.map(), [invoke([{"name": "a"}, {"name": "b"}])]),
        Case(
            "runnable_each_base",
            lambda: RunnableEachBase(bound=hello),
            [invoke([{"name": "a"}])],
        ),
        Case(
            "runnable_branch",
            lambda: RunnableBranch((RunnablePick("formal"), bye), hello),
            [invoke({"formal": True, "name": "Hal"}), invoke({"formal": False, "name": "Hal"})],
        ),
        Case(
            "runnable_with_fallbacks",
            lambda: hello.with_fallbacks([bye]),
            [invoke({"name": "Ida"})],
        ),
        Case(
            "runnable_retry",
            lambda: RunnableRetry(
                bound=hello, max_attempt_number=2, retry_exception_types=(ValueError,)
            ),
            [invoke({"name": "Jo"})],
        ),
        Case(
            "runnable_with_retry",
            lambda: hello.with_retry(stop_after_attempt=2),
            [invoke({"name": "Jo"})],
        ),
        Case(
            "runnable_configurable_fields",
            lambda: hello.configurable_fields(
                template=ConfigurableField(id="tpl", name="Template", description="the text")
            ),
            [
                invoke({"name": "Kim"}),
                invoke({"name": "Kim"}, configurable={"tpl": "Yo {name}"}),
            ],
        ),
        Case(
            "runnable_configurable_alternatives",
            lambda: hello.configurable_alternatives(
                ConfigurableField(id="which"), default_key="hello", bye=bye
            ),
            [
                invoke({"name": "Lu"}),
                invoke({"name": "Lu"}, configurable={"which": "bye"}),
            ],
        ),
        Case(
            "runnable_configurable_alternatives_prefixed",
            lambda: hello.configurable_alternatives(
                ConfigurableField(id="which"), default_key="hello", prefix_keys=True, bye=bye
            ),
            [invoke({"name": "Lu"}, configurable={"which": "bye"})],
        ),
        Case(
            "runnable_configurable_options",
            lambda: hello.configurable_fields(
                template=ConfigurableFieldSingleOption(
                    id="greeting",
                    options={"hi": "Hi {name}", "yo": "Yo {name}"},
                    default="hi",
                )
            ),
            [
                invoke({"name": "Ny"}),
                invoke({"name": "Ny"}, configurable={"greeting": "yo"}),
            ],
        ),
        Case(
            "runnable_sequence_named_nested",
            lambda: (
                RunnableParallel(
                    inner=RunnableParallel(n=RunnablePick("name")), name=RunnablePick("name")
                )
                | RunnablePick("name")
            ).with_config(run_name="outer"),
            [invoke({"name": "Oz"})],
        ),
        Case(
            "router_runnable",
            lambda: RouterRunnable({"hello": hello, "bye": bye}),
            [invoke({"key": "bye", "input": {"name": "Mo"}})],
        ),
        Case(
            "runnable_with_message_history",
            lambda: _history(chat),
        ),
        *aws_cases(),
    ]


class SessionStore:
    """An in-memory history factory whose repr has no address (stable fixture text)."""

    def __init__(self) -> None:
        self.histories: dict[str, Any] = {}

    def __call__(self, session_id: str) -> Any:
        from langchain_core.chat_history import InMemoryChatMessageHistory

        return self.histories.setdefault(session_id, InMemoryChatMessageHistory())

    def __repr__(self) -> str:
        return "SessionStore()"


def _history(chain: Any) -> Any:
    from langchain_core.runnables.history import RunnableWithMessageHistory

    return RunnableWithMessageHistory(
        chain, SessionStore(), input_messages_key="question", history_messages_key="history"
    )
