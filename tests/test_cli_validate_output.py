"""``runwire validate`` on a real terminal (a pty): coloured and aligned, unless NO_COLOR;
in a pipe, the plain text docs/cli.md shows (tests/test_docs_examples.py runs those)."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")

GOOD = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: '{x}'
  - _type: FakeChatModel
    responses: [ok]
"""
BAD = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{question}"]]
  - _type: FakeChatModel
    responsess: [x]
  - _type: StrOutputParsr
"""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "good.yaml").write_text(GOOD)
    (tmp_path / "bad.yaml").write_text(BAD)
    return tmp_path


def on_terminal(folder: Path, *argv: str, **env: str) -> tuple[int, str]:
    """Run ``runwire argv`` with stdout on a pty; (exit code, what the terminal got)."""
    import pty

    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update({"TERM": "xterm-256color", "COLUMNS": "200", **env})
    child = subprocess.Popen(
        [sys.executable, "-m", "runwire.cli.main", *argv],
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=subprocess.PIPE,
        env=environ,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                chunk = os.read(leader, 65536)
            except OSError as exc:  # EIO: the child closed the terminal
                if exc.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = child.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        os.close(leader)
        if child.poll() is None:
            child.kill()
            child.wait()
        assert child.stderr is not None
        child.stderr.close()
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


def piped(folder: Path, *argv: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "runwire.cli.main", *argv],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "NO_COLOR"},
    )
    return done.returncode, done.stdout


def test_a_terminal_gets_colour_and_aligned_columns(project: Path) -> None:
    code, shown = on_terminal(project, "validate", "good.yaml", "bad.yaml")
    assert code == 1
    assert "\x1b[" in shown
    text = ANSI.sub("", shown)
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "ok    good.yaml"
    assert lines[1] == "FAIL  bad.yaml (2 problems)"
    heads = [line for line in lines[2:] if line.startswith("  bad.yaml:")]
    assert len(heads) == 2
    # location, phase and JSON path start in the same columns on every problem line
    assert len({line.index(" structure ") for line in heads}) == 1
    assert len({line.index("  $") for line in heads}) == 1
    assert any("hint: " in line for line in lines)
    _, plain = piped(project, "validate", "good.yaml", "bad.yaml")
    facts = [line.strip() for line in plain.split("\n") if line.strip()]
    for fact in facts:  # the same messages as the plain report
        if not fact.startswith("bad.yaml:"):
            assert fact in text


def test_no_color_on_a_terminal_is_the_plain_report(project: Path) -> None:
    code, shown = on_terminal(project, "validate", "good.yaml", "bad.yaml", NO_COLOR="1")
    assert (code, shown) == piped(project, "validate", "good.yaml", "bad.yaml")
    assert "\x1b[" not in shown


def test_the_plain_report(project: Path) -> None:
    code, out = piped(project, "validate", "good.yaml", "bad.yaml")
    assert code == 1 and "\x1b[" not in out
    lines = out.split("\n")
    assert lines[:2] == ["ok    good.yaml", "FAIL  bad.yaml (2 problems)"]
    assert lines[2].startswith("  bad.yaml:") and lines[3].startswith("    hint: ")
