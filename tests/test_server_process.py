"""`runwire serve` as a real process: start-up, files served by stem, several workers,
a missing secret stopping start-up, SIGTERM draining with requests in flight, and a
bounded load test (200 concurrent clients for 10 seconds, no failed request).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).parent.parent
RUNWIRE = [sys.executable, "-m", "runwire.cli.main"]
CHAT_INPUT = {"role": "a geographer", "question": "Capital of France?"}

SLOW = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{question}"]]
  - _type: FakeChatModel
    responses: ["slow answer"]
    sleep: {sleep}
  - _type: StrOutputParser
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNWIRE_", "AWS_"))}
    env.update(PYTHONUNBUFFERED="1", AWS_EC2_METADATA_DISABLED="true", **extra)
    return env


@contextmanager
def server(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``runwire serve ARGS --port P`` running until the block ends; yields (url, process)."""
    port = _free_port()
    process = subprocess.Popen(
        [*RUNWIRE, "serve", *args, "--port", str(port)],
        cwd=cwd,
        env=env or _env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{process.stdout.read()}")  # type: ignore[union-attr]
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def _in_flight(url: str) -> float:
    """Requests the server is handling, this /metrics request not counted."""
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("runwire_requests_in_flight "):
            return float(line.split()[1]) - 1
    raise AssertionError("no runwire_requests_in_flight in /metrics")


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "slow.yaml").write_text(SLOW.replace("{sleep}", "1.0"))
    (tmp_path / "chat.yaml").write_text((ROOT / "configs" / "chat.yaml").read_text())
    return tmp_path


def test_files_are_served_under_their_stems(manifests: Path) -> None:
    with server("chat.yaml", "slow.yaml", cwd=manifests) as (url, _):
        ready = httpx.get(f"{url}/readyz").json()
        assert ready == {"status": "ready", "pipelines": ["chat", "slow"]}
        answer = httpx.post(f"{url}/chat/invoke", json={"input": CHAT_INPUT}).json()
        assert answer["output"] == "Paris is the capital of France."


def test_a_deployment_file_with_an_environment(tmp_path: Path) -> None:
    with server("runwire.yaml", "--env", "prod", cwd=ROOT) as (url, _):
        payload = {"input": {"question": "q"}, "config": {"configurable": {"replies": ["x"]}}}
        # prod narrows `switchable` to the model choice only
        assert httpx.post(f"{url}/switchable/invoke", json=payload).status_code == 422
        payload["config"] = {"configurable": {"model": "formal"}}
        assert httpx.post(f"{url}/switchable/invoke", json=payload).status_code == 200


def test_a_missing_secret_stops_start_up(tmp_path: Path) -> None:
    # names without a service prefix: RUNWIRE_* (or OPENAI_*) in an AWS field is refused
    (tmp_path / "bedrock.yaml").write_text(
        "_type: ChatBedrockConverse\n"
        "model: anthropic.claude-3-haiku-20240307-v1:0\n"
        "region_name: us-east-1\n"
        "aws_access_key_id: !secret SERVE_TEST_KEY_ID\n"
        "aws_secret_access_key: !secret SERVE_TEST_SECRET_KEY\n"
    )
    done = subprocess.run(
        [*RUNWIRE, "serve", "bedrock.yaml", "--port", str(_free_port())],
        cwd=tmp_path,
        env=_env(SERVE_TEST_KEY_ID="AKIDEXAMPLE"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "SERVE_TEST_SECRET_KEY" in done.stderr
    assert "bedrock" in done.stderr and "aws_secret_access_key" in done.stderr
    assert "AKIDEXAMPLE" not in done.stderr


def test_sigterm_drains_requests_in_flight(manifests: Path) -> None:
    with server("slow.yaml", cwd=manifests) as (url, process):
        results: list[int] = []
        lock = threading.Lock()

        def call() -> None:
            status = httpx.post(
                f"{url}/slow/invoke", json={"input": {"question": "q"}}, timeout=30
            ).status_code
            with lock:
                results.append(status)

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _in_flight(url) < 20:
            assert time.monotonic() < deadline, "the requests never got in flight"
            time.sleep(0.02)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        late = httpx.post(f"{url}/slow/invoke", json={"input": {"question": "q"}})
        assert late.status_code == 503
        assert httpx.get(f"{url}/readyz").status_code == 503
        assert httpx.get(f"{url}/healthz").status_code == 200
        for thread in threads:
            thread.join(30)
        assert results == [200] * 20, "a request in flight was lost"
        assert process.wait(15) == 0


def test_several_workers_serve_and_stop_cleanly(manifests: Path) -> None:
    with server("chat.yaml", "--workers", "2", cwd=manifests) as (url, process):
        with httpx.Client(timeout=10) as client:
            for _ in range(20):
                response = client.post(f"{url}/chat/invoke", json={"input": CHAT_INPUT})
                assert response.status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0


def test_load_200_clients_for_10_seconds_without_failures(manifests: Path) -> None:
    clients, seconds, cap = 200, 10.0, 100_000

    async def load(url: str) -> tuple[int, list[str]]:
        done, failures = 0, []
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
            stop = time.monotonic() + seconds

            async def one_client() -> None:
                nonlocal done
                while time.monotonic() < stop and done < cap:
                    try:
                        response = await client.post("/chat/invoke", json={"input": CHAT_INPUT})
                        if response.status_code != 200:
                            failures.append(f"HTTP {response.status_code}: {response.text[:80]}")
                    except httpx.HTTPError as exc:
                        failures.append(f"{type(exc).__name__}: {exc}")
                    done += 1

            await asyncio.gather(*(one_client() for _ in range(clients)))
        return done, failures

    with server("chat.yaml", cwd=manifests) as (url, _):
        done, failures = asyncio.run(load(url))
    assert failures == [], failures[:5]
    assert done >= clients
