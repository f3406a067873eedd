"""Runtime overhead: runwire against langchain-core, measured in one run.

Run: ``.venv/bin/python benchmarks/bench_runtime.py`` (install the ``bench`` extra for the
peer). Targets (issue 3):
- invoke of a 10-step RunnablePassthrough sequence: >= 20x less time per call;
- invoke of prompt | fake chat model | StrOutputParser: >= 10x less time per call;
- loads and dumps of a RunnableParallel of 100 ChatPromptTemplate | StrOutputParser
  branches (~120 KB): each >= 10x faster;
- ``python -c "import runwire; runwire.loads(...)"`` of that manifest, whole process:
  >= 5x faster than the langchain-core equivalent;
- abatch of 10,000 inputs through an async runnable sleeping 1 ms, max_concurrency=100:
  within 1.5x of the ideal 10,000 / 100 x 1 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import runwire
from bench_serialization import floor_loads, report_floor, wide_parallel
from runwire.runtime.lambdas import RunnableLambda
from runwire.runtime.passthrough import RunnablePassthrough
from runwire.runtime.sequence import RunnableSequence


def per_call(fns: dict[str, Callable[[], object]], calls: int, rounds: int) -> dict[str, float]:
    """Best seconds per call of each function, rounds interleaved."""
    best = dict.fromkeys(fns, float("inf"))
    for fn in fns.values():
        fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / calls)
    return best


def report(title: str, ours: float, theirs: float | None, target: float, unit: str = "us") -> None:
    scale = 1e6 if unit == "us" else 1e3
    line = f"{title:44s} runwire {ours * scale:10.1f} {unit}"
    if theirs is not None:
        ratio = theirs / ours
        verdict = "met" if ratio >= target else "MISSED"
        line += f"  langchain {theirs * scale:10.1f} {unit}  {ratio:6.1f}x"
        line += f" (>= {target:g}x {verdict})"
    print(line)


def bench_passthrough(lc: Any) -> None:
    ours = RunnableSequence(*[RunnablePassthrough() for _ in range(10)])
    fns: dict[str, Callable[[], object]] = {"runwire": lambda: ours.invoke(1)}
    if lc:
        theirs = lc.runnables.RunnableSequence(
            *[lc.runnables.RunnablePassthrough() for _ in range(10)]
        )
        fns["langchain"] = lambda: theirs.invoke(1)
    t = per_call(fns, calls=200, rounds=5)
    report("10-step passthrough sequence invoke", t["runwire"], t.get("langchain"), 20)


def bench_chain(lc: Any) -> None:
    try:
        from runwire.runtime.models.fakes import FakeChatModel
        from runwire.runtime.parsers import StrOutputParser
        from runwire.runtime.prompts import ChatPromptTemplate
    except ImportError as exc:
        print(f"prompt | model | parser: skipped ({exc})")
        return
    messages = [("system", "You are {role}."), ("human", "{question}")]
    inputs = {"role": "terse", "question": "why?"}
    ours = (
        ChatPromptTemplate.from_messages(messages)
        | FakeChatModel(responses=["because"])
        | StrOutputParser()
    )
    fns: dict[str, Callable[[], object]] = {"runwire": lambda: ours.invoke(inputs)}
    if lc:
        from langchain_core.language_models.fake_chat_models import FakeListChatModel
        from langchain_core.output_parsers import StrOutputParser as LcParser
        from langchain_core.prompts import ChatPromptTemplate as LcPrompt

        theirs = (
            LcPrompt.from_messages(messages) | FakeListChatModel(responses=["because"]) | LcParser()
        )
        fns["langchain"] = lambda: theirs.invoke(inputs)
    t = per_call(fns, calls=100, rounds=5)
    report("prompt | fake chat model | parser invoke", t["runwire"], t.get("langchain"), 10)


def bench_wide_manifest(lc: Any) -> None:
    try:
        from runwire.runtime.parallel import RunnableParallel
        from runwire.runtime.parsers import StrOutputParser
        from runwire.runtime.prompts import ChatPromptTemplate
    except ImportError as exc:
        print(f"100-branch parallel manifest: skipped ({exc})")
        return
    ours = wide_parallel(ChatPromptTemplate, StrOutputParser, RunnableParallel)
    text = runwire.dumps(ours)
    fns: dict[str, Callable[[], object]] = {
        "runwire dumps": lambda: runwire.dumps(ours),
        "runwire loads": lambda: runwire.loads(text),
        "floor loads": lambda: floor_loads(text),
    }
    lc_text = None
    if lc:
        from langchain_core.output_parsers import StrOutputParser as LcParser
        from langchain_core.prompts import ChatPromptTemplate as LcPrompt

        theirs = wide_parallel(LcPrompt, LcParser, lc.runnables.RunnableParallel)
        lc_text = lc.load.dumps(theirs)
        fns["langchain dumps"] = lambda: lc.load.dumps(theirs)
        fns["langchain loads"] = lambda: lc.load.loads(lc_text, allowed_objects="core")
    print(f"100-branch parallel manifest: {len(text):,} bytes")
    t = per_call(fns, calls=3, rounds=5)
    for op in ("dumps", "loads"):
        report(f"  {op}", t[f"runwire {op}"], t.get(f"langchain {op}"), 10, unit="ms")
    report_floor(t["floor loads"], t.get("langchain loads"), title="  loads floor")
    bench_cold_process(text, lc_text)


PYDANTIC_FLOOR = "from pydantic import BaseModel\nclass A(BaseModel):\n    x: int\nA(x=1)"
"""The least any pydantic-based loader pays: import pydantic and build one model."""


def _process_seconds(
    codes: dict[str, str], env: dict[str, str], repeat: int = 5
) -> dict[str, float]:
    """Best wall time of ``python -c code`` for each code, runs interleaved, after a warm-up
    run of each that writes its bytecode cache (both sides start from cached bytecode, as
    after ``pip install``; an editable install under PYTHONDONTWRITEBYTECODE would not)."""
    best = dict.fromkeys(codes, float("inf"))
    for code in codes.values():
        subprocess.run([sys.executable, "-c", code], check=True, env=env)
    for _ in range(repeat):
        for name, code in codes.items():
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def bench_cold_process(text: str, lc_text: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp, "pycache"))  # one fresh cache for both
        ours_file = Path(tmp, "ours.json")
        ours_file.write_text(text)
        codes = {
            "runwire": f"import runwire; runwire.loads(open({str(ours_file)!r}).read())",
            "floor": PYDANTIC_FLOOR,
        }
        if lc_text is not None:
            lc_file = Path(tmp, "lc.json")
            lc_file.write_text(lc_text)
            codes["langchain"] = (
                "import warnings; from langchain_core.load import loads;"
                "warnings.simplefilter('ignore');"
                f"loads(open({str(lc_file)!r}).read(), allowed_objects='core')"
            )
        t = _process_seconds(codes, env)
    report("  import + loads, whole process", t["runwire"], t.get("langchain"), 5, unit="ms")
    line = f"{'  floor: import pydantic, build one model':44s}         {t['floor'] * 1e3:10.1f} ms"
    if "langchain" in t:
        line += (
            f"  (best ratio any pydantic loader could reach: {t['langchain'] / t['floor']:.1f}x)"
        )
    print(line)


def _event_loops() -> dict[str, Callable[[Any], Any]]:
    """asyncio's own loop, and uvloop (the loop ``runwire serve`` runs on) when installed."""
    loops: dict[str, Callable[[Any], Any]] = {"asyncio": asyncio.run}
    try:
        import uvloop
    except ImportError:
        return loops
    loops["uvloop"] = uvloop.run
    return loops


def bench_abatch(rounds: int = 5) -> None:
    async def nap(x: int) -> int:
        await asyncio.sleep(0.001)
        return x

    async def floor() -> None:  # the event loop alone: 100 workers x 100 sleeps
        async def worker() -> None:
            for _ in range(100):
                await asyncio.sleep(0.001)

        await asyncio.gather(*(worker() for _ in range(100)))

    runnable = RunnableLambda(nap)
    inputs = list(range(10_000))
    ideal = len(inputs) / 100 * 0.001
    assert asyncio.run(runnable.abatch(inputs, {"max_concurrency": 100})) == inputs
    for name, run in _event_loops().items():
        took: dict[str, list[float]] = {"runwire": [], "floor": []}
        jobs = {
            "runwire": lambda: runnable.abatch(inputs, {"max_concurrency": 100}),
            "floor": floor,
        }
        for round_ in range(rounds):  # interleaved, alternating who goes first
            for side in sorted(jobs, reverse=bool(round_ % 2)):
                start = time.perf_counter()
                run(jobs[side]())
                took[side].append(time.perf_counter() - start)
        ours, loop_floor = statistics.median(took["runwire"]), statistics.median(took["floor"])
        verdict = "met" if ours <= 1.5 * ideal else "MISSED"
        print(
            f"{'abatch 10,000 x 1 ms sleep, concurrency 100':44s} runwire {ours * 1e3:10.1f} ms"
            f"  {ours / ideal:.2f}x ideal {ideal * 1e3:.0f} ms (<= 1.5x {verdict}) on {name}"
        )
        print(
            f"{'  same sleeps, no runwire (the loop alone)':44s}         "
            f"{loop_floor * 1e3:10.1f} ms  {loop_floor / ideal:.2f}x ideal on {name}"
            f" (median of {rounds})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("passthrough", "chain", "manifest", "abatch"))
    args = parser.parse_args()
    try:
        import langchain_core.load
        import langchain_core.runnables

        lc: Any = langchain_core
    except ImportError:
        lc = None
        print("langchain-core not installed: runwire figures only")
    warnings.simplefilter("ignore")  # after the import: langchain-core adds its own filters
    benches: dict[str, Callable[[], None]] = {
        "passthrough": lambda: bench_passthrough(lc),
        "chain": lambda: bench_chain(lc),
        "manifest": lambda: bench_wide_manifest(lc),
        "abatch": bench_abatch,
    }
    for name, bench in benches.items():
        if args.only in (None, name):
            bench()


if __name__ == "__main__":
    main()
