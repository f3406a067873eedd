"""runwire.graph foundations: channels, reducers, add_messages, schemas, public names."""

import operator
import subprocess
import sys
from typing import Annotated, TypedDict

import pytest
from pydantic import BaseModel

from runwire.graph import (
    REMOVE_ALL_MESSAGES,
    Command,
    InvalidUpdateError,
    RemoveMessage,
    Send,
    add_messages,
)
from runwire.graph.channels import (
    MISSING,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    NamedBarrierValue,
    Topic,
)
from runwire.graph.state import schema_info
from runwire.graph.types import Overwrite
from runwire.schema.messages import AIMessage, AIMessageChunk, HumanMessage


def test_last_value_keeps_the_last_write_and_refuses_two_in_one_step():
    channel = LastValue("x")
    assert channel.get() is MISSING
    assert channel.update([1]) and channel.get() == 1
    assert not channel.update([])
    with pytest.raises(InvalidUpdateError, match="At key 'x'"):
        channel.update([1, 2])


def test_binary_operator_folds_every_write_and_overwrite_bypasses_it():
    channel = BinaryOperatorAggregate(operator.add, "log", list)
    assert channel.get() == []
    channel.update([["a"], ["b"]])
    assert channel.get() == ["a", "b"]
    channel.update([Overwrite(["z"]), ["c"]])
    assert channel.get() == ["z", "c"]


def test_copies_share_values_but_not_slots():
    channel = BinaryOperatorAggregate(operator.add, "log", list)
    channel.update([["a"]])
    copy = channel.copy()
    copy.update([["b"]])
    assert channel.get() == ["a"] and copy.get() == ["a", "b"]
    assert channel.empty().get() == []


def test_ephemeral_topic_and_barrier_channels():
    eph = EphemeralValue("e")
    eph.update([1])
    assert eph.get() == 1
    assert eph.update([]) and eph.get() is MISSING
    topic = Topic("t")
    topic.update([1, [2, 3]])
    assert topic.get() == [1, 2, 3]
    barrier = NamedBarrierValue(["a", "b"], "j")
    barrier.update(["a"])
    assert not barrier.consume()
    barrier.update(["b"])
    assert barrier.consume() and barrier.checkpoint() == []


class Typed(TypedDict):
    x: int
    log: Annotated[list, operator.add]


class Model(BaseModel):
    x: int = 0
    log: Annotated[list, operator.add] = []


@pytest.mark.parametrize("schema", [Typed, Model])
def test_schema_introspection_finds_reducers_in_typed_dicts_and_models(schema):
    info = schema_info(schema)
    assert info.keys == ("x", "log")
    assert isinstance(info.channels["x"], LastValue)
    assert isinstance(info.channels["log"], BinaryOperatorAggregate)


def test_add_messages_coerces_assigns_ids_replaces_and_removes():
    merged = add_messages([("user", "hi")], [{"role": "assistant", "content": "yo"}, "more"])
    assert [m.type for m in merged] == ["human", "ai", "human"]
    assert all(m.id for m in merged)
    first = merged[0].id
    replaced = add_messages(merged, [AIMessage("new", id=first), RemoveMessage(id=merged[1].id)])
    assert [(m.id == first, m.content) for m in replaced] == [(True, "new"), (False, "more")]


def test_add_messages_turns_chunks_into_messages_and_remove_all_clears():
    merged = add_messages([], [AIMessageChunk(content="a", id="c1")])
    assert type(merged[0]) is AIMessage
    cleared = add_messages(merged, [RemoveMessage(id=REMOVE_ALL_MESSAGES), HumanMessage("x")])
    assert [m.content for m in cleared] == ["x"]


def test_remove_message_of_an_unknown_id_is_an_error():
    with pytest.raises(ValueError, match="doesn't exist"):
        add_messages([HumanMessage("a", id="1")], [RemoveMessage(id="2")])


def test_command_and_send_values():
    command = Command(update={"x": 1}, goto=["a", Send("b", 2)])
    assert command.update_pairs() == [("x", 1)]
    assert command.goto_list() == ["a", Send("b", 2)]
    assert Command.PARENT == "__parent__"


def test_import_loads_neither_pydantic_nor_the_engine():
    code = (
        "import sys; import runwire.graph; "
        "print('pydantic' in sys.modules, 'runwire.graph.engine' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_runwire_does_not_import_graph_eagerly():
    code = "import runwire, sys; print('runwire.graph' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_default_retry_policy_retries_what_langgraph_retries():
    from runwire.graph import RetryPolicy

    policy = RetryPolicy()
    assert policy.should_retry(ConnectionError()) and policy.should_retry(Exception())
    assert not any(policy.should_retry(e) for e in (ValueError(), OSError(), KeyError()))
    assert RetryPolicy(retry_on=KeyError).should_retry(KeyError())
    assert RetryPolicy(initial_interval=1, jitter=False).delay(3) == 4
