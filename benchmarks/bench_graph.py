"""Graph runtime overhead: runwire.graph against LangGraph, measured in one run.

Run: ``.venv/bin/python benchmarks/bench_graph.py`` (install the ``bench`` extra for the
peer). The same graphs are built through the same API (StateGraph, START, END,
InMemorySaver) on both sides. Targets (issue 14):
- invoke of a 10-node linear graph: >= 10x less time per call;
- the same with InMemorySaver, a new thread_id per call (every call writes a fresh thread's
  11 checkpoints, so no history grows between calls) and a new saver per round (so the
  stores of earlier rounds, either side's, do not weigh on the garbage collector): >= 10x;
- invoke of a fan-out of 8 branches joined into one node (``add_edge([...8], "join")``):
  >= 10x;
- ainvoke of the linear graph: >= 10x;
- ``python -c "import runwire.graph"``, whole process: < 100 ms (``import langgraph.graph``
  shown beside it).
Per-call figures are medians over interleaved rounds; process figures are medians of
fresh subprocesses.
"""

import argparse
import asyncio
import itertools
import operator
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypedDict

TARGET = 10.0
"""Every per-call figure: runwire at least this many times faster than LangGraph."""
IMPORT_BUDGET = 0.100
"""``import runwire.graph`` in a fresh process, whole process, seconds."""


class Count(TypedDict):
    count: int


class Items(TypedDict):
    items: Annotated[list, operator.add]


def _api(graph: str, checkpoint: str) -> types.SimpleNamespace | None:
    """StateGraph, START, END and InMemorySaver from one implementation, or None."""
    try:
        graph_mod = __import__(graph, fromlist=["StateGraph"])
        saver_mod = __import__(checkpoint, fromlist=["InMemorySaver"])
        names = {n: getattr(graph_mod, n) for n in ("StateGraph", "START", "END")}
        side = "runwire" if graph.startswith("runwire") else "langgraph"
        return types.SimpleNamespace(**names, InMemorySaver=saver_mod.InMemorySaver, name=side)
    except (ImportError, AttributeError):
        return None


def linear_graph(api: Any, checkpointer: Any = None, nodes: int = 10) -> Any:
    """``nodes`` nodes in a row, each adding one to ``count``."""
    graph = api.StateGraph(Count)
    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        graph.add_node(name, lambda state: {"count": state["count"] + 1})
    graph.add_edge(api.START, names[0])
    for src, dst in itertools.pairwise(names):
        graph.add_edge(src, dst)
    graph.add_edge(names[-1], api.END)
    return graph.compile(checkpointer=checkpointer)


def fan_out_graph(api: Any, branches: int = 8) -> Any:
    """fork -> ``branches`` parallel nodes -> one join waiting for all of them."""
    graph = api.StateGraph(Items)
    names = [f"b{i}" for i in range(branches)]
    graph.add_node("fork", lambda state: {"items": ["fork"]})
    for name in names:
        graph.add_node(name, lambda state, name=name: {"items": [name]})
    graph.add_node("join", lambda state: {"items": ["join"]})
    graph.add_edge(api.START, "fork")
    for name in names:
        graph.add_edge("fork", name)
    graph.add_edge(names, "join")
    graph.add_edge("join", api.END)
    return graph.compile()


def median_per_call(
    fns: dict[str, Callable[[], object]],
    calls: int,
    rounds: int,
    setups: dict[str, Callable[[], object]] | None = None,
) -> dict:
    """Median seconds per call of each function over ``rounds`` interleaved rounds;
    ``setups[name]``, when given, runs untimed before each of its rounds."""
    took: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()
    for round_ in range(rounds):  # alternate who goes first
        for name in sorted(fns, reverse=bool(round_ % 2)):
            if setups and name in setups:
                setups[name]()
            fn = fns[name]
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            took[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in took.items()}


def report(
    title: str,
    ours: float | None,
    theirs: float | None,
    unit: str = "us",
    target: float | None = TARGET,
) -> None:
    """One table row: runwire, LangGraph, ratio and the verdict against ``target``."""
    scale = 1e6 if unit == "us" else 1e3
    mine = f"{ours * scale:10.1f} {unit}" if ours is not None else f"{'-':>10s} {unit}"
    peer = f"{theirs * scale:10.1f} {unit}" if theirs is not None else f"{'-':>10s} {unit}"
    line = f"{title:46s} {mine}  {peer}"
    if ours is not None and theirs is not None:
        ratio = theirs / ours
        line += f"  {ratio:6.1f}x"
        if target is not None:
            line += f" (>= {target:g}x {'met' if ratio >= target else 'MISSED'})"
    print(line)


def _sides(ours: Any, theirs: Any, make: Callable[[Any], Callable[[], object]]) -> dict:
    return {side: make(api) for side, api in (("runwire", ours), ("langgraph", theirs)) if api}


def _checked(fns: dict[str, Callable[[], object]], expected: object) -> None:
    for side, fn in fns.items():
        got = fn()
        if got != expected:
            raise SystemExit(f"{side} returned {got!r}, expected {expected!r}")


def bench_linear(ours: Any, theirs: Any, rounds: int) -> None:
    def make(api: Any) -> Callable[[], object]:
        app = linear_graph(api)
        return lambda: app.invoke({"count": 0})

    fns = _sides(ours, theirs, make)
    _checked(fns, {"count": 10})
    t = median_per_call(fns, calls=200, rounds=rounds)
    report("10-node linear graph invoke", t.get("runwire"), t.get("langgraph"))


def bench_linear_saver(ours: Any, theirs: Any, rounds: int) -> None:
    """A new thread per call, and a new saver (untimed) before each round: both sides'
    stores stay the size of one round, so neither side's collector walks thousands of
    the other's (or its own earlier rounds') stored threads."""
    setups: dict[str, Callable[[], object]] = {}

    def make(api: Any) -> Callable[[], object]:
        current = [linear_graph(api, api.InMemorySaver())]
        threads = itertools.count()
        setups[api.name] = lambda: current.__setitem__(0, linear_graph(api, api.InMemorySaver()))
        return lambda: current[0].invoke(
            {"count": 0}, {"configurable": {"thread_id": f"t{next(threads)}"}}
        )

    fns = _sides(ours, theirs, make)
    _checked(fns, {"count": 10})
    t = median_per_call(fns, calls=50, rounds=rounds, setups=setups)
    report("  with InMemorySaver, a thread per call", t.get("runwire"), t.get("langgraph"))


def bench_fan_out(ours: Any, theirs: Any, rounds: int) -> None:
    def make(api: Any) -> Callable[[], object]:
        app = fan_out_graph(api)
        return lambda: app.invoke({"items": []})

    fns = _sides(ours, theirs, make)
    _checked(fns, {"items": ["fork", *sorted(f"b{i}" for i in range(8)), "join"]})
    t = median_per_call(fns, calls=100, rounds=rounds)
    report("fan-out of 8 branches joined, invoke", t.get("runwire"), t.get("langgraph"))


def bench_ainvoke(ours: Any, theirs: Any, rounds: int) -> None:
    """Each timed call is one ``await ainvoke``; a batch of them runs in one event loop."""

    def make(api: Any) -> Callable[[], object]:
        app = linear_graph(api)

        async def many(n: int) -> object:
            for _ in range(n):
                out = await app.ainvoke({"count": 0})
            return out

        return lambda: asyncio.run(many(20))

    fns = _sides(ours, theirs, make)
    _checked(fns, {"count": 10})
    t = median_per_call(fns, calls=10, rounds=rounds)
    per_call = {side: seconds / 20 for side, seconds in t.items()}
    report("10-node linear graph ainvoke", per_call.get("runwire"), per_call.get("langgraph"))


def _process_medians(codes: dict[str, str], repeat: int) -> dict[str, float]:
    """Median wall time of ``python -c code`` for each code, fresh processes interleaved,
    after a warm-up run of each that writes its bytecode cache (as after ``pip install``)."""
    took: dict[str, list[float]] = {name: [] for name in codes}
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))  # one fresh cache for all
        for code in codes.values():
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
        for round_ in range(repeat):
            for name in sorted(codes, reverse=bool(round_ % 2)):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", codes[name]], check=True, env=env)
                took[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in took.items()}


def bench_import(ours: Any, theirs: Any, repeat: int) -> None:
    codes = {"python": "pass"}
    if ours:
        codes["runwire"] = "import runwire.graph"
        codes["runwire names"] = "from runwire.graph import StateGraph, START, END"
    if theirs:
        codes["langgraph"] = "import langgraph.graph"
        codes["langgraph names"] = "from langgraph.graph import StateGraph, START, END"
    t = _process_medians(codes, repeat)
    line = f"{'import runwire.graph, whole process':46s} "
    if "runwire" in t:
        verdict = "met" if t["runwire"] < IMPORT_BUDGET else "MISSED"
        line += f"{t['runwire'] * 1e3:10.1f} ms"
    else:
        verdict = None
        line += f"{'-':>10s} ms"
    line += f"  {t['langgraph'] * 1e3:10.1f} ms" if "langgraph" in t else f"  {'-':>10s} ms"
    if verdict:
        line += f"  (< {IMPORT_BUDGET * 1e3:.0f} ms {verdict})"
    print(line)
    names = [t.get(f"{side} names") for side in ("runwire", "langgraph")]
    report("  from ... import StateGraph, START, END", *names, unit="ms", target=None)
    print(f"{'  python -c pass (the interpreter alone)':46s} {t['python'] * 1e3:10.1f} ms")


BENCHES: dict[str, Callable[[Any, Any, int], None]] = {
    "linear": bench_linear,
    "saver": bench_linear_saver,
    "fanout": bench_fan_out,
    "ainvoke": bench_ainvoke,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=(*BENCHES, "import"))
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds per figure")
    args = parser.parse_args()
    ours = _api("runwire.graph", "runwire.graph.checkpoint")
    theirs = _api("langgraph.graph", "langgraph.checkpoint.memory")
    if ours is None:
        print("runwire.graph not available: LangGraph figures only")
    if theirs is None:
        print("langgraph not installed: runwire figures only")
    if ours is None and theirs is None:
        raise SystemExit("nothing to measure")
    warnings.simplefilter("ignore")
    print(f"{'':46s} {'runwire':>13s}  {'langgraph':>13s}  ratio (target)")
    for name, bench in BENCHES.items():
        if args.only in (None, name):
            bench(ours, theirs, args.rounds)
    if args.only in (None, "import"):
        bench_import(ours, theirs, repeat=args.rounds)


if __name__ == "__main__":
    main()
