"""OCI vLLM throughput: ChatOCIModelDeploymentVLLM.abatch against raw httpx.AsyncClient.

Run: ``.venv/bin/python benchmarks/bench_oci.py``. Target (issue 18): ``abatch`` of
1,000 chat calls to the OCI vLLM emulator with ``max_concurrency=64`` reaches at least
0.9x the throughput of a raw ``httpx.AsyncClient`` posting the same bodies with the same
headers and the same concurrency (64 tasks behind a semaphore), in the same run. The
emulator runs in its own process (``runwire emulate oci-vllm``), so neither side shares
a GIL with the server; both authenticate with the emulator's bearer token. Rounds are
interleaved (alternating who goes first) and the verdict is the median of the per-round
ratios, which cancels the drift of a small shared machine.

runwire's async client sends through aiohttp's pool (``httpx-aiohttp``), whose cost does
not grow with the number of open connections as httpcore 1.0's does; so the same raw
client on that transport is printed too (one round each, beside the verdict): it shows
what runwire's own per-call work costs over the same transport.

langchain-community's ChatOCIModelDeploymentVLLM is printed beside them (one round)
when it and its oracle-ads and langchain-openai dependencies are installed, as the
``bench`` extra installs them.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
import orjson

TOKEN = "runwire-oci-emulator-token"  # the emulator's public dummy token
CONCURRENCY = 64


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    """``runwire emulate oci-vllm`` on a free port; returns the process and predict URL."""
    cmd = [sys.executable, "-m", "runwire.cli.main", "emulate", "oci-vllm", "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.split()[-1]


def questions(n: int) -> list[str]:
    return [f"Question number {i}: what is the capital of France?" for i in range(n)]


def make_model(endpoint: str) -> Any:
    from runwire.providers.oci import ChatOCIModelDeploymentVLLM

    return ChatOCIModelDeploymentVLLM(endpoint=endpoint, bearer_token=TOKEN, max_tokens=64)


def run_runwire(model: Any, texts: list[str]) -> float:
    """Seconds for ``abatch`` over ``texts``."""

    async def go() -> float:
        await model.ainvoke("warm up")
        start = time.perf_counter()
        results = await model.abatch(texts, {"max_concurrency": CONCURRENCY})
        elapsed = time.perf_counter() - start
        assert [r.content for r in results] == texts
        await model.aclose()  # as the httpx side's `async with` closes its client
        return elapsed

    return asyncio.run(go())


def run_httpx(model: Any, endpoint: str, texts: list[str], transport: bool = False) -> float:
    """Seconds for the same bodies posted with a raw httpx.AsyncClient (on aiohttp's
    pool when ``transport``, as runwire's client is)."""
    from runwire.schema.messages import HumanMessage

    bodies = [orjson.dumps(model.build_body([HumanMessage(t)])) for t in texts]
    headers = {**model.headers(stream=False), "Authorization": f"Bearer {TOKEN}"}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)

    async def go() -> float:
        extra: dict[str, Any] = {}
        if transport:
            from httpx_aiohttp import AiohttpTransport

            extra["transport"] = AiohttpTransport(limits=limits)
        async with httpx.AsyncClient(limits=limits, timeout=300, **extra) as client:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def post(body: bytes) -> str:
                async with gate:
                    response = await client.post(endpoint, content=body, headers=headers)
                    response.raise_for_status()
                    return response.json()["choices"][0]["message"]["content"]

            await post(bodies[0])
            start = time.perf_counter()
            results = await asyncio.gather(*(post(b) for b in bodies))
            elapsed = time.perf_counter() - start
            assert list(results) == texts
            return elapsed

    return asyncio.run(go())


def run_langchain(endpoint: str, texts: list[str]) -> float | None:
    """Seconds for langchain-community's class, or None when it is not installed."""
    try:
        from langchain_community.chat_models import ChatOCIModelDeploymentVLLM
    except ImportError:
        return None

    class Bearer:  # the no-op-signer swap: a requests-style auth with the bearer token
        def __call__(self, request: Any) -> Any:
            request.headers["Authorization"] = f"Bearer {TOKEN}"
            return request

    model = ChatOCIModelDeploymentVLLM(endpoint=endpoint, auth={"signer": Bearer()})
    start = time.perf_counter()
    asyncio.run(model.abatch(texts, {"max_concurrency": CONCURRENCY}))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    proc, endpoint = start_emulator()
    try:
        texts = questions(args.calls)
        model = make_model(endpoint)
        ours: list[float] = []
        theirs: list[float] = []
        for round_ in range(args.rounds):
            if round_ % 2:
                ours.append(run_runwire(model, texts))
            theirs.append(run_httpx(model, endpoint, texts))
            if not round_ % 2:
                ours.append(run_runwire(model, texts))
        same_transport = run_httpx(model, endpoint, texts, transport=True)
        same_ours = run_runwire(model, texts)
        peer = run_langchain(endpoint, texts)
    finally:
        proc.terminate()
        proc.wait(10)
    ratios = [t / o for t, o in zip(theirs, ours, strict=True)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.9 else "MISSED"
    raw_rps = args.calls / statistics.median(theirs)
    ours_rps = args.calls / statistics.median(ours)
    print(f"{args.calls} chat calls, max_concurrency={CONCURRENCY}, {args.rounds} rounds")
    print(f"  raw httpx.AsyncClient                 {raw_rps:7.0f} calls/s (median)")
    print(f"  ChatOCIModelDeploymentVLLM.abatch     {ours_rps:7.0f} calls/s (median)")
    print(
        f"  raw httpx on aiohttp's pool             {args.calls / same_transport:7.0f} calls/s"
        f" (one round; runwire beside it {args.calls / same_ours:.0f},"
        f" {same_transport / same_ours:.2f}x)"
    )
    if peer is None:
        print("  langchain-community (peer)            not installed")
    else:
        print(
            f"  langchain-community (peer)            {args.calls / peer:7.0f} calls/s (one round)"
        )
    print(f"  per-round ratios                      {' '.join(f'{r:.2f}' for r in ratios)}")
    best = min(theirs) / min(ours)
    print(f"  best rounds ratio                     {best:.2f}x (noise only adds)")
    print(f"  throughput ratio {ratio:.2f}x, median of per-round ratios (>= 0.9x {verdict})")


if __name__ == "__main__":
    main()
