"""OpenTelemetry traces of runs (runwire.telemetry): the SDK's in-memory exporter for the
span tree, attributes and errors; a served pipeline in process; and `runwire serve`
exporting over OTLP/HTTP to a receiver on loopback."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypedDict

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import runwire
from runwire.deploy.server.access_log import RequestRecorder
from runwire.deploy.settings import load_settings
from runwire.redaction import register_secret
from runwire.telemetry import OtelTracer, otel_enabled
from runwire.testing.server import serving
from serve_process import clean_env, serving_process, wait_for

ROOT = Path(__file__).parent.parent
CHAT = ROOT / "configs" / "chat.yaml"  # prompt -> FakeChatModel -> StrOutputParser
QUESTION = {"role": "a geographer", "question": "Capital of France?"}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(exporter: InMemorySpanExporter) -> Any:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


def _tree(spans: tuple[ReadableSpan, ...]) -> tuple[ReadableSpan, list[ReadableSpan]]:
    """The one root span (whose parent is not among ``spans``) and the others, in start
    order."""
    ids = {span.context.span_id for span in spans}
    roots = [span for span in spans if span.parent is None or span.parent.span_id not in ids]
    assert len(roots) == 1, [span.name for span in roots]
    root = roots[0]
    children = sorted((span for span in spans if span is not root), key=lambda s: s.start_time)
    return root, children


def test_a_sequence_is_a_root_span_with_a_child_per_step(
    exporter: InMemorySpanExporter, tracer: Any
) -> None:
    chain = runwire.load_file(CHAT)
    run_id = "0b9c7c0e-5d2a-4f4e-9a57-0c6f1d3e2a11"
    output = chain.invoke(QUESTION, config={"callbacks": [OtelTracer(tracer)], "run_id": run_id})
    assert output == "Paris is the capital of France."

    root, children = _tree(exporter.get_finished_spans())
    assert root.name == "chat"
    assert root.attributes["runwire.run_id"] == run_id
    assert root.attributes["runwire.type"] == "chain"
    assert [span.name for span in children] == [
        "ChatPromptTemplate",
        "FakeChatModel",
        "StrOutputParser",
    ]
    assert [span.attributes["runwire.type"] for span in children] == [
        "prompt",
        "chat_model",
        "parser",
    ]
    for span in children:
        assert span.parent.span_id == root.context.span_id
        assert span.context.trace_id == root.context.trace_id
        assert root.start_time <= span.start_time <= span.end_time <= root.end_time
    ids = {span.attributes["runwire.run_id"] for span in (root, *children)}
    assert len(ids) == 4
    for span in (root, *children):  # inputs and outputs stay out by default
        assert span.status.status_code == StatusCode.UNSET
        assert not any(key in span.attributes for key in ("runwire.inputs", "runwire.outputs"))
        assert "Capital of France" not in str(dict(span.attributes))


def test_streaming_and_async_calls_make_the_same_tree(
    exporter: InMemorySpanExporter, tracer: Any
) -> None:
    chain = runwire.load_file(CHAT)

    async def stream() -> list[str]:
        config = {"callbacks": [OtelTracer(tracer)]}
        return [chunk async for chunk in chain.astream(QUESTION, config=config)]

    chunks = asyncio.run(stream())
    assert "".join(chunks) == "Paris is the capital of France."
    root, children = _tree(exporter.get_finished_spans())
    assert len(children) == 3
    assert {span.parent.span_id for span in children} == {root.context.span_id}


def test_graph_nodes_are_children_of_the_graph(exporter: InMemorySpanExporter, tracer: Any) -> None:
    from runwire.graph import END, START, StateGraph

    class State(TypedDict):
        n: int

    graph = StateGraph(State)
    graph.add_node("double", lambda state: {"n": state["n"] * 2})
    graph.add_node("increment", lambda state: {"n": state["n"] + 1})
    graph.add_edge(START, "double")
    graph.add_edge("double", "increment")
    graph.add_edge("increment", END)
    assert graph.compile().invoke({"n": 3}, config={"callbacks": [OtelTracer(tracer)]}) == {"n": 7}
    root, children = _tree(exporter.get_finished_spans())
    assert [span.name for span in children] == ["double", "increment"]
    assert {span.parent.span_id for span in children} == {root.context.span_id}


def test_an_error_marks_the_failing_step_and_its_parents(
    exporter: InMemorySpanExporter, tracer: Any
) -> None:
    chain = runwire.load_file(CHAT)
    private = {"role": "PERSONAL-DATA-93", "questio": "typo"}  # no `question`
    with pytest.raises(KeyError):
        chain.invoke(private, config={"callbacks": [OtelTracer(tracer)]})
    root, children = _tree(exporter.get_finished_spans())
    assert [span.name for span in children] == ["ChatPromptTemplate"]  # it stopped there
    for span in (root, children[0]):
        assert span.status.status_code == StatusCode.ERROR
        assert span.status.description == "KeyError"
        assert span.attributes["error.type"] == "KeyError"
        assert "PERSONAL-DATA-93" not in str(dict(span.attributes))
        assert span.events == ()  # no exception event: its text may quote the input


def test_inputs_and_outputs_are_opt_in_truncated_and_masked(
    exporter: InMemorySpanExporter, tracer: Any
) -> None:
    secret = "otel-secret-value-4242"
    register_secret(secret)
    chain = runwire.load_file(CHAT)
    handler = OtelTracer(tracer, record_io=True, max_chars=60)
    question = {"role": "a geographer", "question": f"is {secret} safe? " + "x" * 200}
    chain.invoke(question, config={"callbacks": [handler]})
    root, children = _tree(exporter.get_finished_spans())
    inputs = root.attributes["runwire.inputs"]
    assert inputs.startswith('{"role":"a geographer"')
    assert len(inputs) == 60 and inputs.endswith("…")
    assert root.attributes["runwire.outputs"] == '"Paris is the capital of France."'
    assert children[1].attributes["runwire.inputs"].startswith('{"messages":')
    assert all(secret not in str(dict(span.attributes)) for span in (root, *children))


def test_served_runs_are_traced_with_the_pipeline_and_the_response_run_id(
    exporter: InMemorySpanExporter, tracer: Any
) -> None:
    from runwire.deploy import Pipeline, create_app

    pipeline = Pipeline("chat", runwire.load_file(CHAT), frozenset(), CHAT)
    app = RequestRecorder(
        create_app({"chat": pipeline}),
        pipelines=["chat"],
        log=False,
        factories=[lambda name: OtelTracer(tracer, pipeline=name)],
    )
    with serving(app) as url:
        answer = httpx.post(f"{url}/chat/invoke", json={"input": QUESTION}).json()
        assert httpx.get(f"{url}/healthz").status_code == 200  # not a run: no span
    root, children = _tree(exporter.get_finished_spans())
    assert root.attributes["runwire.run_id"] == answer["metadata"]["run_id"]
    assert len(children) == 3
    assert {span.attributes["runwire.pipeline"] for span in (root, *children)} == {"chat"}


def test_when_tracing_is_on() -> None:
    endpoint = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
    assert otel_enabled(None, {}) is False
    assert otel_enabled(None, endpoint) is True
    assert otel_enabled(None, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://x"}) is True
    assert otel_enabled(False, endpoint) is False
    assert otel_enabled(True, {}) is True


def test_the_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWIRE_SERVER__OTEL", "true")
    monkeypatch.setenv("RUNWIRE_SERVER__OTEL_RECORD_IO", "1")
    server = load_settings().server
    assert (server.otel, server.otel_record_io, server.access_log) == (True, True, True)
    monkeypatch.setenv("RUNWIRE_SERVER__OTEL", "0")
    assert load_settings().server.otel is False


class _Receiver(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: keeps each request's decoded spans."""

    received: list[Any]

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
        )

        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        self.received.append((self.path, request))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[Any]]]:
    received: list[Any] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_serve_exports_over_otlp_when_an_endpoint_is_set(
    tmp_path: Path, receiver: tuple[str, list[Any]]
) -> None:
    endpoint, received = receiver
    (tmp_path / "chat.yaml").write_text(CHAT.read_text())
    env = clean_env(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_BSP_SCHEDULE_DELAY="100")
    with serving_process("chat.yaml", cwd=tmp_path, env=env) as served:
        answer = httpx.post(f"{served.url}/chat/invoke", json={"input": QUESTION}).json()
        wait_for(lambda: received, 10, "spans at the OTLP receiver")
        assert served.stop() == 0

    spans: dict[str, dict[str, Any]] = {"runwire": {}, "fastapi": {}}
    for path, request in received:
        assert path == "/v1/traces"
        for resource_spans in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            assert service["service.name"] == "runwire"
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    spans[scope_spans.scope.name][span.name] = (span, attributes)
    runs = spans["runwire"]
    assert set(runs) == {"chat", "ChatPromptTemplate", "FakeChatModel", "StrOutputParser"}
    root, root_attributes = runs["chat"]
    assert root_attributes["runwire.run_id"] == answer["metadata"]["run_id"]
    assert root_attributes["runwire.pipeline"] == "chat"
    for name in ("ChatPromptTemplate", "FakeChatModel", "StrOutputParser"):
        assert runs[name][0].parent_span_id == root.span_id
    # FastAPI's own span of the HTTP request is an ancestor of the run's
    request_span, _ = spans["fastapi"]["POST /chat/invoke"]
    by_id = {span.span_id: span for span, _ in spans["fastapi"].values()}
    ancestors, parent = [], by_id.get(root.parent_span_id)
    while parent is not None and len(ancestors) < 10:
        ancestors.append(parent.name)
        parent = by_id.get(parent.parent_span_id)
    assert ancestors[-1] == "POST /chat/invoke"
    assert root.trace_id == request_span.trace_id


def test_the_deploy_docs_example_runs() -> None:
    text = (ROOT / "docs" / "deploy.md").read_text()
    section = text[text.index("### OpenTelemetry traces") :]
    section = section[: section.index("\n## ")]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert "OtelTracer(tracer)" in block
    exec(compile(block, "docs/deploy.md", "exec"), {"__name__": "docs_example"})


def _python(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (tracer providers are set once per process)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serve_uses_the_tracer_provider_already_set() -> None:
    code = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import runwire
from runwire.telemetry import OtelTracer, serve_tracer

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
chain = runwire.load_file("configs/chat.yaml")
chain.invoke({"role": "r", "question": "q"}, config={"callbacks": [OtelTracer(serve_tracer())]})
print(sorted(span.name for span in exporter.get_finished_spans()))
"""
    done = _python(code, ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(
        sorted(["chat", "ChatPromptTemplate", "FakeChatModel", "StrOutputParser"])
    )


def test_tracing_without_the_extra_stops_start_up(tmp_path: Path) -> None:
    (tmp_path / "chat.yaml").write_text(CHAT.read_text())
    code = """
import sys
sys.modules["opentelemetry.sdk"] = None  # as if the otel extra were not installed
sys.argv = ["runwire", "serve", "chat.yaml", "--port", "0"]
from runwire.cli.main import run
run()
"""
    done = _python(code, tmp_path, RUNWIRE_SERVER__OTEL="true")
    assert done.returncode == 1
    assert "OpenTelemetry traces need the otel extra: pip install 'runwire[otel]'" in done.stderr
    assert "serving /chat/" not in done.stderr  # stopped before announcing anything
    assert "Traceback" not in done.stderr
