"""`runwire emulate bedrock -- COMMAND` says where the answers came from (issue 17, item 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNWIRE = [sys.executable, "-m", "runwire.cli.main"]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "BEDROCK_"))}


def test_the_quickstart_says_its_answer_came_from_the_emulator() -> None:
    command = [
        *RUNWIRE,
        "emulate",
        "bedrock",
        "--",
        *RUNWIRE,
        "run",
        str(ROOT / "configs/quickstart.yaml"),
        "--input",
        f"@{ROOT / 'configs/inputs/quickstart.json'}",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "Say hello to runwire" in done.stdout
    report = done.stderr.strip().splitlines()[-1]
    assert report.startswith("(answered by runwire's Bedrock emulator: 1 x Converse ")
    assert "anthropic.claude-3-haiku-20240307-v1:0" in report
    assert "Unset BEDROCK_ENDPOINT_URL" in report


def test_no_report_when_nothing_was_asked() -> None:
    command = [*RUNWIRE, "emulate", "bedrock", "--", sys.executable, "-c", "pass"]
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=60)
    assert done.returncode == 0
    assert "answered by" not in done.stderr
