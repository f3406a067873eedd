"""``runwire completion SHELL``: scripts generated from the parser, checked by a real bash."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path

import pytest

from runwire.cli.main import build_parser, main

BASH = shutil.which("bash") or "/bin/bash"


def subcommands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


def script(capsys: pytest.CaptureFixture[str], shell: str) -> str:
    capsys.readouterr()
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def complete(script_path: Path, words: list[str]) -> list[str]:
    """What bash offers for the last word of ``words`` (``COMPREPLY`` of the function the
    script registers with ``complete -F``)."""
    line = " ".join(words)
    program = (
        'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
        f"COMP_LINE={line!r}; COMP_POINT=${{#COMP_LINE}}; "
        "fn=$(complete -p runwire | sed -E 's/.*-F ([^ ]+).*/\\1/'); $fn; "
        'printf "%s\\n" "${COMPREPLY[@]}"'
    )
    done = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program, "bash", str(script_path), *words],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.split("\n") if w]


def test_the_bash_script_is_valid_bash_and_knows_every_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = script(capsys, "bash")
    for name in subcommands():
        assert name in text
    path = tmp_path / "runwire.bash"
    path.write_text(text)
    checked = subprocess.run(
        [BASH, "-n", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert checked.returncode == 0, checked.stderr


def test_bash_completes_commands_options_and_choices(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "runwire.bash"
    path.write_text(script(capsys, "bash"))
    assert complete(path, ["runwire", "va"]) == ["validate"]
    assert sorted(complete(path, ["runwire", "fmt", "--d"])) == ["--debug", "--diff"]
    assert complete(path, ["runwire", "completion", ""]) == ["bash", "zsh", "tcsh"]
    assert complete(path, ["runwire", "dump", "--dialect", "lang"]) == ["langchain"]
    (tmp_path / "chat.yaml").write_text("{}")
    offered = complete(path, ["runwire", "validate", str(tmp_path / "cha")])
    assert offered == [str(tmp_path / "chat.yaml")]  # FILE arguments complete file names


@pytest.mark.parametrize(("shell", "start"), [("zsh", "#compdef runwire"), ("tcsh", "#")])
def test_zsh_and_tcsh_scripts(capsys: pytest.CaptureFixture[str], shell: str, start: str) -> None:
    text = script(capsys, shell)
    assert text.startswith(start)
    for name in ("init", "types", "validate", "fmt", "serve", "completion"):
        assert name in text


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["completion", "fish"])
    assert exited.value.code == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err
