"""`runwire serve --reload` as a real process: edits to a manifest, an included file, a
manifest overlay, runwire.yaml and .env are served without a restart; a broken edit is
logged (file and error) while the last good build keeps answering; SIGTERM ends it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from graph_api_files import write_project
from serve_process import RUNWIRE, clean_env, serving_process, wait_for

WAIT_S = 10  # for a change to be served (watchfiles' debounce is 0.4 s)

CHAT = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{question}"]]
  - _type: FakeChatModel
    responses: ["ANSWER"]
  - _type: StrOutputParser
"""


def _ask(url: str, name: str = "chat") -> str | None:
    response = httpx.post(f"{url}/{name}/invoke", json={"input": {"question": "q"}}, timeout=5)
    return response.json()["output"] if response.status_code == 200 else None


def _served_answer(url: str, expected: str, name: str = "chat") -> None:
    wait_for(lambda: _ask(url, name) == expected, WAIT_S, f"/{name} to answer {expected!r}")


def test_edits_are_served_and_a_broken_edit_keeps_the_last_build(tmp_path: Path) -> None:
    manifest = tmp_path / "chat.yaml"
    manifest.write_text(CHAT.replace("ANSWER", "first"))
    with serving_process("--reload", "chat.yaml", cwd=tmp_path) as served:
        assert _ask(served.url) == "first"
        manifest.write_text(CHAT.replace("ANSWER", "second"))
        _served_answer(served.url, "second")
        reloaded = "reloaded after a change to chat.yaml"
        wait_for(lambda: reloaded in served.stderr, WAIT_S, "the reload's log line")

        manifest.write_text(CHAT.replace("ANSWER", "third").replace("StrOutputParser", "StrParsr"))
        error = "unknown _type 'StrParsr'"
        wait_for(lambda: error in served.stderr, WAIT_S, "the reload error")
        assert "chat.yaml changed but does not build" in served.stderr
        assert f"chat.yaml:7:5: $.steps[2]._type: pipeline chat: {error}" in served.stderr
        assert "still serving the last good build" in served.stderr
        assert _ask(served.url) == "second"
        assert httpx.get(f"{served.url}/readyz").status_code == 200

        manifest.write_text(CHAT.replace("ANSWER", "fixed"))
        _served_answer(served.url, "fixed")
        assert served.children() == []  # one process: nothing to orphan
        assert served.stop() == 0


def test_includes_overlays_and_the_deployment_file_are_watched(tmp_path: Path) -> None:
    (tmp_path / "runwire.yaml").write_text("pipelines:\n  chat: {path: chat.yaml}\n")
    (tmp_path / "chat.yaml").write_text(
        CHAT.replace(
            '  - _type: FakeChatModel\n    responses: ["ANSWER"]\n', "  - !include model.yaml\n"
        )
    )
    (tmp_path / "model.yaml").write_text('_type: FakeChatModel\nresponses: ["included"]\n')
    (tmp_path / "other.yaml").write_text('_type: FakeChatModel\nresponses: ["other"]\n')
    (tmp_path / "formal.yaml").write_text('responses: ["from the overlay"]\n')
    with serving_process("--reload", "runwire.yaml", cwd=tmp_path) as served:
        assert _ask(served.url) == "included"
        (tmp_path / "model.yaml").write_text('_type: FakeChatModel\nresponses: ["edited"]\n')
        _served_answer(served.url, "edited")

        (tmp_path / "runwire.yaml").write_text(
            "pipelines:\n  chat: {path: chat.yaml}\n"
            "  other: {path: other.yaml, overlays: [formal.yaml]}\n"
        )
        wait_for(
            lambda: httpx.get(f"{served.url}/readyz").json()["pipelines"] == ["chat", "other"],
            WAIT_S,
            "the new pipeline",
        )
        answer = httpx.post(f"{served.url}/other/invoke", json={"input": "hi"}).json()
        assert answer["output"]["content"] == "from the overlay"

        (tmp_path / "formal.yaml").write_text('responses: ["overlay edited"]\n')

        def overlay_served() -> bool:
            answer = httpx.post(f"{served.url}/other/invoke", json={"input": "hi"}).json()
            return answer["output"]["content"] == "overlay edited"

        wait_for(overlay_served, WAIT_S, "the overlay's edit")

        (tmp_path / ".env").write_text("RUNWIRE_API_KEYS=reload-key-1\n")  # settings too
        wait_for(
            lambda: httpx.post(f"{served.url}/chat/invoke", json={"input": {}}).status_code == 401,
            WAIT_S,
            "the API key from .env",
        )
        assert _ask(served.url) is None
        keyed = httpx.post(
            f"{served.url}/chat/invoke",
            json={"input": {"question": "q"}},
            headers={"X-API-Key": "reload-key-1"},
        )
        assert keyed.json()["output"] == "edited"
        assert served.stop() == 0


def test_reload_serves_from_one_process_only(tmp_path: Path) -> None:
    (tmp_path / "chat.yaml").write_text(CHAT.replace("ANSWER", "x"))
    flag = subprocess.run(
        [*RUNWIRE, "serve", "--reload", "--workers", "2", "chat.yaml"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert flag.returncode == 2
    assert "--reload serves from one process" in flag.stderr
    setting = subprocess.run(
        [*RUNWIRE, "serve", "--reload", "chat.yaml"],
        cwd=tmp_path,
        env=clean_env(RUNWIRE_SERVER__WORKERS="2"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert setting.returncode == 1
    assert "--reload serves from one process, but workers is 2" in setting.stderr


GRAPH = """\
_type: StateGraph
name: echo
state:
  question: {type: string}
  answer: {type: string}
input: [question]
nodes:
  copy: {reads: {question: question}, writes: answer, run: {_type: RunnablePick, keys: question}}
edges: [[START, copy], [copy, END]]
"""


def _open_files(pid: int, name: str) -> int:
    """How many of the process's file descriptors are open on a file called ``name``."""
    found = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found += Path(fd.readlink()).name == name
        except OSError:  # closed meanwhile
            continue
    return found


def test_reloads_keep_one_checkpointer_and_the_threads(tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text(GRAPH)
    with serving_process("--reload", "echo.yaml", cwd=tmp_path) as served:
        run = {"assistant_id": "echo", "input": {"question": "kept"}, "if_not_exists": "create"}
        answer = httpx.post(f"{served.url}/threads/t-1/runs/wait", json=run, timeout=10)
        assert answer.json() == {"question": "kept", "answer": "kept"}
        pid = served.process.pid
        opened = _open_files(pid, "checkpoints.db")
        assert opened >= 1
        for n in range(3):  # each edit is a new build, each serving graph requests
            (tmp_path / "echo.yaml").write_text(GRAPH.replace("name: echo", f"name: echo{n}"))
            wait_for(
                lambda n=n: (
                    "serving echo" in served.stderr
                    and served.stderr.count("reloaded after a change") > n
                ),
                WAIT_S,
                f"reload {n + 1}",
            )
            state = httpx.get(f"{served.url}/threads/t-1/state", timeout=10)
            assert state.json()["values"] == {"question": "kept", "answer": "kept"}
        assert _open_files(pid, "checkpoints.db") == opened  # no checkpointer opened again
        assert served.stop() == 0


def test_a_changed_checkpointer_is_logged_as_needing_a_restart(tmp_path: Path) -> None:
    (tmp_path / "echo.yaml").write_text(GRAPH)
    deployment = tmp_path / "runwire.yaml"
    deployment.write_text("pipelines:\n  echo: echo.yaml\ncheckpointer: {sqlite: {path: a.db}}\n")
    with serving_process("--reload", "runwire.yaml", cwd=tmp_path) as served:
        run = {"assistant_id": "echo", "input": {"question": "q"}, "if_not_exists": "create"}
        assert httpx.post(f"{served.url}/threads/t-1/runs/wait", json=run, timeout=10).is_success
        deployment.write_text(deployment.read_text().replace("a.db", "b.db"))
        needed = "the checkpointer setting changed: it takes effect on a restart"
        wait_for(lambda: needed in served.stderr, WAIT_S, "the restart warning")
        state = httpx.get(f"{served.url}/threads/t-1/state", timeout=10)
        assert state.json()["values"] == {"question": "q", "answer": "q"}  # still a.db's
        assert not (tmp_path / "b.db").exists()
        assert served.stop() == 0


def _background_run_in_slow_node(url: str) -> tuple[str, str]:
    """A background run of the slow graph on a new thread, once it is in its slow node."""
    tid = httpx.post(f"{url}/threads", json={}, timeout=10).json()["thread_id"]
    body = {"assistant_id": "slow", "input": {"question": tid}}
    run_id = httpx.post(f"{url}/threads/{tid}/runs", json=body, timeout=10).json()["run_id"]
    wait_for(
        lambda: httpx.get(f"{url}/threads/{tid}/state", timeout=10).json()["next"] == ["slow"],
        WAIT_S,
        "the run to reach the slow node",
    )
    return tid, run_id


def test_shutdown_stops_the_background_runs_of_every_build(tmp_path: Path) -> None:
    write_project(tmp_path)
    env = clean_env(RUNWIRE_SERVER__DRAIN_TIMEOUT_S="0.2")
    with serving_process("--reload", "runwire.yaml", cwd=tmp_path, env=env) as served:
        first = _background_run_in_slow_node(served.url)  # started by the first build
        (tmp_path / "chat.yaml").write_text(CHAT.replace("ANSWER", "edited"))
        wait_for(lambda: "reloaded after a change" in served.stderr, WAIT_S, "the reload")
        second = _background_run_in_slow_node(served.url)  # started by the reload's build
        served.stop()
        assert "stopping 2 graph run(s) still running" in served.stderr
    with serving_process("runwire.yaml", cwd=tmp_path) as again:  # the same SQLite file
        for tid, run_id in (first, second):
            run = httpx.get(f"{again.url}/threads/{tid}/runs/{run_id}", timeout=10).json()
            assert run["status"] == "interrupted"  # left on its last checkpoint, to continue
            thread = httpx.get(f"{again.url}/threads/{tid}", timeout=10).json()
            assert thread["status"] == "idle"  # released by the stopped server
        assert again.stop() == 0


def test_a_reloads_build_follows_a_background_run_from_its_start(tmp_path: Path) -> None:
    write_project(tmp_path)
    with serving_process("--reload", "runwire.yaml", cwd=tmp_path) as served:
        tid, run_id = _background_run_in_slow_node(served.url)  # started by the first build
        (tmp_path / "chat.yaml").write_text(CHAT.replace("ANSWER", "edited"))
        wait_for(lambda: "reloaded after a change" in served.stderr, WAIT_S, "the reload")
        url = f"{served.url}/threads/{tid}/runs/{run_id}/stream"
        text = httpx.get(url, timeout=30).text  # through the reload's build
        # every step's values from the run's start (a build that does not know the run
        # would send its final values only)
        assert text.count("event: values") == 4  # the input, then each of the 3 steps
        assert '"done":' in text.rsplit("event: values", 1)[1]
        assert served.stop() == 0
