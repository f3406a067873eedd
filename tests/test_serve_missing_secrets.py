"""`runwire serve` names every missing secret of every pipeline at once (issue 17, item 14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runwire.cli.main import main

MANIFEST = """\
_type: ChatBedrockConverse
model: anthropic.claude-3-haiku-20240307-v1:0
region_name: us-east-1
aws_access_key_id: !secret {key}
aws_secret_access_key: !secret {secret}
"""
NAMES = ("RW_T14_KEY_A", "RW_T14_SECRET_A", "RW_T14_KEY_B", "RW_T14_SECRET_B")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "a.yaml").write_text(MANIFEST.format(key=NAMES[0], secret=NAMES[1]))
    (tmp_path / "b.yaml").write_text(MANIFEST.format(key=NAMES[2], secret=NAMES[3]))
    monkeypatch.chdir(tmp_path)
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_every_missing_secret_is_named_at_once(project: Path, capsys) -> None:
    assert main(["serve", "a.yaml", "b.yaml", "--port", "0"]) == 1
    err = capsys.readouterr().err
    for name, where in zip(NAMES, ("a.yaml:4", "a.yaml:5", "b.yaml:4", "b.yaml:5"), strict=True):
        line = next(line for line in err.splitlines() if f"secret {name} " in line)
        assert where in line, line
    assert "3 more secret(s) are not set" in err
    assert "provide them" in err


def test_one_missing_secret_reads_as_before(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in NAMES[1:]:
        monkeypatch.setenv(name, "x" * 20)
    assert main(["serve", "a.yaml", "b.yaml", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert "a.yaml:4:1: $.aws_access_key_id: pipeline a: secret RW_T14_KEY_A" in err
    assert "more secret" not in err and "provide it" in err
    assert "x" * 20 not in err
