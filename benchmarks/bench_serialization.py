"""loads/dumps of a 1,000-message chat history: runwire against langchain-core.

Run: ``make bench`` (installs the ``bench`` extra), or
``.venv/bin/python benchmarks/bench_serialization.py [--messages N] [--repeat R]``.
Without langchain-core installed it prints runwire's figures alone.
Targets (issue 2): loads and dumps each at least 10x faster than langchain-core.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

import runwire
import runwire.schema.messages as rw_messages

TARGET = 10.0


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
    """Best seconds of each function over ``repeat`` rounds, run interleaved.

    Interleaving keeps a slow spell of the machine from landing on one side only.
    """
    best = dict.fromkeys(fns, float("inf"))
    for fn in fns.values():
        fn()  # warm-up
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    history = chat_history(rw_messages, args.messages)
    text = runwire.dumps(history)
    print(f"manifest: {args.messages} messages, {len(text):,} bytes")
    ours: dict[str, Callable[[], object]] = {
        "runwire dumps": lambda: runwire.dumps(history),
        "runwire loads": lambda: runwire.loads(text),
        "floor loads": lambda: floor_loads(text),
    }
    assert runwire.loads(text) == floor_loads(text) == history

    try:
        import langchain_core.messages as lc_messages
        from langchain_core.load import dumps as lc_dumps
        from langchain_core.load import loads as lc_loads
    except ImportError:
        for op, seconds in best_of(ours, args.repeat).items():
            print(f"{op:14s} {seconds * 1e3:8.2f} ms")
        print("langchain-core not installed: install the 'bench' extra for ratios")
        return

    warnings.simplefilter("ignore")  # langchain-core marks loads as beta on every call
    lc_history = chat_history(lc_messages, args.messages)
    lc_text = lc_dumps(lc_history)
    same = json.loads(runwire.dumps(history, dialect="langchain")) == json.loads(lc_text)
    print(f"wire form identical to langchain-core's (langchain dialect): {same}")
    timings = best_of(
        {
            **ours,
            "langchain dumps": lambda: lc_dumps(lc_history),
            "langchain loads": lambda: lc_loads(lc_text, allowed_objects="core"),
        },
        args.repeat,
    )
    print(f"{'op':6s} {'runwire':>12s} {'langchain':>12s} {'ratio':>7s}  target")
    for op in ("loads", "dumps"):
        mine, other = timings[f"runwire {op}"], timings[f"langchain {op}"]
        ratio = other / mine
        verdict = "met" if ratio >= TARGET else "MISSED"
        print(
            f"{op:6s} {mine * 1e3:9.2f} ms {other * 1e3:9.2f} ms {ratio:6.1f}x  "
            f">={TARGET:.0f}x {verdict}"
        )
    report_floor(timings["floor loads"], timings["langchain loads"])


if __name__ == "__main__":
    main()
