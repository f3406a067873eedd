"""OpenAIAssistantV2Runnable(backend="responses"): the same inputs and outputs on the
Responses and Conversations APIs of runwire's emulator, and migrating an assistant."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import runwire
from runwire.errors import ProviderError
from runwire.providers.openai import (
    OpenAIAssistantAction,
    OpenAIAssistantFinish,
    OpenAIAssistantV2Runnable,
)
from runwire.providers.openai.responses_backend import responses_tool
from runwire.testing.openai_assistants import AssistantsEmulator

openai = pytest.importorskip("openai")  # in the dev extra: CI has it
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KEY = "sk-test-responses-91b2"
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def emu() -> Iterator[AssistantsEmulator]:
    with AssistantsEmulator(api_keys=[KEY]) as emulator:
        yield emulator


def on_responses(emu: AssistantsEmulator, **fields: Any) -> OpenAIAssistantV2Runnable:
    return OpenAIAssistantV2Runnable(
        assistant_id="asst_retired",
        backend="responses",
        model="gpt-4o",
        instructions="Answer questions about orders.",
        tools=[LOOKUP],
        base_url=emu.base_url,
        api_key=KEY,
        **fields,
    )


def last_response_call(emu: AssistantsEmulator) -> Any:
    return next(c for c in reversed(emu.calls) if c.path == "/v1/responses")


def test_tools_in_the_responses_shape() -> None:
    assert responses_tool(LOOKUP) == {"type": "function", **LOOKUP["function"]}
    assert responses_tool({"type": "code_interpreter"}) == {
        "type": "code_interpreter",
        "container": {"type": "auto"},
    }
    resources = {"file_search": {"vector_store_ids": ["vs_1"]}}
    assert responses_tool({"type": "file_search"}, resources) == {
        "type": "file_search",
        "vector_store_ids": ["vs_1"],
    }


def test_a_new_thread_is_a_conversation_and_messages_come_back(emu: AssistantsEmulator) -> None:
    messages = on_responses(emu).invoke({"content": "Hello there", "thread_metadata": {"k": "v"}})
    (message,) = messages
    assert message.content[0].text.value == "Hello there"
    assert message.thread_id.startswith("conv_") and message.run_id.startswith("resp_")
    assert emu.store.responses.conversation(message.thread_id)["metadata"] == {"k": "v"}
    sent = last_response_call(emu).body
    assert (sent["model"], sent["instructions"]) == ("gpt-4o", "Answer questions about orders.")
    assert sent["conversation"] == message.thread_id
    assert sent["tools"] == [{"type": "function", **LOOKUP["function"]}]


def test_tool_calls_then_outputs_in_the_same_conversation(emu: AssistantsEmulator) -> None:
    model = on_responses(emu)
    (call,) = model.invoke({"content": 'lookup_order {"order_id": "C3"}'})
    assert (call.type, call.function.name) == ("function", "lookup_order")
    assert json.loads(call.function.arguments) == {"order_id": "C3"}
    conversation = last_response_call(emu).body["conversation"]
    done = model.invoke(
        {
            "run_id": "ignored-by-responses",
            "thread_id": conversation,
            "tool_outputs": [{"tool_call_id": call.id, "output": "C3 shipped"}],
        }
    )
    assert [m.content[0].text.value for m in done] == ["C3 shipped"]
    assert last_response_call(emu).body["input"] == [
        {"type": "function_call_output", "call_id": call.id, "output": "C3 shipped"}
    ]


def test_as_agent_outputs_match_the_assistants_backend(emu: AssistantsEmulator) -> None:
    agent = on_responses(emu, as_agent=True)
    (action,) = agent.invoke({"content": 'Please lookup_order {"order_id": "D4"}'})
    assert isinstance(action, OpenAIAssistantAction)
    assert (action.tool, action.tool_input) == ("lookup_order", {"order_id": "D4"})
    finish = agent.invoke({"intermediate_steps": [(action, "D4 arrives Friday")]})
    assert isinstance(finish, OpenAIAssistantFinish)
    assert finish.return_values["output"] == "D4 arrives Friday"
    assert finish.thread_id == action.thread_id
    again = asyncio.run(agent.ainvoke({"content": "Thanks!", "thread_id": finish.thread_id}))
    assert again.return_values["output"] == "Thanks!" and again.thread_id == finish.thread_id
    items = emu.store.responses.list_items(finish.thread_id)
    assert [i.get("type", i.get("role")) for i in items] == [
        "user",
        "function_call",
        "function_call_output",
        "message",
        "user",
        "message",
    ]


def test_a_failed_response_raises_with_its_id(emu: AssistantsEmulator) -> None:
    emu.fail_next_run("failed", "model overloaded")
    with pytest.raises(ProviderError) as caught:
        on_responses(emu).invoke({"content": "x"})
    assert caught.value.code == "ResponseFailed" and "model overloaded" in caught.value.message
    assert "resp_" in caught.value.message


def test_no_model_is_a_clear_error(emu: AssistantsEmulator) -> None:
    model = OpenAIAssistantV2Runnable(
        assistant_id="a", backend="responses", base_url=emu.base_url, api_key=KEY
    )
    with pytest.raises(ValueError, match="needs the assistant's model"):
        model.invoke({"content": "x"})


def test_migrate_writes_a_manifest_that_runs_on_responses(emu: AssistantsEmulator) -> None:
    from runwire.providers.openai.migrate import migrate_assistant

    client = openai.OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0)
    created = OpenAIAssistantV2Runnable.create_assistant(
        name="orders",
        instructions="Be brief.",
        tools=[LOOKUP, {"type": "code_interpreter"}],
        model="gpt-4o-mini",
        client=client,
    )
    migrated = migrate_assistant(
        created.assistant_id, client=client, base_url=emu.base_url, api_key=KEY
    )
    assert (migrated.backend, migrated.model, migrated.instructions) == (
        "responses",
        "gpt-4o-mini",
        "Be brief.",
    )
    assert migrated.tools == [LOOKUP, {"type": "code_interpreter"}]
    text = runwire.dumps(migrated)
    loaded = runwire.loads(
        text,
        allowed_objects="all",
        allowed_endpoints=["http://127.0.0.1"],
        secrets_map={"OPENAI_API_KEY": KEY},
    )
    (message,) = loaded.invoke({"content": "hi from the file"})
    assert message.content[0].text.value == "hi from the file"
    assert last_response_call(emu).body["instructions"] == "Be brief."


def test_runwire_migrate_assistant_writes_a_file_that_runs(
    emu: AssistantsEmulator, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = openai.OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0)
    created = OpenAIAssistantV2Runnable.create_assistant(
        name="n", instructions="Say it back.", tools=[LOOKUP], model="gpt-4o", client=client
    )
    env = {"OPENAI_API_KEY": KEY, "PATH": "/usr/bin:/bin"}
    runwire_cli = str(Path(sys.executable).with_name("runwire"))
    out = tmp_path / "assistant.json"
    done = subprocess.run(
        [
            runwire_cli,
            "migrate",
            "assistant",
            created.assistant_id,
            "--base-url",
            emu.base_url,
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    kwargs = json.loads(out.read_text())["kwargs"]
    assert (kwargs["backend"], kwargs["model"], kwargs["base_url"]) == (
        "responses",
        "gpt-4o",
        emu.base_url,
    )
    assert kwargs["openai_api_key"] == {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]}
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    loaded = runwire.load_file(out)
    (message,) = loaded.invoke({"content": "from the migrated file"})
    assert message.content[0].text.value == "from the migrated file"
    missing = subprocess.run(
        [runwire_cli, "migrate", "assistant", "asst_nope", "--base-url", emu.base_url],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert missing.returncode == 1 and "No assistant found" in missing.stderr
    module = subprocess.run(
        [sys.executable, "-m", "runwire.providers.openai.migrate", created.assistant_id],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "OPENAI_BASE_URL": emu.base_url},
    )
    assert module.returncode == 0 and json.loads(module.stdout)["kwargs"]["model"] == "gpt-4o"


def test_the_emulator_streams_response_events(emu: AssistantsEmulator) -> None:
    client = openai.OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0)
    events = list(client.responses.create(model="m", input="hello stream world", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert (events[0].type, events[-1].type) == ("response.created", "response.completed")
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == events[-1].response.output_text == "hello stream world"
    tools = [{"type": "function", **LOOKUP["function"]}]
    called = list(
        client.responses.create(
            model="m", input='lookup_order {"order_id": "E5"}', tools=tools, stream=True
        )
    )
    arguments = "".join(
        e.delta for e in called if e.type == "response.function_call_arguments.delta"
    )
    (item,) = called[-1].response.output
    assert (item.type, item.name, json.loads(arguments)) == (
        "function_call",
        "lookup_order",
        {"order_id": "E5"},
    )
    assert item.arguments == arguments


def test_ainvoke_in_successive_event_loops(emu: AssistantsEmulator) -> None:
    agent = on_responses(emu, as_agent=True)
    for text in ("one", "two", "three"):  # asyncio.run: a new loop each time, then closed
        assert asyncio.run(agent.ainvoke({"content": text})).return_values["output"] == text
    fresh = on_responses(emu, as_agent=True)
    assert agent == fresh  # the clients it made are not part of its value
