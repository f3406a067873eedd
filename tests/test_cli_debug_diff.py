"""``--debug`` (and ``RUNWIRE_DEBUG=1``) shows tracebacks; ``fmt --diff`` shows changes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from runwire.cli import commands
from runwire.cli.main import main
from runwire.redaction import register_secret

CHAIN = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: '{x}'
  - _type: FakeChatModel
    responses: [ok]
  - _type: StrOutputParser
"""
SECRET = "sk-debug-0xFEEDFACE-never-print"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "chain.yaml").write_text(CHAIN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWIRE_DEBUG", raising=False)
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- --debug ---------------------------------------------------------------------------
FAILING_RUN = ("run", "chain.yaml", "--input", '{"y": 1}')  # the prompt needs x: KeyError


def test_a_pipeline_failure_is_one_line_without_debug(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, _, err = cli(capsys, *FAILING_RUN)
    assert code == 1 and err.startswith("error: KeyError: ") and err.count("\n") == 1
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [("--debug", *FAILING_RUN), (*FAILING_RUN, "--debug")],
    ids=["before-the-command", "after-it"],
)
def test_debug_shows_the_pipeline_traceback(
    capsys: pytest.CaptureFixture[str], project: Path, argv: tuple[str, ...]
) -> None:
    code, _, err = cli(capsys, *argv)
    assert code == 1
    assert err.startswith("Traceback (most recent call last):\n")
    assert "_check_input" in err and "\nKeyError: " in err  # where it was raised, and what
    assert err.rstrip("\n").split("\n")[-1].startswith("error: KeyError: ")  # the line, last


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_runwire_debug_turns_it_on_too(
    capsys: pytest.CaptureFixture[str],
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("RUNWIRE_DEBUG", value)
    code, _, err = cli(capsys, *FAILING_RUN)
    assert code == 1 and err.startswith("Traceback")


def raising(exc: BaseException) -> Callable[..., int]:
    def command(*_: object) -> int:
        raise exc

    return command


def test_debug_shows_an_unexpected_failure_with_secrets_masked(
    capsys: pytest.CaptureFixture[str], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_secret(SECRET)
    monkeypatch.setattr(commands, "cmd_validate", raising(RuntimeError(f"boom {SECRET}")))
    code, _, err = cli(capsys, "--debug", "validate", "chain.yaml")
    assert code == 1 and "Traceback" in err and "RuntimeError: boom " in err
    assert SECRET not in err
    assert err.rstrip().split("\n")[-1].startswith("internal error: RuntimeError: boom ")
    code, _, err = cli(capsys, "validate", "chain.yaml")  # the next run: off again
    assert code == 1 and "Traceback" not in err and err.count("\n") == 1


def test_debug_before_emulate_keeps_the_child_command() -> None:
    from runwire.cli.main import _split_child

    argv = ["--debug", "emulate", "bedrock", "--", "runwire", "run", "x.yaml"]
    assert _split_child(argv) == (argv[:3], ["runwire", "run", "x.yaml"])


def test_the_console_script_honours_debug(project: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "runwire.cli.main", *FAILING_RUN, "--debug"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1 and done.stderr.startswith("Traceback")


# -- fmt --diff ------------------------------------------------------------------------
MESSY = "_type: PromptTemplate  # the prompt\ntemplate:   'hi {x}'\ninput_variables: [ x ]"


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    (project / "messy.yaml").write_text(MESSY)
    code, out, err = cli(capsys, "fmt", "--diff", "messy.yaml", "chain.yaml")
    assert (code, err) == (1, "")
    assert out == (
        "--- messy.yaml\n"
        "+++ messy.yaml\n"
        "@@ -1,3 +1,3 @@\n"
        " _type: PromptTemplate  # the prompt\n"
        "-template:   'hi {x}'\n"
        "-input_variables: [ x ]\n"
        "\\ No newline at end of file\n"
        "+template: 'hi {x}'\n"
        "+input_variables: [x]\n"
    )
    assert (project / "messy.yaml").read_text() == MESSY  # unchanged
    assert cli(capsys, "fmt", "messy.yaml")[0] == 0  # the diff's new side is what fmt writes
    assert (project / "messy.yaml").read_text() == "".join(
        line[1:] + "\n" for line in out.split("\n") if line[:1] in (" ", "+") and line[:3] != "+++"
    )


def test_fmt_diff_of_formatted_files_is_empty_and_exits_0(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    assert cli(capsys, "fmt", "--diff", str(project)) == (0, "", "")


def test_fmt_diff_with_canonical_shows_the_wire_form(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, _ = cli(capsys, "fmt", "--diff", "--canonical", "chain.yaml")
    assert code == 1 and out.startswith("--- chain.yaml\n+++ chain.yaml\n@@ ")
    assert "-  - _type: PromptTemplate\n" in out and "+lc: 1\n" in out
    assert (project / "chain.yaml").read_text() == CHAIN


def test_fmt_diff_reports_unreadable_files(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, err = cli(capsys, "fmt", "--diff", "missing.yaml")
    assert (code, out) == (1, "") and err.startswith("missing.yaml: cannot read: ")
