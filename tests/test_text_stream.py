"""Empty text chunks (a Bedrock stream's metadata-only tail after a string parser) are
left out by the CLI and the /stream route, and kept by Python's stream (issue 17, item 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from runwire.deploy import create_app
from runwire.providers.aws import ChatBedrockConverse
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.text_stream import EmptyTextFilter, skip_empty_text
from runwire.testing.bedrock import BedrockEmulator
from runwire.testing.server import serving

ROOT = Path(__file__).resolve().parent.parent
RUNWIRE = [sys.executable, "-m", "runwire.cli.main"]


@pytest.mark.parametrize(
    ("chunks", "kept"),
    [
        (["a", "", "b", "", ""], ["a", "b"]),
        (["", "", ""], [""]),  # an empty answer still streams one chunk
        ([], []),
        ([{"x": ""}, "", 0], [{"x": ""}, 0]),  # only "" strings go
    ],
)
def test_skip_empty_text(chunks: list[Any], kept: list[Any]) -> None:
    assert list(skip_empty_text(chunks)) == kept
    empty = EmptyTextFilter()
    assert [c for c in chunks if empty.keep(c)] + list(empty.leftover()) == kept


def _pipeline(emulator: BedrockEmulator) -> Any:
    model = ChatBedrockConverse(
        model="anthropic.claude-3-haiku-20240307-v1:0",
        region_name="us-east-1",
        endpoint_url=emulator.endpoint_url,
        aws_access_key_id="AKIDTEXTSTREAM",
        aws_secret_access_key="text-stream-secret",
    )
    return model | StrOutputParser()


@pytest.fixture(scope="module")
def emulator() -> Any:
    with BedrockEmulator(credentials={"AKIDTEXTSTREAM": "text-stream-secret"}) as emu:
        yield emu


def test_python_stream_keeps_the_metadata_tail(emulator: BedrockEmulator) -> None:
    chunks = list(_pipeline(emulator).stream("say something short"))
    assert chunks[-1] == ""  # as LangChain's StrOutputParser yields it
    assert "".join(chunks) == _pipeline(emulator).invoke("say something short")


def test_sse_stream_sends_no_empty_chunks(emulator: BedrockEmulator) -> None:
    pipeline = _pipeline(emulator)
    with serving(create_app({"chat": pipeline})) as url:
        response = httpx.post(f"{url}/chat/stream", json={"input": "say something short"})
    assert response.status_code == 200
    data = [
        json.loads(line[len("data: ") :])
        for event in response.text.split("\r\n\r\n")
        if event.startswith("event: data")
        for line in event.splitlines()
        if line.startswith("data: ")
    ]
    assert data and "" not in data
    assert "".join(data) == pipeline.invoke("say something short")


def test_cli_stream_prints_no_empty_chunks() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BEDROCK_"))}
    command = [
        *RUNWIRE,
        "emulate",
        "bedrock",
        "--",
        *RUNWIRE,
        "run",
        str(ROOT / "configs/quickstart.yaml"),
        "--input",
        '{"question": "Name one colour."}',
        "--stream",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert lines and "" not in lines
    assert "colour" in "".join(lines)
