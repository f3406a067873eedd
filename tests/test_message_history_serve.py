"""A RunnableWithMessageHistory served over LangServe's protocol keeps sessions per
``session_id`` when the deployment allows that configurable id."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from runwire.deploy.server.app import create_app
from runwire.runtime.history import RunnableWithMessageHistory
from runwire.runtime.history_stores import SqliteChatHistoryStore
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder
from runwire.testing.server import serving

RemoteRunnable = pytest.importorskip("langserve").RemoteRunnable


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    path = tmp_path_factory.mktemp("served") / "chats.db"
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Be brief."), MessagesPlaceholder("history"), ("human", "{question}")]
    )
    chain = RunnableWithMessageHistory(
        runnable=prompt | FakeChatModel(),
        history=SqliteChatHistoryStore(path=str(path)),
        input_messages_key="question",
        history_messages_key="history",
    )
    pipelines = {
        "chat": SimpleNamespace(runnable=chain, configurable=("session_id",)),
        "closed": SimpleNamespace(runnable=chain, configurable=()),
    }
    with serving(create_app(pipelines)) as url:
        yield url, chain


def test_sessions_over_http(served: tuple[str, Any]) -> None:
    url, chain = served
    remote = RemoteRunnable(f"{url}/chat/")
    for sid, question in (("a", "one"), ("b", "other"), ("a", "two")):
        reply = remote.invoke({"question": question}, {"configurable": {"session_id": sid}})
        assert reply.content == question
    chunks = list(remote.stream({"question": "three"}, {"configurable": {"session_id": "a"}}))
    assert "".join(c.content for c in chunks) == "three"
    got = [m.content for m in chain.history.session("a").messages]
    assert got == ["one", "one", "two", "two", "three", "three"]
    assert [m.content for m in chain.history.session("b").messages] == ["other", "other"]


def test_config_schema_offers_session_id(served: tuple[str, Any]) -> None:
    url, _ = served
    schema = httpx.get(f"{url}/chat/config_schema").json()
    assert "session_id" in str(schema)


def test_a_deployment_that_does_not_allow_session_id_refuses_it(served: tuple[str, Any]) -> None:
    url, _ = served
    remote = RemoteRunnable(f"{url}/closed/")
    with pytest.raises(httpx.HTTPStatusError) as info:
        remote.invoke({"question": "q"}, {"configurable": {"session_id": "a"}})
    assert info.value.response.status_code == 422
    with pytest.raises(httpx.HTTPStatusError) as info:  # and without it there is no session
        remote.invoke({"question": "q"})
    assert info.value.response.status_code == 422
    assert "Missing keys ['session_id']" in info.value.response.text


def test_a_session_id_of_the_wrong_type_is_422(served: tuple[str, Any]) -> None:
    url, _ = served
    body = {"input": {"question": "q"}, "config": {"configurable": {"session_id": 5}}}
    answer = httpx.post(f"{url}/chat/invoke", json=body)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][-1] == "session_id"


def test_input_schema_over_http(served: tuple[str, Any]) -> None:
    url, _ = served
    schema = httpx.get(f"{url}/chat/input_schema").json()
    assert schema["title"] == "RunnableWithChatHistoryInput"
    assert schema["required"] == ["question"]
