"""configs/oci_vllm.yaml on the OCI vLLM emulator, and ``runwire emulate oci-vllm -- CMD``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runwire.loader.files import load_file
from runwire.testing.oci_vllm import OCIVllmEmulator

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
CONFIG = CONFIGS / "oci_vllm.yaml"
QUESTION = json.loads((CONFIGS / "inputs" / "oci_vllm.json").read_text())
TOKEN = "config-test-token-8a1d"


def test_the_config_runs_on_the_emulator(monkeypatch: pytest.MonkeyPatch) -> None:
    with OCIVllmEmulator(tokens=[TOKEN]) as emu:
        monkeypatch.setenv("OCI_LLM_ENDPOINT", emu.predict_url)
        monkeypatch.setenv("OCI_LLM_BEARER_TOKEN", TOKEN)
        pipeline = load_file(CONFIG, env={})
        assert pipeline.invoke(QUESTION) == QUESTION["question"]  # the emulator echoes
        chunks = list(pipeline.stream(QUESTION))
        assert "".join(chunks) == QUESTION["question"] and len(chunks) > 1
        sent = emu.requests[0]
    assert sent.body["messages"][0] == {
        "role": "system",
        "content": "You are a concise assistant. Answer in one sentence.",
    }
    assert (sent.body["model"], sent.body["temperature"], sent.body["top_p"]) == (
        "odsc-llm",
        0,
        0.9,
    )
    assert sent.caller == "bearer" and sent.headers["route"] == "/v1/chat/completions"


LANGCHAIN_FILE: dict[str, Any] = {
    "lc": 1,
    "type": "constructor",
    "id": ["langchain_community", "chat_models", "oci_data_science", "ChatOCIModelDeploymentVLLM"],
    "kwargs": {"max_tokens": 128, "temperature": 0.0},
}
"""What LangChain writes for the class, its ``endpoint`` removed."""

CHILD = """
import json, os, sys
import runwire
model = runwire.loads(sys.argv[1], allowed_objects="all", trusted=True)
print(json.dumps({"answer": model.invoke("hello from a child").content,
                  "endpoint": os.environ["OCI_LLM_ENDPOINT"]}))
"""


def test_emulate_runs_a_langchain_file_unchanged(tmp_path: Path) -> None:
    runwire = Path(sys.executable).with_name("runwire")
    done = subprocess.run(
        [
            str(runwire),
            "emulate",
            "oci-vllm",
            "--",
            sys.executable,
            "-c",
            CHILD,
            json.dumps(LANGCHAIN_FILE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["answer"] == "hello from a child"
    assert out["endpoint"].startswith("http://127.0.0.1:") and out["endpoint"].endswith("/predict")
