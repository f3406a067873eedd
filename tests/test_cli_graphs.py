"""The command line on graph files: threads in SQLite, resume, stream modes, state, Mermaid.

Runs ``runwire.cli.main.main`` in-process (outputs are JSON lines under capsys).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from runwire.cli.main import main

APPROVAL = """\
_type: ReactAgent
model: {_type: FakeChatModel}
prompt: Use the tools.
interrupt_before: [tools]
tools:
  - _type: Tool
    name: get_weather
    description: Weather for a city.
    args_schema: {type: object, properties: {city: {type: string}}, required: [city]}
    runnable: {_type: RunnablePick, keys: city}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "runwire.yaml").write_text("")
    (tmp_path / "agent.yaml").write_text(APPROVAL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lines(capsys: pytest.CaptureFixture[str]) -> list[Any]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def _question() -> str:
    return json.dumps({"messages": [["human", 'get_weather {"city": "Lima"}']]})


def test_a_thread_stops_for_approval_then_resumes(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "agent.yaml", "--input", _question(), "--thread", "t1"]) == 0
    (paused,) = _lines(capsys)
    assert [m["type"] for m in paused["messages"]] == ["human", "ai"]
    assert (project / ".runwire" / "checkpoints.sqlite").is_file()

    assert main(["state", "agent.yaml", "--thread", "t1"]) == 0
    (state,) = _lines(capsys)
    assert state["next"] == ["tools"] and state["source"] == "loop"

    assert main(["run", "agent.yaml", "--thread", "t1", "--resume", "null"]) == 0
    (done,) = _lines(capsys)
    assert [m["content"] for m in done["messages"]][-2:] == ["Lima", "Lima"]

    assert main(["state", "agent.yaml", "--thread", "t1", "--history"]) == 0
    history = _lines(capsys)
    assert history[0]["next"] == [] and len(history) > 3
    assert [h["step"] for h in history] == sorted((h["step"] for h in history), reverse=True)


def test_stream_modes_print_mode_and_chunk(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", "agent.yaml", "-i", _question(), "--stream-mode", "updates"]
    assert main([*argv, "--stream-mode", "values"]) == 0
    parts = _lines(capsys)
    assert {mode for mode, _ in parts} == {"updates", "values"}
    assert [next(iter(c)) for m, c in parts if m == "updates"] == ["agent", "__interrupt__"]


def test_graph_prints_mermaid(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "agent.yaml"]) == 0  # piped: Mermaid
    text = capsys.readouterr().out
    assert text.startswith("---\nconfig:") and "\tagent -.-> tools;" in text
    assert main(["graph", "agent.yaml", "--ascii"]) == 0
    assert capsys.readouterr().out == (
        "__start__\n  └─> agent\nagent\n  ├┄> __end__\n  └┄> tools\ntools\n  └─> agent\n__end__\n"
    )


def test_thread_options_need_a_graph(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "chain.yaml").write_text("_type: RunnablePassthrough\n")
    assert main(["run", "chain.yaml", "-i", '"x"', "--thread", "t"]) == 1
    assert "graph files" in capsys.readouterr().err
    assert main(["run", "agent.yaml", "--resume", "1"]) == 1
    assert "--thread" in capsys.readouterr().err
    capsys.readouterr()
    assert main(["graph", "chain.yaml"]) == 0  # chains are drawn too
    assert "RunnablePassthroughInput --> RunnablePassthrough;" in capsys.readouterr().out
