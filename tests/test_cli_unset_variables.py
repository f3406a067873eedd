"""`schema input` and `dump` read unset `${VAR}`s as `validate` does, and every command
names the variable behind a refused value, once (issue 17, item 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwire.cli.main import main

CHAIN = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[human, "{{question}}"]]
  - _type: ChatBedrockConverse
    model: "{model}"
{extra}    region_name: us-east-1
    endpoint_url: "{endpoint}"
  - _type: StrOutputParser
"""
UNSET = ("RW_T10_MODEL", "RW_T10_ENDPOINT")


def _write(tmp_path: Path, name: str, **fields: str) -> str:
    fields.setdefault("extra", "")
    fields.setdefault("model", "anthropic.claude-3-haiku-20240307-v1:0")
    fields.setdefault("endpoint", "${RW_T10_ENDPOINT:-}")
    (tmp_path / name).write_text(CHAIN.format(**fields))
    return name


@pytest.fixture(autouse=True)
def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / ".git").mkdir()  # the project root
    monkeypatch.chdir(tmp_path)
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_variable_kept_as_written_loads_for_every_command(tmp_path: Path, capsys) -> None:
    name = _write(tmp_path, "kept.yaml", model="${RW_T10_MODEL}", extra="    provider: anthropic\n")
    assert _run(capsys, "validate", name)[0] == 0
    code, out, _ = _run(capsys, "schema", "input", name)
    assert code == 0 and '"question"' in out
    code, out, _ = _run(capsys, "dump", name)
    assert code == 0 and "${RW_T10_MODEL}" in out  # the wire form, as the file has it


def test_a_value_the_pipeline_cannot_do_without_is_named_once(tmp_path: Path, capsys) -> None:
    name = _write(tmp_path, "model.yaml", model="${RW_T10_MODEL}")
    for argv in (("validate", name), ("schema", "input", name), ("dump", name)):
        code, out, err = _run(capsys, *argv)
        text = out + err
        assert code == 1, argv
        assert text.count("RW_T10_MODEL is not set and has no default") == 1, (argv, text)
        assert "hint: set RW_T10_MODEL" in text, argv


def test_an_unset_endpoint_is_named_by_validate(tmp_path: Path, capsys) -> None:
    name = _write(tmp_path, "endpoint.yaml", endpoint="${RW_T10_ENDPOINT}")
    code, out, _ = _run(capsys, "validate", name)
    assert code == 1
    assert "RW_T10_ENDPOINT is not set and has no default" in out
    assert "allowed_endpoints=['${" not in out  # no hint built from the placeholder text
    assert _run(capsys, "schema", "input", name)[0] == 0
