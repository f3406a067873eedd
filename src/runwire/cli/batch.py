"""Run a pipeline over a JSONL file of inputs: concurrent, resumable, never aborting.

**Inputs** (``INPUTS.jsonl``): one JSON value per line. Blank (whitespace-only) lines are
ignored and not counted: an input's ``index`` is its 0-based position among the non-blank
lines, so inserting or removing blank lines never renumbers inputs. A UTF-8 byte-order mark
at the start is ignored.

**Output** (``OUT.jsonl``): one record per input, sorted by index when the run ends::

    {"index": 0, "key": "5d41402abc4b2a76", "output": "..."}
    {"index": 1, "key": "7d793037a0760186", "error": {"type": "ValueError", "message": "..."}}

``key`` is :func:`input_key`: the first 16 hex digits of the SHA-256 of the input's
canonical JSON (sorted keys, compact), or of the raw line when it is not JSON (an
``InputError`` record). Errors carry the exception's type name and ``str(exc)``, never a
traceback. One failing input never stops the others.

**Resuming**: a run first reads ``OUT.jsonl`` if it exists. An output record whose
``(index, key)`` matches the current input is kept and that input skipped; error records
and records of inputs that changed or no longer exist are dropped, so those inputs run
again. A garbled last line (a crash in mid-write) is dropped; a garbled line elsewhere
means the file is not a batch output, and the run refuses to overwrite it. The kept
records are written back atomically, each new record is appended and flushed as soon as
it is done (an interrupted run loses nothing finished), and at the end the file is
rewritten sorted by index, atomically.

**Engines**: :func:`write_batch` holds all of the above; an engine only turns the inputs
to run into :data:`Completed` records. The local engine (:func:`arun_batch`) runs them
in this process; :mod:`runwire.cli.batch_ray` runs them on a Ray cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import orjson

from runwire.cli.output import to_jsonable
from runwire.errors import RunwireError
from runwire.redaction import redact

__all__ = [
    "BatchError",
    "BatchInput",
    "BatchReport",
    "Completed",
    "InputError",
    "arun_batch",
    "input_key",
    "record_line",
    "run_batch",
    "write_batch",
]

KEY_LENGTH = 16
_BOM = b"\xef\xbb\xbf"


class BatchError(RunwireError):
    """A batch cannot start: unreadable inputs, or an output file that is not a batch output."""


class InputError(ValueError):
    """A line of the inputs file is not valid JSON (recorded, never raised by a run)."""


@dataclass
class BatchReport:
    """How a batch run went; ``skipped`` inputs already had an output from an earlier run."""

    total: int
    skipped: int
    succeeded: int
    failed: int

    def summary(self) -> str:
        """One line for people, e.g. ``10 inputs: 3 skipped (done before), 6 ok, 1 failed``."""
        return (
            f"{self.total} inputs: {self.skipped} skipped (done before), "
            f"{self.succeeded} ok, {self.failed} failed"
        )


@dataclass(frozen=True)
class BatchInput:
    """One line of the inputs file: its index, key, and value (or why it is not JSON)."""

    index: int
    key: str
    value: Any
    error: str | None  # why the line is not an input, or None


Completed = tuple[int, bytes, bool]
"""A finished input: its index, its record line, and whether the record is an output."""

Engine = Callable[[list[BatchInput]], AsyncIterator[Completed]]
"""Runs the inputs it is given and yields their records as they complete."""


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:KEY_LENGTH]


def input_key(value: Any) -> str:
    """The stable short hash naming an input: SHA-256 of its canonical JSON, 16 hex digits."""
    return _digest(orjson.dumps(value, option=orjson.OPT_SORT_KEYS))


def _read_inputs(path: Path) -> list[BatchInput]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BatchError(f"cannot read the inputs file {path}: {exc.strerror or exc}") from exc
    data = data.removeprefix(_BOM)
    items: list[BatchInput] = []
    for lineno, raw in enumerate(data.splitlines(), 1):
        text = raw.strip()
        if not text:
            continue
        index = len(items)
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            reason = f"{path.name} line {lineno} is not valid JSON: {exc}"
            items.append(BatchInput(index, _digest(text), None, reason))
        else:
            items.append(BatchInput(index, input_key(value), value, None))
    return items


def _parse_record(line: bytes) -> dict[str, Any] | None:
    """A batch record, or ``None`` when the line is not one."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    index, key = record.get("index"), record.get("key")
    if type(index) is not int or index < 0 or not isinstance(key, str):
        return None
    if ("output" in record) == ("error" in record):
        return None
    return record


def _previous_records(output: Path, items: list[BatchInput]) -> dict[int, bytes]:
    """The lines of ``output`` whose outputs still answer the current inputs, by index."""
    try:
        data = output.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise BatchError(f"cannot read the output file {output}: {exc.strerror or exc}") from exc
    numbered = [(n, line) for n, line in enumerate(data.splitlines(), 1) if line.strip()]
    kept: dict[int, bytes] = {}
    for position, (lineno, line) in enumerate(numbered):
        record = _parse_record(line)
        if record is None:
            if position == len(numbered) - 1:
                break  # cut short by a crash in mid-write: that input runs again
            raise BatchError(
                f"{output} line {lineno} is not a batch record "
                '(expected {"index": N, "key": K, "output"|"error": ...}); '
                "refusing to overwrite the file: delete it or choose another output"
            )
        index = record["index"]
        if "output" in record and index < len(items) and items[index].key == record["key"]:
            kept[index] = line.strip() + b"\n"
    return kept


def _write_atomic(path: Path, lines: Iterable[bytes]) -> None:
    """Replace ``path`` with ``lines`` via a temporary file in the same folder."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as sink:
            sink.writelines(lines)
            sink.flush()
            os.fsync(sink.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep an existing file's permissions
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _error(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": redact(str(exc))}


def record_line(item: BatchInput, result: Any) -> Completed:
    """The record of ``result`` (an output, or the exception ``item`` raised)."""
    head: dict[str, Any] = {"index": item.index, "key": item.key}
    if isinstance(result, BaseException):
        body = {"error": _error(result)}
    else:
        try:
            return item.index, orjson.dumps({**head, "output": to_jsonable(result)}) + b"\n", True
        except (TypeError, ValueError, RecursionError) as exc:
            message = redact(f"the output cannot be written as JSON: {exc}")
            body = {"error": {"type": "OutputError", "message": message}}
    return item.index, orjson.dumps({**head, **body}) + b"\n", False


class _Progress:
    """A rich progress bar (description, bar, count, rate, time left), or nothing."""

    def __init__(
        self, *, enabled: bool, stream: TextIO, description: str, total: int, completed: int
    ) -> None:
        self.enabled, self.stream, self.description = enabled, stream, description
        self.total, self.completed = total, completed
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> _Progress:
        if self.enabled:
            self._bar = _make_progress(self.stream)
            self._bar.start()
            self._task = self._bar.add_task(
                self.description, total=self.total, completed=self.completed
            )
        return self

    def advance(self, failed: int) -> None:
        if self._bar is not None:
            suffix = f" ({failed} failed)" if failed else ""
            self._bar.update(self._task, advance=1, description=self.description + suffix)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.stop()


def _make_progress(stream: TextIO) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Inputs finished per second."""

        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.1f}/s" if speed else "?/s", style="progress.data.speed")

    return Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=Console(file=stream),
    )


def _isatty(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


async def write_batch(
    inputs: Path,
    output: Path,
    engine: Engine,
    *,
    progress: bool | None = None,
    progress_stream: TextIO | None = None,
) -> BatchReport:
    """Run the inputs of ``inputs`` that ``output`` lacks through ``engine`` (module doc).

    ``engine`` is called once, with the inputs to run, only when there are some. A
    progress bar goes to ``progress_stream`` (default ``sys.stderr``) when ``progress``
    is true (default: when that stream is a terminal).
    """
    inputs, output = Path(inputs), Path(output)
    if inputs.resolve() == output.resolve():
        raise BatchError(f"the output file must not be the inputs file ({inputs})")
    items = _read_inputs(inputs)
    lines = _previous_records(output, items)
    try:
        _write_atomic(output, (lines[i] for i in sorted(lines)))
    except OSError as exc:
        raise BatchError(f"cannot write the output file {output}: {exc.strerror or exc}") from exc
    report = BatchReport(total=len(items), skipped=len(lines), succeeded=0, failed=0)
    todo = [item for item in items if item.index not in lines]
    runs = [item for item in todo if item.error is None]
    err_stream = sys.stderr if progress_stream is None else progress_stream
    show = _isatty(err_stream) if progress is None else progress
    bar = _Progress(
        enabled=show,
        stream=err_stream,
        description=inputs.name,
        total=len(items),
        completed=len(lines),
    )
    with open(output, "ab") as sink, bar:

        def record(index: int, line: bytes, ok: bool) -> None:
            sink.write(line)
            sink.flush()
            lines[index] = line
            if ok:
                report.succeeded += 1
            else:
                report.failed += 1
            bar.advance(report.failed)

        for item in todo:
            if item.error is not None:
                record(*record_line(item, InputError(item.error)))
        if runs:
            async with contextlib.aclosing(engine(runs)) as completed:
                async for done in completed:
                    record(*done)
    _write_atomic(output, (lines[i] for i in sorted(lines)))
    return report


async def _local(
    runnable: Any, runs: list[BatchInput], config: dict[str, Any]
) -> AsyncIterator[Completed]:
    """The local engine: ``runnable.abatch_as_completed`` in this process."""
    results = runnable.abatch_as_completed(
        [item.value for item in runs], config, return_exceptions=True
    )
    async for position, result in results:
        yield record_line(runs[position], result)


async def arun_batch(
    runnable: Any,
    inputs: Path,
    output: Path,
    *,
    concurrency: int = 8,
    config: dict[str, Any] | None = None,
    progress: bool | None = None,
    progress_stream: TextIO | None = None,
) -> BatchReport:
    """Run ``runnable`` on every input of ``inputs`` into ``output`` (see the module doc).

    At most ``concurrency`` inputs run at a time. ``config`` is the run config of every
    call. ``progress`` and ``progress_stream`` are :func:`write_batch`'s.
    """
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number of at least 1, got {concurrency!r}")
    if not callable(getattr(runnable, "abatch_as_completed", None)):
        raise TypeError(
            f"run_batch needs a runnable (with abatch_as_completed), got {type(runnable).__name__}"
        )
    run_config = {**(config or {}), "max_concurrency": concurrency}
    return await write_batch(
        inputs,
        output,
        lambda runs: _local(runnable, runs, run_config),
        progress=progress,
        progress_stream=progress_stream,
    )


def run_batch(
    runnable: Any,
    inputs: Path,
    output: Path,
    *,
    concurrency: int = 8,
    config: dict[str, Any] | None = None,
    progress: bool | None = None,
    progress_stream: TextIO | None = None,
) -> BatchReport:
    """Synchronous :func:`arun_batch` (not from inside a running event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_batch cannot run inside an event loop: await arun_batch(...)")
    return asyncio.run(
        arun_batch(
            runnable,
            inputs,
            output,
            concurrency=concurrency,
            config=config,
            progress=progress,
            progress_stream=progress_stream,
        )
    )
