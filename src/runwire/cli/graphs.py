"""The command line's graph parts: threads kept in SQLite, resuming, stream modes, a
thread's state, and the picture of a graph.

``runwire run graph.yaml --input ... --thread ID`` keeps the thread's checkpoints in
``--checkpoints FILE`` (default ``.runwire/checkpoints.sqlite`` under the project
root); ``--resume JSON`` continues an interrupted thread with ``Command(resume=...)``;
``--stream-mode`` prints ``[mode, chunk]`` lines. ``runwire state`` shows a thread and
``runwire graph`` prints Mermaid.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from runwire.cli.commands import UsageError
from runwire.errors import ManifestError

__all__ = [
    "GRAPH_MODES",
    "checkpoints_path",
    "cmd_graph",
    "cmd_state",
    "graph_of",
    "open_thread",
    "run_graph",
    "state_of",
]

GRAPH_MODES = ("values", "updates", "messages", "custom", "debug", "tasks", "checkpoints")
"""The stream modes ``--stream-mode`` accepts."""

DEFAULT_CHECKPOINTS = Path(".runwire") / "checkpoints.sqlite"


def is_graph(built: Any) -> bool:
    """True for what runs as a state graph (a graph or agent file, a compiled graph)."""
    return callable(getattr(built, "compile", None)) or hasattr(built, "get_state")


def checkpoints_path(args: argparse.Namespace, root: Path) -> Path:
    """``--checkpoints``, or the default file under the project root (created)."""
    path = Path(args.checkpoints) if args.checkpoints else root / DEFAULT_CHECKPOINTS
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def open_thread(built: Any, path: Path) -> Iterator[Any]:
    """The graph compiled with a SQLite saver on ``path`` (closed on exit)."""
    from runwire.graph.checkpoint import SqliteSaver

    if not callable(getattr(built, "compile", None)):
        raise UsageError("--thread needs a graph file (_type: StateGraph or ReactAgent)")
    with SqliteSaver.from_conn_string(str(path)) as saver:
        yield built.compile(checkpointer=saver)


def _thread_config(args: argparse.Namespace, config: Any) -> dict[str, Any]:
    config = dict(config or {})
    configurable = dict(config.get("configurable") or {})
    configurable["thread_id"] = args.thread
    config["configurable"] = configurable
    return config


def run_graph(args: argparse.Namespace, built: Any, value: Any, config: Any, root: Path) -> Any:
    """Run a graph as the options say; yields what to print (chunks, or one output)."""
    from runwire.graph import Command

    if args.resume is not None and args.thread is None:
        raise UsageError("--resume continues a thread: give its --thread")
    if args.resume is not None:
        value = Command(resume=args.resume)
    modes = list(dict.fromkeys(args.stream_mode or ()))
    if args.thread is None:
        return _results(built, value, config, modes)
    return _thread_results(args, built, value, config, modes, root)


def _results(graph: Any, value: Any, config: Any, modes: list[str]) -> Iterator[Any]:
    if not modes:
        yield graph.invoke(value, config)
        return
    for mode, chunk in graph.stream(value, config, stream_mode=modes):
        yield [mode, chunk]


def _thread_results(
    args: argparse.Namespace, built: Any, value: Any, config: Any, modes: list[str], root: Path
) -> Iterator[Any]:
    with open_thread(built, checkpoints_path(args, root)) as graph:
        yield from _results(graph, value, _thread_config(args, config), modes)


def state_of(args: argparse.Namespace, built: Any, root: Path) -> list[dict[str, Any]]:
    """The thread's latest state (or its whole history, newest first) as plain data."""
    with open_thread(built, checkpoints_path(args, root)) as graph:
        config = _thread_config(args, None)
        snapshots = (
            list(graph.get_state_history(config)) if args.history else [graph.get_state(config)]
        )
        return [_snapshot(s) for s in snapshots]


def _snapshot(snapshot: Any) -> dict[str, Any]:
    return {
        "values": snapshot.values,
        "next": list(snapshot.next),
        "checkpoint_id": ((snapshot.config or {}).get("configurable") or {}).get("checkpoint_id"),
        "step": (snapshot.metadata or {}).get("step"),
        "source": (snapshot.metadata or {}).get("source"),
        "created_at": snapshot.created_at,
        "interrupts": [{"id": i.id, "value": i.value} for i in snapshot.interrupts],
    }


def graph_of(built: Any, form: str = "mermaid") -> str:
    """The picture of a graph, agent or chain file: ``mermaid`` or ``ascii`` text."""
    if not callable(getattr(built, "get_graph", None)):
        raise UsageError(f"runwire graph draws runnables, not a {type(built).__name__}")
    drawn = built.get_graph()
    return str(drawn.draw_ascii() if form == "ascii" else drawn.draw_mermaid())


# -- commands -------------------------------------------------------------------------
def cmd_state(args: argparse.Namespace) -> int:
    """``runwire state``."""
    from runwire.cli.commands import _build, _error, _project_root
    from runwire.cli.output import write_result

    try:
        pipeline = _build(args)
        for snapshot in state_of(args, pipeline, _project_root(args)):
            write_result(snapshot)
    except (ManifestError, UsageError) as exc:
        return _error(exc)
    return 0


def cmd_graph(args: argparse.Namespace) -> int:
    """``runwire graph``."""
    from runwire.cli.commands import _build, _error

    form = args.form or ("ascii" if sys.stdout.isatty() else "mermaid")
    try:
        text = graph_of(_build(args), form)
    except (ManifestError, UsageError) as exc:
        return _error(exc)
    sys.stdout.write(text)
    return 0
