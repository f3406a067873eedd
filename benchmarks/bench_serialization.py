"""loads/dumps of a 1,000-message chat history and a 100-branch parallel: runwire
against langchain-core, medians of interleaved rounds.

Run: ``make bench`` (installs the ``bench`` extra), or
``.venv/bin/python benchmarks/bench_serialization.py [--messages N] [--repeat R]``.
Without langchain-core installed it prints runwire's figures alone.
Targets (issue 22): ``loads`` of the history and of the 100-branch parallel manifest at
least 5x faster than langchain-core's, ``dumps`` at least 10x, and ``import runwire`` +
``loads`` of the history as a whole process at least 1.5x. It also prints the first
call's extra cost (classes imported, validators built on first use) and the ceiling:
orjson's parse plus one pydantic-core call per class over kwargs already grouped by
class, the least any loader that builds these pydantic objects from this text pays.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import runwire
import runwire.schema.messages as rw_messages

TARGETS = {"loads": 5.0, "dumps": 10.0}
PROCESS_TARGET = 1.5


def chat_history(messages: ModuleType, n: int) -> list[Any]:
    """A realistic history: system, user turns with content blocks, tool-calling replies."""
    out: list[Any] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            out.append(messages.SystemMessage(content=f"You are assistant #{i}.", id=f"s{i}"))
        elif kind == 1:
            out.append(
                messages.HumanMessage(
                    content=[{"type": "text", "text": f"What is item {i}?"}],
                    id=f"h{i}",
                    additional_kwargs={"lang": "en"},
                )
            )
        elif kind == 2:
            out.append(
                messages.AIMessage(
                    content=f"Looking up item {i}.",
                    id=f"a{i}",
                    tool_calls=[
                        {
                            "name": "search",
                            "args": {"query": f"item {i}", "k": 3},
                            "id": f"call_{i}",
                        }
                    ],
                    usage_metadata={"input_tokens": 120, "output_tokens": 18, "total_tokens": 138},
                    response_metadata={"model_name": "claude", "stop_reason": "tool_use"},
                )
            )
        else:
            out.append(
                messages.ToolMessage(
                    content=f"item {i}: found", tool_call_id=f"call_{i}", id=f"t{i}"
                )
            )
    return out


def floor_loads(text: str) -> Any:
    """A lower bound for any validating loader: parse, then pydantic-validate each node's
    kwargs, building only kwargs that are nodes, or lists or dicts of nodes. No search of
    plain data for nested nodes, no limits, allow-lists, secrets or error paths: a floor
    to measure ``runwire.loads`` against, not a loader."""
    import orjson

    from runwire.loader.registry import class_for, lookup

    def is_node(value: Any) -> bool:
        return type(value) is dict and value.get("type") == "constructor"

    def build(node: dict[str, Any]) -> Any:
        kwargs = dict(node.get("kwargs", ()))
        for key, value in kwargs.items():
            if is_node(value):
                kwargs[key] = build(value)
            elif type(value) is list and value and is_node(value[0]):
                kwargs[key] = [build(item) for item in value]
            elif type(value) is dict and value and is_node(next(iter(value.values()))):
                kwargs[key] = {name: build(item) for name, item in value.items()}
        cls = class_for(lookup(node["id"]))  # type: ignore[arg-type]
        return cls.__pydantic_validator__.validate_python(kwargs)

    data = orjson.loads(text)
    return [build(item) for item in data] if type(data) is list else build(data)


def report_floor(floor: float, theirs: float | None, title: str = "floor") -> None:
    """Print the floor's time, and the best ratio against the peer it leaves room for."""
    line = f"{title}: parse + pydantic validation of each node {floor * 1e3:.2f} ms"
    if theirs is not None:
        line += f" (the best loads ratio it leaves: {theirs / floor:.1f}x)"
    print(line)


def best_of(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best seconds of each function over ``repeat`` rounds, run interleaved."""
    return {name: min(times) for name, times in rounds_of(fns, repeat).items()}


def rounds_of(fns: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds of each function in each of ``repeat`` rounds, run interleaved.

    Interleaving keeps a slow spell of the machine from landing on one side only.
    """
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def wide_parallel(prompt_cls: Any, parser_cls: Any, parallel_cls: Any) -> Any:
    """The wide manifest (bench_runtime's too): 100 branches of ChatPromptTemplate |
    StrOutputParser."""
    branches = {}
    for i in range(100):
        prompt = prompt_cls.from_messages(
            [
                ("system", f"You are reviewer number {i}. Be {{tone}}."),
                ("human", f"Question {i}: {{question}} (context: {{context}})"),
            ]
        )
        branches[f"branch_{i}"] = prompt | parser_cls()
    return parallel_cls(branches)


def ceiling_parts(text: str) -> tuple[Callable[[], object], Callable[[], object]]:
    """(parse, build) of the ceiling: orjson's parse, and one fast-validator call per class
    over the nodes' kwargs grouped by class beforehand (message histories only)."""
    import orjson

    from runwire.loader.fast_validators import fast_list_validator
    from runwire.loader.registry import class_for, lookup

    data = orjson.loads(text)
    groups: dict[type, list[Any]] = {}
    for node in data:
        cls = class_for(lookup(node["id"]))  # type: ignore[arg-type]
        groups.setdefault(cls, []).append(node["kwargs"])
    batch = {cls: fast_list_validator(cls) for cls in groups}

    def paused(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> None:  # as runwire.loads does, the collector paused
            gc.disable()
            try:
                fn()
            finally:
                gc.enable()

        return run

    def build() -> None:
        for cls, kwargs in groups.items():
            batch[cls](kwargs)

    return paused(lambda: orjson.loads(text)), paused(build)


def report_line(op: str, mine: list[float], other: list[float] | None, target: float) -> None:
    """Median times, their ratio, and the median of the per-round ratios (each round runs
    both sides back to back, so a slow spell of the shared machine hits both)."""
    ours = statistics.median(mine)
    line = f"{op:32s} {ours * 1e3:9.2f} ms"
    if other is not None:
        theirs = statistics.median(other)
        ratio = theirs / ours
        per_round = statistics.median(b / a for a, b in zip(mine, other, strict=True))
        verdict = "met" if ratio >= target else "MISSED"
        line += f" {theirs * 1e3:9.2f} ms {ratio:6.1f}x {per_round:6.1f}x  >={target:g}x {verdict}"
    print(line)


def process_rounds(codes: dict[str, str], repeat: int) -> dict[str, list[float]]:
    """Wall seconds of ``python -c code`` per round, interleaved, after a warm-up run of
    each that writes one fresh bytecode cache for all (as after ``pip install``)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pycache")
        for code in codes.values():
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
        times: dict[str, list[float]] = {name: [] for name in codes}
        for _ in range(repeat):
            for name, code in codes.items():
                start = time.perf_counter()
                subprocess.run([sys.executable, "-c", code], check=True, env=env)
                times[name].append(time.perf_counter() - start)
    return times


FIRST_CALL = """
import sys, time
import runwire
text = open(sys.argv[1]).read()
times = []
for _ in range(6):
    start = time.perf_counter()
    runwire.loads(text)
    times.append(time.perf_counter() - start)
print(times[0], sorted(times[1:])[2])
"""


def first_call_cost(path: str) -> tuple[float, float]:
    """(first loads, median later loads) in a fresh process: the first pays for importing
    the classes, building their pydantic validators and compiling the fast validators."""
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL, path], check=True, capture_output=True, text=True
    ).stdout.split()
    return float(out[0]), float(out[1])


def compile_cost(text: str) -> float:
    """Seconds the fast path's per-class plans and validators take to compile (the classes
    already built): the part of the first call that the fast path adds."""
    from runwire.loader import fast_load, fast_validators

    runwire.loads(text)
    classes = list(fast_load._PLANS)
    fast_validators._CACHE.clear()
    fast_load._PLANS.clear()
    start = time.perf_counter()
    for cls in classes:
        fast_load._PLANS[cls] = fast_load._Plan(cls)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--processes", type=int, default=7)
    args = parser.parse_args()

    from runwire.runtime.parallel import RunnableParallel
    from runwire.runtime.parsers import StrOutputParser
    from runwire.runtime.prompts import ChatPromptTemplate

    history = chat_history(rw_messages, args.messages)
    text = runwire.dumps(history)
    wide = wide_parallel(ChatPromptTemplate, StrOutputParser, RunnableParallel)
    wide_text = runwire.dumps(wide)
    print(
        f"history: {args.messages} messages, {len(text):,} bytes; "
        f"parallel: {len(wide_text):,} bytes"
    )
    assert runwire.loads(text) == floor_loads(text) == history
    assert runwire.loads(wide_text) == wide
    parse, build = ceiling_parts(text)
    fns: dict[str, Callable[[], object]] = {
        "runwire history dumps": lambda: runwire.dumps(history),
        "runwire history loads": lambda: runwire.loads(text),
        "runwire parallel dumps": lambda: runwire.dumps(wide),
        "runwire parallel loads": lambda: runwire.loads(wide_text),
        "ceiling parse": parse,
        "ceiling build": build,
    }
    try:
        import langchain_core.messages as lc_messages
        import langchain_core.runnables as lc_runnables
        from langchain_core.load import dumps as lc_dumps
        from langchain_core.load import loads as lc_loads
        from langchain_core.output_parsers import StrOutputParser as LcParser
        from langchain_core.prompts import ChatPromptTemplate as LcPrompt
    except ImportError:
        lc_dumps = None
        print("langchain-core not installed: install the 'bench' extra for ratios")
    if lc_dumps is not None:
        warnings.simplefilter("ignore")  # langchain-core marks loads as beta on every call
        lc_history = chat_history(lc_messages, args.messages)
        lc_text = lc_dumps(lc_history)
        lc_wide = wide_parallel(LcPrompt, LcParser, lc_runnables.RunnableParallel)
        lc_wide_text = lc_dumps(lc_wide)
        same = json.loads(runwire.dumps(history, dialect="langchain")) == json.loads(lc_text)
        print(f"wire form identical to langchain-core's (langchain dialect): {same}")
        fns.update(
            {
                "langchain history dumps": lambda: lc_dumps(lc_history),
                "langchain history loads": lambda: lc_loads(lc_text, allowed_objects="core"),
                "langchain parallel dumps": lambda: lc_dumps(lc_wide),
                "langchain parallel loads": lambda: lc_loads(lc_wide_text, allowed_objects="core"),
            }
        )
    times = rounds_of(fns, args.repeat)
    print(f"medians of {args.repeat} interleaved rounds")
    print(f"{'op':32s} {'runwire':>12s} {'langchain':>12s} {'ratio':>7s} {'rounds':>7s}  target")
    for fixture in ("history", "parallel"):
        for op in ("loads", "dumps"):
            other = times.get(f"langchain {fixture} {op}")
            report_line(f"{fixture} {op}", times[f"runwire {fixture} {op}"], other, TARGETS[op])
    ceiling = statistics.median(times["ceiling parse"]) + statistics.median(times["ceiling build"])
    line = (
        f"ceiling, history: parse {statistics.median(times['ceiling parse']) * 1e3:.2f} ms + "
        f"build {statistics.median(times['ceiling build']) * 1e3:.2f} ms = {ceiling * 1e3:.2f} ms"
    )
    if lc_dumps is not None:
        best = statistics.median(times["langchain history loads"]) / ceiling
        line += f" (the best loads ratio it leaves: {best:.1f}x)"
    print(line)

    with tempfile.TemporaryDirectory() as tmp:
        ours = os.path.join(tmp, "ours.json")
        with open(ours, "w") as f:
            f.write(text)
        first, later = first_call_cost(ours)
        print(
            f"first loads in a fresh process: {first * 1e3:.1f} ms, "
            f"later ones {later * 1e3:.2f} ms "
            f"(first-call extra {(first - later) * 1e3:.1f} ms; of it, compiling the fast "
            f"validators {compile_cost(text) * 1e3:.1f} ms)"
        )
        codes = {"runwire": f"import runwire; runwire.loads(open({ours!r}).read())"}
        if lc_dumps is not None:
            theirs = os.path.join(tmp, "lc.json")
            with open(theirs, "w") as f:
                f.write(lc_text)
            codes["langchain"] = (
                "import warnings; from langchain_core.load import loads;"
                "warnings.simplefilter('ignore');"
                f"loads(open({theirs!r}).read(), allowed_objects='core')"
            )
        procs = process_rounds(codes, args.processes)
    report_line(
        "import + history loads, process", procs["runwire"], procs.get("langchain"), PROCESS_TARGET
    )


if __name__ == "__main__":
    main()
