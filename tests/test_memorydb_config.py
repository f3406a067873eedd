"""configs/semantic_cache.yaml end to end: Bedrock and MemoryDB emulators, a repeated
question answered from the semantic cache without a second model call."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runwire.loader.files import load_file
from runwire.testing.memorydb import MemoryDBEmulator

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "semantic_cache.yaml"
QUESTION = json.loads((ROOT / "configs" / "inputs" / "semantic_cache.json").read_text())


@pytest.fixture
def memorydb(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryDBEmulator]:
    with MemoryDBEmulator(password="config-pw") as emu:
        monkeypatch.setenv("REDIS_URL", emu.url)
        yield emu


def operations(bedrock: Any) -> Counter[str]:
    return Counter(r.operation for r in bedrock.requests)


def test_the_second_question_is_answered_from_the_cache(
    aws_env: Any, memorydb: MemoryDBEmulator
) -> None:
    env = {"BEDROCK_ENDPOINT_URL": aws_env.endpoint_url}
    pipeline = load_file(CONFIG, env=env)
    assert pipeline.invoke(QUESTION) == QUESTION["question"]  # the emulator echoes
    assert operations(aws_env)["Converse"] == 1
    again = load_file(CONFIG, env=env)  # a new process would do the same
    assert again.invoke(QUESTION) == QUESTION["question"]
    assert operations(aws_env)["Converse"] == 1  # no second model call
    assert operations(aws_env)["InvokeModel"] == 2  # the question embedded twice
    assert again.invoke({"question": "Something else entirely?"}) == "Something else entirely?"
    assert operations(aws_env)["Converse"] == 2
    assert memorydb.calls["FT.SEARCH"] >= 2


def test_the_documented_command_runs(tmp_path: Path) -> None:
    runwire = [sys.executable, "-m", "runwire.cli.main"]
    run = [*runwire, "run", str(CONFIG), "--input", json.dumps(QUESTION)]
    script = f"{' '.join(map(repr_arg, run))} && {' '.join(map(repr_arg, run))}"
    done = subprocess.run(
        [*runwire, "emulate", "bedrock", "--", *runwire, "emulate", "memorydb", "--",
         "sh", "-c", script],
        capture_output=True, text=True, timeout=180, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(QUESTION["question"]) == 2
    assert "1 x Converse" in done.stderr and "2 x InvokeModel" in done.stderr


def repr_arg(arg: str) -> str:
    import shlex

    return shlex.quote(arg)
