"""``runwire init``: the project it writes validates, runs, and passes its own test at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runwire.cli.init import FILES, SNAPSHOT
from runwire.cli.main import main

EXPECTED = sorted([target for _, target in FILES] + [SNAPSHOT])


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def project_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The generated tests in a fresh interpreter (the plugin comes from its entry point)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_init_writes_a_project_that_validates_and_passes_its_test(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "new" / "proj"  # missing parents are created
    code, out, _ = cli(capsys, "init", str(folder))
    assert code == 0
    assert project_files(folder) == EXPECTED
    assert sorted(line.split(" ", 1)[1] for line in out.splitlines()[:-1]) == sorted(
        str(folder / name) for name in EXPECTED
    )
    assert out.splitlines()[-1].startswith(f"next: cd {folder} && runwire validate")
    assert (folder / "README.md").read_text().startswith("# proj\n")

    monkeypatch.chdir(folder)
    code, out, _ = cli(capsys, "validate", "runwire.yaml", "pipelines")
    assert (code, out) == (
        0,
        "ok    runwire.yaml\n"
        "ok    runwire.yaml: chat (pipelines/chat.yaml)\n"
        "ok    pipelines/chat.yaml\n",
    )
    monkeypatch.setenv("CHAT_ANSWER", "Lyon, said nobody.")  # a ${VAR} the run picks up
    code, out, _ = cli(capsys, "run", "pipelines/chat.yaml", "--input", "@inputs/chat.json")
    assert (code, out) == (0, '"Lyon, said nobody."\n')

    first = run_pytest(folder)  # no --snapshot-update: the stored snapshot is there
    assert first.returncode == 0, first.stdout + first.stderr
    assert "1 passed" in first.stdout and "1 snapshot passed" in first.stdout
    stored = (folder / SNAPSHOT).read_bytes()
    rewritten = run_pytest(folder, "--snapshot-update")  # syrupy would write the same bytes
    assert rewritten.returncode == 0 and (folder / SNAPSHOT).read_bytes() == stored

    chat = folder / "pipelines" / "chat.yaml"
    chat.write_text(chat.read_text().replace("concise assistant", "verbose assistant"))
    changed = run_pytest(folder)  # the snapshot is real: a change to the pipeline fails it
    assert changed.returncode == 1 and "1 failed" in changed.stdout


def test_init_defaults_to_the_current_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")  # other files do not get in the way
    code, out, _ = cli(capsys, "init")
    assert code == 0 and out.splitlines()[-1].startswith("next: runwire validate")
    assert project_files(tmp_path) == sorted([*EXPECTED, "notes.txt"])


def test_init_overwrites_nothing_and_names_every_file_in_the_way(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("my readme")
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "chat.yaml").write_text("mine: true\n")
    code, out, err = cli(capsys, "init", str(tmp_path))
    assert code == 1 and out == ""
    first = err.splitlines()[0]
    assert first == f"error: {tmp_path}: would overwrite pipelines/chat.yaml, README.md"
    assert "never overwrites" in err
    assert project_files(tmp_path) == ["README.md", "pipelines/chat.yaml"]  # nothing written
    assert (tmp_path / "README.md").read_text() == "my readme"


def test_init_into_a_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "a-file"
    target.write_text("x")
    code, _, err = cli(capsys, "init", str(target))
    assert code == 1 and err.startswith(f"error: {target} is a file, not a folder")
    assert target.read_text() == "x"


def test_the_generated_test_names_its_stored_snapshot() -> None:
    """The amber file's entry is the generated test's name (else syrupy reports it unused)."""
    from runwire.cli import init

    test = init._template("test_pipelines.py.txt")
    assert f"def {init._SNAPSHOT_TEST}(manifest_snapshot):" in test
    assert f'"{init._SNAPSHOT_OF.split("/")[0]}" / "{init._SNAPSHOT_OF.split("/")[1]}"' in test
