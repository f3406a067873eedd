"""configs/neptune_qa.yaml end to end on the Neptune emulator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.loader.files import load_file
from runwire.testing.neptune import NeptuneEmulator

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "configs" / "neptune_qa.yaml"
QUESTION = json.loads((ROOT / "configs" / "inputs" / "neptune_qa.json").read_text())


def test_the_chain_answers_from_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)
    with NeptuneEmulator(credentials={EMULATOR_KEY_ID: EMULATOR_SECRET}) as emu:
        chain = load_file(CONFIG, env={"NEPTUNE_ENDPOINT_URL": emu.endpoint_url})
        out: dict[str, Any] = chain.invoke(QUESTION)
        assert out["result"].content == "Lady Bird was directed by Greta Gerwig."
        assert out["intermediate_steps"][1] == {"context": [{"director": "Greta Gerwig"}]}
        ran = [r.query for r in emu.requests if r.operation == "ExecuteOpenCypherQuery"]
        assert ran[-1].startswith("MATCH (p:Person)-[:DIRECTED]->(m:Movie {title: 'Lady Bird'})")


def test_the_documented_command_runs() -> None:
    runwire = [sys.executable, "-m", "runwire.cli.main"]
    done = subprocess.run(
        [*runwire, "emulate", "neptune", "--", *runwire, "run", str(CONFIG),
         "--input", json.dumps(QUESTION)],
        capture_output=True, text=True, timeout=180, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["result"]["content"] == (
        "Lady Bird was directed by Greta Gerwig."
    )
