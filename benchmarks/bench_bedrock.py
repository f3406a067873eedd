"""Bedrock throughput: ChatBedrockConverse.abatch against boto3 called from a thread pool.

Run: ``.venv/bin/python benchmarks/bench_bedrock.py``. Target (issue 5): ``abatch`` of
500 converse calls against the emulator reaches at least 0.9x the throughput of the
same 500 calls made directly with a boto3 client from a thread pool of the same size,
measured in the same run. The emulator runs in its own process (``runwire emulate
bedrock``), so neither side shares a GIL with the server. On a small shared machine
single rounds swing by +-25%, hence 20 interleaved rounds and the median of their ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

KEY_ID, SECRET = "AKIDRUNWIREBENCH", "runwire-bench-secret"
MODEL = "anthropic.claude-3-haiku-20240307-v1:0"


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    """``runwire emulate bedrock`` on a free port; returns the process and its URL."""
    cmd = [sys.executable, "-m", "runwire.cli.main", "emulate", "bedrock", "--port", "0"]
    cmd += ["--access-key-id", KEY_ID, "--secret-access-key", SECRET]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.split()[-1]


def questions(n: int) -> list[str]:
    return [f"Question number {i}: what is the capital of France?" for i in range(n)]


def run_runwire(endpoint: str, texts: list[str], workers: int) -> float:
    """Seconds for ``abatch`` over ``texts``."""
    from runwire.providers.aws import ChatBedrockConverse

    model = ChatBedrockConverse(
        model=MODEL, endpoint_url=endpoint, region_name="us-east-1", max_tokens=64
    )
    model.invoke("warm up")
    start = time.perf_counter()
    results = asyncio.run(model.abatch(texts, {"max_concurrency": workers}))
    elapsed = time.perf_counter() - start
    assert len(results) == len(texts)
    return elapsed


def run_boto3(endpoint: str, texts: list[str], workers: int) -> float:
    """Seconds for the same converse calls with boto3 from a thread pool."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        config=Config(max_pool_connections=workers),
    )

    def call(text: str) -> Any:
        return client.converse(
            modelId=MODEL,
            messages=[{"role": "user", "content": [{"text": text}]}],
            inferenceConfig={"maxTokens": 64},
        )

    call("warm up")
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(call, texts))
    elapsed = time.perf_counter() - start
    assert len(results) == len(texts)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--workers", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    os.environ.update(
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_EC2_METADATA_DISABLED="true",
        RUNWIRE_AWS_MAX_WORKERS=str(args.workers),
    )
    proc, endpoint = start_emulator()
    try:
        texts = questions(args.calls)
        ours: list[float] = []
        theirs: list[float] = []
        for round_ in range(args.rounds):  # interleaved, alternating who goes first
            if round_ % 2:
                ours.append(run_runwire(endpoint, texts, args.workers))
            theirs.append(run_boto3(endpoint, texts, args.workers))
            if not round_ % 2:
                ours.append(run_runwire(endpoint, texts, args.workers))
    finally:
        proc.terminate()
        proc.wait(10)
    ours_rps = args.calls / statistics.median(ours)
    theirs_rps = args.calls / statistics.median(theirs)
    # each round runs both sides back to back: the median of the per-round ratios
    # cancels the machine's drift better than a ratio of medians
    ratios = [t / o for t, o in zip(theirs, ours, strict=True)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.9 else "MISSED"
    print(f"{args.calls} converse calls, {args.workers} workers, {args.rounds} rounds")
    print(f"  boto3 thread pool           {theirs_rps:8.0f} calls/s (median)")
    print(f"  ChatBedrockConverse.abatch  {ours_rps:8.0f} calls/s (median)")
    print(f"  per-round ratios            {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"  throughput ratio {ratio:.2f}x, median of per-round ratios (>= 0.9x {verdict})")


if __name__ == "__main__":
    main()
