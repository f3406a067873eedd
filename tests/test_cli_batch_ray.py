"""``runwire batch --engine ray``: a local Ray instance (2 CPUs) against the Bedrock emulator.

The Ray workers get their secrets the way a cluster's would: ``AWS_ACCESS_KEY_ID`` from
their environment and ``AWS_SECRET_ACCESS_KEY`` from their secrets dir (``RUNWIRE_SECRETS__*``),
both set when Ray starts and absent from this process while the batches run.
"""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from conftest import _AWS_ENV, EMULATOR_KEY_ID, EMULATOR_SECRET
from runwire.cli.batch import BatchError, BatchReport, input_key, run_batch
from runwire.cli.batch_ray import run_batch_ray, shipped_manifest
from runwire.cli.main import main
from runwire.loader.files import Manifest

MANIFEST = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{question}"]]
  - _type: ChatBedrockConverse
    model: anthropic.claude-3-haiku-20240307-v1:0
    endpoint_url: "${BEDROCK_ENDPOINT_URL}"
    region_name: us-east-1
    aws_access_key_id: !secret AWS_ACCESS_KEY_ID
    aws_secret_access_key: !secret AWS_SECRET_ACCESS_KEY
    max_tokens: 32
  - _type: StrOutputParser
"""

GRAPH = """\
_type: StateGraph
name: qa
state:
  question: {type: string}
  tried: {type: array, reducer: add}
  answer: {type: string}
input: [question]
output: [answer, tried]
nodes:
  ask:
    reads: {question: question}
    writes: {answer: answer, tried: tried}
    run:
      _type: parallel
      branches:
        tried: {_type: RunnablePick, keys: question}
        answer:
          _type: sequence
          steps:
            - _type: ChatPromptTemplate
              messages: [[human, "{question}"]]
            - _type: ChatBedrockConverse
              model: anthropic.claude-3-haiku-20240307-v1:0
              endpoint_url: "${BEDROCK_ENDPOINT_URL}"
              region_name: us-east-1
              aws_access_key_id: !secret AWS_ACCESS_KEY_ID
              aws_secret_access_key: !secret AWS_SECRET_ACCESS_KEY
            - _type: StrOutputParser
edges: [[START, ask], [ask, END]]
"""

COUNT = 300


@pytest.fixture(scope="module")
def ray_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A local Ray instance whose workers hold the emulator's key pair (not this process)."""
    secrets = tmp_path_factory.mktemp("worker-secrets")
    (secrets / "AWS_SECRET_ACCESS_KEY").write_text(EMULATOR_SECRET + "\n")
    empty = secrets / "no-aws-config"
    with pytest.MonkeyPatch.context() as env:  # what the workers inherit, restored after
        for name in (*_AWS_ENV, "RAY_ADDRESS"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
        env.setenv("AWS_CONFIG_FILE", str(empty))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty))
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.setenv("RUNWIRE_SECRETS__ORDER", "env,dir")
        env.setenv("RUNWIRE_SECRETS__DIR", str(secrets))
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


@pytest.fixture
def chain(tmp_path: Path, emu: Any, monkeypatch: pytest.MonkeyPatch, ray_workers: None) -> str:
    """The manifest's shipped text, pointing at the emulator."""
    monkeypatch.setenv("BEDROCK_ENDPOINT_URL", emu.endpoint_url)
    path = tmp_path / "chain.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    return shipped_manifest(Manifest.read([path]), str(path))


def questions(count: int) -> list[dict[str, str]]:
    return [{"question": f"Question {i}: what is the capital of France?"} for i in range(count)]


def write_inputs(path: Path, values: list[Any], *extra_lines: str) -> Path:
    lines = [json.dumps(v) for v in values] + list(extra_lines)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def asked(emu: Any) -> list[str]:
    """The user text of every Converse call the emulator received."""
    return [r.body["messages"][-1]["content"][0]["text"] for r in emu.requests]


def test_the_shipped_text_names_secrets_and_reads_variables_here(
    chain: str, emu: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)  # set here too: never shipped
    wire = json.loads(chain)
    model = wire["kwargs"]["middle"][0]["kwargs"]
    assert model["endpoint_url"] == emu.endpoint_url
    assert model["aws_secret_access_key"] == {
        "lc": 1,
        "type": "secret",
        "id": ["AWS_SECRET_ACCESS_KEY"],
    }
    assert EMULATOR_SECRET not in chain and EMULATOR_KEY_ID not in chain


def test_a_batch_runs_on_the_workers_like_the_local_engine(
    chain: str, emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = questions(COUNT)
    inputs = write_inputs(tmp_path / "in.jsonl", [*values, {"nope": 1}], "{not json")
    out, stream = tmp_path / "out.jsonl", io.StringIO()
    report = run_batch_ray(
        chain,
        inputs,
        out,
        source="chain.yaml",
        concurrency=8,
        progress=True,
        progress_stream=stream,
    )
    assert report == BatchReport(total=COUNT + 2, skipped=0, succeeded=COUNT, failed=2)
    records = read_records(out)
    assert [r["index"] for r in records] == list(range(COUNT + 2))
    for record, value in zip(records, values, strict=False):
        assert record == {
            "index": record["index"],
            "key": input_key(value),
            "output": value["question"],  # the emulator echoes the question
        }
    missing, garbled = records[COUNT]["error"], records[COUNT + 1]["error"]
    assert missing["type"] == "KeyError" and "question" in missing["message"]
    assert garbled["type"] == "InputError" and "line 302 is not valid JSON" in garbled["message"]
    assert sorted(asked(emu)) == sorted(v["question"] for v in values)  # each input once
    assert {r.access_key_id for r in emu.requests} == {EMULATOR_KEY_ID}
    text = stream.getvalue()
    assert "in.jsonl" in text and f"{COUNT + 2}/{COUNT + 2}" in text and "2 failed" in text

    # the local engine writes the same file
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)
    local = tmp_path / "local.jsonl"
    pipeline = Manifest.read([tmp_path / "chain.yaml"]).build(secrets_from_env=True)
    run_batch(pipeline, inputs, local, concurrency=8, progress=False)
    assert local.read_bytes() == out.read_bytes()


def test_a_resumed_batch_runs_only_the_missing_inputs(chain: str, emu: Any, tmp_path: Path) -> None:
    values = questions(200)
    inputs = write_inputs(tmp_path / "in.jsonl", values)
    out = tmp_path / "out.jsonl"
    missing = set(range(0, 200, 7))
    failed = {3, 150}  # error records run again
    before = []
    for index, value in enumerate(values):
        if index in failed:
            error = {"type": "ThrottlingException", "message": "Rate exceeded"}
            before.append({"index": index, "key": input_key(value), "error": error})
        elif index not in missing and index != 199:  # 199: cut short below
            before.append({"index": index, "key": input_key(value), "output": "from before"})
    text = "".join(json.dumps(r) + "\n" for r in reversed(before))  # in completion order
    out.write_text(text + '{"index": 199, "key": "cut sho', encoding="utf-8")  # a crash
    rerun = missing | failed | {199}
    report = run_batch_ray(chain, inputs, out, concurrency=4, workers=2, progress=False)
    assert report == BatchReport(
        total=200, skipped=200 - len(rerun), succeeded=len(rerun), failed=0
    )
    assert sorted(asked(emu)) == sorted(values[i]["question"] for i in rerun)
    records = read_records(out)
    assert [r["index"] for r in records] == list(range(200))
    for record in records:
        expected = (
            values[record["index"]]["question"] if record["index"] in rerun else "from before"
        )
        assert record["output"] == expected

    emu.reset()  # nothing left: Ray is not even asked
    assert run_batch_ray(chain, inputs, out, progress=False).skipped == 200
    assert emu.requests == []


def test_a_graph_batch(
    emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ray_workers: None
) -> None:
    monkeypatch.setenv("BEDROCK_ENDPOINT_URL", emu.endpoint_url)
    path = tmp_path / "graph.yaml"
    path.write_text(GRAPH, encoding="utf-8")
    text = shipped_manifest(Manifest.read([path]), str(path))
    values = questions(20)
    inputs = write_inputs(tmp_path / "in.jsonl", values)
    out = tmp_path / "out.jsonl"
    report = run_batch_ray(text, inputs, out, source="graph.yaml", progress=False)
    assert report.succeeded == 20
    for record, value in zip(read_records(out), values, strict=True):
        assert record["output"] == {"answer": value["question"], "tried": [value["question"]]}

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", EMULATOR_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", EMULATOR_SECRET)
    local = tmp_path / "local.jsonl"
    run_batch(Manifest.read([path]).build(secrets_from_env=True), inputs, local, progress=False)
    assert local.read_bytes() == out.read_bytes()


def test_a_worker_without_the_secret_stops_the_batch_before_any_input(
    emu: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ray_workers: None
) -> None:
    monkeypatch.setenv("BEDROCK_ENDPOINT_URL", emu.endpoint_url)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "set-on-the-driver-only")
    path = tmp_path / "chain.yaml"
    path.write_text(
        MANIFEST.replace("max_tokens: 32", "aws_session_token: !secret AWS_SESSION_TOKEN"),
        encoding="utf-8",
    )
    text = shipped_manifest(Manifest.read([path]), str(path))
    assert "set-on-the-driver-only" not in text
    inputs = write_inputs(tmp_path / "in.jsonl", questions(5))
    out = tmp_path / "out.jsonl"
    with pytest.raises(BatchError, match="a Ray worker cannot load the pipeline") as caught:
        run_batch_ray(text, inputs, out, concurrency=2, progress=False)
    assert "AWS_SESSION_TOKEN" in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert emu.requests == []
    assert out.read_text() == ""


def test_the_command(chain: str, emu: Any, tmp_path: Path, capsys: Any) -> None:
    manifest = tmp_path / "chain.yaml"
    inputs = write_inputs(tmp_path / "in.jsonl", questions(20), '{"nope": 1}')
    out = tmp_path / "out.jsonl"
    argv = ["batch", str(manifest), str(inputs), "-o", str(out), "--engine", "ray"]
    assert main([*argv, "--concurrency", "4", "--workers", "1"]) == 1  # one input failed
    assert "21 inputs: 0 skipped (done before), 20 ok, 1 failed" in capsys.readouterr().err
    assert len(read_records(out)) == 21
    assert ray.is_initialized()  # a connection the command did not make is left alone

    for bad in (["--workers", "0"], ["--concurrency", "-1"], ["--workers", "two"]):
        with pytest.raises(SystemExit) as usage:
            main([*argv, *bad])
        assert usage.value.code == 2
        assert "expected a whole number of at least 1" in capsys.readouterr().err


def test_bad_arguments(tmp_path: Path) -> None:
    inputs = write_inputs(tmp_path / "in.jsonl", questions(1))
    with pytest.raises(ValueError, match="concurrency"):
        run_batch_ray("{}", inputs, tmp_path / "out.jsonl", concurrency=0)
    with pytest.raises(ValueError, match="workers"):
        run_batch_ray("{}", inputs, tmp_path / "out.jsonl", workers=0)


def test_runwire_and_the_local_engine_do_not_import_ray(tmp_path: Path) -> None:
    """In a process of its own: the local engine leaves Ray alone, and without Ray the
    Ray engine says how to install it."""
    (tmp_path / "echo.yaml").write_text(
        "_type: sequence\nsteps:\n"
        "  - _type: ChatPromptTemplate\n    messages: [[human, '{q}']]\n"
        "  - _type: FakeChatModel\n  - _type: StrOutputParser\n",
        encoding="utf-8",
    )
    write_inputs(tmp_path / "in.jsonl", [{"q": "hi"}])
    script = (
        "import sys, runwire, runwire.cli.batch, runwire.cli.batch_ray\n"
        "from runwire.cli.main import main\n"
        "code = main(['batch', 'echo.yaml', 'in.jsonl', '-o', 'out.jsonl'])\n"
        "print(code, 'ray' in sys.modules)\n"
        "sys.modules['ray'] = None  # as if it were not installed\n"
        "print(main(['batch', 'echo.yaml', 'in.jsonl', '-o', 'ray.jsonl', '--engine', 'ray']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "False", "1"]
    assert read_records(tmp_path / "out.jsonl")[0]["output"] == "hi"
    assert "--engine ray needs Ray: pip install 'runwire[ray]'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "ray.jsonl").exists()  # refused before any file is touched


def test_an_address_nothing_answers_on(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "echo.yaml").write_text("_type: FakeChatModel\n", encoding="utf-8")
    write_inputs(tmp_path / "in.jsonl", ["hi"])
    argv = ["batch", "echo.yaml", "in.jsonl", "-o", "out.jsonl", "--engine", "ray"]
    argv += ["--address", f"127.0.0.1:{port}"]
    script = f"from runwire.cli.main import main\nprint(main({argv!r}))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert proc.stdout.split() == ["1"], proc.stderr
    assert f"cannot reach the Ray cluster at 127.0.0.1:{port}" in proc.stderr
    assert "Traceback" not in proc.stderr
