"""The cases of ``write_langchain_fixtures.py``: LangChain objects and the calls to record.

Each case builds one object with langchain-core / langchain-aws (several per class where
fields matter); its probes are the calls and attribute reads whose LangChain results
the fixture records. The Bedrock cases are in ``langchain_cases_aws.py``. Imported only
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
    from langchain_core import agents, outputs, prompt_values
    from langchain_core import messages as m
    from langchain_core.documents import Document
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

    tool_call = {"name": "lookup", "args": {"q": "x"}, "id": "call_1", "type": "tool_call"}
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 2},
    }
    msg_attrs = attrs("type", "content", "text", "id", "name", "additional_kwargs")
    ai_attrs = [*msg_attrs, *attrs("tool_calls", "invalid_tool_calls", "usage_metadata")]
    blocks = [
        {"type": "text", "text": "look:"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
    ]
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
        # messages ---------------------------------------------------------------
        Case("ai_message", lambda: m.AIMessage("hi there"), ai_attrs),
        Case(
            "ai_message_full",
            lambda: m.AIMessage(
                content=blocks,
                id="run-1",
                name="bot",
                tool_calls=[tool_call],
                usage_metadata=usage,
                response_metadata={"stop_reason": "tool_use"},
                additional_kwargs={"k": [1, 2]},
            ),
            ai_attrs,
        ),
        Case(
            "ai_message_invalid_tool_call",
            lambda: m.AIMessage(
                "",
                invalid_tool_calls=[
                    {
                        "name": "f",
                        "args": "{bad",
                        "id": "c9",
                        "error": "bad json",
                        "type": "invalid_tool_call",
                    }
                ],
            ),
            ai_attrs,
        ),
        Case(
            "ai_message_chunk",
            lambda: m.AIMessageChunk(
                "par",
                tool_call_chunks=[{"name": "lookup", "args": '{"q"', "id": "c1", "index": 0}],
            ),
            [*ai_attrs, *attrs("tool_call_chunks")],
        ),
        Case(
            "ai_message_reasoning_v1",
            lambda: m.AIMessage(
                content=[
                    {"type": "reasoning", "reasoning": "think"},
                    {"type": "text", "text": "answer"},
                ],
                response_metadata={"output_version": "v1", "model_provider": "bedrock_converse"},
            ),
            ai_attrs,
        ),
        Case(
            "human_message_v1_image",
            lambda: m.HumanMessage(
                [
                    {"type": "text", "text": "see"},
                    {"type": "image", "url": "https://example.com/a.png"},
                ]
            ),
            msg_attrs,
        ),
        Case("human_message", lambda: m.HumanMessage("hello", id="h1"), msg_attrs),
        Case("human_message_blocks", lambda: m.HumanMessage(blocks), msg_attrs),
        Case("human_message_chunk", lambda: m.HumanMessageChunk("hel"), msg_attrs),
        Case("system_message", lambda: m.SystemMessage("be brief", name="sys"), msg_attrs),
        Case("system_message_chunk", lambda: m.SystemMessageChunk("be"), msg_attrs),
        Case(
            "tool_message",
            lambda: m.ToolMessage(
                "42", tool_call_id="call_1", artifact={"raw": [4, 2]}, status="success"
            ),
            [*msg_attrs, *attrs("tool_call_id", "artifact", "status")],
        ),
        Case(
            "tool_message_error",
            lambda: m.ToolMessage("boom", tool_call_id="call_2", status="error"),
            [*msg_attrs, *attrs("tool_call_id", "status")],
        ),
        Case(
            "tool_message_named",
            lambda: m.ToolMessage(
                [{"type": "text", "text": "r"}], tool_call_id="c3", name="lookup", id="t1"
            ),
            [*msg_attrs, *attrs("tool_call_id")],
        ),
        Case(
            "ai_message_chunk_last",
            lambda: m.AIMessageChunk("done", chunk_position="last", response_metadata={"a": 1}),
            ai_attrs,
        ),
        Case(
            "tool_message_chunk",
            lambda: m.ToolMessageChunk("4", tool_call_id="call_1"),
            [*msg_attrs, *attrs("tool_call_id")],
        ),
        Case(
            "chat_message", lambda: m.ChatMessage("hi", role="critic"), [*msg_attrs, *attrs("role")]
        ),
        Case(
            "chat_message_chunk",
            lambda: m.ChatMessageChunk("h", role="critic"),
            [*msg_attrs, *attrs("role")],
        ),
        Case("function_message", lambda: m.FunctionMessage("7", name="add"), msg_attrs),
        Case("function_message_chunk", lambda: m.FunctionMessageChunk("7", name="add"), msg_attrs),
        Case("remove_message", lambda: m.RemoveMessage(id="m-1"), attrs("type", "id")),
        # documents, generations, agents ---------------------------------------------
        Case(
            "document",
            lambda: Document("some text", metadata={"source": "a.txt", "page": 2}, id="d1"),
            attrs("page_content", "metadata", "id", "type"),
        ),
        Case(
            "generation",
            lambda: outputs.Generation(text="out", generation_info={"finish_reason": "stop"}),
            attrs("text", "generation_info", "type"),
        ),
        Case("generation_chunk", lambda: outputs.GenerationChunk(text="ou"), attrs("text", "type")),
        Case(
            "chat_generation",
            lambda: outputs.ChatGeneration(message=m.AIMessage("yes"), generation_info={"a": 1}),
            attrs("text", "message", "generation_info", "type"),
        ),
        Case(
            "chat_generation_chunk",
            lambda: outputs.ChatGenerationChunk(message=m.AIMessageChunk("y")),
            attrs("text", "message", "type"),
        ),
        Case(
            "agent_action",
            lambda: agents.AgentAction(tool="search", tool_input={"q": "x"}, log="thinking"),
            attrs("tool", "tool_input", "log", "type", "messages"),
        ),
        Case(
            "agent_action_message_log",
            lambda: agents.AgentActionMessageLog(
                tool="search", tool_input="x", log="l", message_log=[m.AIMessage("call search")]
            ),
            attrs("tool", "tool_input", "log", "message_log", "type", "messages"),
        ),
        Case(
            "agent_finish",
            lambda: agents.AgentFinish(return_values={"output": "done"}, log="fin"),
            attrs("return_values", "log", "type", "messages"),
        ),
        # prompt values ------------------------------------------------------------
        Case(
            "string_prompt_value",
            lambda: prompt_values.StringPromptValue(text="hi"),
            [Probe("to_string"), Probe("to_messages")],
        ),
        Case(
            "chat_prompt_value",
            lambda: prompt_values.ChatPromptValue(
                messages=[m.SystemMessage("s"), m.HumanMessage("h")]
            ),
            [Probe("to_string"), Probe("to_messages")],
        ),
        Case(
            "chat_prompt_value_concrete",
            lambda: prompt_values.ChatPromptValueConcrete(messages=[m.HumanMessage("h")]),
            [Probe("to_string"), Probe("to_messages")],
        ),
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
