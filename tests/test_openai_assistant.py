"""OpenAIAssistantV2Runnable against runwire's Assistants emulator, through the real openai SDK."""

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
from runwire.errors import ProviderError, ProviderSetupError
from runwire.providers.openai import (
    OpenAIAssistantAction,
    OpenAIAssistantFinish,
    OpenAIAssistantV2Runnable,
)
from runwire.testing.openai_assistants import AssistantsEmulator

openai = pytest.importorskip("openai")  # in the dev extra: CI has it
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK's beta API

KEY = "sk-test-assistants-7c31"
LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order.",
        "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    },
}


@pytest.fixture(scope="module")
def module_emulator() -> Iterator[AssistantsEmulator]:
    with AssistantsEmulator(api_keys=[KEY], polls_in_progress=2) as emulator:
        yield emulator


@pytest.fixture
def emu(module_emulator: AssistantsEmulator) -> AssistantsEmulator:
    module_emulator.store.failures.clear()
    return module_emulator


@pytest.fixture
def client(emu: AssistantsEmulator) -> Any:
    return openai.OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0)


def make(client: Any, **fields: Any) -> OpenAIAssistantV2Runnable:
    return OpenAIAssistantV2Runnable.create_assistant(
        name="orders",
        instructions="Answer questions about orders.",
        tools=[LOOKUP, {"type": "code_interpreter"}],
        model="gpt-4o",
        client=client,
        model_kwargs={"temperature": 0.1},
        check_every_ms=5,
        **fields,
    )


def retrieves(emu: AssistantsEmulator, since: int) -> list[str]:
    return [c.path for c in emu.calls[since:] if c.method == "GET" and "/runs/" in c.path]


def test_create_assistant_sends_tools_and_model_kwargs(
    emu: AssistantsEmulator, client: Any
) -> None:
    assistant = make(client)
    created = emu.calls[-1]
    assert (created.method, created.path) == ("POST", "/v1/assistants")
    assert created.body["tools"] == [LOOKUP, {"type": "code_interpreter"}]
    assert (created.body["model"], created.body["temperature"]) == ("gpt-4o", 0.1)
    assert emu.store.assistant(assistant.assistant_id)["name"] == "orders"


def test_a_new_thread_polls_until_completed(emu: AssistantsEmulator, client: Any) -> None:
    assistant = make(client)
    start = len(emu.calls)
    messages = assistant.invoke({"content": "Hello there", "thread_metadata": {"k": "v"}})
    assert [m.content[0].text.value for m in messages] == ["Hello there"]
    assert all(m.role == "assistant" for m in messages)
    create = emu.calls[start]
    assert create.path == "/v1/threads/runs"
    assert create.body["thread"]["messages"][0]["content"] == "Hello there"
    assert create.body["thread"]["metadata"] == {"k": "v"}
    assert len(retrieves(emu, start)) == 3  # in_progress, in_progress, completed


def test_requires_action_returns_tool_calls_then_outputs_complete(
    emu: AssistantsEmulator, client: Any
) -> None:
    assistant = make(client)
    calls = assistant.invoke({"content": 'lookup_order {"order_id": "A1"}'})
    (call,) = calls
    assert (call.function.name, json.loads(call.function.arguments)) == (
        "lookup_order",
        {"order_id": "A1"},
    )
    run = emu.store.runs[next(reversed(emu.store.runs))].body
    done = assistant.invoke(
        {
            "run_id": run["id"],
            "thread_id": run["thread_id"],
            "tool_outputs": [{"tool_call_id": call.id, "output": "A1 shipped"}],
        }
    )
    assert [m.content[0].text.value for m in done] == ["A1 shipped"]


def test_as_agent_actions_then_finish_and_thread_reuse(
    emu: AssistantsEmulator, client: Any
) -> None:
    agent = make(client, as_agent=True)
    actions = agent.invoke({"content": 'Please lookup_order {"order_id": "B7"}'})
    assert [type(a) for a in actions] == [OpenAIAssistantAction]
    action = actions[0]
    assert (action.tool, action.tool_input) == ("lookup_order", {"order_id": "B7"})
    finish = agent.invoke({"intermediate_steps": [(action, "B7 arrives Friday")]})
    assert isinstance(finish, OpenAIAssistantFinish)
    assert finish.return_values["output"] == "B7 arrives Friday"
    assert finish.thread_id == action.thread_id and finish.run_id == action.run_id
    again = agent.invoke({"content": "Thanks!", "thread_id": finish.thread_id, "model": "gpt-x"})
    assert again.return_values["output"] == "Thanks!" and again.thread_id == finish.thread_id
    run_create = [c for c in emu.calls if c.path.endswith("/runs") and c.method == "POST"][-1]
    assert run_create.body["model"] == "gpt-x"
    assert run_create.path == f"/v1/threads/{finish.thread_id}/runs"


def test_ainvoke_polls_with_async_sleeps(emu: AssistantsEmulator, client: Any) -> None:
    agent = make(client, as_agent=True)
    fresh = OpenAIAssistantV2Runnable(
        assistant_id=agent.assistant_id,
        base_url=emu.base_url,
        api_key=KEY,
        as_agent=True,
        check_every_ms=5,
    )

    async def run() -> tuple[Any, int]:
        ticks = 0

        async def ticker() -> None:  # runs while ainvoke waits: the loop is never blocked
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        try:
            return await fresh.ainvoke({"content": "async hello"}), ticks
        finally:
            task.cancel()

    finish, ticks = asyncio.run(run())
    assert finish.return_values["output"] == "async hello" and ticks > 1


def test_other_statuses_raise_with_the_run_id(emu: AssistantsEmulator, client: Any) -> None:
    assistant = make(client)
    emu.fail_next_run("expired", "took too long")
    with pytest.raises(ProviderError) as caught:
        assistant.invoke({"content": "x"})
    run_id = next(reversed(emu.store.runs))
    assert run_id in str(caught.value) and "expired" in str(caught.value)
    assert caught.value.code == "RunExpired" and "took too long" in caught.value.message


def test_api_errors_become_provider_errors(emu: AssistantsEmulator) -> None:
    bad = OpenAIAssistantV2Runnable(
        assistant_id="asst_x", base_url=emu.base_url, api_key="sk-wrong-key-123456"
    )
    with pytest.raises(ProviderError) as caught:
        bad.invoke({"content": "x"})
    assert caught.value.status == 401 and "sk-wrong-key-123456" not in str(caught.value)
    unknown = OpenAIAssistantV2Runnable(
        assistant_id="asst_missing", base_url=emu.base_url, api_key=KEY
    )
    with pytest.raises(ProviderError, match="No assistant found"):
        unknown.invoke({"content": "x"})


def test_run_timeout_bounds_the_polling(emu: AssistantsEmulator, client: Any) -> None:
    slow = AssistantsEmulator(api_keys=[KEY], polls_in_progress=1000)
    with slow:
        slow_client = openai.OpenAI(base_url=slow.base_url, api_key=KEY, max_retries=0)
        assistant = make(slow_client, run_timeout=0.2)
        with pytest.raises(ProviderError, match="run_timeout"):
            assistant.invoke({"content": "x"})


def test_serialized_without_clients_or_key(client: Any, manifest_snapshot: Any) -> None:
    assistant = OpenAIAssistantV2Runnable(
        assistant_id="asst_snapshot", client=client, api_key=KEY, check_every_ms=250
    )
    text = runwire.dumps(assistant)
    assert KEY not in text and KEY not in repr(assistant)
    assert json.loads(text)["kwargs"]["openai_api_key"]["id"] == ["OPENAI_API_KEY"]
    manifest_snapshot(assistant)
    lc = json.loads(runwire.dumps(assistant, dialect="langchain"))
    assert lc["id"][:3] == ["langchain_community", "agents", "openai_assistant"]


def test_untrusted_files_need_a_key_and_an_allowed_base_url(emu: AssistantsEmulator) -> None:
    data = runwire.dumpd(OpenAIAssistantV2Runnable(assistant_id="a", base_url=emu.base_url))
    with pytest.raises(runwire.errors.ManifestError, match="allowed_endpoints"):
        runwire.load(data, allowed_objects="all")
    loaded = runwire.load(data, allowed_objects="all", allowed_endpoints=["http://127.0.0.1"])
    with pytest.raises(ProviderSetupError, match="OPENAI_API_KEY"):
        loaded.invoke({"content": "x"})


def test_emulate_gives_the_sdk_its_environment(tmp_path: Path) -> None:
    child = (
        "import openai, json\n"
        "from runwire.providers.openai import OpenAIAssistantV2Runnable as A\n"
        "a = A.create_assistant(name='n', instructions='i', tools=[], model='m',"
        " client=openai.OpenAI(), check_every_ms=5)\n"
        "print(json.dumps([m.content[0].text.value for m in a.invoke({'content': 'hi'})]))\n"
    )
    runwire_cli = Path(sys.executable).with_name("runwire")
    done = subprocess.run(
        [str(runwire_cli), "emulate", "openai-assistants", "--", sys.executable, "-c", child],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == ["hi"]
