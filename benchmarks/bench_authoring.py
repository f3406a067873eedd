"""Loading and checking authored manifests: runwire against langchain-core's loader.

Run: ``make bench``, or ``.venv/bin/python benchmarks/bench_authoring.py [--repeat R]``.
For each example in configs/ it times, in one process:

- runwire ``load_file`` of the YAML authoring file (parse, includes, ``${VAR}``, expand,
  build);
- runwire ``loads`` of the same pipeline's wire JSON;
- langchain-core ``loads`` of that pipeline in the ``langchain`` dialect (when the
  pipeline has LangChain ids only; runwire's fake model has none, so the peer loads the
  pipeline with that step replaced by a passthrough);
- ``validate_manifest`` (structure + semantics), which LangChain has no counterpart for.

No target is set by issue 4; the figures show what authoring costs on top of the wire form.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import runwire
from runwire.loader.files import Manifest
from runwire.loader.validate import validate_manifest

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def timed(func: Callable[[], Any], repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls, after one warm-up."""
    func()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def peer_text(pipeline: Any) -> str | None:
    """The pipeline in the langchain dialect with fake models as passthroughs, or None."""
    from runwire.runtime import FakeChatModel, RunnablePassthrough

    def swap(value: Any) -> Any:
        if isinstance(value, FakeChatModel):
            return RunnablePassthrough()
        if isinstance(value, runwire.Serializable):
            updates = {k: swap(v) for k, v in value.__dict__.items()}
            return value.model_copy(update=updates)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    text = runwire.dumps(swap(pipeline), dialect="langchain")
    return None if '"runwire"' in text else text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    try:
        from langchain_core.load import loads as lc_loads
    except ImportError:
        lc_loads = None
    print(f"{'manifest':<20}{'yaml load':>11}{'wire load':>11}{'langchain':>13}{'validate':>11}")
    for path in sorted(CONFIGS.glob("*.yaml")):
        pipeline = runwire.load_file(path, env={})
        wire = runwire.dumps(pipeline)
        yaml_ms = timed(lambda p=path: runwire.load_file(p, env={}), args.repeat)
        wire_ms = timed(lambda w=wire: runwire.loads(w, allowed_objects="all"), args.repeat)
        check_ms = timed(lambda p=path: validate_manifest(Manifest.read(p), env={}), args.repeat)
        peer = "-"
        text = peer_text(pipeline)
        if lc_loads is not None and text is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    peer = f"{timed(lambda t=text: lc_loads(t), args.repeat):.2f}"
                except Exception as exc:  # LangChain cannot load every valid pipeline
                    peer = f"({type(exc).__name__})"
        print(f"{path.name:<20}{yaml_ms:>11.2f}{wire_ms:>11.2f}{peer:>13}{check_ms:>11.2f}")
    print("milliseconds, median; langchain = langchain_core.load.loads of the wire form")


if __name__ == "__main__":
    main()
