"""``import runwire`` stays cheap: heavy dependencies load only when something needs them.

Checked in fresh interpreters (``sys.executable``) by module name, never by wall-clock time.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import runwire

HEAVY = ("pydantic", "pydantic_core", "boto3", "botocore", "httpx", "orjson")
NEVER_FOR_LOADS = ("boto3", "botocore", "httpx", "langchain_core", "langserve")


def run_python(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,  # nothing in the working directory can shadow a module
        timeout=120,
        check=False,
    )


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from ``-X importtime`` lines: ``import time: self | cumulative | name``."""
    names = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":  # the header line
                names.add(name)
    return names


def test_import_runwire_does_not_import_heavy_dependencies(tmp_path: Path) -> None:
    proc = run_python(tmp_path, "-X", "importtime", "-c", "import runwire")
    assert proc.returncode == 0, proc.stderr
    modules = imported_modules(proc.stderr)
    assert "runwire" in modules  # the parse works: the package itself is listed
    tops = {name.split(".")[0] for name in modules}
    assert not tops & set(HEAVY), sorted(tops & set(HEAVY))


def test_loads_works_in_a_fresh_interpreter(tmp_path: Path) -> None:
    text = runwire.dumps(runwire.AIMessage("hi", tool_calls=[{"name": "f", "args": {}, "id": "1"}]))
    script = (
        "import json, sys, runwire\n"
        f"msg = runwire.loads({text!r})\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{NEVER_FOR_LOADS!r})\n"
        "print(json.dumps({'type': type(msg).__name__, 'tool_calls': msg.tool_calls,"
        " 'heavy': heavy, 'same': runwire.dumps(msg) == " + repr(text) + "}))\n"
    )
    proc = run_python(tmp_path, "-c", script)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result == {
        "type": "AIMessage",
        "tool_calls": [{"name": "f", "args": {}, "id": "1", "type": "tool_call"}],
        "heavy": [],
        "same": True,
    }


@pytest.mark.parametrize("name", sorted(set(runwire.__all__) - {"__version__"}))
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(runwire, name) is not None
    assert name in dir(runwire)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        runwire.no_such_name  # noqa: B018
