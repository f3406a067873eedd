"""``run_batch``: JSONL in, JSONL out, per-line errors, resuming, concurrency, progress."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from runwire.cli.batch import BatchError, BatchReport, arun_batch, input_key, run_batch
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.models.fakes import FakeChatModel
from runwire.runtime.parsers import StrOutputParser
from runwire.runtime.prompts import ChatPromptTemplate


def write_jsonl(path: Path, values: list[Any]) -> Path:
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    return path


def read_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class Counted:
    """A runnable doubling numbers, failing on multiples of ``fail_every``; counts calls."""

    def __init__(self, fail_every: int = 0) -> None:
        self.calls: list[Any] = []
        self.fail_every = fail_every
        self.runnable = RunnableLambda(self.double)

    def double(self, x: Any) -> Any:
        self.calls.append(x)
        if self.fail_every and x % self.fail_every == 0:
            raise ValueError(f"{x} is a multiple of {self.fail_every}")
        return x * 2


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "in.jsonl", tmp_path / "out.jsonl"


def test_outputs_in_index_order_with_errors_per_line(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, list(range(1, 21)))
    counted = Counted(fail_every=3)
    report = run_batch(counted.runnable, inputs, out, concurrency=4, progress=False)
    assert report == BatchReport(total=20, skipped=0, succeeded=14, failed=6)
    records = read_records(out)
    assert [r["index"] for r in records] == list(range(20))
    for r, x in zip(records, range(1, 21), strict=True):
        assert r["key"] == input_key(x)
        if x % 3 == 0:
            assert r == {
                "index": x - 1,
                "key": input_key(x),
                "error": {"type": "ValueError", "message": f"{x} is a multiple of 3"},
            }
        else:
            assert r == {"index": x - 1, "key": input_key(x), "output": x * 2}
    assert "Traceback" not in out.read_text()
    assert sorted(counted.calls) == list(range(1, 21))
    assert {p.name for p in out.parent.iterdir()} == {"in.jsonl", "out.jsonl"}  # no temp files


def test_key_is_canonical_and_short() -> None:
    assert input_key({"b": 1, "a": [1, 2]}) == input_key({"a": [1, 2], "b": 1})
    assert input_key({"a": 1}) != input_key({"a": 2})
    assert len(input_key("x")) == 16


def test_invalid_json_and_blank_lines(files: tuple[Path, Path]) -> None:
    inputs, out = files
    inputs.write_text('1\n\n   \n{"oops": \n2\n\n', encoding="utf-8")
    report = run_batch(Counted().runnable, inputs, out, progress=False)
    assert report == BatchReport(total=3, skipped=0, succeeded=2, failed=1)
    records = read_records(out)
    assert [r["index"] for r in records] == [0, 1, 2]  # blank lines are not counted
    assert records[0]["output"] == 2 and records[2]["output"] == 4
    error = records[1]["error"]
    assert error["type"] == "InputError"
    assert "in.jsonl line 4 is not valid JSON" in error["message"]  # the file's line number


def test_resume_skips_done_inputs_and_retries_errors(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, list(range(1, 11)))
    first = Counted(fail_every=4)
    run_batch(first.runnable, inputs, out, progress=False)
    assert len(first.calls) == 10
    second = Counted()  # the failures (4 and 8) now succeed
    report = run_batch(second.runnable, inputs, out, progress=False)
    assert sorted(second.calls) == [4, 8]
    assert report == BatchReport(total=10, skipped=8, succeeded=2, failed=0)
    assert [r["output"] for r in read_records(out)] == [x * 2 for x in range(1, 11)]
    third = Counted()
    report = run_batch(third.runnable, inputs, out, progress=False)
    assert third.calls == []
    assert report == BatchReport(total=10, skipped=10, succeeded=0, failed=0)


def test_changed_and_removed_inputs(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, [1, 2, 3, 4])
    run_batch(Counted().runnable, inputs, out, progress=False)
    write_jsonl(inputs, [1, 20, 3])  # line 2 changed, line 4 removed
    counted = Counted()
    report = run_batch(counted.runnable, inputs, out, progress=False)
    assert counted.calls == [20]
    assert report.skipped == 2
    assert [(r["index"], r["output"]) for r in read_records(out)] == [(0, 2), (1, 40), (2, 6)]


def test_truncated_last_line_is_dropped_and_rerun(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, [1, 2, 3])
    run_batch(Counted().runnable, inputs, out, progress=False)
    text = out.read_text()
    out.write_text(text[: len(text) - 8])  # a crash in the middle of the last line
    counted = Counted()
    report = run_batch(counted.runnable, inputs, out, progress=False)
    assert counted.calls == [3]
    assert report.skipped == 2
    assert [r["output"] for r in read_records(out)] == [2, 4, 6]


def test_garbled_line_in_the_middle_refuses_to_overwrite(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, [1, 2])
    out.write_text("my notes\nnot a batch file\n{}\n")
    with pytest.raises(BatchError, match="line 1 is not a batch record"):
        run_batch(Counted().runnable, inputs, out, progress=False)
    assert out.read_text() == "my notes\nnot a batch file\n{}\n"


def test_concurrency_bound_is_respected(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, list(range(30)))
    in_flight = 0
    peak = 0

    async def slow(x: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        in_flight -= 1
        return x

    report = run_batch(RunnableLambda(slow), inputs, out, concurrency=3, progress=False)
    assert report.succeeded == 30
    assert 1 < peak <= 3


def test_a_small_chain_and_a_model(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, [{"q": "first"}, {"q": "second"}, {"nope": 1}])
    chain = (
        ChatPromptTemplate.from_messages([("human", "Q: {q}")])
        | FakeChatModel()  # echoes the last human message
        | StrOutputParser()
    )
    report = run_batch(chain, inputs, out, progress=False)
    assert report == BatchReport(total=3, skipped=0, succeeded=2, failed=1)
    records = read_records(out)
    assert records[0]["output"] == "Q: first"
    assert records[1]["output"] == "Q: second"
    assert records[2]["error"]["type"] == "KeyError"
    assert "q" in records[2]["error"]["message"]

    out2 = out.with_name("messages.jsonl")
    write_jsonl(inputs, ["hello", "again"])
    run_batch(FakeChatModel(responses=["Paris."]), inputs, out2, progress=False)
    for record in read_records(out2):
        assert record["output"]["type"] == "ai"
        assert record["output"]["content"] == "Paris."


def test_outputs_that_cannot_be_json(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, [1])
    loop: list[Any] = []
    loop.append(loop)
    report = run_batch(RunnableLambda(lambda x: loop), inputs, out, progress=False)
    assert report.failed == 1
    assert read_records(out)[0]["error"]["type"] == "OutputError"


def test_interrupt_leaves_a_valid_file_and_resumes(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, list(range(10)))

    async def stop_at_seven(x: int) -> int:
        for _ in range(3):
            await asyncio.sleep(0)
        if x == 7:
            raise KeyboardInterrupt
        return x

    with pytest.raises(KeyboardInterrupt):
        run_batch(RunnableLambda(stop_at_seven), inputs, out, concurrency=1, progress=False)
    done = read_records(out)  # every line is a whole record
    assert 0 < len(done) < 10
    assert all(r["output"] == r["index"] for r in done)
    counted = Counted()
    report = run_batch(counted.runnable, inputs, out, progress=False)
    assert report.skipped == len(done)
    assert sorted(counted.calls) == sorted(set(range(10)) - {r["index"] for r in done})
    assert [r["index"] for r in read_records(out)] == list(range(10))


def test_progress_bar_on_a_non_terminal_stream(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    inputs, out = files
    write_jsonl(inputs, [1, 2, 3])
    stream = io.StringIO()
    run_batch(Counted(fail_every=2).runnable, inputs, out, progress=True, progress_stream=stream)
    text = stream.getvalue()
    assert "in.jsonl" in text and "3/3" in text and "1 failed" in text
    assert capsys.readouterr().out == ""  # never on stdout

    quiet = io.StringIO()  # default: only for a terminal
    run_batch(Counted().runnable, inputs, out.with_name("o2.jsonl"), progress_stream=quiet)
    assert quiet.getvalue() == ""


def test_empty_inputs(files: tuple[Path, Path]) -> None:
    inputs, out = files
    inputs.write_text("\n\n")
    report = run_batch(Counted().runnable, inputs, out, progress=False)
    assert report == BatchReport(total=0, skipped=0, succeeded=0, failed=0)
    assert out.read_text() == ""
    assert report.summary() == "0 inputs: 0 skipped (done before), 0 ok, 0 failed"


def test_bad_arguments(files: tuple[Path, Path]) -> None:
    inputs, out = files
    with pytest.raises(BatchError, match="cannot read the inputs file"):
        run_batch(Counted().runnable, inputs, out, progress=False)
    write_jsonl(inputs, [1])
    with pytest.raises(BatchError, match="must not be the inputs file"):
        run_batch(Counted().runnable, inputs, inputs, progress=False)
    with pytest.raises(ValueError, match="concurrency"):
        run_batch(Counted().runnable, inputs, out, concurrency=0)
    with pytest.raises(TypeError, match="needs a runnable"):
        run_batch(lambda x: x, inputs, out)


def test_async_api_and_no_nested_loop(files: tuple[Path, Path]) -> None:
    inputs, out = files
    write_jsonl(inputs, [1, 2])

    async def main() -> BatchReport:
        with pytest.raises(RuntimeError, match="await arun_batch"):
            run_batch(Counted().runnable, inputs, out)
        return await arun_batch(Counted().runnable, inputs, out, progress=False)

    assert asyncio.run(main()).succeeded == 2


def test_importing_the_cli_modules_does_not_import_rich(tmp_path: Path) -> None:
    script = (
        "import sys, runwire.cli.batch, runwire.cli.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'))\n"
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
    assert proc.stdout.strip() == "[]"
