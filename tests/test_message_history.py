"""RunnableWithMessageHistory: LangChain's contract with serializable stores, every call
form, message coercion, schemas, manifests, and LangChain's own files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import runwire
from runwire.errors import FieldValidationError
from runwire.runtime.configurable_spec import ConfigurableFieldSpec
from runwire.runtime.history import RunnableWithMessageHistory
from runwire.runtime.history_stores import InMemoryChatHistoryStore, SqliteChatHistoryStore
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder
from runwire.schema.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)

S1 = {"configurable": {"session_id": "s1"}}
S2 = {"configurable": {"session_id": "s2"}}


def kinds(messages: list[BaseMessage]) -> list[tuple[str, Any]]:
    return [(type(m).__name__, m.content) for m in messages]


class Recorder:
    """A runnable body that records what it was given and answers with a count."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def __call__(self, value: Any) -> Any:
        self.seen.append(value)
        messages = value if isinstance(value, list) else value.get("history", value.get("q"))
        return AIMessage(f"saw {len(messages)}")


def wrap(runnable: Any, **kwargs: Any) -> RunnableWithMessageHistory:
    return RunnableWithMessageHistory(
        runnable=runnable, history=InMemoryChatHistoryStore(), **kwargs
    )


# -- what the wrapped runnable gets, and what is appended ----------------------------------
def test_messages_input_gets_history_first_and_both_sides_are_appended() -> None:
    rec = Recorder()
    chain = wrap(RunnableLambda(rec))
    assert chain.invoke("hi", S1) == AIMessage("saw 1")
    assert chain.invoke([HumanMessage("again")], S1) == AIMessage("saw 3")
    assert kinds(rec.seen[1]) == [
        ("HumanMessage", "hi"),
        ("AIMessage", "saw 1"),
        ("HumanMessage", "again"),
    ]
    history = chain.history.session("s1").messages  # type: ignore[union-attr]
    assert kinds(history) == [
        ("HumanMessage", "hi"),
        ("AIMessage", "saw 1"),
        ("HumanMessage", "again"),
        ("AIMessage", "saw 3"),
    ]
    assert chain.history.session("s2").messages == []  # type: ignore[union-attr]


def test_input_messages_key_puts_history_under_that_key() -> None:
    rec = Recorder()
    chain = wrap(RunnableLambda(rec), input_messages_key="q")
    chain.invoke({"q": "one", "other": 1}, S1)
    chain.invoke({"q": "two", "other": 2}, S1)
    assert rec.seen[1]["other"] == 2
    assert kinds(rec.seen[1]["q"]) == [
        ("HumanMessage", "one"),
        ("AIMessage", "saw 1"),
        ("HumanMessage", "two"),
    ]
    assert len(chain.history.session("s1").messages) == 4  # type: ignore[union-attr]


def test_history_messages_key_with_a_prompt_and_a_chat_model() -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            MessagesPlaceholder(variable_name="history"),
            ("human", "{question}"),
        ]
    )
    chain = wrap(
        prompt | FakeChatModel(), input_messages_key="question", history_messages_key="history"
    )
    first = chain.invoke({"role": "terse", "question": "ping"}, S1)
    assert first.content == "ping"  # the fake model echoes the last human message
    chain.invoke({"role": "terse", "question": "pong"}, S1)
    history = chain.history.session("s1").messages  # type: ignore[union-attr]
    assert kinds(history) == [
        ("HumanMessage", "ping"),
        ("AIMessage", "ping"),
        ("HumanMessage", "pong"),
        ("AIMessage", "pong"),
    ]


def test_history_key_without_input_key_reads_the_input_key_of_the_dict() -> None:
    rec = Recorder()
    chain = wrap(RunnableLambda(rec), history_messages_key="history")
    chain.invoke({"input": "hello", "x": 1}, S1)
    assert rec.seen[0]["history"] == []
    assert kinds(chain.history.session("s1").messages) == [  # type: ignore[union-attr]
        ("HumanMessage", "hello"),
        ("AIMessage", "saw 0"),
    ]
    with pytest.raises(KeyError):  # LangChain reads "input" too and fails the same way
        chain.invoke({"question": "hello", "x": 1}, S1)
    with pytest.raises(ValueError, match="expects a dict input"):
        chain.invoke("not a dict", S1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", [("HumanMessage", "text")]),
        (SystemMessage("sys"), [("SystemMessage", "sys")]),
        ([HumanMessage("a"), AIMessage("b")], [("HumanMessage", "a"), ("AIMessage", "b")]),
        ((HumanMessage("a"),), [("HumanMessage", "a")]),
        ([[HumanMessage("nested")]], [("HumanMessage", "nested")]),
        (
            [("human", "tuple"), {"role": "ai", "content": "d"}],
            [("HumanMessage", "tuple"), ("AIMessage", "d")],
        ),
        ({"only": "single key"}, [("HumanMessage", "single key")]),
        ({"input": "the input key", "x": 1}, [("HumanMessage", "the input key")]),
        ([], []),
    ],
)
def test_input_coercion(value: Any, expected: list[tuple[str, Any]]) -> None:
    chain = wrap(RunnableLambda(lambda m: "ok"))
    chain.invoke(value, S1)
    stored = chain.history.session("s1").messages  # type: ignore[union-attr]
    assert kinds(stored) == [*expected, ("AIMessage", "ok")]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (42, "Expected str, BaseMessage"),
        ([[HumanMessage("a")], [HumanMessage("b")]], "Expected a single list of messages"),
    ],
)
def test_bad_inputs_are_refused_and_nothing_is_stored(value: Any, error: str) -> None:
    chain = wrap(RunnableLambda(lambda m: "ok"))
    with pytest.raises(ValueError, match=error):
        chain.invoke(value, S1)
    assert chain.history.session("s1").messages == []  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("output", "key", "expected"),
    [
        ("plain", None, [("AIMessage", "plain")]),
        (AIMessage("msg"), None, [("AIMessage", "msg")]),
        ([AIMessage("a"), AIMessage("b")], None, [("AIMessage", "a"), ("AIMessage", "b")]),
        ({"answer": "one key"}, None, [("AIMessage", "one key")]),
        ({"output": "by default", "extra": 1}, None, [("AIMessage", "by default")]),
        ({"reply": AIMessage("chosen"), "extra": 1}, "reply", [("AIMessage", "chosen")]),
        (
            {"generations": [[{"message": AIMessage("gen")}]], "llm_output": None},
            None,
            [("AIMessage", "gen")],
        ),
    ],
)
def test_output_coercion(output: Any, key: str | None, expected: list[tuple[str, Any]]) -> None:
    chain = wrap(RunnableLambda(lambda m: output), output_messages_key=key)
    assert chain.invoke("q", S1) == output
    stored = chain.history.session("s1").messages  # type: ignore[union-attr]
    assert kinds(stored) == [("HumanMessage", "q"), *expected]


def test_the_wrapped_runnable_sees_the_session_in_its_config() -> None:
    seen: list[Any] = []

    def body(messages: Any, config: Any) -> str:
        seen.append(config["configurable"])
        return "ok"

    chain = wrap(RunnableLambda(body))
    chain.invoke("hi", S1)
    assert seen[0]["session_id"] == "s1"
    history = seen[0]["message_history"]
    assert [m.content for m in history.messages] == ["hi", "ok"]  # LangChain's key


def test_a_failing_runnable_appends_nothing() -> None:
    def boom(_: Any) -> Any:
        raise RuntimeError("model down")

    chain = wrap(RunnableLambda(boom))
    with pytest.raises(RuntimeError, match="model down"):
        chain.invoke("hi", S1)
    assert chain.history.session("s1").messages == []  # type: ignore[union-attr]


# -- every call form ---------------------------------------------------------------------
def test_ainvoke() -> None:
    chain = wrap(FakeChatModel(responses=["r1", "r2"]))

    async def main() -> list[Any]:
        return [await chain.ainvoke("a", S1), await chain.ainvoke("b", S1)]

    out = asyncio.run(main())
    assert [m.content for m in out] == ["r1", "r2"]
    assert kinds(chain.history.session("s1").messages) == [  # type: ignore[union-attr]
        ("HumanMessage", "a"),
        ("AIMessage", "r1"),
        ("HumanMessage", "b"),
        ("AIMessage", "r2"),
    ]


def test_stream_appends_the_sum_of_the_chunks_after_the_last_one() -> None:
    chain = wrap(FakeChatModel(responses=["one two three"]))
    stream = chain.stream("hi", S1)
    first = next(stream)
    assert isinstance(first, AIMessageChunk) and first.content == "one "
    assert chain.history.session("s1").messages == []  # type: ignore[union-attr]
    rest = list(stream)
    assert "".join(c.content for c in [first, *rest]) == "one two three"
    stored = chain.history.session("s1").messages  # type: ignore[union-attr]
    assert kinds(stored) == [("HumanMessage", "hi"), ("AIMessageChunk", "one two three")]


def test_a_stream_closed_early_appends_nothing() -> None:
    chain = wrap(FakeChatModel(responses=["one two three"]))
    stream = chain.stream("hi", S1)
    next(stream)
    stream.close()
    assert chain.history.session("s1").messages == []  # type: ignore[union-attr]


def test_astream() -> None:
    model = FakeChatModel(responses=["a b", "c d"])
    chain = wrap(RunnableLambda(lambda d: d["q"]) | model, input_messages_key="q")

    async def main() -> list[list[Any]]:
        first = [c async for c in chain.astream({"q": "x"}, S1)]
        second = [c async for c in chain.astream({"q": "y"}, S1)]
        return [first, second]

    first, second = asyncio.run(main())
    assert "".join(c.content for c in first) == "a b"
    assert "".join(c.content for c in second) == "c d"
    assert kinds(chain.history.session("s1").messages) == [  # type: ignore[union-attr]
        ("HumanMessage", "x"),
        ("AIMessageChunk", "a b"),
        ("HumanMessage", "y"),
        ("AIMessageChunk", "c d"),
    ]


def test_batch_and_abatch_keep_sessions_apart() -> None:
    chain = wrap(RunnableLambda(lambda m: f"n={len(m)}"))
    assert chain.batch(["a", "b"], [S1, S2]) == ["n=1", "n=1"]
    assert asyncio.run(chain.abatch(["c", "d"], [S1, S2])) == ["n=3", "n=3"]
    for sid, first, second in (("s1", "a", "c"), ("s2", "b", "d")):
        assert kinds(chain.history.session(sid).messages) == [  # type: ignore[union-attr]
            ("HumanMessage", first),
            ("AIMessage", "n=1"),
            ("HumanMessage", second),
            ("AIMessage", "n=3"),
        ]


def test_batch_with_a_chat_model_and_transform_forms() -> None:
    chain = wrap(FakeChatModel(responses=["x y", "z"]))
    assert [m.content for m in chain.batch(["a", "b"], [S1, S2])] == ["x y", "z"]
    streamed = list(chain.transform(iter(["c"]), S1))
    assert "".join(c.content for c in streamed) == "x y"

    async def main() -> list[Any]:
        async def one() -> Any:
            yield "d"

        return [c async for c in chain.atransform(one(), S2)]

    assert "".join(c.content for c in asyncio.run(main())) == "z"
    assert kinds(chain.history.session("s1").messages) == [  # type: ignore[union-attr]
        ("HumanMessage", "a"),
        ("AIMessage", "x y"),
        ("HumanMessage", "c"),
        ("AIMessageChunk", "x y"),
    ]
    assert len(chain.history.session("s2").messages) == 4  # type: ignore[union-attr]


def test_bound_config_and_composition() -> None:
    chain = wrap(FakeChatModel()) | RunnableLambda(lambda m: m.content.upper())
    assert chain.invoke("quiet", S1) == "QUIET"
    bound = wrap(FakeChatModel()).with_config(configurable={"session_id": "fixed"})
    bound.invoke("one")
    bound.invoke("two")
    store = bound.bound.history  # type: ignore[attr-defined]
    assert [m.content for m in store.session("fixed").messages] == ["one", "one", "two", "two"]


def test_concurrent_async_sessions_on_sqlite(tmp_path: Path) -> None:
    chain = RunnableWithMessageHistory(
        runnable=FakeChatModel(),
        history=SqliteChatHistoryStore(path=str(tmp_path / "h.db")),
    )

    async def talk(n: int) -> None:
        cfg = {"configurable": {"session_id": f"user{n}"}}
        for i in range(3):
            await chain.ainvoke(f"{n}:{i}", cfg)

    async def main() -> None:
        await asyncio.gather(*(talk(n) for n in range(6)))

    asyncio.run(main())
    for n in range(6):
        stored = chain.history.session(f"user{n}").messages  # type: ignore[union-attr]
        assert [m.content for m in stored] == [x for i in range(3) for x in [f"{n}:{i}"] * 2]


def test_events_show_the_wrapper_and_the_model() -> None:
    chain = wrap(FakeChatModel(responses=["hey there"]))

    async def main() -> list[dict[str, Any]]:
        return [e async for e in chain.astream_events("hi", S1, version="v2")]

    events = asyncio.run(main())
    names = [(e["event"], e["name"]) for e in events]
    assert names[0] == ("on_chain_start", "RunnableWithMessageHistory")
    assert names[-1] == ("on_chain_end", "RunnableWithMessageHistory")
    assert ("on_chat_model_end", "FakeChatModel") in names
    assert len(chain.history.session("s1").messages) == 2  # type: ignore[union-attr]


# -- sessions and config -----------------------------------------------------------------
TWO_KEYS = [
    ConfigurableFieldSpec("user_id", str, "User ID", "Unique identifier for the user.", "", True),
    ConfigurableFieldSpec("conversation_id", str, "Conversation ID", None, "", True),
]


def test_history_factory_config_with_two_keys() -> None:
    chain = wrap(RunnableLambda(lambda m: "ok"), history_factory_config=TWO_KEYS)
    chain.invoke("hi", {"configurable": {"user_id": "u1", "conversation_id": "c1"}})
    chain.invoke("yo", {"configurable": {"user_id": "u1", "conversation_id": "c2"}})
    store = chain.history
    assert store.session_ids() == ['["u1","c1"]', '["u1","c2"]']  # type: ignore[union-attr]
    with pytest.raises(ValueError, match=r"Missing keys \['conversation_id'\]"):
        chain.invoke("hi", {"configurable": {"user_id": "u1"}})
    specs = {s.id for s in chain.config_specs}
    assert specs == {"user_id", "conversation_id"}


def test_missing_session_id_is_langchains_error() -> None:
    chain = wrap(RunnableLambda(lambda m: "ok"))
    with pytest.raises(ValueError, match=r"Missing keys \['session_id'\] in config"):
        chain.invoke("hi")


def test_config_specs_merge_the_wrapped_runnables() -> None:
    model = FakeChatModel().configurable_fields(
        responses=runwire.runtime.ConfigurableField(id="responses")
    )
    chain = wrap(model)
    assert [s.id for s in chain.config_specs] == ["responses", "session_id"]
    chain.invoke("q", {"configurable": {"session_id": "s", "responses": ["set"]}})
    assert chain.history.session("s").messages[-1].content == "set"  # type: ignore[union-attr]


def test_config_schema_is_langchains() -> None:
    schema = wrap(RunnableLambda(lambda m: "ok")).get_config_jsonschema()
    assert schema["$defs"]["Configurable"] == {
        "properties": {
            "session_id": {
                "default": "",
                "description": "Unique identifier for a session.",
                "title": "Session ID",
                "type": "string",
            }
        },
        "title": "Configurable",
        "type": "object",
    }


def test_input_schemas_follow_the_keys() -> None:
    body = RunnableLambda(lambda m: "ok")
    root = wrap(body).get_input_jsonschema()
    assert root["title"] == "RunnableWithChatHistoryInput"
    assert root["type"] == "array"
    keyed = wrap(body, input_messages_key="q").get_input_jsonschema()
    assert keyed["required"] == ["q"]
    assert keyed["properties"]["q"]["type"] == "array"
    both = wrap(body, input_messages_key="q", history_messages_key="h").get_input_jsonschema()
    assert both["required"] == ["q"]
    options = both["properties"]["q"]["anyOf"]
    assert {"type": "string"} in options
    assert any(o.get("type") == "array" for o in options)
    out = wrap(FakeChatModel()).get_output_jsonschema()
    assert out["title"] == "RunnableWithChatHistoryOutput"


def test_a_python_session_factory_works_and_is_not_serializable() -> None:
    sessions: dict[str, Any] = {}
    store = InMemoryChatHistoryStore()

    def get_session_history(session_id: str) -> Any:
        return sessions.setdefault(session_id, store.session(session_id))

    chain = RunnableWithMessageHistory(
        runnable=RunnableLambda(lambda m: "ok"), get_session_history=get_session_history
    )
    chain.invoke("hi", S1)
    asyncio.run(chain.ainvoke("again", S1))
    assert len(store.get_messages("s1")) == 4
    assert runwire.dumpd(chain)["type"] == "not_implemented"

    def by_keys(*, user_id: str, conversation_id: str) -> Any:
        return store.session(f"{user_id}/{conversation_id}")

    two = RunnableWithMessageHistory(
        runnable=RunnableLambda(lambda m: "ok"),
        get_session_history=by_keys,
        history_factory_config=TWO_KEYS,
    )
    two.invoke("hi", {"configurable": {"user_id": "u", "conversation_id": "c"}})
    assert len(store.get_messages("u/c")) == 2


def test_python_factories_follow_langchains_parameter_rules() -> None:
    store = InMemoryChatHistoryStore()
    shared = store.session("only")
    no_params = RunnableWithMessageHistory(
        runnable=RunnableLambda(lambda m: "ok"), get_session_history=lambda: shared
    )
    no_params.invoke("hi")  # no parameters: no session key needed
    assert len(shared.messages) == 2

    def wrong(*, user_id: str, thread: str) -> Any:
        return shared

    mismatched = RunnableWithMessageHistory(
        runnable=RunnableLambda(lambda m: "ok"),
        get_session_history=wrong,
        history_factory_config=TWO_KEYS,
    )
    with pytest.raises(ValueError, match="do not match parameter names"):
        mismatched.invoke("hi", {"configurable": {"user_id": "u", "conversation_id": "c"}})


def test_langchains_positional_call_shape() -> None:
    store = InMemoryChatHistoryStore()
    body = RunnableLambda(lambda m: "ok")
    with_store = RunnableWithMessageHistory(body, store, input_messages_key="q")
    assert with_store.history is store and with_store.input_messages_key == "q"
    with_factory = RunnableWithMessageHistory(body, store.session)
    with_factory.invoke("hi", S1)
    assert len(store.get_messages("s1")) == 2
    with pytest.raises(TypeError, match="'runnable' twice"):
        RunnableWithMessageHistory(body, store, runnable=body)
    with pytest.raises(TypeError, match="at most 2 positional"):
        RunnableWithMessageHistory(body, store, "extra")


def test_exactly_one_history_source() -> None:
    with pytest.raises(ValueError, match="exactly one of history"):
        RunnableWithMessageHistory(runnable=RunnableLambda(lambda m: "ok"))
    with pytest.raises(ValueError, match="exactly one of history"):
        RunnableWithMessageHistory(
            runnable=RunnableLambda(lambda m: "ok"),
            history=InMemoryChatHistoryStore(),
            get_session_history=lambda s: None,
        )


# -- files -------------------------------------------------------------------------------
YAML = """\
_type: RunnableWithMessageHistory
runnable:
  _type: sequence
  steps:
    - _type: ChatPromptTemplate
      messages:
        - [system, "You are {role}."]
        - _type: MessagesPlaceholder
          variable_name: history
        - [human, "{question}"]
    - _type: FakeChatModel
      responses: [first answer, second answer]
history:
  _type: SqliteChatHistoryStore
  path: chats.db
input_messages_key: question
history_messages_key: history
history_factory_config:
  - {id: user_id, name: User ID}
"""


def test_a_yaml_manifest_runs_with_a_sqlite_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative store paths are taken from here
    (tmp_path / "runwire.yaml").write_text("")  # marks the project root
    path = tmp_path / "chat.yaml"
    path.write_text(YAML)
    chain = runwire.load_file(path)
    cfg = {"configurable": {"user_id": "ann"}}
    assert chain.invoke({"role": "kind", "question": "q1"}, cfg).content == "first answer"
    assert chain.invoke({"role": "kind", "question": "q2"}, cfg).content == "second answer"
    assert (tmp_path / "chats.db").exists()
    text = runwire.dumps(chain)
    again = runwire.loads(text)  # untrusted: the relative path stays in the project
    assert runwire.dumps(again) == text
    stored = again.history.session("ann").messages
    assert kinds(stored) == [
        ("HumanMessage", "q1"),
        ("AIMessage", "first answer"),
        ("HumanMessage", "q2"),
        ("AIMessage", "second answer"),
    ]
    assert [s.id for s in again.config_specs] == ["user_id"]


def test_wire_form_keys_and_order() -> None:
    node = runwire.dumpd(
        wrap(FakeChatModel(), input_messages_key="q", output_messages_key="o"),
        dialect="langchain",
    )
    assert node["name"] == "RunnableWithMessageHistory"
    assert list(node["kwargs"]) == [
        "runnable",
        "history",
        "input_messages_key",
        "output_messages_key",
        "history_factory_config",
    ]
    assert node["kwargs"]["history"]["id"] == ["runwire", "history", "InMemoryChatHistoryStore"]


def test_history_factory_config_in_langchains_list_form() -> None:
    node = runwire.dumpd(wrap(RunnableLambda(lambda m: "x")))  # lambda: not_implemented runnable
    spec = node["kwargs"]["history_factory_config"][0]
    assert spec == [
        "session_id",
        {"lc": 1, "type": "not_implemented", "id": ["builtins", "str"], "repr": "<class 'str'>"},
        "Session ID",
        "Unique identifier for a session.",
        "",
        True,
        None,
    ]


@pytest.mark.parametrize(
    ("config", "error"),
    [
        ([["k", {"lc": 1, "type": "not_implemented", "id": ["os", "system"]}]], "annotation"),
        ([{"id": "k", "bogus": 1}], "unknown history config key"),
        ([{"id": "k"}, {"id": "k"}], "names a key twice"),
        ([], "non-empty list"),
        ([{"name": "no id"}], "needs a string id"),
    ],
)
def test_bad_history_factory_config_is_refused(config: Any, error: str) -> None:
    node = runwire.dumpd(wrap(FakeChatModel()))
    node["kwargs"]["history_factory_config"] = config
    with pytest.raises(FieldValidationError, match=error):
        runwire.load(node, allowed_objects="all")


# -- LangChain ---------------------------------------------------------------------------
@pytest.fixture
def lc() -> Any:
    pytest.importorskip("langchain_core")
    import warnings

    from langchain_core.chat_history import InMemoryChatMessageHistory
    from langchain_core.language_models.fake_chat_models import FakeListChatModel
    from langchain_core.runnables.history import RunnableWithMessageHistory as LCHistory

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        store: dict[str, Any] = {}

        def make(**kwargs: Any) -> Any:
            def get(session_id: str) -> Any:
                return store.setdefault(session_id, InMemoryChatMessageHistory())

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return LCHistory(FakeListChatModel(responses=["r1", "r2 r3"]), get, **kwargs)

        yield make, store


def test_langchains_file_is_refused_with_the_reason(lc: Any) -> None:
    from langchain_core.load import dumps as lc_dumps

    make, _ = lc
    for kwargs in ({}, {"input_messages_key": "q", "history_messages_key": "h"}):
        text = lc_dumps(make(**kwargs))
        with pytest.raises(FieldValidationError, match="LangChain's form") as err:
            runwire.loads(text, allowed_objects="all")
        assert "history:" in err.value.hint


def test_same_conversation_as_langchain(lc: Any) -> None:
    make, store = lc
    theirs = make()
    from langchain_core.messages import HumanMessage as LCHuman

    ours = wrap(FakeChatModel(responses=["r1", "r2 r3"]))
    for chain, human in ((theirs, LCHuman), (ours, HumanMessage)):
        chain.invoke("hello", S1)
        list(chain.stream([human("more")], S1))
        chain.invoke({"input": "third", "x": 1}, S1)
    lc_kinds = [(type(m).__name__, m.content) for m in store["s1"].messages]
    assert kinds(ours.history.session("s1").messages) == lc_kinds  # type: ignore[union-attr]
    assert lc_kinds[3] == ("AIMessageChunk", "r2 r3")
    assert len(lc_kinds) == 6


def test_config_and_input_schemas_match_langchain(lc: Any) -> None:
    make, _ = lc
    for kwargs in (
        {},
        {"input_messages_key": "q"},
        {"input_messages_key": "q", "history_messages_key": "h"},
    ):
        theirs = make(**kwargs)
        ours = wrap(FakeChatModel(), **kwargs)
        assert ours.get_config_jsonschema()["$defs"] == theirs.get_config_jsonschema()["$defs"]
        a, b = ours.get_input_jsonschema(), theirs.get_input_jsonschema()
        assert (a["title"], a.get("type"), a.get("required")) == (
            b["title"],
            b.get("type"),
            b.get("required"),
        )


def test_the_langchain_dialect_writes_langchains_id() -> None:
    data = runwire.dumpd(wrap(FakeChatModel()), dialect="langchain")
    assert data["id"] == ["langchain", "schema", "runnable", "RunnableWithMessageHistory"]
    back = runwire.load(data, allowed_objects="all")
    assert back == wrap(FakeChatModel())


def test_the_runtime_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "runtime.md").read_text()
    section = text.split("## Chat history", 1)[1]
    yaml_text = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)[0]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runwire.yaml").write_text("")
    (tmp_path / "chat.yaml").write_text(yaml_text)
    chain = runwire.load_file(tmp_path / "chat.yaml")
    out = chain.invoke({"role": "terse", "question": "hi"}, {"configurable": {"user_id": "ann"}})
    assert out.content == "hi"
    assert kinds(chain.history.session("ann").messages) == [
        ("HumanMessage", "hi"),
        ("AIMessage", "hi"),
    ]
    assert (tmp_path / "chats.db").exists()
