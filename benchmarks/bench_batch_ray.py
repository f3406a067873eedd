"""Batch throughput: ``runwire batch --engine ray`` on 2 local workers vs the local engine.

Run: ``.venv/bin/python benchmarks/bench_batch_ray.py``. Target (issue 21): a batch of
1,000 inputs (prompt -> ChatBedrockConverse -> text) on 2 local Ray workers reaches at
least 0.8x the throughput of the local engine at the same concurrency: Ray must not cost
more than it gives on one machine.

Each round runs each engine in a fresh process, as a ``runwire batch`` command would, so
both start cold (imports, the first boto3 client). The time runs from reading the manifest
to the last record written: the local engine builds the pipeline and runs every input; the
Ray engine ships the manifest, starts its workers (actors that load it) and runs every
input. Starting Ray itself is not counted but printed apart: a cluster outlives a batch,
and a 1,000-input batch takes about 2 s here against about 5 s for Ray's start. Ray runs
its workers at nice 15; here they run at 0, as the local engine does, so that other work on
a shared machine does not decide the race. The emulator runs in its own process
(``runwire emulate bedrock``). Rounds alternate which engine goes first; the median of the
per-round ratios is the figure (single rounds on a small shared machine swing by 25%).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_bedrock import SECRET, start_emulator

MANIFEST = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages:
      - [system, "You are a concise assistant. Answer in one sentence."]
      - [human, "{question}"]
  - _type: ChatBedrockConverse
    model: anthropic.claude-3-haiku-20240307-v1:0
    endpoint_url: "${BEDROCK_ENDPOINT_URL}"
    region_name: us-east-1
    aws_access_key_id: AKIDRUNWIREBENCH
    aws_secret_access_key: !secret AWS_SECRET_ACCESS_KEY
    max_tokens: 64
  - _type: StrOutputParser
"""


def one_round(engine: str, manifest: Path, inputs: Path, output: Path, args: Any) -> dict:
    """In this (fresh) process: one batch, timed; ``{"seconds": ..., "ray_start": ...}``."""
    from runwire.cli.batch import run_batch
    from runwire.cli.batch_ray import run_batch_ray, shipped_manifest
    from runwire.loader.files import Manifest

    ray_start = 0.0
    if engine == "ray":
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
    start = time.perf_counter()
    if engine == "ray":
        text = shipped_manifest(Manifest.read([manifest]), str(manifest))
        report = run_batch_ray(
            text,
            inputs,
            output,
            concurrency=args.concurrency,
            workers=args.workers,
            progress=False,
        )
    else:
        pipeline = Manifest.read([manifest]).build(secrets_from_env=True)
        report = run_batch(pipeline, inputs, output, concurrency=args.concurrency, progress=False)
    seconds = time.perf_counter() - start
    assert report.succeeded == report.total, report.summary()
    return {"seconds": seconds, "ray_start": ray_start}


def measure(engine: str, folder: Path, args: Any) -> dict:
    """One round of ``engine`` in a child process."""
    output = folder / f"{engine}.jsonl"
    output.unlink(missing_ok=True)
    cmd = [sys.executable, __file__, "--round", engine, "--folder", str(folder)]
    cmd += ["--concurrency", str(args.concurrency), "--workers", str(args.workers)]
    child = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
    if child.returncode != 0:
        raise SystemExit(f"the {engine} round failed:\n{child.stderr[-2000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--round", choices=("local", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.round:  # a child: one round
        folder = args.folder
        result = one_round(
            args.round,
            folder / "chain.yaml",
            folder / "inputs.jsonl",
            folder / f"{args.round}.jsonl",
            args,
        )
        print(json.dumps(result))
        return
    try:
        import ray  # noqa: F401
    except ImportError:
        raise SystemExit("Ray is not installed: pip install -e '.[ray]'") from None
    proc, endpoint = start_emulator()
    os.environ.update(
        BEDROCK_ENDPOINT_URL=endpoint,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_EC2_METADATA_DISABLED="true",
        RAY_worker_niceness="0",
    )
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-ray-"))
    (folder / "chain.yaml").write_text(MANIFEST, encoding="utf-8")
    questions = [
        {"question": f"Question {i}: what is the capital of France?"} for i in range(args.inputs)
    ]
    lines = "".join(json.dumps(q) + "\n" for q in questions)
    (folder / "inputs.jsonl").write_text(lines, encoding="utf-8")
    local: list[float] = []
    remote: list[float] = []
    starts: list[float] = []
    try:
        for round_ in range(args.rounds):  # interleaved, alternating who goes first
            order = ("ray", "local") if round_ % 2 else ("local", "ray")
            for engine in order:
                result = measure(engine, folder, args)
                if engine == "ray":
                    remote.append(result["seconds"])
                    starts.append(result["ray_start"])
                else:
                    local.append(result["seconds"])
        same = (folder / "ray.jsonl").read_bytes() == (folder / "local.jsonl").read_bytes()
    finally:
        proc.terminate()
        proc.wait(10)
    ratios = [lo / re for lo, re in zip(local, remote, strict=True)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio >= 0.8 else "MISSED"
    print(
        f"{args.inputs} inputs, concurrency {args.concurrency}, {args.workers} Ray workers, "
        f"{args.rounds} rounds, each engine in a fresh process "
        f"(starting Ray itself: {statistics.median(starts):.1f} s, not counted)"
    )
    print(f"  local engine      {args.inputs / statistics.median(local):8.0f} inputs/s (median)")
    print(f"  Ray engine        {args.inputs / statistics.median(remote):8.0f} inputs/s (median)")
    print(f"  per-round ratios  {' '.join(f'{r:.2f}' for r in ratios)}")
    print(f"  identical output files: {same}")
    print(f"  throughput ratio {ratio:.2f}x, median of per-round ratios (>= 0.8x {verdict})")


if __name__ == "__main__":
    main()
