"""`runwire serve` under attack (issue 13, "Server"): each case held a hole before.

Servers run in this process with uvicorn on a free 127.0.0.1 port, configured exactly
as ``runwire serve`` configures it (:func:`runwire.deploy.server.runner.uvicorn_config`),
with small limits so that every case finishes in about a second; raw sockets play
the slow and oversized clients.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from runwire.deploy.server.app import create_app
from runwire.deploy.server.runner import uvicorn_config
from runwire.deploy.settings import ServerSettings
from runwire.errors import ProviderSetupError, TemplateError
from runwire.redaction import clear_secrets, register_secret
from runwire.runtime.configurable import ConfigurableField
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.parsers import OutputParserException
from runwire.runtime.prompts import PromptTemplate
from runwire.runtime.serializable import RunnableSerializable

BURNING = threading.Event()
STOP_BURNING = threading.Event()  # so a burn left running ends with its test
SECRET = "S3cr3t-value-for-server-tests"
LIMITS = {
    "max_header_bytes": 8192,
    "header_timeout_s": 1.0,
    "body_timeout_s": 1.0,
    "max_concurrency": 4,
    "request_timeout_s": 1.0,
    "max_json_depth": 50,
}


class Burn(RunnableSerializable[Any, Any]):
    """A step that keeps the CPU busy without ever awaiting (like a long template render)."""

    sync_is_cheap = True  # so ainvoke runs it inline, on the event loop
    seconds: float = 0.0

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        BURNING.set()
        end = time.monotonic() + self.seconds
        while time.monotonic() < end and not STOP_BURNING.is_set():
            sum(range(1000))
        return input


def _raise_template_error(value: Any) -> Any:
    raise TemplateError("f-string template: invalid variable 'x.__class__'", hint="no dots")


def _raise_with_secret(value: Any) -> Any:
    raise ValueError(f"upstream said: bad key {SECRET!r}")


SERVER_SIDE = {
    "parser": OutputParserException("the model did not answer JSON"),
    "setup": ProviderSetupError("no region configured"),
}
"""ValueErrors that are no fault of the request (they stay 500)."""


def _raiser(exc: Exception) -> RunnableLambda:
    def fail(value: Any) -> Any:
        raise exc

    return RunnableLambda(fail)


def _pipelines() -> dict[str, Any]:
    def pipeline(runnable: Any, *configurable: str) -> SimpleNamespace:
        return SimpleNamespace(runnable=runnable, configurable=configurable)

    prompt = PromptTemplate.from_template("Q: {question}").configurable_fields(
        template=ConfigurableField(id="template")
    )
    burn = Burn().configurable_fields(seconds=ConfigurableField(id="seconds"))
    return {
        "echo": pipeline(RunnableLambda(lambda value: value)),
        "prompt": pipeline(prompt, "template"),
        "burn": pipeline(burn, "seconds"),
        "template": pipeline(RunnableLambda(_raise_template_error)),
        "leaky": pipeline(RunnableLambda(_raise_with_secret)),
        **{name: pipeline(_raiser(exc)) for name, exc in SERVER_SIDE.items()},
    }


@contextmanager
def running(app: Any, settings: ServerSettings) -> Iterator[tuple[str, int]]:
    """``app`` served as ``runwire serve`` serves it; yields (base URL, port)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn_config(app, settings.model_copy(update={"port": port}), "warning")
    config.lifespan = "off"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}", port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, int]]:
    settings = ServerSettings(**LIMITS)
    app = create_app(
        _pipelines(),
        api_keys=[],
        max_body_bytes=65536,
        body_timeout_s=settings.body_timeout_s,
        request_timeout_s=settings.request_timeout_s,
        max_concurrency=settings.max_concurrency,
        max_json_depth=settings.max_json_depth,
    )
    with running(app, settings) as where:
        yield where


@pytest.fixture
def client(served: tuple[str, int]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served[0], timeout=10) as client:
        yield client


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(10)
    return sock


def _read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset counts as closed)."""
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except ConnectionResetError:
        pass
    return b"".join(chunks)


def _series(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("runwire_"))


# -- metrics ------------------------------------------------------------------------------
def test_random_paths_and_unauthenticated_requests_add_no_series() -> None:
    app = create_app(_pipelines(), api_keys=["k" * 16])
    auth = {"x-api-key": "k" * 16}
    with (
        running(app, ServerSettings(**LIMITS)) as (url, _),
        httpx.Client(base_url=url, timeout=10) as client,
    ):
        assert client.post("/echo/invoke", json={"input": 1}, headers=auth).status_code == 200
        client.post(f"/echo/{uuid.uuid4().hex}", json={}, headers=auth)
        client.get("/nowhere", headers=auth)
        client.post("/echo/invoke", json={"input": 1})
        client.get("/metrics", headers=auth)  # /metrics counts itself from then on
        before = _series(client.get("/metrics", headers=auth).text)
        for _ in range(150):
            name = uuid.uuid4().hex
            client.post(f"/echo/{name}", json={}, headers=auth)  # authenticated, unknown
            client.get(f"/{name}/invoke", headers=auth)
            client.post(f"/echo/{name}", json={})  # unauthenticated
            client.post("/echo/invoke", json={"input": 1}, headers={"x-api-key": name})
        text = client.get("/metrics", headers=auth).text
    assert _series(text) == before
    assert 'route="unmatched"' in text and 'route="unauthenticated"' in text


# -- slow and oversized clients -----------------------------------------------------------
def test_partial_bodies_hold_no_concurrency_slot(served: tuple[str, int]) -> None:
    url, port = served
    slow = []
    for _ in range(LIMITS["max_concurrency"] + 2):
        sock = _connect(port)
        sock.sendall(
            b"POST /echo/invoke HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"content-length: 1000\r\n\r\n" + b'{"input": '
        )
        slow.append(sock)
    try:
        time.sleep(0.2)  # the slow requests are all being read now
        response = httpx.post(f"{url}/echo/invoke", json={"input": 7}, timeout=10)
        assert response.status_code == 200 and response.json()["output"] == 7
        answers = [_read_all(sock) for sock in slow]  # each ends after body_timeout_s
    finally:
        for sock in slow:
            sock.close()
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[0][:80]


def test_headers_over_the_size_limit_are_refused(served: tuple[str, int]) -> None:
    sock = _connect(served[1])
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ")
        sent = 0
        # The server closes the connection mid-header (the kernel's buffers take a few
        # MiB first); it used to read all 8 MiB.
        with pytest.raises(OSError):
            while sent < 8 << 20:
                sock.sendall(b"a" * 65536)
                sent += 65536
    finally:
        sock.close()


def test_a_large_header_sent_at_once_gets_431(served: tuple[str, int]) -> None:
    sock = _connect(served[1])
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 20000)
        answer = _read_all(sock)
    finally:
        sock.close()
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:80]


@pytest.mark.parametrize("sent", [b"", b"GET /healthz HTTP/1.1\r\nhost: x\r\n"])
def test_slow_or_silent_clients_are_disconnected(served: tuple[str, int], sent: bytes) -> None:
    sock = _connect(served[1])
    started = time.monotonic()
    try:
        sock.sendall(sent)
        answer = _read_all(sock)  # returns once the server closes
    finally:
        sock.close()
    assert time.monotonic() - started < 8
    assert answer == b"" if not sent else answer.startswith(b"HTTP/1.1 408 ")


def test_keep_alive_outlasts_client_idle_timeouts() -> None:
    """The load test's ReadError: server and httpx both dropped idle connections after
    5 s, so a client could send on a connection the server was closing."""
    settings = ServerSettings()
    client_idle = httpx.Limits().keepalive_expiry or 0
    assert settings.keep_alive_timeout_s > max(client_idle, 60.0)  # 60: AWS ALB's default
    assert uvicorn_config(None, settings).timeout_keep_alive == settings.keep_alive_timeout_s


# -- bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [60, 900, 5000])
def test_deep_json_is_a_422_naming_the_limit(client: httpx.Client, depth: int) -> None:
    body = b'{"input": ' + b"[" * depth + b"]" * depth + b"}"
    response = client.post(
        "/echo/invoke", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["type"] == "too_deep" and "50" in problem["msg"]
    assert "MAX_JSON_DEPTH" in problem["msg"]


@pytest.mark.parametrize("value", [5, "name", [1], {"a": "b"}])
def test_stream_events_filters_must_be_lists_of_strings(client: httpx.Client, value: Any) -> None:
    body = {"input": 1, "include_names": value}
    response = client.post("/echo/stream_events", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "include_names"]


# -- templates and input errors -----------------------------------------------------------
@pytest.mark.parametrize("template", ["{question.__class__}", "{missing}", "{question!x}"])
def test_client_templates_that_fail_are_422(client: httpx.Client, template: str) -> None:
    body = {"input": {"question": "q"}, "config": {"configurable": {"template": template}}}
    response = client.post("/prompt/invoke", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["msg"]


def test_template_errors_are_422_in_invoke_and_streams(client: httpx.Client) -> None:
    response = client.post("/template/invoke", json={"input": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "template_error"
    for route in ("stream", "stream_events"):
        text = client.post(f"/template/{route}", json={"input": "x"}).text
        error = text.split("event: error\r\ndata: ")[1].split("\r\n")[0]
        assert orjson.loads(error)["status_code"] == 422


@pytest.mark.parametrize("name", sorted(SERVER_SIDE))
def test_server_side_value_errors_stay_500(client: httpx.Client, name: str) -> None:
    response = client.post(f"/{name}/invoke", json={"input": "x"})
    assert response.status_code == 500
    assert response.json() == {"detail": "Internal Server Error"}


def test_error_messages_leaving_the_server_are_masked(client: httpx.Client) -> None:
    register_secret(SECRET)
    try:
        response = client.post("/leaky/invoke", json={"input": "x"})
        streamed = client.post("/leaky/stream", json={"input": "x"}).text
    finally:
        clear_secrets()
    assert response.status_code == 422
    assert SECRET not in response.text and SECRET[:8] not in response.text
    assert "event: error" in streamed and SECRET[:8] not in streamed


def test_a_cpu_bound_request_neither_blocks_the_loop_nor_outlives_its_timeout(
    served: tuple[str, int],
) -> None:
    url, _ = served
    outcome: dict[str, Any] = {}

    burn = 20.0  # seconds; the request timeout is 1 s

    def slow() -> None:
        body = {"input": 1, "config": {"configurable": {"seconds": burn}}}
        started = time.monotonic()
        outcome["status"] = httpx.post(f"{url}/burn/invoke", json=body, timeout=30).status_code
        outcome["took"] = time.monotonic() - started

    BURNING.clear()
    STOP_BURNING.clear()
    thread = threading.Thread(target=slow)
    thread.start()
    try:
        assert BURNING.wait(10), "the burn never started"
        started = time.monotonic()
        health = httpx.get(f"{url}/healthz", timeout=30)
        waited = time.monotonic() - started
        thread.join(30)
    finally:
        STOP_BURNING.set()
    assert health.status_code == 200
    assert waited < 10, "/healthz waited for the burn"
    assert outcome["status"] == 504
    assert outcome["took"] < 10, "the request timeout did not hold"


def test_every_route_serves_client_config_off_the_loop(client: httpx.Client) -> None:
    config = {"configurable": {"template": "A: {question}"}}
    body = {"input": {"question": "q"}, "config": config}
    assert client.post("/prompt/invoke", json=body).json()["output"]["text"] == "A: q"
    batch = {"inputs": [{"question": "1"}, {"question": "2"}], "config": config}
    assert [o["text"] for o in client.post("/prompt/batch", json=batch).json()["output"]] == [
        "A: 1",
        "A: 2",
    ]
    streamed = client.post("/prompt/stream", json=body).text
    assert "A: q" in streamed and streamed.endswith("event: end\r\n\r\n")
    events = client.post("/prompt/stream_events", json=body).text
    assert "on_prompt_end" in events and events.endswith("event: end\r\n\r\n")
    failed = client.post(
        "/prompt/stream", json={**body, "config": {"configurable": {"template": "{x"}}}
    )
    assert "event: error" in failed.text and '"status_code":422' in failed.text
