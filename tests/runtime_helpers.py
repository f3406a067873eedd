"""Test doubles shared by the runtime tests: a kwargs-recording runnable and a run recorder."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from runwire.runtime.callbacks import Run
from runwire.runtime.config import RunnableConfig
from runwire.runtime.serializable import RunnableSerializable

LC = ["langchain", "schema", "runnable"]


class Echo(RunnableSerializable[Any, Any]):
    """Records the kwargs of each call; returns the input and those kwargs."""

    calls: list[dict[str, Any]] = Field(default_factory=list, exclude=True)

    sync_is_cheap = True

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        def run(value: Any, cfg: RunnableConfig) -> Any:
            self.calls.append(kwargs)
            return {"input": value, "kwargs": kwargs}

        return self._call_with_config(run, input, config)

    def describe(self, prefix: str, config: RunnableConfig | None = None) -> str:
        return f"{prefix}:{sorted((config or {}).get('tags', []))}"


class Recorder:
    """A callback handler keeping every run it is told about."""

    def __init__(self) -> None:
        self.started: list[Run] = []
        self.ended: list[Run] = []
        self.errored: list[Run] = []

    def on_start(self, run: Run) -> None:
        self.started.append(run)

    def on_end(self, run: Run) -> None:
        self.ended.append(run)

    def on_error(self, run: Run) -> None:
        self.errored.append(run)

    def named(self, name: str) -> list[Run]:
        return [run for run in self.started if run.name == name]
