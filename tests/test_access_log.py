"""Access logs of `runwire serve`: one JSON line per request on stderr, read from a real
server process; never a body, a header or a query string; off by flag or setting."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import httpx
import pytest

from runwire.deploy.server.access_log import BackgroundStreamHandler
from serve_process import clean_env, serving_process

ROOT = Path(__file__).parent.parent
API_KEY = "access-log-key-5c1e9a"
QUESTION = {"role": "a geographer", "question": "my passport is X1234567"}


def _access_lines(lines: list[str]) -> list[dict]:
    return [json.loads(line) for line in lines if line.startswith('{"time"')]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "chat.yaml").write_text((ROOT / "configs" / "chat.yaml").read_text())
    return tmp_path


def test_one_json_line_per_request_without_secrets_or_bodies(project: Path) -> None:
    env = clean_env(RUNWIRE_API_KEYS=API_KEY)
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with serving_process("chat.yaml", cwd=project, env=env) as served:
        url = served.url
        answer = httpx.post(
            f"{url}/chat/invoke?token=query-secret-77", json={"input": QUESTION}, headers=auth
        ).json()
        batch = httpx.post(
            f"{url}/chat/batch",
            json={"inputs": [QUESTION, QUESTION]},
            headers={"x-api-key": API_KEY},
        ).json()
        refused = httpx.post(f"{url}/chat/invoke", json={"input": QUESTION})
        assert refused.status_code == 401
        with httpx.stream(
            "POST", f"{url}/chat/stream", json={"input": QUESTION}, headers=auth
        ) as response:
            streamed = "".join(response.iter_text())
        assert "event: end" in streamed
        with httpx.stream(
            "POST", f"{url}/chat/stream_events", json={"input": QUESTION}, headers=auth
        ) as response:
            assert "on_chain_end" in "".join(response.iter_text())
        httpx.get(f"{url}/healthz")
        assert served.stop() == 0

    lines = _access_lines(served.lines)
    by_path: dict[tuple[str, int], dict] = {(line["path"], line["status"]): line for line in lines}
    invoke = by_path[("/chat/invoke", 200)]
    assert set(invoke) == {
        "time",
        "method",
        "path",
        "status",
        "duration_ms",
        "pipeline",
        "run_id",
        "client",
    }
    assert invoke["method"] == "POST"
    assert invoke["pipeline"] == "chat"
    assert invoke["run_id"] == answer["metadata"]["run_id"]
    assert invoke["client"].startswith("127.0.0.1:")
    assert invoke["time"].endswith("Z")
    assert invoke["duration_ms"] >= 0
    assert sorted(by_path[("/chat/batch", 200)]["run_ids"]) == sorted(batch["metadata"]["run_ids"])
    assert "run_id" not in by_path[("/chat/invoke", 401)]  # refused before any run
    assert by_path[("/chat/stream", 200)]["run_id"]
    assert by_path[("/chat/stream_events", 200)]["run_id"]
    health = by_path[("/healthz", 200)]
    assert (health["method"], health["pipeline"]) == ("GET", None)

    everything = served.stderr
    for private in (API_KEY, "query-secret-77", "X1234567", "token=", "Bearer"):
        assert private not in everything


@pytest.mark.parametrize(
    ("flags", "extra_env"),
    [(("--no-access-log",), {}), ((), {"RUNWIRE_SERVER__ACCESS_LOG": "0"})],
    ids=["flag", "setting"],
)
def test_the_access_log_can_be_turned_off(
    project: Path, flags: tuple[str, ...], extra_env: dict[str, str]
) -> None:
    with serving_process("chat.yaml", *flags, cwd=project, env=clean_env(**extra_env)) as served:
        response = httpx.post(f"{served.url}/chat/invoke", json={"input": QUESTION})
        assert response.status_code == 200
        assert served.stop() == 0
    assert "Uvicorn running" in served.stderr  # the server's own log is still there
    assert _access_lines(served.lines) == []


class _StalledStream:
    """A stream whose writes wait until released (a pipe nobody reads)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()
        self.written: list[str] = []

    def write(self, text: str) -> None:
        self.entered.set()
        assert self.released.wait(10), "never released"
        self.written.append(text)

    def flush(self) -> None:
        pass


def test_a_stalled_stderr_never_blocks_and_drops_are_counted() -> None:
    stream = _StalledStream()
    handler = BackgroundStreamHandler(stream, max_pending=3)
    record = logging.LogRecord("runwire.access", logging.INFO, __file__, 1, "line", None, None)
    handler.emit(record)
    assert stream.entered.wait(10)  # the writer is stuck writing the first line
    started = time.monotonic()
    for _ in range(10):  # three queue up, seven are dropped
        handler.emit(record)
    assert time.monotonic() - started < 5  # emit returned although nothing was written
    assert stream.written == []
    assert handler.dropped == 7
    stream.released.set()
    handler.flush()
    assert stream.written == ["line\n"] * 4
    handler.emit(record)  # there is room again: the count comes first
    handler.flush()
    assert stream.written[4:] == ["runwire.access: 7 line(s) dropped\n", "line\n"]
    assert handler.dropped == 0
