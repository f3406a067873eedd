"""The HTTP server, started for real with uvicorn on a free loopback port.

Every route, the request checks (JSON, input schema, configurable allowlist, body size,
API keys, timeouts, saturation), provider failures as 502, and the metrics.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from conftest import FAKE_SECRET
from runwire.deploy.server.app import create_app
from runwire.loader.files import load_file
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder
from runwire.testing.server import serving

CONFIGS = Path(__file__).parent.parent / "configs"
CHAT_INPUT = {"role": "a geographer", "question": "Capital of France?"}


def pipeline(runnable: Any, *configurable: str) -> SimpleNamespace:
    return SimpleNamespace(runnable=runnable, configurable=configurable)


class Gate:
    """A pipeline step that waits until the test opens it (requests held in flight)."""

    def __init__(self) -> None:
        self.entered = threading.Semaphore(0)
        self.opened = threading.Event()

    async def wait(self, value: Any) -> Any:
        self.entered.release()
        while not self.opened.is_set():
            await asyncio.sleep(0.005)
        return value


async def _sleep(value: Any) -> Any:
    await asyncio.sleep(float(value["seconds"]))
    return value


def _pipelines(gate: Gate) -> dict[str, Any]:
    history = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    ) | FakeChatModel(responses=["It is Paris."])
    return {
        "chat": pipeline(load_file(CONFIGS / "chat.yaml")),
        "alt": pipeline(load_file(CONFIGS / "alternatives.yaml"), "model"),
        "history": pipeline(history),
        "sleep": pipeline(RunnableLambda(_sleep)),
        "gate": pipeline(RunnableLambda(gate.wait)),
    }


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate()


@pytest.fixture(scope="module")
def app(gate: Gate) -> Any:
    return create_app(_pipelines(gate), request_timeout_s=1.0, max_body_bytes=4096)


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    with serving(app) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


# -- the LangServe routes ------------------------------------------------------------------
def test_invoke_answers_output_and_run_id(client: httpx.Client) -> None:
    response = client.post("/chat/invoke", json={"input": CHAT_INPUT, "config": {}, "kwargs": {}})
    assert response.status_code == 200
    body = response.json()
    assert body["output"] == "Paris is the capital of France."
    assert len(body["metadata"]["run_id"]) == 36
    assert body["metadata"]["feedback_tokens"] == []


def test_batch_answers_in_order(client: httpx.Client) -> None:
    inputs = [{"question": "one"}, {"question": "two"}]
    configs = [{"configurable": {"model": "formal"}}, {"configurable": {"model": "casual"}}]
    body = client.post("/alt/batch", json={"inputs": inputs, "config": configs}).json()
    assert body["output"] == ["The capital of France is Paris.", "Sure, it's Paris!"]
    assert len(set(body["metadata"]["run_ids"])) == 2


def test_batch_config_list_must_match_inputs(client: httpx.Client) -> None:
    response = client.post("/alt/batch", json={"inputs": [{"question": "q"}], "config": [{}, {}]})
    assert response.status_code == 422
    assert "expected 1 configs" in response.json()["detail"][0]["msg"]


def _events(text: str) -> list[tuple[str, str | None]]:
    frames = []
    for block in text.split("\r\n\r\n"):
        if not block:
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\r\n"))
        frames.append((lines["event"], lines.get("data")))
    return frames


def test_stream_sends_metadata_data_and_end(client: httpx.Client) -> None:
    response = client.post("/chat/stream", json={"input": CHAT_INPUT})
    assert response.headers["content-type"].startswith("text/event-stream")
    frames = _events(response.text)
    assert frames[0][0] == "metadata" and "run_id" in frames[0][1]
    assert frames[-1] == ("end", None)
    chunks = [httpx.Response(200, content=data).json() for kind, data in frames if kind == "data"]
    assert "".join(chunks) == "Paris is the capital of France."


def test_stream_events_sends_v2_events(client: httpx.Client) -> None:
    response = client.post(
        "/chat/stream_events", json={"input": CHAT_INPUT, "include_types": ["chat_model"]}
    )
    frames = _events(response.text)
    events = [httpx.Response(200, content=data).json() for kind, data in frames if kind == "data"]
    assert frames[-1] == ("end", None)
    kinds = [event["event"] for event in events]
    assert kinds[0] == "on_chat_model_start" and kinds[-1] == "on_chat_model_end"
    assert "on_chat_model_stream" in kinds
    assert {event["name"] for event in events} == {"FakeChatModel"}


def test_messages_travel_as_langserve_dicts(client: httpx.Client) -> None:
    history = [{"type": "human", "content": "Hi"}, {"type": "ai", "content": "Hello!"}]
    body = client.post(
        "/history/invoke", json={"input": {"history": history, "question": "Capital?"}}
    ).json()
    assert body["output"]["type"] == "ai"
    assert body["output"]["content"] == "It is Paris."


@pytest.mark.parametrize(
    ("route", "key"),
    [("input_schema", "properties"), ("output_schema", "type"), ("config_schema", "properties")],
)
def test_schema_routes(client: httpx.Client, route: str, key: str) -> None:
    response = client.get(f"/chat/{route}")
    assert response.status_code == 200
    assert key in response.json()


def test_input_schema_is_the_pipelines(client: httpx.Client) -> None:
    schema = client.get("/chat/input_schema").json()
    assert sorted(schema["required"]) == ["question", "role"]


def test_config_schema_lists_only_allowed_ids(client: httpx.Client) -> None:
    schema = client.get("/alt/config_schema").json()
    assert list(schema["$defs"]["Configurable"]["properties"]) == ["model"]
    assert client.get("/chat/config_schema").json()["properties"] == {}


def test_openapi_documents_real_schemas(client: httpx.Client) -> None:
    document = client.get("/openapi.json").json()
    body = document["paths"]["/chat/invoke"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["properties"]["input"] == {
        "$ref": "#/components/schemas/chat_Input"
    }
    assert sorted(document["components"]["schemas"]["chat_Input"]["required"]) == [
        "question",
        "role",
    ]
    # every $ref resolves inside the document
    text = httpx.Response(200, content=client.get("/openapi.json").content).text
    for ref in {part.split('"')[0] for part in text.split('"$ref":"#/components/schemas/')[1:]}:
        assert ref in document["components"]["schemas"], ref
    assert client.get("/docs").status_code == 200


# -- health and metrics --------------------------------------------------------------------
def test_health_routes(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["pipelines"] == ["chat", "alt", "history", "sleep", "gate"]


def test_metrics_count_requests_and_errors(client: httpx.Client) -> None:
    client.post("/chat/invoke", json={"input": CHAT_INPUT})
    client.post("/chat/invoke", json={"input": {}})
    text = client.get("/metrics").text
    assert 'runwire_requests_total{pipeline="chat",route="invoke",status="200"}' in text
    assert 'runwire_requests_total{pipeline="chat",route="invoke",status="422"}' in text
    assert 'runwire_errors_total{kind="validation",pipeline="chat"}' in text
    assert (
        'runwire_request_duration_seconds_bucket{le="0.005",pipeline="chat",route="invoke"}' in text
    )


# -- bad requests ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"{not json", "json_invalid"),
        (b"[1, 2]", "dict_type"),
        (b'{"config": {}}', "missing"),
        (b'{"input": {}, "kwargs": 3}', "dict_type"),
    ],
)
def test_bad_json_bodies_are_422(client: httpx.Client, content: bytes, kind: str) -> None:
    response = client.post(
        "/chat/invoke", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == kind


def test_wrong_input_types_are_422_with_the_schema_error(client: httpx.Client) -> None:
    response = client.post("/chat/invoke", json={"input": {"role": 3, "question": "q"}})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "input", "role"]
    assert problem["type"] == "string_type"


def test_disallowed_configurable_keys_are_422(client: httpx.Client) -> None:
    for name, configurable in (
        ("alt", {"replies": ["injected"]}),
        ("alt", {"endpoint_url": "http://evil.example"}),
        ("chat", {"model": "formal"}),
    ):
        response = client.post(
            f"/{name}/invoke",
            json={
                "input": {"question": "q", "role": "r"},
                "config": {"configurable": configurable},
            },
        )
        assert response.status_code == 422, configurable
        assert response.json()["detail"][0]["type"] == "configurable_not_allowed"


def test_allowed_configurable_is_validated_and_applied(client: httpx.Client) -> None:
    payload = {"input": {"question": "q"}, "config": {"configurable": {"model": "formal"}}}
    assert client.post("/alt/invoke", json=payload).json()["output"] == (
        "The capital of France is Paris."
    )
    payload["config"]["configurable"]["model"] = "loud"
    response = client.post("/alt/invoke", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "config", "configurable", "model"]


def test_other_config_keys_are_ignored(client: httpx.Client) -> None:
    config = {"tags": ["t"], "metadata": {"m": 1}, "recursion_limit": 25, "configurable": {}}
    response = client.post("/chat/invoke", json={"input": CHAT_INPUT, "config": config})
    assert response.status_code == 200


def test_oversize_bodies_are_413(client: httpx.Client) -> None:
    big = {"input": {"role": "r", "question": "x" * 5000}}
    assert client.post("/chat/invoke", json=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no content-length: counted as it arrives
        yield b'{"input": {"role": "r", "question": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}}'

    assert client.post("/chat/invoke", content=chunks()).status_code == 413
    assert client.post("/chat/invoke", json={"input": CHAT_INPUT}).status_code == 200


def test_unknown_routes_are_404(client: httpx.Client) -> None:
    assert client.post("/nope/invoke", json={"input": 1}).status_code == 404
    assert client.get("/chat/invoke").status_code == 405


# -- time and load limits --------------------------------------------------------------------
def test_timeouts_are_504_and_the_server_keeps_serving(client: httpx.Client) -> None:
    response = client.post("/sleep/invoke", json={"input": {"seconds": 5}})
    assert response.status_code == 504
    assert "within 1 s" in response.json()["detail"]
    stream = client.post("/sleep/stream", json={"input": {"seconds": 5}})
    assert _events(stream.text)[-1][0] == "error"
    assert '"status_code":504' in stream.text
    assert client.post("/sleep/invoke", json={"input": {"seconds": 0}}).status_code == 200


def test_saturation_is_503_not_a_queue(gate: Gate) -> None:
    gate.opened.clear()
    app = create_app(_pipelines(gate), max_concurrency=2, request_timeout_s=10)
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        results: list[int] = []

        def call() -> None:
            results.append(client.post("/gate/invoke", json={"input": 1}).status_code)

        held = [threading.Thread(target=call) for _ in range(2)]
        for thread in held:
            thread.start()
        for _ in held:
            assert gate.entered.acquire(timeout=10)
        busy = client.post("/gate/invoke", json={"input": 1})
        assert busy.status_code == 503
        assert busy.headers["retry-after"] == "1"
        assert client.get("/healthz").status_code == 200  # health is never refused
        gate.opened.set()
        for thread in held:
            thread.join(10)
        assert results == [200, 200]
        assert client.post("/gate/invoke", json={"input": 1}).status_code == 200


# -- API keys ------------------------------------------------------------------------------
def test_api_keys_guard_every_route_but_health(gate: Gate) -> None:
    app = create_app(_pipelines(gate), api_keys=[FAKE_SECRET, "second-key"])
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        for method, path in (("POST", "/chat/invoke"), ("GET", "/metrics"), ("GET", "/docs")):
            response = client.request(method, path, json={"input": CHAT_INPUT})
            assert response.status_code == 401, path
            assert FAKE_SECRET not in response.text
        wrong = client.post("/chat/invoke", json={"input": CHAT_INPUT}, headers={"x-api-key": "no"})
        assert wrong.status_code == 401
        for headers in ({"x-api-key": FAKE_SECRET}, {"authorization": "Bearer second-key"}):
            response = client.post("/chat/invoke", json={"input": CHAT_INPUT}, headers=headers)
            assert response.status_code == 200
        assert FAKE_SECRET not in client.get("/metrics", headers={"x-api-key": FAKE_SECRET}).text


def test_api_keys_are_not_in_the_app_repr(gate: Gate) -> None:
    app = create_app(_pipelines(gate), api_keys=[FAKE_SECRET])
    assert FAKE_SECRET not in repr(app.user_middleware) + repr(vars(app.state))


# -- providers -----------------------------------------------------------------------------
@pytest.fixture
def bedrock_app(aws_env: Any) -> Any:
    from runwire.providers.aws import ChatBedrockConverse

    chain = ChatPromptTemplate.from_messages([("human", "{question}")]) | ChatBedrockConverse(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        endpoint_url=aws_env.endpoint_url,
        config={"retries": {"total_max_attempts": 1}},
    )
    return create_app({"bedrock": pipeline(chain)})


def test_provider_errors_are_502_with_the_code(aws_env: Any, bedrock_app: Any) -> None:
    with serving(bedrock_app) as url, httpx.Client(base_url=url, timeout=10) as client:
        aws_env.fail(429, "ThrottlingException", "Rate exceeded")
        response = client.post("/bedrock/invoke", json={"input": {"question": "hello"}})
        assert response.status_code == 502
        detail = response.json()["detail"]
        assert detail["code"] == "ThrottlingException"
        assert detail["provider"] == "bedrock-runtime"
        assert "SECRET" not in response.text.upper().replace("ERROR", "")
        ok = client.post("/bedrock/invoke", json={"input": {"question": "hello"}})
        assert ok.status_code == 200
        assert ok.json()["output"]["content"] == "hello"


def test_provider_fault_mid_stream_is_an_error_event(aws_env: Any, bedrock_app: Any) -> None:
    with serving(bedrock_app) as url, httpx.Client(base_url=url, timeout=10) as client:
        aws_env.script("one two three four five six")
        aws_env.fail(500, "ModelStreamErrorException", "boom", mid_stream=True)
        response = client.post("/bedrock/stream", json={"input": {"question": "hi"}})
        frames = _events(response.text)
        assert frames[0][0] == "metadata"
        assert any(kind == "data" for kind, _ in frames[1:-1])
        kind, data = frames[-1]
        assert kind == "error"
        error = httpx.Response(200, content=data).json()
        assert error["status_code"] == 502
        assert error["detail"]["code"] == "ModelStreamErrorException"
        after = client.post("/bedrock/invoke", json={"input": {"question": "still there?"}})
        assert after.status_code == 200
        metrics = client.get("/metrics").text
        assert (
            'runwire_errors_total{kind="ModelStreamErrorException",pipeline="bedrock"}' in metrics
        )
