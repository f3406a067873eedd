"""runwire.client.RemoteRunnable against real servers on 127.0.0.1 (uvicorn in a thread).

runwire's own server serves FakeChatModel pipelines (and ChatBedrockConverse on the
Bedrock emulator); the same client is then pointed at a LangServe server when
langserve's server side is installed (the bench extra), skipped otherwise.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from conftest import FAKE_SECRET
from runwire.client import RemoteError, RemoteProtocolError, RemoteRunnable
from runwire.deploy.server.app import create_app
from runwire.loader.files import load_file
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder
from runwire.runtime.tracing import AddableDict
from runwire.schema.documents import Document
from runwire.schema.messages import AIMessage, AIMessageChunk, HumanMessage
from runwire.testing.server import serving

CONFIGS = Path(__file__).parent.parent / "configs"
ANSWER = "Paris is the capital of France."
QUESTION = {"question": "Capital of France?"}
TIMEOUT = 30.0


def pipeline(runnable: Any, configurable: tuple[str, ...] = ()) -> SimpleNamespace:
    return SimpleNamespace(runnable=runnable, configurable=configurable)


def _usage_stream(chunks: Iterator[str]) -> Iterator[AIMessageChunk]:
    """Streams as Bedrock does: the text, then empty chunks carrying stop reason and usage."""
    yield AIMessageChunk(content="".join(chunks))
    yield AIMessageChunk(content="", response_metadata={"stopReason": "end_turn"})
    yield AIMessageChunk(
        content="", usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}
    )


async def _fails_midway(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    yield "first "
    raise RuntimeError("the pipeline broke")


def _pipelines() -> dict[str, Any]:
    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    chat = prompt | FakeChatModel(responses=[ANSWER])
    history = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    ) | FakeChatModel(responses=["It is Paris."])
    documents = RunnableLambda(
        lambda query: [Document(page_content=f"about {query}", metadata={"rank": 1})]
    ).with_types(input_type=str)
    return {
        "chat": pipeline(chat),
        "text": pipeline(chat | StrOutputParser()),
        "history": pipeline(history),
        "echo": pipeline(FakeChatModel()),
        "docs": pipeline(documents),
        "dicts": pipeline(RunnableLambda(lambda x: {"doubled": x * 2}).with_types(input_type=int)),
        "usage": pipeline(RunnableGenerator(_usage_stream).with_types(input_type=str)),
        "broken": pipeline(RunnableGenerator(_fails_midway).with_types(input_type=str)),
        "alt": pipeline(load_file(CONFIGS / "alternatives.yaml"), ("model",)),
    }


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving(create_app(_pipelines())) as url:
        yield url


@pytest.fixture
def chat(base_url: str) -> Iterator[RemoteRunnable]:
    with RemoteRunnable(f"{base_url}/chat", timeout=TIMEOUT) as remote:
        yield remote


def remote(base_url: str, pipeline_name: str, **options: Any) -> RemoteRunnable:
    return RemoteRunnable(f"{base_url}/{pipeline_name}", timeout=TIMEOUT, **options)


class Recorder:
    """httpx event hooks: every request's path and JSON body, as sent."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, Any]] = []

    def hooks(self) -> dict[str, Any]:
        """``client_kwargs`` for a client used only synchronously."""
        return {"event_hooks": {"request": [self.record]}}

    def async_hooks(self) -> dict[str, Any]:
        """``client_kwargs`` for a client used only asynchronously (httpx awaits hooks)."""
        return {"event_hooks": {"request": [self.arecord]}}

    def record(self, request: httpx.Request) -> None:
        body = json.loads(request.content) if request.content else None
        self.requests.append((request.url.path, body))

    async def arecord(self, request: httpx.Request) -> None:
        self.record(request)


def run_async(client: RemoteRunnable, coro: Any) -> Any:
    """Run ``coro`` in a fresh loop, closing the client's connections in that loop."""

    async def main() -> Any:
        async with client:
            return await coro

    return asyncio.run(main())


async def collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


# -- invoke -----------------------------------------------------------------------------
def test_invoke_returns_a_runwire_message(chat: RemoteRunnable) -> None:
    answer = chat.invoke(QUESTION)
    assert isinstance(answer, AIMessage)
    assert answer.content == ANSWER


def test_ainvoke(base_url: str) -> None:
    client = remote(base_url, "text")
    assert run_async(client, client.ainvoke(QUESTION)) == ANSWER


def test_messages_are_sent_as_the_server_reads_them(base_url: str) -> None:
    history = [HumanMessage(content="Hi"), AIMessage(content="Hello!")]
    with remote(base_url, "history") as client:
        answer = client.invoke({"history": history, "question": "Capital?"})
    assert isinstance(answer, AIMessage) and answer.content == "It is Paris."
    with remote(base_url, "echo") as client:
        reply = client.invoke([HumanMessage(content="say this back")])
    assert isinstance(reply, AIMessage) and reply.content == "say this back"


def test_documents_come_back_as_documents(base_url: str) -> None:
    with remote(base_url, "docs") as client:
        (document,) = client.invoke("rain")
    assert document == Document(page_content="about rain", metadata={"rank": 1})


# -- batch ------------------------------------------------------------------------------
def test_batch_is_one_request_to_the_batch_route(base_url: str) -> None:
    recorder = Recorder()
    with remote(base_url, "text", client_kwargs=recorder.hooks()) as client:
        assert client.batch([QUESTION, {"question": "again?"}]) == [ANSWER, ANSWER]
    assert [path for path, _ in recorder.requests] == ["/text/batch"]
    assert recorder.requests[0][1]["inputs"] == [QUESTION, {"question": "again?"}]


def test_batch_sends_one_config_per_input_when_they_differ(base_url: str) -> None:
    configs = [{"configurable": {"model": "formal"}}, {"configurable": {"model": "casual"}}]
    with remote(base_url, "alt") as client:
        answers = client.batch([QUESTION, QUESTION], configs)
    assert answers == ["The capital of France is Paris.", "Sure, it's Paris!"]


def test_batch_with_a_bad_input_raises_422(base_url: str) -> None:
    with remote(base_url, "text") as client, pytest.raises(RemoteError) as info:
        client.batch([QUESTION, {"wrong": "key"}])
    assert info.value.status == 422
    assert "inputs.1.question: Field required" in str(info.value)


def test_batch_return_exceptions_gives_each_input_its_result(base_url: str) -> None:
    with remote(base_url, "text") as client:
        results = client.batch([QUESTION, {"wrong": "key"}, QUESTION], return_exceptions=True)
    assert results[0] == results[2] == ANSWER
    assert isinstance(results[1], RemoteError) and results[1].status == 422
    assert "question: Field required" in str(results[1])


def test_abatch_and_abatch_return_exceptions(base_url: str) -> None:
    client = remote(base_url, "text")

    async def both() -> tuple[list[Any], list[Any]]:
        plain = await client.abatch([QUESTION, QUESTION])
        mixed = await client.abatch([{"wrong": 1}, QUESTION], return_exceptions=True)
        return plain, mixed

    plain, mixed = run_async(client, both())
    assert plain == [ANSWER, ANSWER]
    assert isinstance(mixed[0], RemoteError) and mixed[0].status == 422
    assert mixed[1] == ANSWER


# -- streams ----------------------------------------------------------------------------
def test_stream_chunks_are_message_chunks_adding_up_to_invoke(chat: RemoteRunnable) -> None:
    chunks = list(chat.stream(QUESTION))
    assert len(chunks) > 2
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.content == chat.invoke(QUESTION).content == ANSWER


def test_astream(base_url: str) -> None:
    client = remote(base_url, "text")
    chunks = run_async(client, collect(client.astream(QUESTION)))
    assert len(chunks) > 2 and "".join(chunks) == ANSWER


def test_empty_closing_chunks_with_usage_are_kept(base_url: str) -> None:
    with remote(base_url, "usage") as client:
        chunks = list(client.stream("hello"))
    assert [chunk.content for chunk in chunks] == ["hello", "", ""]
    assert chunks[1].response_metadata == {"stopReason": "end_turn"}
    assert chunks[2].usage_metadata == {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}


def test_streamed_dicts_are_addable(base_url: str) -> None:
    with remote(base_url, "dicts") as client:
        (chunk,) = list(client.stream(21))
        assert client.invoke(21) == {"doubled": 42}
    assert isinstance(chunk, AddableDict) and chunk == {"doubled": 42}


def test_an_error_event_mid_stream_raises_after_the_chunks_before_it(base_url: str) -> None:
    received: list[Any] = []
    with remote(base_url, "broken") as client, pytest.raises(RemoteError) as info:
        for chunk in client.stream("x"):
            received.append(chunk)
    assert received == ["first "]
    assert info.value.status == 500
    assert "failed mid-stream with HTTP 500: Internal Server Error" in str(info.value)


def test_an_error_event_mid_astream_raises(base_url: str) -> None:
    client = remote(base_url, "broken")
    with pytest.raises(RemoteError) as info:
        run_async(client, collect(client.astream("x")))
    assert info.value.status == 500


def test_a_refused_stream_raises_before_any_chunk(base_url: str) -> None:
    with remote(base_url, "text") as client, pytest.raises(RemoteError) as info:
        list(client.stream({"wrong": "key"}))
    assert info.value.status == 422
    assert info.value.detail[0]["loc"] == ["body", "input", "question"]


def test_astream_events(base_url: str) -> None:
    client = remote(base_url, "text")
    events = run_async(client, collect(client.astream_events(QUESTION)))
    kinds = [event["event"] for event in events]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"
    streamed = [event for event in events if event["event"] == "on_chat_model_stream"]
    assert streamed and all(isinstance(e["data"]["chunk"], AIMessageChunk) for e in streamed)
    assert events[-1]["data"]["output"] == ANSWER


def test_astream_events_filters_are_applied_by_the_server(base_url: str) -> None:
    recorder = Recorder()
    client = remote(base_url, "text", client_kwargs=recorder.async_hooks())
    events = run_async(client, collect(client.astream_events(QUESTION, include_types=["parser"])))
    assert events and {event["name"] for event in events} == {"StrOutputParser"}
    assert recorder.requests[0][1]["include_types"] == ["parser"]


# -- composition and schemas ------------------------------------------------------------
def test_composes_with_local_runnables(chat: RemoteRunnable) -> None:
    chain = chat | StrOutputParser()
    assert chain.invoke(QUESTION) == ANSWER
    assert "".join(chain.stream(QUESTION)) == ANSWER
    front = RunnableLambda(lambda text: {"question": text}) | chat | StrOutputParser()
    assert front.batch(["a", "b"]) == [ANSWER, ANSWER]


def test_local_events_include_the_remote_run(chat: RemoteRunnable) -> None:
    chain = chat | StrOutputParser()

    async def events() -> list[dict[str, Any]]:
        try:
            return await collect(chain.astream_events(QUESTION))
        finally:
            await chat.aclose()

    seen = asyncio.run(events())
    names = {(event["event"], event["name"]) for event in seen}
    assert ("on_chain_start", "RemoteRunnable") in names
    assert ("on_chain_end", "RemoteRunnable") in names
    assert seen[-1]["data"]["output"] == ANSWER


def test_schemas_are_the_servers(base_url: str) -> None:
    served = _pipelines()["alt"].runnable
    with remote(base_url, "alt") as client, httpx.Client(base_url=base_url) as http:
        assert client.get_input_jsonschema() == served.get_input_jsonschema()
        assert client.get_output_jsonschema() == http.get("/alt/output_schema").json()
        config = client.get_config_jsonschema()
        assert config == http.get("/alt/config_schema").json()
        assert "model" in json.dumps(config)
        assert client.get_input_schema().model_json_schema() == served.get_input_jsonschema()
        composed = client | StrOutputParser()
        assert composed.get_input_jsonschema() == served.get_input_jsonschema()


# -- config -----------------------------------------------------------------------------
def test_only_configurable_tags_metadata_and_run_name_are_sent(base_url: str) -> None:
    recorder = Recorder()
    config = {
        "configurable": {"model": "formal", "__internal": 1, "local": object()},
        "tags": ["t"],
        "metadata": {"who": "me", "handle": object()},
        "run_name": "remote-call",
        "max_concurrency": 3,
        "recursion_limit": 7,
    }
    with remote(base_url, "alt", client_kwargs=recorder.hooks()) as client:
        assert client.invoke(QUESTION, config) == "The capital of France is Paris."
    sent = recorder.requests[0][1]["config"]
    assert sent == {
        "configurable": {"model": "formal"},
        "tags": ["t"],
        "metadata": {"who": "me"},
        "run_name": "remote-call",
    }


def test_a_configurable_the_server_refuses_is_a_422(base_url: str) -> None:
    client = remote(base_url, "alt").with_config(configurable={"replies": ["hacked"]})
    with pytest.raises(RemoteError) as info:
        client.invoke(QUESTION)
    assert info.value.status == 422
    assert "clients may not set 'replies'" in str(info.value)


# -- errors and limits -------------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded_url() -> Iterator[str]:
    app = create_app(_pipelines(), api_keys=[FAKE_SECRET], max_body_bytes=2_000)
    with serving(app) as url:
        yield url


def test_api_key_as_option_or_header(guarded_url: str) -> None:
    with remote(guarded_url, "text", api_key=FAKE_SECRET) as client:
        assert client.invoke(QUESTION) == ANSWER
        assert "".join(client.stream(QUESTION)) == ANSWER
    with remote(guarded_url, "text", headers={"X-API-Key": FAKE_SECRET}) as client:
        assert client.invoke(QUESTION) == ANSWER


def test_a_missing_or_wrong_key_is_a_401(guarded_url: str) -> None:
    with remote(guarded_url, "text") as client, pytest.raises(RemoteError) as info:
        client.invoke(QUESTION)
    assert info.value.status == 401
    assert "missing or invalid API key" in str(info.value)


def test_keys_never_reach_errors_or_reprs(guarded_url: str) -> None:
    sent_as = (
        ("authorization", {"api_key": FAKE_SECRET}),
        ("x-api-key", {"headers": {"X-API-Key": FAKE_SECRET}}),
    )
    for header, options in sent_as:
        with remote(guarded_url, "text", **options) as client:
            with pytest.raises(RemoteError) as info:
                client.invoke({"question": "x" * 5_000})  # 413: an error with the key sent
            error = info.value
            shown = [str(error), repr(error), repr(client), str(error.request.headers)]
            shown += [str(error.response.request.headers), repr(error.args)]
            assert not any(FAKE_SECRET in text for text in shown)
            assert error.request.headers[header] == "<redacted>"
            assert error.response.request.headers[header] == "<redacted>"


def test_a_url_with_credentials_is_not_shown(guarded_url: str) -> None:
    url = guarded_url.replace("http://", f"http://user:{FAKE_SECRET}@") + "/text?key=" + "k"
    client = RemoteRunnable(url, timeout=TIMEOUT)
    assert FAKE_SECRET not in repr(client)
    with client, pytest.raises(RemoteError) as info:
        client.invoke(QUESTION)
    assert FAKE_SECRET not in str(info.value) and "key=" not in str(info.value)


def test_an_oversize_body_is_a_413_with_the_servers_reason(guarded_url: str) -> None:
    client = remote(guarded_url, "text", api_key=FAKE_SECRET)
    with client, pytest.raises(RemoteError) as info:
        client.invoke({"question": "x" * 5_000})
    assert info.value.status == 413
    assert info.value.detail == "request body larger than 2000 bytes"
    assert "HTTP 413 Request Entity Too Large: request body larger than 2000 bytes" in str(
        info.value
    )
    assert isinstance(info.value, httpx.HTTPStatusError)  # LangServe-style handlers work
    assert info.value.response.status_code == 413


def test_a_busy_server_is_a_503(base_url: str) -> None:
    with serving(create_app(_pipelines(), max_concurrency=0)) as url:
        with remote(url, "text") as client, pytest.raises(RemoteError) as info:
            client.invoke(QUESTION)
        assert info.value.status == 503
        assert "server busy" in str(info.value)
        stream_client = remote(url, "text")
        with pytest.raises(RemoteError) as info:
            run_async(stream_client, collect(stream_client.astream(QUESTION)))
        assert info.value.status == 503


def test_provider_errors_carry_the_providers_code(aws_env: Any) -> None:
    from runwire.providers.aws import ChatBedrockConverse

    chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | ChatBedrockConverse(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        endpoint_url=aws_env.endpoint_url,
        config={"retries": {"total_max_attempts": 1}},
    )
    with serving(create_app({"bedrock": pipeline(chain)})) as url, remote(url, "bedrock") as client:
        aws_env.script("one two three")
        chunks = list(client.stream({"question": "hi"}))
        assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
        aws_env.script("one two three")
        local = list(chain.stream({"question": "hi"}))
        # every chunk as the pipeline streams it, the empty closing ones included
        assert [(c.content, c.usage_metadata) for c in chunks] == [
            (c.content, c.usage_metadata) for c in local
        ]
        closing = [c for c in chunks if c.content == ""]
        assert any(c.response_metadata.get("stopReason") == "end_turn" for c in closing)
        assert any(c.usage_metadata for c in closing)
        total = chunks[0]
        for chunk in chunks[1:]:
            total += chunk
        assert total.text == "one two three"
        aws_env.fail(429, "ThrottlingException", "Rate exceeded")
        with pytest.raises(RemoteError) as info:
            client.invoke({"question": "hi"})
        assert info.value.status == 502
        assert info.value.detail["code"] == "ThrottlingException"
        assert "ThrottlingException: Rate exceeded" in str(info.value)


def _truncating_app() -> Any:
    from starlette.applications import Starlette
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def cut(request: Any) -> StreamingResponse:
        async def frames() -> AsyncIterator[bytes]:
            yield b'event: data\r\ndata: "half"\r\n\r\n'

        return StreamingResponse(frames(), media_type="text/event-stream")

    async def not_json(request: Any) -> Response:
        return Response(b"<html>proxy page</html>", media_type="text/html")

    return Starlette(
        routes=[
            Route("/x/stream", cut, methods=["POST"]),
            Route("/x/invoke", not_json, methods=["POST"]),
        ]
    )


def test_answers_outside_the_protocol_raise_remote_protocol_error() -> None:
    with serving(_truncating_app()) as url, remote(url, "x") as client:
        with pytest.raises(RemoteProtocolError, match="stopped before its end event"):
            list(client.stream("q"))
        with pytest.raises(RemoteProtocolError, match="not JSON"):
            client.invoke("q")


# -- what is not supported --------------------------------------------------------------
def test_unsupported_options_raise_not_implemented(chat: RemoteRunnable) -> None:
    with pytest.raises(NotImplementedError, match="use_server_callback_events"):
        RemoteRunnable("http://127.0.0.1:1/x", use_server_callback_events=True)
    with pytest.raises(NotImplementedError, match="serializer"):
        RemoteRunnable("http://127.0.0.1:1/x", serializer=object())
    with pytest.raises(NotImplementedError, match="keyword arguments"):
        chat.invoke(QUESTION, stop=["x"])
    with pytest.raises(NotImplementedError, match="astream_log"):
        chat.astream_log(QUESTION)
    with pytest.raises(NotImplementedError, match="include"):
        chat.get_config_jsonschema(include=["tags"])
    with pytest.raises(NotImplementedError, match="v1"):
        asyncio.run(collect(chat.astream_events(QUESTION, version="v1")))


# -- connections ------------------------------------------------------------------------
def test_connections_are_reused_and_closed(base_url: str) -> None:
    client = remote(base_url, "text")
    with client:
        first = client.sync_client
        client.invoke(QUESTION)
        list(client.stream(QUESTION))
        assert client.sync_client is first
    assert first.is_closed


def test_each_event_loop_gets_its_async_client(base_url: str) -> None:
    client = remote(base_url, "text")

    async def call() -> tuple[str, httpx.AsyncClient]:
        return await client.ainvoke(QUESTION), client.async_client

    first_answer, first = asyncio.run(call())  # the loop closes; its connections die
    second_answer, second = run_async(client, call())
    assert first_answer == second_answer == ANSWER
    assert first is not second and second.is_closed


def test_importing_the_client_needs_no_langserve_or_server(tmp_path: Path) -> None:
    script = (
        "import json, sys\nimport runwire\n"
        "before = 'httpx' in sys.modules\n"
        "from runwire.client import RemoteRunnable\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'langserve', 'langchain_core', 'fastapi', 'starlette', 'uvicorn', 'boto3'})\n"
        "print(json.dumps({'httpx_before': before, 'heavy': heavy}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"httpx_before": False, "heavy": []}


# -- against a LangServe server ----------------------------------------------------------
@pytest.fixture(scope="module")
def langserve_url() -> Iterator[str]:
    pytest.importorskip("sse_starlette")
    langserve_server = pytest.importorskip("langserve.server")
    fastapi = pytest.importorskip("fastapi")
    lc_models = pytest.importorskip("langchain_core.language_models")
    lc_prompts = pytest.importorskip("langchain_core.prompts")
    lc_parsers = pytest.importorskip("langchain_core.output_parsers")

    app = fastapi.FastAPI()
    prompt = lc_prompts.ChatPromptTemplate.from_messages([("human", "{question}")])
    history = lc_prompts.ChatPromptTemplate.from_messages(
        [lc_prompts.MessagesPlaceholder("history"), ("human", "{question}")]
    )
    model = lc_models.FakeListChatModel(responses=[ANSWER])
    langserve_server.add_routes(app, prompt | model, path="/chat")
    langserve_server.add_routes(app, history | model, path="/history")
    langserve_server.add_routes(app, prompt | model | lc_parsers.StrOutputParser(), path="/text")
    with serving(app) as url:
        yield url


def test_langserve_invoke_and_batch(langserve_url: str) -> None:
    with remote(langserve_url, "chat") as client:
        answer = client.invoke(QUESTION)
        assert isinstance(answer, AIMessage) and answer.content == ANSWER
    history = [HumanMessage(content="Hi"), AIMessage(content="Hello!")]
    with remote(langserve_url, "history") as client:
        assert client.invoke({"history": history, "question": "q"}).content == ANSWER
    with remote(langserve_url, "text") as client:
        assert client.batch([QUESTION, QUESTION]) == [ANSWER, ANSWER]
        with pytest.raises(RemoteError) as info:
            client.invoke({"wrong": "key"})
        assert info.value.status == 422


def test_langserve_stream_and_events(langserve_url: str) -> None:
    with remote(langserve_url, "chat") as client:
        chunks = list(client.stream(QUESTION))
    assert all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    assert "".join(chunk.content for chunk in chunks) == ANSWER
    client = remote(langserve_url, "text")
    events = run_async(client, collect(client.astream_events(QUESTION)))
    streamed = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert streamed and isinstance(streamed[0]["data"]["chunk"], AIMessageChunk)
    assert events[-1]["event"] == "on_chain_end" and events[-1]["data"]["output"] == ANSWER
    with remote(langserve_url, "text") as client:
        schema = client.get_input_jsonschema()
    assert "question" in schema["properties"]


# -- docs -------------------------------------------------------------------------------
def test_the_docs_example_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    text = (Path(__file__).parent.parent / "docs" / "client.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    program = max(blocks, key=len)  # the whole example (the others are one-line imports)
    exec(compile(program, "docs/client.md", "exec"), {"__name__": "docs_example"})
    assert "/chat/invoke answered HTTP 422" in capsys.readouterr().out


def test_a_trailing_slash_in_the_url_is_the_same_pipeline(base_url: str) -> None:
    recorder = Recorder()
    client = RemoteRunnable(f"{base_url}/text/", timeout=TIMEOUT, client_kwargs=recorder.hooks())
    with client:
        assert client.invoke(QUESTION) == ANSWER
    assert [path for path, _ in recorder.requests] == ["/text/invoke"]


def test_inside_a_graph_the_threads_configurable_is_sent_unless_replaced(base_url: str) -> None:
    from typing import TypedDict

    from runwire.graph import END, START, StateGraph
    from runwire.graph.checkpoint import InMemorySaver

    class State(TypedDict):
        question: str
        answer: str

    client = remote(base_url, "text")

    def as_is(state: State) -> dict[str, str]:
        return {"answer": client.invoke({"question": state["question"]})}

    def replaced(state: State) -> dict[str, str]:
        answer = client.invoke({"question": state["question"]}, {"configurable": {}})
        return {"answer": answer}

    thread = {"configurable": {"thread_id": "t1"}}
    for node, expected in ((as_is, None), (replaced, ANSWER)):
        builder = StateGraph(State)
        builder.add_node("ask", node)
        builder.add_edge(START, "ask")
        builder.add_edge("ask", END)
        graph = builder.compile(checkpointer=InMemorySaver())
        if expected is None:
            with pytest.raises(RemoteError, match="clients may not set 'thread_id'"):
                graph.invoke({"question": "q"}, thread)
        else:
            assert graph.invoke({"question": "q"}, thread)["answer"] == expected
    client.close()


def test_an_instance_nobody_closed_closes_its_connections_when_collected(base_url: str) -> None:
    import gc

    client = remote(base_url, "text")
    client.invoke(QUESTION)
    sync_client = client.sync_client
    del client
    gc.collect()
    assert sync_client.is_closed


class RunLog:
    """A callback handler keeping each finished run's name, inputs, outputs and error."""

    def __init__(self) -> None:
        self.ended: list[tuple[str, Any, Any, str | None]] = []

    def on_end(self, run: Any) -> None:
        self.ended.append((run.name, run.inputs, run.outputs, None))

    def on_error(self, run: Any) -> None:
        self.ended.append((run.name, run.inputs, None, type(run.error).__name__))


def test_callbacks_see_one_run_per_batched_input(base_url: str) -> None:
    log = RunLog()
    inputs = [QUESTION, {"question": "again?"}]
    with remote(base_url, "text", name="capitals") as client:
        assert client.batch(inputs, {"callbacks": [log]}) == [ANSWER, ANSWER]
        with pytest.raises(RemoteError):
            client.batch([QUESTION, {"wrong": 1}], {"callbacks": [log]})
    assert log.ended[:2] == [
        ("capitals", QUESTION, ANSWER, None),
        ("capitals", {"question": "again?"}, ANSWER, None),
    ]
    assert [(name, error) for name, _, _, error in log.ended[2:]] == [
        ("capitals", "RemoteError"),
        ("capitals", "RemoteError"),
    ]
    client = remote(base_url, "text")
    alog = RunLog()
    assert run_async(client, client.abatch(inputs, {"callbacks": [alog]})) == [ANSWER, ANSWER]
    assert [(name, outputs) for name, _, outputs, _ in alog.ended] == [
        ("RemoteRunnable", ANSWER),
        ("RemoteRunnable", ANSWER),
    ]


def test_threads_with_their_own_loops_share_an_instance(base_url: str) -> None:
    import threading

    client = remote(base_url, "text")
    results: list[Any] = []

    def work() -> None:
        async def calls() -> list[Any]:
            async with asyncio.timeout(TIMEOUT):
                answers = [await client.ainvoke(QUESTION) for _ in range(3)]
                await client.aclose()
                return answers

        results.append(asyncio.run(calls()))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert results == [[ANSWER] * 3] * 3
