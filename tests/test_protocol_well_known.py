"""LangServe's well-known objects come back as objects from request bodies."""

from __future__ import annotations

from typing import Any

import pytest

from runwire.deploy.server.protocol import WELL_KNOWN, decode_objects
from runwire.schema.agents import AgentAction, AgentActionMessageLog, AgentFinish
from runwire.schema.messages import AIMessage, ChatMessage, FunctionMessage
from runwire.schema.outputs import ChatGeneration, Generation

SENT: list[Any] = [
    ChatMessage("hi", role="critic"),
    FunctionMessage("42", name="lookup"),
    AgentAction("search", {"q": "x"}, "calling search"),
    AgentFinish({"output": "done"}, "finished"),
    AgentActionMessageLog("search", "x", "log", message_log=[AIMessage("thinking")]),
    Generation(text="hello"),
    ChatGeneration(message=AIMessage("hello")),
]


@pytest.mark.parametrize("obj", SENT, ids=lambda o: type(o).__name__)
def test_a_well_known_object_sent_as_its_fields_is_rebuilt(obj: Any) -> None:
    assert type(obj) in WELL_KNOWN.values()
    sent = obj.model_dump(mode="json")
    assert decode_objects({"input": [sent]}) == {"input": [obj]}
