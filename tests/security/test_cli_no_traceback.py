"""No input makes a ``runwire`` command print a traceback (issue 13).

Hostile files through the real command line (``main(argv)``, and the console script once):
each is a runwire error naming the file, exit code 1. An exception no command expects is
one line too: an internal error to report, with the traceback only under
``RUNWIRE_DEBUG=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runwire.cli import commands
from runwire.cli.main import describe_failure, main

CHAIN = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: '{x}'
  - _type: FakeChatModel
    responses: [ok]
  - _type: StrOutputParser
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "chain.yaml").write_text(CHAIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWIRE_DEBUG", raising=False)
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Run ``runwire argv...``; (exit code, stdout + stderr), which holds no traceback."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and 'File "' not in err
    return code, out + err


# Each builds a hostile manifest in the working folder and returns its name.
def deep_yaml(folder: Path) -> str:
    (folder / "deep.yaml").write_text("[" * 10_000)
    return "deep.yaml"


def deep_json(folder: Path) -> str:
    (folder / "deep.json").write_text("[" * 10_000 + "]" * 10_000)
    return "deep.json"


def json_under_orjson_depth(folder: Path) -> str:
    (folder / "deep1000.json").write_text("[" * 1_000 + "]" * 1_000)
    return "deep1000.json"


def huge_integer(folder: Path) -> str:
    (folder / "int.yaml").write_text("_type: PromptTemplate\ntemplate: x\nn: " + "9" * 5_000)
    return "int.yaml"


def include_chain(folder: Path) -> str:
    for i in range(1_000):
        (folder / f"c{i}.yaml").write_text(f"_include: c{i + 1}.yaml\n")
    (folder / "c1000.yaml").write_text(CHAIN)
    return "c0.yaml"


def include_fan_out(folder: Path) -> str:
    for level in range(6):
        lines = [f"k{i}: !include f{level + 1}.yaml" for i in range(10)]
        (folder / f"f{level}.yaml").write_text("\n".join(lines) if level < 5 else "x: 1")
    return "f0.yaml"


def folder_include(folder: Path) -> str:
    (folder / "parts").mkdir()
    (folder / "dir.yaml").write_text("_type: PromptTemplate\ntemplate: !include parts\n")
    return "dir.yaml"


def fifo_include(folder: Path) -> str:
    os.mkfifo(folder / "pipe.yaml")
    (folder / "fifo.yaml").write_text("_type: PromptTemplate\ntemplate: !include pipe.yaml\n")
    return "fifo.yaml"


def alias_bomb(folder: Path) -> str:
    lists = ["a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for name, previous in zip("bcdefg", "abcdef", strict=True):
        lists.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    (folder / "bomb.yaml").write_text("\n".join(lists))
    return "bomb.yaml"


HOSTILE: dict[str, Callable[[Path], str]] = {
    "deep-json": deep_json,
    "json-under-orjson-depth": json_under_orjson_depth,
    "huge-integer": huge_integer,
    "include-chain": include_chain,
    "include-fan-out": include_fan_out,
    "folder-include": folder_include,
    "fifo-include": fifo_include,
    "alias-bomb": alias_bomb,
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_files_are_runwire_errors_in_every_command(
    capsys: pytest.CaptureFixture[str], project: Path, case: str
) -> None:
    name = HOSTILE[case](project)
    for argv in (("validate", name), ("run", name, "-i", "{}"), ("dump", "-q", name)):
        code, text = cli(capsys, *argv)
        assert code == 1, (argv, text)
        assert "internal error" not in text and "hint:" in text, (argv, text)


def test_deep_yaml_is_a_runwire_error(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    name = deep_yaml(project)
    code, text = cli(capsys, "validate", name)
    assert code == 1 and f"{name}:1:" in text and "levels deep" in text


@pytest.mark.parametrize(
    "argv",
    [
        ("--set", "steps.²=1"),
        ("--set", "²=1"),
        ("--set", "steps.0.template=" + "9" * 5_000),
        (
            "--set",
            "x=[&a [1,2,3,4,5,6,7,8,9,0], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], "
            "&c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], "
            "&e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e], "
            "&g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]]",
        ),
        ("-f", "over.yaml"),
    ],
)
def test_hostile_overlays_and_sets_are_runwire_errors(
    capsys: pytest.CaptureFixture[str], project: Path, argv: tuple[str, ...]
) -> None:
    (project / "over.yaml").write_text("steps:\n  '²': {template: y}\n")
    assert cli(capsys, "validate", "chain.yaml")[0] == 0  # only the arguments are hostile
    for command in (("validate", "chain.yaml"), ("run", "chain.yaml", "-i", '{"x": 1}')):
        code, text = cli(capsys, *command, *argv)
        assert code == 1 and "internal error" not in text, text


def test_fmt_refuses_deep_json_and_binary_files(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    name = deep_json(project)
    (project / "binary.yaml").write_bytes(b"\xff\xfe\x00garbage")
    code, text = cli(capsys, "fmt", "--check", name, "binary.yaml")
    assert code == 1 and "deep.json" in text and "UTF-8" in text


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_an_endless_input_file_is_refused(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, text = cli(capsys, "run", "chain.yaml", "-i", "@/dev/zero")
    assert code == 1 and "larger than" in text


# -- the top level ----------------------------------------------------------------------
def raising(exc: BaseException) -> Callable[..., int]:
    def command(*args: object) -> int:
        raise exc

    return command


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RecursionError("maximum recursion depth exceeded"), "error: the input is nested too"),
        (MemoryError(), "error: out of memory"),
        (
            FileNotFoundError(2, "No such file or directory", "x.yaml"),
            "error: No such file or directory: x.yaml",
        ),
        (RuntimeError("boom\nsecond line"), "internal error: RuntimeError: boom; please report"),
    ],
)
def test_unexpected_exceptions_are_one_line(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    exc: BaseException,
    expected: str,
) -> None:
    monkeypatch.setattr(commands, "cmd_validate", raising(exc))
    code, text = cli(capsys, "validate", "chain.yaml")
    assert code == 1 and text.startswith(expected) and text.count("\n") == 1, text


def test_runwire_debug_shows_the_traceback(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(commands, "cmd_validate", raising(RuntimeError("boom")))
    monkeypatch.setenv("RUNWIRE_DEBUG", "1")
    capsys.readouterr()
    assert main(["validate", "chain.yaml"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith(
        "please report it (RUNWIRE_DEBUG=1 shows the traceback)"
    )


def test_describe_failure_keeps_runwire_errors_as_they_are() -> None:
    from runwire.errors import LimitExceededError

    error = LimitExceededError("too big", hint="make it smaller", file="m.yaml", line=3)
    assert describe_failure(error) == str(error)
    long = describe_failure(ValueError("x" * 1_000))
    assert long.startswith("internal error: ValueError: ") and len(long) < 450


def test_the_console_script_prints_no_traceback(project: Path) -> None:
    deep_yaml(project)
    done = subprocess.run(
        [sys.executable, "-m", "runwire.cli.main", "validate", "deep.yaml", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "RUNWIRE_DEBUG": ""},
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr + done.stdout
    assert "LimitExceededError" in done.stdout


def test_a_manifest_of_plain_data_is_no_pipeline(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / "list.yaml").write_text("- 1\n- 2\n")
    (project / "in.jsonl").write_text("{}\n")
    for argv in (
        ("run", "list.yaml", "-i", "{}"),
        ("schema", "input", "list.yaml"),
        ("batch", "list.yaml", "in.jsonl", "-o", "out.jsonl"),
    ):
        code, text = cli(capsys, *argv)
        assert code == 1 and "the manifest is a list, not a runnable pipeline" in text, text
    code, text = cli(capsys, "validate", "list.yaml")
    assert code == 1 and "(2 problems)" in text  # one per item, not one per schema branch


def test_messages_quote_a_short_excerpt_of_a_huge_value(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / "type.yaml").write_text("_type: " + "x" * 200_000 + "\n")
    (project / "list.yaml").write_text(
        "_type: PromptTemplate\ntemplate: [" + "1, " * 5_000 + "1]\n"
    )
    for argv in (("validate", "type.yaml"), ("run", "type.yaml"), ("validate", "list.yaml")):
        code, text = cli(capsys, *argv)
        assert code == 1 and len(text) < 2_000, (argv, len(text))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_in_a_folder_of_manifests_is_skipped(project: Path) -> None:
    folder = project / "pipelines"
    folder.mkdir()
    (folder / "prompt.yaml").write_text("_type: PromptTemplate\ntemplate: '{x}'\n")
    os.mkfifo(folder / "pipe.yaml")
    done = subprocess.run(
        [sys.executable, "-m", "runwire.cli.main", "validate", "pipelines"],
        capture_output=True,
        text=True,
        timeout=60,  # it blocked forever on the FIFO
    )
    assert (done.returncode, done.stdout) == (0, "ok    pipelines/prompt.yaml\n"), done.stderr
