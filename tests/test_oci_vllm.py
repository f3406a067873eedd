"""ChatOCIModelDeploymentVLLM against runwire's OCI vLLM emulator, through real httpx clients."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

import runwire
from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.oci import ChatOCIModelDeploymentVLLM
from runwire.schema.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from runwire.testing.oci_vllm import OCIVllmEmulator

TOKEN = "oci-test-bearer-token-5f2c"
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[OCIVllmEmulator]:
    with OCIVllmEmulator(tokens=[TOKEN]) as emulator:
        yield emulator


@pytest.fixture
def emu(module_emulator: OCIVllmEmulator) -> OCIVllmEmulator:
    module_emulator.reset()
    return module_emulator


def chat(emu: OCIVllmEmulator, **fields: Any) -> ChatOCIModelDeploymentVLLM:
    return ChatOCIModelDeploymentVLLM(endpoint=emu.predict_url, bearer_token=TOKEN, **fields)


def without_id(message: Any) -> dict[str, Any]:
    return {k: v for k, v in message.model_dump().items() if k not in ("id", "type")}


def total(chunks: list[Any]) -> Any:
    out = chunks[0]
    for chunk in chunks[1:]:
        out = out + chunk
    return out


# -- the request body ----------------------------------------------------------------------
def test_body_sends_the_set_fields_and_leaves_out_none() -> None:
    model = ChatOCIModelDeploymentVLLM(endpoint="http://127.0.0.1:1/predict")
    body = model.build_body([HumanMessage("hi")])
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["model"] == "odsc-llm"
    assert body["stream"] is False
    assert (body["max_tokens"], body["temperature"], body["top_k"]) == (256, 0.2, -1)
    for absent in ("best_of", "logit_bias", "stop", "stop_token_ids", "tool_choice", "tools"):
        assert absent not in body
    assert "chat_template" not in body and "stream_options" not in body


def test_body_merge_order_fields_then_model_kwargs_then_call() -> None:
    model = ChatOCIModelDeploymentVLLM(
        endpoint="http://127.0.0.1:1/predict",
        temperature=0.1,
        top_p=0.5,
        stop=["END"],
        model_kwargs={"temperature": 0.7, "seed": 3},
    )
    body = model.build_body([HumanMessage("hi")], temperature=0.9)
    assert (body["temperature"], body["top_p"], body["seed"]) == (0.9, 0.5, 3)
    assert body["stop"] == ["END"]
    assert model.build_body([HumanMessage("hi")], ["STOP"])["stop"] == ["STOP"]
    assert model.build_body([HumanMessage("hi")])["temperature"] == 0.7
    stream = model.build_body([HumanMessage("hi")], stream=True)
    assert stream["stream"] is True and stream["stream_options"] == {"include_usage": True}


def test_messages_in_openai_shape() -> None:
    model = ChatOCIModelDeploymentVLLM(endpoint="http://127.0.0.1:1/predict")
    call = {"name": "lookup_order", "args": {"order_id": "A1"}, "id": "c1"}
    body = model.build_body(
        [
            SystemMessage("be brief"),
            HumanMessage("where is A1?"),
            AIMessage(content="", tool_calls=[call]),
            ToolMessage(content="shipped", tool_call_id="c1"),
        ]
    )
    system, user, assistant, tool = body["messages"]
    assert system == {"role": "system", "content": "be brief"}
    assert user["role"] == "user"
    assert assistant["content"] is None
    assert assistant["tool_calls"][0]["function"] == {
        "name": "lookup_order",
        "arguments": '{"order_id": "A1"}',
    }
    assert tool == {"role": "tool", "content": "shipped", "tool_call_id": "c1"}


def test_headers_route_and_streaming() -> None:
    model = ChatOCIModelDeploymentVLLM(default_headers={"x-team": "a"})
    assert model.headers(stream=False) == {
        "route": "/v1/chat/completions",
        "x-team": "a",
        "Content-Type": "application/json",
    }
    streaming = model.headers(stream=True)
    assert streaming["enable-streaming"] == "true"
    assert streaming["Accept"] == "text/event-stream"
    routed = ChatOCIModelDeploymentVLLM(default_headers={"route": "/v1/other"})
    assert routed.headers(stream=False)["route"] == "/v1/other"


# -- calls against the emulator --------------------------------------------------------------
def test_invoke_reads_content_usage_and_finish_reason(emu: OCIVllmEmulator) -> None:
    reply = chat(emu).invoke("Capital of France?")
    assert reply.content == "Capital of France?"  # the emulator echoes
    assert reply.usage_metadata == {"input_tokens": 3, "output_tokens": 3, "total_tokens": 6}
    assert reply.response_metadata["finish_reason"] == "stop"
    assert reply.response_metadata["model_name"] == "odsc-llm"
    assert reply.response_metadata["token_usage"]["total_tokens"] == 6
    (sent,) = emu.requests
    assert sent.headers["route"] == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {TOKEN}"
    assert "enable-streaming" not in sent.headers
    assert sent.caller == "bearer"


def test_max_tokens_cut_reports_length(emu: OCIVllmEmulator) -> None:
    reply = chat(emu, max_tokens=2).invoke("one two three four")
    assert reply.content == "one two "
    assert reply.response_metadata["finish_reason"] == "length"


def test_stream_chunks_add_up_to_invoke(emu: OCIVllmEmulator) -> None:
    model = chat(emu)
    chunks = list(model.stream("stream these five words please"))
    assert len(chunks) > 3
    assert [c.content for c in chunks[:2]] == ["stream ", "these "]
    sent = emu.requests[-1]
    assert sent.headers["enable-streaming"] == "true" and sent.body["stream"] is True
    assert without_id(total(chunks)) | {"chunk_position": None, "tool_call_chunks": []} == (
        without_id(model.invoke("stream these five words please"))
        | {"chunk_position": None, "tool_call_chunks": []}
    )


def test_async_invoke_and_stream(emu: OCIVllmEmulator) -> None:
    model = chat(emu)

    async def run() -> tuple[Any, list[Any]]:
        reply = await model.ainvoke("async words here")
        chunks = [c async for c in model.astream("async words here")]
        return reply, chunks

    reply, chunks = asyncio.run(run())
    assert reply.content == total(chunks).content == "async words here"
    assert total(chunks).usage_metadata == reply.usage_metadata


def test_streaming_field_streams_on_invoke(emu: OCIVllmEmulator) -> None:
    reply = chat(emu, streaming=True).invoke("summed stream")
    assert reply.content == "summed stream"
    assert emu.requests[-1].headers["enable-streaming"] == "true"


def test_bind_tools_calls_a_named_tool(emu: OCIVllmEmulator) -> None:
    model = chat(emu).bind_tools([LOOKUP])
    reply = model.invoke('Please lookup_order {"order_id": "A17"}')
    assert [(c["name"], c["args"]) for c in reply.tool_calls] == [
        ("lookup_order", {"order_id": "A17"})
    ]
    assert reply.response_metadata["finish_reason"] == "tool_calls"
    assert emu.requests[-1].body["tools"] == [LOOKUP]
    streamed = total(list(model.stream('Please lookup_order {"order_id": "A17"}')))
    assert [(c["name"], c["args"], c["id"]) for c in streamed.tool_calls] == [
        (c["name"], c["args"], c["id"]) for c in reply.tool_calls
    ]


def test_tool_choice_forms(emu: OCIVllmEmulator) -> None:
    chat(emu).bind_tools([LOOKUP], tool_choice="lookup_order").invoke("no tool named here")
    assert emu.requests[-1].body["tool_choice"] == {
        "type": "function",
        "function": {"name": "lookup_order"},
    }
    chat(emu).bind_tools([LOOKUP], tool_choice="any").invoke("x")
    assert emu.requests[-1].body["tool_choice"] == "required"


class Capital(BaseModel):
    city: str


def test_structured_output_json_mode(emu: OCIVllmEmulator) -> None:
    structured = chat(emu).with_structured_output(Capital)
    assert structured.invoke('Answer {"city": "Paris"}') == Capital(city="Paris")
    assert emu.requests[-1].body["response_format"] == {"type": "json_object"}
    raw = chat(emu).with_structured_output(include_raw=True).invoke('{"a": 1}')
    assert raw["parsed"] == {"a": 1} and raw["parsing_error"] is None


# -- retries and failures ----------------------------------------------------------------------
def test_429_and_5xx_are_retried(emu: OCIVllmEmulator) -> None:
    emu.fail(429, times=2)
    assert chat(emu).invoke("after throttling").content == "after throttling"
    emu.fail(503, times=1)
    assert chat(emu).invoke("after 503").content == "after 503"
    assert len(emu.requests) == 5


def test_retries_stop_after_max_retries(emu: OCIVllmEmulator) -> None:
    emu.fail(500, times=5)
    with pytest.raises(ProviderError) as caught:
        chat(emu, max_retries=2).invoke("x")
    assert (caught.value.status, caught.value.code) == (500, "InternalServerError")
    assert "The model server failed" in str(caught.value)
    assert len(emu.requests) == 3


def test_async_retries_then_succeeds(emu: OCIVllmEmulator) -> None:
    emu.fail(429, times=1)
    reply = asyncio.run(chat(emu).ainvoke("async retry"))
    assert reply.content == "async retry" and len(emu.requests) == 2


def test_stream_is_retried_before_its_first_byte(emu: OCIVllmEmulator) -> None:
    emu.fail(429, times=1)
    assert total(list(chat(emu).stream("retry stream"))).content == "retry stream"
    assert len(emu.requests) == 2


def test_other_4xx_fail_at_once_with_the_server_message(emu: OCIVllmEmulator) -> None:
    model = chat(emu, default_headers={"route": "/v1/completions"})
    with pytest.raises(ProviderError) as caught:
        model.invoke("x")
    assert caught.value.status == 404 and "is not served" in caught.value.message
    assert len(emu.requests) == 1


def test_a_wrong_token_is_401_at_once(emu: OCIVllmEmulator) -> None:
    model = ChatOCIModelDeploymentVLLM(endpoint=emu.predict_url, bearer_token="wrong-token-123")
    with pytest.raises(ProviderError) as caught:
        model.invoke("x")
    assert caught.value.status == 401 and caught.value.code == "NotAuthenticated"
    assert "wrong-token-123" not in str(caught.value)


def unserved_endpoint() -> str:
    """A predict URL on a port nobody listens on."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/x/predict"


def test_connection_failures_are_retried_then_reported() -> None:
    model = ChatOCIModelDeploymentVLLM(endpoint=unserved_endpoint(), max_retries=1)
    with pytest.raises(ProviderError) as caught:
        model.invoke("x")
    assert caught.value.code == "ConnectError"


def test_async_connection_failures_are_retried_then_reported() -> None:
    model = ChatOCIModelDeploymentVLLM(endpoint=unserved_endpoint(), max_retries=1)
    with pytest.raises(ProviderError) as caught:
        asyncio.run(model.ainvoke("x"))
    assert caught.value.code == "ConnectError"  # the sync path's name, not ConnectTimeout


def test_async_4xx_and_401_fail_at_once(emu: OCIVllmEmulator) -> None:
    async def run(model: ChatOCIModelDeploymentVLLM) -> ProviderError:
        with pytest.raises(ProviderError) as caught:
            await model.ainvoke("x")
        with pytest.raises(ProviderError) as streamed:
            [c async for c in model.astream("x")]
        assert streamed.value.status == caught.value.status
        return caught.value

    missing = asyncio.run(run(chat(emu, default_headers={"route": "/v1/completions"})))
    assert missing.status == 404 and "is not served" in missing.message
    assert len(emu.requests) == 2  # once each: a 404 is not tried again
    bad = ChatOCIModelDeploymentVLLM(endpoint=emu.predict_url, bearer_token="wrong-token-123")
    refused = asyncio.run(run(bad))
    assert refused.status == 401 and "wrong-token-123" not in str(refused)


def test_async_stream_is_retried_before_its_first_byte(emu: OCIVllmEmulator) -> None:
    emu.fail(503, times=1)

    async def run() -> list[Any]:
        return [c async for c in chat(emu).astream("retry async stream")]

    assert total(asyncio.run(run())).content == "retry async stream"
    assert len(emu.requests) == 2


def test_abatch_at_concurrency_64_keeps_order(emu: OCIVllmEmulator) -> None:
    texts = [f"question {i}" for i in range(300)]
    replies = asyncio.run(chat(emu).abatch(texts, {"max_concurrency": 64}))
    assert [r.content for r in replies] == texts


def test_asyncio_run_closes_the_loops_client(emu: OCIVllmEmulator) -> None:
    model = chat(emu)

    async def used_client() -> Any:
        await model.ainvoke("x")
        return model._http.for_loop()

    client = asyncio.run(used_client())
    assert client.is_closed  # closed on its loop by shutdown_asyncgens, not left to GC


def test_no_endpoint_is_a_setup_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OCI_LLM_ENDPOINT", raising=False)
    with pytest.raises(ProviderSetupError, match="OCI_LLM_ENDPOINT"):
        ChatOCIModelDeploymentVLLM().invoke("x")


def test_endpoint_falls_back_to_the_environment(
    emu: OCIVllmEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OCI_LLM_ENDPOINT", emu.predict_url)
    monkeypatch.setenv("OCI_LLM_BEARER_TOKEN", TOKEN)
    model = ChatOCIModelDeploymentVLLM()
    assert model.invoke("from the environment").content == "from the environment"
    assert "endpoint" not in model.to_json()["kwargs"]


# -- secrets -----------------------------------------------------------------------------------
def test_secrets_never_serialized_nor_shown(emu: OCIVllmEmulator) -> None:
    model = chat(emu)
    text = runwire.dumps(model)
    assert TOKEN not in text and TOKEN not in repr(model) and TOKEN not in str(model)
    assert json.loads(text)["kwargs"]["bearer_token"] == {
        "lc": 1,
        "type": "secret",
        "id": ["OCI_LLM_BEARER_TOKEN"],
    }
    emu.fail(500, times=4, message=f"upstream rejected token {TOKEN}")
    with pytest.raises(ProviderError) as caught:
        chat(emu, max_retries=0).invoke("x")
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value.to_dict())
    back = runwire.loads(
        text, secrets_map={"OCI_LLM_BEARER_TOKEN": TOKEN}, allowed_objects="all", trusted=True
    )
    assert back == model


def test_untrusted_manifest_endpoint_and_identity_rules() -> None:
    data = runwire.dumpd(ChatOCIModelDeploymentVLLM(endpoint="http://127.0.0.1:9/predict"))
    with pytest.raises(runwire.errors.ManifestError, match="allowed_endpoints"):
        runwire.load(data, allowed_objects="all")
    loaded = runwire.load(data, allowed_objects="all", allowed_endpoints=["http://127.0.0.1"])
    assert loaded.endpoint == "http://127.0.0.1:9/predict"
    oci_url = "https://modeldeployment.us-ashburn-1.oci.customer-oci.com/ocid1.x/predict"
    assert (
        runwire.load({**data, "kwargs": {"endpoint": oci_url}}, allowed_objects="all").endpoint
        == oci_url
    )
    profile = {**data, "kwargs": {**data["kwargs"], "oci_auth": "resource_principal"}}
    with pytest.raises(runwire.errors.ManifestError, match="OCI identity"):
        runwire.load(profile, allowed_objects="all", allowed_endpoints=["http://127.0.0.1"])


# -- LangChain's ids ---------------------------------------------------------------------------
def test_langchain_files_load_and_runwire_writes_langchain_ids(emu: OCIVllmEmulator) -> None:
    lc_id = ["langchain_community", "chat_models", "oci_data_science", "ChatOCIModelDeploymentVLLM"]
    written = {
        "lc": 1,
        "type": "constructor",
        "id": lc_id,
        "kwargs": {"endpoint": emu.predict_url, "max_tokens": 64, "temperature": 0.0},
    }
    model = runwire.load(written, allowed_objects="all", trusted=True)
    assert isinstance(model, ChatOCIModelDeploymentVLLM)
    assert (model.max_tokens, model.temperature) == (64, 0.0)
    assert json.loads(runwire.dumps(model, dialect="langchain"))["id"] == lc_id


def test_langchain_oci_package_id_loads(emu: OCIVllmEmulator) -> None:
    """Oracle's langchain-oci keeps its module path as the id; runwire writes the
    langchain-community id back (the one LangChain's own loader knows)."""
    lc_id = ["langchain_oci", "chat_models", "oci_data_science", "ChatOCIModelDeploymentVLLM"]
    written = {"lc": 1, "type": "constructor", "id": lc_id, "kwargs": {"max_tokens": 8}}
    model = runwire.load(written, allowed_objects="all", trusted=True)
    assert isinstance(model, ChatOCIModelDeploymentVLLM)
    assert model.max_tokens == 8
    assert json.loads(runwire.dumps(model, dialect="langchain"))["id"][0] == "langchain_community"


def test_serialized_form_snapshot(manifest_snapshot: Any) -> None:
    model = ChatOCIModelDeploymentVLLM(
        endpoint="https://modeldeployment.us-ashburn-1.oci.customer-oci.com/ocid1.x/predict",
        max_tokens=512,
        stop=["###"],
        model_kwargs={"seed": 1},
        bearer_token="snapshot-token-value",
        oci_auth="api_key",
    )
    manifest_snapshot(model)
    manifest_snapshot(model, dialect="langchain")


def test_structured_output_json_schema_and_function_calling(emu: OCIVllmEmulator) -> None:
    as_schema = chat(emu).with_structured_output(Capital, method="json_schema", strict=True)
    assert as_schema.invoke('Answer {"city": "Rome"}') == Capital(city="Rome")
    sent = emu.requests[-1].body["response_format"]
    assert sent["type"] == "json_schema"
    assert (sent["json_schema"]["name"], sent["json_schema"]["strict"]) == ("Capital", True)
    assert sent["json_schema"]["schema"]["properties"]["city"]["type"] == "string"
    as_tool = chat(emu).with_structured_output(Capital, method="function_calling")
    assert as_tool.invoke('Answer {"city": "Oslo"}') == Capital(city="Oslo")
    assert emu.requests[-1].body["tool_choice"] == {
        "type": "function",
        "function": {"name": "Capital"},
    }


def test_a_tool_result_turn_is_answered(emu: OCIVllmEmulator) -> None:
    model = chat(emu).bind_tools([LOOKUP])
    first = model.invoke([HumanMessage('lookup_order {"order_id": "B2"}')])
    (call,) = first.tool_calls
    result = ToolMessage(content="B2 ships Monday.", tool_call_id=call["id"])
    answer = model.invoke([HumanMessage('lookup_order {"order_id": "B2"}'), first, result])
    assert answer.content == "B2 ships Monday." and answer.tool_calls == []
    sent = emu.requests[-1].body["messages"]
    assert sent[1]["tool_calls"][0]["id"] == call["id"]
    assert sent[2] == {"role": "tool", "content": "B2 ships Monday.", "tool_call_id": call["id"]}


def test_requests_kwargs_are_not_implemented() -> None:
    model = ChatOCIModelDeploymentVLLM(endpoint="http://127.0.0.1:1/predict")
    with pytest.raises(NotImplementedError, match="requests_kwargs"):
        model.build_body([HumanMessage("x")], requests_kwargs={"timeout": 3})


def test_one_async_client_per_live_event_loop(emu: OCIVllmEmulator) -> None:
    model = chat(emu)
    for text in ("one", "two", "three"):  # each asyncio.run is a new loop, closed after
        assert asyncio.run(model.ainvoke(text)).content == text
    assert len(model._http._async) == 1  # the closed loops' clients were dropped

    async def twice() -> list[str]:
        first = await model.ainvoke("a")
        await model.aclose()
        second = await model.ainvoke("b")
        return [first.content, second.content]

    assert asyncio.run(twice()) == ["a", "b"]
    model.close()
    assert model.invoke("sync again").content == "sync again"


def test_a_client_gone_mid_request_prints_nothing(
    emu: OCIVllmEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    server = emu._server  # what socketserver calls when a request's handler raised
    for gone in (ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe")):
        try:
            raise gone
        except OSError:
            server.handle_error(None, ("127.0.0.1", 1))  # a closed pool's reset: silence
    assert capsys.readouterr().err == ""
    try:
        raise ValueError("an emulator bug")
    except ValueError:
        server.handle_error(None, ("127.0.0.1", 1))
    assert "an emulator bug" in capsys.readouterr().err  # anything else is printed
