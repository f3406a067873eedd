"""configs/openai_assistant.yaml on the Assistants emulator's Responses API."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runwire.loader.files import load_file
from runwire.providers.openai import OpenAIAssistantAction, OpenAIAssistantFinish
from runwire.testing.openai_assistants import AssistantsEmulator

pytest.importorskip("openai")  # in the dev extra: CI has it

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
CONFIG = CONFIGS / "openai_assistant.yaml"
QUESTION = json.loads((CONFIGS / "inputs" / "openai_assistant.json").read_text())
KEY = "sk-config-test-0d4e"


def test_the_config_runs_a_tool_round_on_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    with AssistantsEmulator(api_keys=[KEY]) as emu:
        monkeypatch.setenv("OPENAI_BASE_URL", emu.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        agent = load_file(CONFIG, env={})
        (action,) = agent.invoke(QUESTION)
        assert isinstance(action, OpenAIAssistantAction)
        assert (action.tool, action.tool_input) == ("lookup_order", {"order_id": "A17"})
        finish = agent.invoke({"intermediate_steps": [(action, "A17 shipped on Monday.")]})
        assert isinstance(finish, OpenAIAssistantFinish)
        assert finish.return_values["output"] == "A17 shipped on Monday."
        first = next(c for c in emu.calls if c.path == "/v1/responses").body
    assert (first["model"], first["instructions"]) == (
        "gpt-4o-mini",
        "Answer questions about orders in one sentence.",
    )
    assert [t["name"] for t in first["tools"]] == ["lookup_order"]
