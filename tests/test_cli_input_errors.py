"""The command line says what is wrong with an input, and what the pipeline takes."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwire.cli.main import main

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
CHAT = str(CONFIGS / "chat.yaml")
TAKES = "the pipeline takes an object with question (string), role (string)"


def _err(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err


def test_no_input_names_what_the_pipeline_takes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", CHAT]) == 1
    assert _err(capsys).strip() == (
        f'no --input given: {TAKES}: --input \'{{"question": ..., "role": ...}}\''
    )


def test_broken_json_is_an_error_not_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", CHAT, "--input", '{"topic": "rain",}']) == 1
    assert "--input is not valid JSON: trailing comma" in _err(capsys)


def test_text_for_a_pipeline_of_fields_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", CHAT, "--input", "plain words"]) == 1
    assert _err(capsys).startswith(f"--input is a string, but {TAKES}")


def test_a_mistyped_option_gets_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", CHAT, "--inputs", "x"])
    assert stopped.value.code == 2
    assert "unrecognized arguments: --inputs (did you mean --input?) x" in _err(capsys)


def test_plain_text_still_goes_to_a_pipeline_that_takes_any_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "runwire.yaml").write_text("")
    (tmp_path / "echo.yaml").write_text("_type: RunnablePassthrough\n")
    assert main(["run", str(tmp_path / "echo.yaml"), "--input", "plain words"]) == 0
    assert capsys.readouterr().out.strip() == '"plain words"'
