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


# -- console examples: `$ runwire ...` lines, then the expected output ------------------
CONSOLE_DOCS = ["docs/cli.md", "docs/authoring.md"]
BROKEN = """\
_type: sequence
steps:
  - _type: ChatPromptTemplate
    messages: [[system, "You are {role}."], [human, "{question}"]]
  - _type: FakeChatModel
    responsess: ["x"]
  - _type: StrOutputParser
"""
BROKEN = BROKEN.replace("StrOutputParser", "StrOutputParsr")


def _console_examples(name: str) -> list[tuple[str, list[str], int]]:
    examples = []
    for block in re.findall(r"```console\n(.*?)```", (ROOT / name).read_text(), flags=re.S):
        for chunk in block.split("$ ")[1:]:
            command, *output = chunk.rstrip("\n").split("\n")
            code = 0
            if output and re.fullmatch(r"\[exit \d+\]", output[-1]):
                code = int(output.pop()[6:-1])
            examples.append((command, output, code))
    return examples


@pytest.fixture
def repo_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/, docs/ and runwire.yaml copied to a temporary project, as the working
    directory."""
    import shutil

    for folder in ("configs", "docs"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    shutil.copy(ROOT / "runwire.yaml", tmp_path / "runwire.yaml")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "configs" / "broken.yaml").write_text(BROKEN)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHAT_ANSWER", raising=False)
    return tmp_path


@pytest.mark.parametrize("name", CONSOLE_DOCS)
def test_console_examples_run(
    name: str, repo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shlex

    from runwire.cli.main import main

    examples = _console_examples(name)
    assert examples, f"{name} has no console example"
    for command, expected, code in examples:
        argv = shlex.split(command)
        assert argv[0] == "runwire", command
        if "broken.yaml" not in command:
            (repo_copy / "configs" / "broken.yaml").unlink(missing_ok=True)
        else:
            (repo_copy / "configs" / "broken.yaml").write_text(BROKEN)
        got = main(argv[1:])
        captured = capsys.readouterr()
        lines = (captured.out + captured.err).rstrip("\n").split("\n")
        assert (lines if lines != [""] else [], got) == (expected, code), command


def test_the_committed_manifest_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/manifest.schema.json (what editors point at) is `runwire schema manifest`."""
    from runwire.cli.main import main

    assert main(["schema", "manifest"]) == 0
    assert capsys.readouterr().out == (ROOT / "docs" / "manifest.schema.json").read_text(), (
        "regenerate it: runwire schema manifest > docs/manifest.schema.json"
    )


def test_the_readme_langchain_dialect_example_loads_in_langchain() -> None:
    """The README says langchain_core.load.loads reads its langchain-dialect text."""
    import warnings

    lc = pytest.importorskip("langchain_core.load")
    import runwire
    from runwire.runtime import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages([("human", "{question}")])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = lc.loads(runwire.dumps(prompt, dialect="langchain"))
    assert theirs.format_messages(question="hi")[0].content == "hi"


def test_deploy_in_tests_example_runs() -> None:
    """docs/deploy.md "In tests": create_app on a plain runnable, served for real."""
    text = (ROOT / "docs/deploy.md").read_text()
    section = text[text.index("## 7. In tests") : text.index("## Trusting manifests")]
    (block,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert "create_app({" in block
    exec(compile(block, "docs/deploy.md", "exec"), {"__name__": "docs_example"})


def test_create_app_names_what_it_cannot_serve() -> None:
    from runwire.deploy import create_app

    with pytest.raises(TypeError, match=r"pipeline 'chat' is a str; expected a runnable"):
        create_app({"chat": "configs/chat.yaml"})
