"""The playground page (``/<name>/playground/``) in a real headless browser.

Debian's Chromium (``/usr/bin/chromium``, installed by ``tests/tools/ensure_chromium.sh``,
which ``make test`` runs first) driven by Playwright, against the app served by uvicorn on
a free loopback port: the forms generated from the schemas, streamed output, config,
error events, body limits, API keys, untrusted text, and the page's own policy.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Iterator
from enum import StrEnum
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from pydantic import BaseModel

from chromium import WAIT_MS, chromium
from conftest import FAKE_SECRET
from runwire.deploy.server.app import create_app
from runwire.deploy.server.playground import CONTENT_SECURITY_POLICY
from runwire.loader.files import load_file
from runwire.runtime.lambdas import RunnableGenerator, RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder
from runwire.testing.server import serving

CONFIGS = Path(__file__).parent.parent / "configs"
ANSWER = "Paris is the capital of France, on the Seine."


# -- pipelines -----------------------------------------------------------------------------
class Tone(StrEnum):
    plain = "plain"
    poetic = "poetic"


class Order(BaseModel):
    """An input with one field of each kind the form knows, and one it does not."""

    dish: str
    servings: int
    budget: float
    vegetarian: bool
    tone: Tone
    extras: dict[str, list[int]]


def _echo_order(order: Any) -> str:
    return json.dumps(order if isinstance(order, dict) else order.model_dump(), sort_keys=True)


def _count_history(value: dict[str, Any]) -> str:
    history = value["history"]
    said = " | ".join(f"{type(m).__name__}:{m.content}" for m in history)
    return f"{len(history)} messages: {said}; question: {value['question']}"


def _html(text: str) -> str:
    return f'<img src=x onerror="window.pwned=1">{text}'


def _html(text: str) -> str:
    return f'<img src=x onerror="window.pwned=1">{text}'


def _refuse(value: Any) -> str:
    raise ValueError("the model refused this question")


class Gate:
    """A streaming step that sends a first chunk, then waits for the test to open it."""

    def __init__(self) -> None:
        self.opened = threading.Event()

    async def chunks(self, inputs: AsyncIterator[Any]) -> AsyncIterator[str]:
        async for _ in inputs:
            pass
        yield "first half, "
        for _ in range(int(WAIT_MS / 10)):  # bounded: the test opens it well before
            if self.opened.is_set():
                break
            await asyncio.sleep(0.01)
        yield "second half"


HOLD = Gate()
"""A gate the tests never open: runs through it are stopped from the page."""


def _pipelines(gate: Gate) -> dict[str, Any]:
    chat = (
        ChatPromptTemplate.from_messages([("system", "You are {role}."), ("human", "{question}")])
        | FakeChatModel(responses=[ANSWER], chunk_size=5)
        | StrOutputParser()
    )
    history = ChatPromptTemplate.from_messages(
        [MessagesPlaceholder("history"), ("human", "{question}")]
    ) | RunnableLambda(lambda prompt: prompt)
    return {
        "chat": chat,
        "model": FakeChatModel(responses=[ANSWER], chunk_size=5),
        "alt": SimpleNamespace(
            runnable=load_file(CONFIGS / "alternatives.yaml"), configurable=["model"]
        ),
        "history": RunnableLambda(_count_history).with_types(input_type=history.get_input_schema()),
        "order": RunnableLambda(_echo_order).with_types(input_type=Order),
        "gate": RunnableGenerator(gate.chunks).with_types(input_type=str),
        "hold": RunnableGenerator(HOLD.chunks).with_types(input_type=str),
        "xss": RunnableLambda(_html).with_types(input_type=str),
        "refuse": RunnableLambda(_refuse).with_types(input_type=str),
    }


# -- fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A Chromium context with a fresh profile, closed after the module."""
    with chromium() as context:
        yield context


@pytest.fixture(scope="module")
def gate() -> Gate:
    return Gate()


@pytest.fixture(scope="module")
def base_url(gate: Gate) -> Iterator[str]:
    app = create_app(_pipelines(gate), max_body_bytes=2048, request_timeout_s=20)
    with serving(app) as url:
        yield url


class Page:
    """A browser tab on one playground, recording the console and failed requests."""

    def __init__(self, context: Any, url: str) -> None:
        self.tab = context.new_page()
        self.console: list[str] = []
        self.requests: list[str] = []
        self.tab.on("console", lambda message: self.console.append(message.text))
        self.tab.on("request", lambda request: self.requests.append(request.url))
        self.tab.goto(url)

    def run(self) -> None:
        self.tab.click("#run")

    def wait_state(self, state: str) -> None:
        self.tab.wait_for_selector(f"#result[data-state='{state}']")

    def text(self, selector: str) -> str:
        return self.tab.text_content(selector) or ""


@pytest.fixture
def open_page(browser: Any, base_url: str) -> Iterator[Any]:
    pages: list[Page] = []

    def open_(name: str, url: str | None = None, *, ready: bool = True) -> Page:
        """The playground of ``name``; with ``ready``, once its forms are built."""
        page = Page(browser, f"{url or base_url}/{name}/playground/")
        pages.append(page)
        if ready:
            page.tab.wait_for_selector("#run-form:not([hidden])")
        return page

    yield open_
    for page in pages:
        page.tab.close()


# -- the page in a browser -----------------------------------------------------------------
def test_the_form_streams_a_chat_model_answer(open_page: Any, base_url: str) -> None:
    page = open_page("chat")
    assert page.text("#pipeline-name") == "chat"
    page.tab.get_by_label("Role").fill("a geographer")
    page.tab.get_by_label("Question").fill("Capital of France?")
    page.run()
    page.wait_state("done")
    assert page.text("#stream-output") == ANSWER
    assert page.text("#final-output") == ANSWER
    chunks = int(page.tab.get_attribute("#stream-output", "data-chunks") or 0)
    assert chunks == -(-len(ANSWER) // 5)  # one data event per 5-character chunk
    assert page.text("#run-id").startswith("run id ")
    assert page.tab.is_hidden("#error")
    assert all(url.startswith(base_url) for url in page.requests), page.requests
    assert not [line for line in page.console if "Content Security Policy" in line]


def test_message_chunks_add_up_to_one_message(open_page: Any) -> None:
    page = open_page("model")
    assert page.tab.get_attribute(".field", "data-kind") == "text"  # a string or messages
    page.tab.get_by_label("Input").fill("Capital of France?")
    page.run()
    page.wait_state("done")
    assert page.text("#stream-output") == ANSWER  # the text of the message so far
    final = json.loads(page.text("#final-output"))
    assert final["content"] == ANSWER
    assert final["type"] == "AIMessageChunk"  # names are kept, not joined


def test_chunks_show_before_the_run_ends(open_page: Any, gate: Gate) -> None:
    page = open_page("gate")
    page.tab.get_by_label("Input").fill("go")
    page.run()
    # the first chunk is on the page while the pipeline still holds the second
    expect(page.tab.locator("#stream-output")).to_have_text("first half, ")
    assert page.tab.get_attribute("#result", "data-state") == "running"
    assert page.tab.is_enabled("#stop")
    gate.opened.set()
    page.wait_state("done")
    assert page.text("#final-output") == "first half, second half"


def test_stop_cancels_a_run(open_page: Any) -> None:
    page = open_page("hold")
    page.tab.get_by_label("Input").fill("go")
    page.run()
    expect(page.tab.locator("#stream-output")).to_have_text("first half, ")
    assert page.tab.is_disabled("#run")
    page.tab.click("#stop")
    page.wait_state("stopped")
    assert page.tab.is_enabled("#run") and page.tab.is_disabled("#stop")
    assert page.tab.is_hidden("#final")


def test_config_form_offers_only_the_allowed_ids(open_page: Any) -> None:
    page = open_page("alt")
    assert page.tab.is_visible("#config-section")
    labels = page.tab.locator("#config-fields label").all_text_contents()
    assert labels == ["Model"]  # `replies` is configurable in the file, not allowed here
    options = page.tab.locator("#config-fields select option").all_text_contents()
    assert options == ["(default: casual)", "formal", "casual"]
    page.tab.get_by_label("Question").fill("Capital of France?")
    page.run()
    page.wait_state("done")
    assert page.text("#final-output") == "Sure, it's Paris!"
    page.tab.select_option("#config-fields select", label="formal")
    page.run()
    page.wait_state("done")
    assert page.text("#final-output") == "The capital of France is Paris."


def test_no_config_section_when_nothing_is_configurable(open_page: Any) -> None:
    page = open_page("chat")
    assert page.tab.is_hidden("#config-section")


def test_each_kind_of_field_sends_its_type(open_page: Any) -> None:
    page = open_page("order")
    kinds = page.tab.eval_on_selector_all(
        "#input-fields .field", "rows => rows.map(row => row.dataset.kind)"
    )
    assert kinds == ["text", "integer", "number", "boolean", "enum", "json"]
    page.tab.get_by_label("Dish").fill("ratatouille")
    page.tab.get_by_label("Servings").fill("4")
    page.tab.get_by_label("Budget").fill("12.5")
    page.tab.get_by_label("Vegetarian").check()
    page.tab.get_by_label("Tone").select_option(label="poetic")
    page.tab.get_by_label("Extras").fill('{"herbs": [1, 2]}')
    page.run()
    page.wait_state("done")
    assert json.loads(page.text("#final-output")) == {
        "budget": 12.5,
        "dish": "ratatouille",
        "extras": {"herbs": [1, 2]},
        "servings": 4,
        "tone": "poetic",
        "vegetarian": True,
    }


def test_bad_json_is_refused_in_the_page(open_page: Any) -> None:
    page = open_page("order")
    page.tab.get_by_label("Extras").fill("{not json")
    page.run()
    page.wait_state("invalid input")
    assert page.text("#error").startswith("Extras: not valid JSON")


def test_messages_are_a_chat_list(open_page: Any) -> None:
    page = open_page("history")
    assert page.tab.get_attribute("[data-field='history']", "class") == "messages"
    add = page.tab.get_by_role("button", name="Add message")
    for text in ("Hello", "Hi! How can I help?"):
        add.click()
        page.tab.locator(".message textarea").last.fill(text)
    assert page.tab.locator(".message select").evaluate_all(
        "selects => selects.map(s => s.value)"
    ) == ["human", "ai"]
    page.tab.get_by_label("Question").fill("What did I say?")
    page.run()
    page.wait_state("done")
    assert page.text("#final-output") == (
        "2 messages: HumanMessage:Hello | AIMessage:Hi! How can I help?; question: What did I say?"
    )


def test_an_error_event_is_shown(open_page: Any) -> None:
    page = open_page("refuse")
    page.tab.get_by_label("Input").fill("anything")
    page.run()
    page.wait_state("failed")
    assert page.text("#error") == "Error 422: the model refused this question"
    assert page.tab.is_hidden("#final")


def test_schema_errors_are_shown(open_page: Any) -> None:
    page = open_page("order")
    page.tab.get_by_label("Dish").fill("soup")
    page.run()  # servings, budget and extras left empty
    page.wait_state("failed")
    error = page.text("#error")
    assert error.startswith("HTTP 422: ")
    assert "body.input.servings" in error and "body.input.budget" in error


def test_bodies_over_the_limit_are_refused(open_page: Any) -> None:
    page = open_page("chat")
    page.tab.get_by_label("Role").fill("a geographer")
    page.tab.get_by_label("Question").fill("x" * 3000)
    page.run()
    page.wait_state("failed")
    assert page.text("#error") == "HTTP 413: request body larger than 2048 bytes"


def test_untrusted_text_is_never_html(open_page: Any) -> None:
    page = open_page("xss")
    page.tab.get_by_label("Input").fill("<b>bold</b>")
    page.run()
    page.wait_state("done")
    assert page.text("#final-output") == '<img src=x onerror="window.pwned=1"><b>bold</b>'
    assert page.tab.locator("#result img, #result b").count() == 0
    assert page.tab.evaluate("window.pwned") is None


def test_unknown_pipelines_say_so(open_page: Any) -> None:
    # without API keys an unknown name is a plain 404
    page = open_page("nowhere", ready=False)
    assert "Not Found" in page.text("body")


# -- API keys ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def keyed_url(gate: Gate) -> Iterator[str]:
    pipelines = {"chat": _pipelines(gate)["chat"]}
    app = create_app(pipelines, api_keys=[FAKE_SECRET])
    with serving(app) as url:
        yield url


def test_a_keyed_server_asks_for_the_key(open_page: Any, keyed_url: str) -> None:
    page = open_page("chat", keyed_url, ready=False)
    page.tab.wait_for_selector("#auth:not([hidden])")
    assert page.text("#status") == "This server needs an API key."
    assert page.tab.is_hidden("#run-form")
    page.tab.fill("#api-key", "not-the-key")
    page.tab.click("#auth-submit")
    expect(page.tab.locator("#status")).to_have_text(re.compile("^That API key was refused"))
    page.tab.fill("#api-key", FAKE_SECRET)
    page.tab.click("#auth-submit")
    page.tab.wait_for_selector("#run-form:not([hidden])")
    page.tab.get_by_label("Role").fill("a geographer")
    page.tab.get_by_label("Question").fill("Capital of France?")
    page.run()
    page.wait_state("done")
    assert page.text("#final-output") == ANSWER
    # the key lives in the page's memory only
    stored = page.tab.evaluate(
        "JSON.stringify([localStorage, sessionStorage, document.cookie, location.href])"
    )
    assert FAKE_SECRET not in stored


def test_a_keyed_server_serves_the_page_for_any_name(keyed_url: str) -> None:
    """Without a key, the page's status says nothing about which pipelines exist."""
    with httpx.Client(base_url=keyed_url, timeout=10) as client:
        known = client.get("/chat/playground/")
        unknown = client.get("/nowhere/playground/")
        assert known.status_code == unknown.status_code == 200
        assert known.content == unknown.content
        for path in ("playground.js", "forms.js", "stream.js", "playground.css"):
            assert client.get(f"/chat/playground/{path}").status_code == 200, path
        assert client.get("/chat/playground/other.js").status_code == 401
        assert client.get("/chat/playground/../input_schema").status_code == 401
        assert client.post("/chat/playground/", json={}).status_code == 401
        assert client.get("/chat/input_schema").status_code == 401
        assert client.post("/chat/stream", json={"input": {}}).status_code == 401
        headers = {"x-api-key": FAKE_SECRET}
        assert client.get("/nowhere/input_schema", headers=headers).status_code == 404


# -- the answers themselves ----------------------------------------------------------------
def test_every_answer_carries_the_policy(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for path, media in (
            ("/chat/playground/", "text/html"),
            ("/chat/playground/playground.js", "text/javascript"),
            ("/chat/playground/playground.css", "text/css"),
        ):
            response = client.get(path)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith(media)
            assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["x-content-type-options"] == "nosniff"
        redirect = client.get("/chat/playground", follow_redirects=False)
        assert redirect.status_code == 307
        assert redirect.headers["location"].endswith("/chat/playground/")
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY


def test_the_page_loads_nothing_from_elsewhere() -> None:
    static = Path(__file__).parent.parent / "src/runwire/deploy/server/static"
    for file in static.iterdir():
        text = file.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, file
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, file
        assert "style=" not in text, file  # no inline styles: the policy refuses them


def test_playground_requests_are_counted_as_playground(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        client.get("/chat/playground/")
        metrics = client.get("/metrics").text
    assert 'pipeline="chat",route="playground"' in metrics
