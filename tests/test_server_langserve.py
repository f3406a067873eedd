"""LangServe's own client, ``RemoteRunnable`` (langserve 0.3), unchanged against runwire.

langserve and langchain-core are test-only dependencies: runwire never imports them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from runwire.deploy.server.app import create_app
from runwire.loader.files import load_file
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder
from runwire.testing.server import serving

RemoteRunnable = pytest.importorskip("langserve").RemoteRunnable
messages = pytest.importorskip("langchain_core.messages")

CONFIGS = Path(__file__).parent.parent / "configs"
CHAT_INPUT = {"role": "a geographer", "question": "Capital of France?"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    history = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    ) | FakeChatModel(responses=["It is Paris."])
    pipelines = {
        "chat": SimpleNamespace(runnable=load_file(CONFIGS / "chat.yaml"), configurable=()),
        "alt": SimpleNamespace(
            runnable=load_file(CONFIGS / "alternatives.yaml"), configurable=("model",)
        ),
        "history": SimpleNamespace(runnable=history, configurable=()),
        "model": SimpleNamespace(runnable=FakeChatModel(responses=["Echo."]), configurable=()),
    }
    with serving(create_app(pipelines)) as url:
        yield url


def remote(base_url: str, name: str) -> Any:
    return RemoteRunnable(f"{base_url}/{name}/")


def run_async(chain: Any, call: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``call(chain)`` in a fresh loop, closing the client's connections in it."""

    async def main() -> Any:
        try:
            return await call(chain)
        finally:
            await chain.async_client.aclose()

    return asyncio.run(main())


async def _collect(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


def test_invoke(base_url: str) -> None:
    assert remote(base_url, "chat").invoke(CHAT_INPUT) == "Paris is the capital of France."


def test_ainvoke(base_url: str) -> None:
    answer = run_async(remote(base_url, "chat"), lambda chain: chain.ainvoke(CHAT_INPUT))
    assert answer == "Paris is the capital of France."


def test_batch_and_abatch(base_url: str) -> None:
    chain = remote(base_url, "alt")
    assert chain.batch([{"question": "a"}, {"question": "b"}]) == ["Sure, it's Paris!"] * 2
    answers = run_async(chain, lambda chain: chain.abatch([{"question": "a"}]))
    assert answers == ["Sure, it's Paris!"]


def test_with_config_sets_an_allowed_configurable(base_url: str) -> None:
    chain = remote(base_url, "alt").with_config(configurable={"model": "formal"})
    assert chain.invoke({"question": "q"}) == "The capital of France is Paris."


def test_disallowed_configurable_raises_422(base_url: str) -> None:
    chain = remote(base_url, "alt").with_config(configurable={"replies": ["hacked"]})
    with pytest.raises(httpx.HTTPStatusError) as info:
        chain.invoke({"question": "q"})
    assert info.value.response.status_code == 422


def test_bad_input_raises_422(base_url: str) -> None:
    with pytest.raises(httpx.HTTPStatusError) as info:
        remote(base_url, "chat").invoke({"question": "no role"})
    assert info.value.response.status_code == 422
    assert "role" in str(info.value)


def test_stream_and_astream(base_url: str) -> None:
    chunks = list(remote(base_url, "chat").stream(CHAT_INPUT))
    assert len(chunks) > 1
    assert "".join(chunks) == "Paris is the capital of France."

    chunks = run_async(remote(base_url, "chat"), lambda chain: _collect(chain.astream(CHAT_INPUT)))
    assert "".join(chunks) == "Paris is the capital of France."


def test_messages_in_and_out(base_url: str) -> None:
    history = [messages.HumanMessage(content="Hi"), messages.AIMessage(content="Hello!")]
    answer = remote(base_url, "history").invoke({"history": history, "question": "Capital?"})
    assert isinstance(answer, messages.AIMessage)
    assert answer.content == "It is Paris."
    reply = remote(base_url, "model").invoke([messages.HumanMessage(content="hi")])
    assert isinstance(reply, messages.AIMessage)


def test_streamed_message_chunks_add_up(base_url: str) -> None:
    chunks = list(remote(base_url, "model").stream("hi"))
    assert all(isinstance(chunk, messages.AIMessageChunk) for chunk in chunks)
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.content == "Echo."


def test_astream_events(base_url: str) -> None:
    events = run_async(
        remote(base_url, "chat"), lambda chain: _collect(chain.astream_events(CHAT_INPUT))
    )
    kinds = [event["event"] for event in events]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"
    assert "on_chat_model_stream" in kinds
    streamed = [e for e in events if e["event"] == "on_chat_model_stream"]
    assert isinstance(streamed[0]["data"]["chunk"], messages.AIMessageChunk)
    assert events[-1]["data"]["output"] == "Paris is the capital of France."


def test_astream_events_filters(base_url: str) -> None:
    events = run_async(
        remote(base_url, "chat"),
        lambda chain: _collect(chain.astream_events(CHAT_INPUT, include_types=["parser"])),
    )
    assert events and {event["name"] for event in events} == {"StrOutputParser"}
