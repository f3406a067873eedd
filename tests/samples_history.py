"""Samples of the issue-15 classes of one area, merged into ``conftest.SAMPLES``.

Class short name -> factory of a representative instance (see conftest.SAMPLES).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runwire.runtime.configurable_spec import ConfigurableFieldSpec
from runwire.runtime.history import RunnableWithMessageHistory
from runwire.runtime.history_postgres import PostgresChatHistoryStore
from runwire.runtime.history_stores import InMemoryChatHistoryStore, SqliteChatHistoryStore
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.prompts import ChatPromptTemplate, MessagesPlaceholder


def _with_history() -> RunnableWithMessageHistory:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are {role}."),
            MessagesPlaceholder(variable_name="history"),
            ("human", "{question}"),
        ]
    )
    return RunnableWithMessageHistory(
        runnable=prompt | FakeChatModel(responses=["hi"]),
        history=SqliteChatHistoryStore(path="chats/history.db", table="chat"),
        input_messages_key="question",
        history_messages_key="history",
        history_factory_config=[
            ConfigurableFieldSpec("user_id", str, "User ID", "Who is talking.", "", True),
            ConfigurableFieldSpec("conversation_id", str, "Conversation ID", None, "", True),
        ],
    )


SAMPLES: dict[str, Callable[[], Any]] = {
    "RunnableWithMessageHistory": _with_history,
    "InMemoryChatHistoryStore": InMemoryChatHistoryStore,
    "SqliteChatHistoryStore": lambda: SqliteChatHistoryStore(path="history.sqlite3", timeout=2.5),
    # dsn left unset: it is a secret (tests/test_message_history_postgres.py loads one)
    "PostgresChatHistoryStore": lambda: PostgresChatHistoryStore(
        dsn=None, table="chat", max_size=2
    ),
}
