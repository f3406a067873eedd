"""The Python examples in README.md and docs/ run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# docs whose python blocks are complete programs (others show fragments)
RUNNABLE_DOCS = ["README.md", "docs/wire-format.md"]


def _blocks(name: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (ROOT / name).read_text(), flags=re.S)


@pytest.mark.parametrize("name", RUNNABLE_DOCS)
def test_python_examples_run(name: str, id_table_snapshot: object) -> None:
    blocks = _blocks(name)
    assert blocks, f"{name} has no python example"
    for block in blocks:
        exec(compile(block, name, "exec"), {"__name__": "docs_example"})
