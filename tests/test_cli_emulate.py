"""``runwire emulate bedrock``: run a command against the emulator, or serve it.

The command mode runs in-process through :func:`runwire.cli.main.main` (the child is a
real subprocess); one test runs the whole thing as ``python -m runwire.cli.main`` with a
boto3 child, one starts the serve mode as a process and stops it with Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from runwire.cli.main import main
from runwire.testing.bedrock import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

RUNWIRE = [sys.executable, "-m", "runwire.cli.main"]
ENV_NAMES = ("BEDROCK_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION")
DUMP_ENV = (
    "import json, os, sys; "
    f"json.dump({{k: os.environ.get(k) for k in {ENV_NAMES!r}}}, open(sys.argv[1], 'w')); "
    "sys.exit(int(sys.argv[2]))"
)
CONVERSE_CHILD = """
import os, boto3
client = boto3.client("bedrock-runtime", endpoint_url=os.environ["BEDROCK_ENDPOINT_URL"])
response = client.converse(
    modelId="anthropic.claude-3-haiku-20240307-v1:0",
    messages=[{"role": "user", "content": [{"text": "hello from the child"}]}],
)
print(response["output"]["message"]["content"][0]["text"])
"""


def test_a_command_runs_against_the_emulator() -> None:
    done = subprocess.run(
        [*RUNWIRE, "emulate", "bedrock", "--", sys.executable, "-c", CONVERSE_CHILD],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "hello from the child\n"


def test_the_child_gets_the_endpoint_and_keys_and_its_status_is_returned(
    tmp_path: Path,
) -> None:
    out = tmp_path / "env.json"
    code = main(["emulate", "bedrock", "--", sys.executable, "-c", DUMP_ENV, str(out), "7"])
    assert code == 7
    env = json.loads(out.read_text())
    assert env["BEDROCK_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_ACCESS_KEY_ID"] == DEFAULT_ACCESS_KEY_ID
    assert env["AWS_SECRET_ACCESS_KEY"] == DEFAULT_SECRET_ACCESS_KEY
    assert env["AWS_REGION"] == "us-east-1"


def test_given_keys_and_a_set_region_are_passed_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    out = tmp_path / "env.json"
    argv = ["emulate", "bedrock", "--access-key-id", "AKIDCLI", "--secret-access-key", "s3"]
    assert main([*argv, "--", sys.executable, "-c", DUMP_ENV, str(out), "0"]) == 0
    env = json.loads(out.read_text())
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIDCLI", "s3")
    assert env["AWS_REGION"] == "eu-west-3"


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emulate", "bedrock", "--access-key-id", "AKIDCLI"]) == 2
    assert "go together" in capsys.readouterr().err
    assert main(["emulate", "bedrock", "--", "no-such-command-runwire-test"]) == 127
    assert "cannot run no-such-command-runwire-test" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["emulate", "sqs"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["emulate", "--help"])
    assert exited.value.code == 0
    assert "-- COMMAND" in capsys.readouterr().out


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serve_mode_until_interrupted() -> None:
    secret = "cli-secret-value"
    process = subprocess.Popen(
        [
            *RUNWIRE,
            "emulate",
            "bedrock",
            "--access-key-id",
            "AKIDCLI",
            "--secret-access-key",
            secret,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C as a terminal sends it: a suite started in the background by a
        # non-interactive shell inherits SIGINT ignored, and Python then keeps it ignored
        preexec_fn=_default_sigint,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Bedrock emulator on http://127.0.0.1:"), line
        url = line.split()[-1]
        client = boto3.client(
            "bedrock-runtime",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="AKIDCLI",
            aws_secret_access_key=secret,
        )
        response = client.converse(
            modelId="amazon.nova-lite-v1:0",
            messages=[{"role": "user", "content": [{"text": "served"}]}],
        )
        assert response["output"]["message"]["content"] == [{"text": "served"}]
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130
    assert f"BEDROCK_ENDPOINT_URL={url}" in err
    assert "AWS_ACCESS_KEY_ID=AKIDCLI" in err
    assert secret not in err + out


TERM_CHILD = """
import os, signal, sys, time
def stop(signum, frame):
    print("child stopped by", signum, flush=True)
    sys.exit(3)
signal.signal(signal.SIGTERM, stop)
print(os.getpid(), flush=True)
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    time.sleep(0.05)
sys.exit(9)
"""


def test_sigterm_to_the_wrapper_reaches_the_child_and_nothing_is_orphaned() -> None:
    process = subprocess.Popen(
        [*RUNWIRE, "emulate", "bedrock", "--", sys.executable, "-c", TERM_CHILD],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        child_pid = int(process.stdout.readline())
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert out == f"child stopped by {int(signal.SIGTERM)}\n", err
    assert process.returncode == 3  # the child's own status, as for a normal end
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)  # the child is gone, not re-parented and running
