"""The ``runwire`` command end to end: validate, fmt, run, batch, schema, dump, help.

Commands run in-process through :func:`runwire.cli.main.main` (output captured with
capsys, which is not a terminal, so outputs are JSON lines); one test runs the installed
console script. Anything that writes works on copies under ``tmp_path``.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from runwire.cli.main import main
from runwire.loader.files import load_file
from runwire.loader.registry import register
from runwire.runtime.models.fakes import FakeChatModel
from runwire.schema.dump import dumps
from runwire.schema.ids import IdTable

CONFIGS = Path(__file__).resolve().parent.parent / "configs"
MANIFESTS = sorted(p.name for p in CONFIGS.iterdir() if p.suffix in (".yaml", ".yml", ".json"))
YAML_FILES = sorted(
    str(p.relative_to(CONFIGS)) for p in CONFIGS.rglob("*") if p.suffix in (".yaml", ".yml")
)
CHAT_INPUT = '{"role": "a geographer", "question": "Capital of France?"}'
CHAT_ANSWER = "Paris is the capital of France."
SECRET_VALUE = "sk-VERY-SECRET-123"
EXIT_CODES = "exit codes: 0 ok, 1 a manifest was rejected"

# Three structure errors: an unknown _type, a misspelt kwarg, and a wrong type.
THREE_ERRORS = """\
_type: sequence
steps:
  - _type: ChatPromptTemplat
    messages: [[human, "{question}"]]
  - _type: FakeChatModel
    respnses: ["x"]
  - _type: StrOutputParser
    chunk: 1
"""

# A model with an optional secret field, registered per test (see ``keyed_model``).
KEYED = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: "Q: {question} ${CLI_TEST_GREETING}"
  - _type: CliKeyedModel
    api_key: !secret CLI_TEST_API_KEY
    responses: ["ok"]
  - _type: StrOutputParser
"""


class CliKeyedModel(FakeChatModel):
    """A fake model with an optional credential (secret id ``API_KEY``)."""

    api_key: SecretStr | None = None

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "cli_tests"]


class CliRequiredKeyModel(FakeChatModel):
    """A fake model whose credential is required."""

    api_key: SecretStr

    @classmethod
    def get_lc_namespace(cls) -> list[str]:
        return ["runwire", "cli_tests"]


@pytest.fixture
def keyed_model(id_table_snapshot: IdTable) -> Iterator[None]:
    """Register the secret-holding test models for one test (the table is restored)."""
    register(CliKeyedModel)
    register(CliRequiredKeyModel)
    yield


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Variables the tests rely on being unset unless a test sets them."""
    for name in ("CHAT_ANSWER", "CLI_TEST_API_KEY", "CLI_TEST_GREETING", "CLI_UNSET_VAR_X"):
        monkeypatch.delenv(name, raising=False)


def cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    """Run ``runwire argv...``; returns (exit code, stdout, stderr)."""
    capsys.readouterr()  # drop anything printed before
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def usage(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run an argv argparse ends with SystemExit (help, usage errors)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def canonical(path: Path) -> str:
    """The sorted wire form of what a file loads to (for comparing pipelines)."""
    return dumps(load_file(path), sort_keys=True)


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    """A writable copy of configs/ (fragments and overlays included, so includes resolve)."""
    return Path(shutil.copytree(CONFIGS, tmp_path / "configs"))


# -- validate ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", MANIFESTS)
def test_validate_accepts_each_example(capsys: pytest.CaptureFixture[str], name: str) -> None:
    path = CONFIGS / name
    assert cli(capsys, "validate", path) == (0, f"ok    {path}\n", "")


def test_validate_a_folder_checks_the_manifests_directly_in_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "validate", CONFIGS)
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"ok    {CONFIGS / name}" for name in MANIFESTS]
    assert "fragments" not in out and "overlays" not in out


def test_validate_reports_every_structure_error_with_its_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.yaml", THREE_ERRORS)
    code, out, _ = cli(capsys, "validate", path)
    assert code == 1
    assert out.startswith(f"FAIL  {path} (3 problems)\n")
    assert f"{path}:3:5: structure: $.steps[0]._type: unknown _type 'ChatPromptTemplat'" in out
    assert "did you mean ChatPromptTemplate" in out
    assert f"{path}:6:5: structure: $.steps[1].respnses: FakeChatModel has no field" in out
    assert "did you mean responses?" in out
    assert f"{path}:8:5: structure: $.steps[2].chunk:" in out


def test_validate_json_format_has_a_stable_shape(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write(tmp_path, "bad.yaml", THREE_ERRORS)
    good = CONFIGS / "chat.yaml"
    code, out, _ = cli(capsys, "validate", good, bad, "--format", "json")
    assert code == 1
    body = json.loads(out)
    assert set(body) == {"ok", "files"} and body["ok"] is False
    assert body["files"][0] == {"file": str(good), "ok": True, "problems": []}
    report = body["files"][1]
    assert (report["file"], report["ok"]) == (str(bad), False)
    keys = {"phase", "kind", "message", "path", "file", "line", "column", "hint"}
    assert all(set(p) == keys for p in report["problems"])
    first, second, third = report["problems"]
    assert first == {
        "phase": "structure",
        "kind": "unknown-type",
        "message": "unknown _type 'ChatPromptTemplat'",
        "path": "$.steps[0]._type",
        "file": str(bad),
        "line": 3,
        "column": 5,
        "hint": first["hint"],
    }
    assert "ChatPromptTemplate" in first["hint"]
    assert (second["kind"], second["path"], second["line"], second["column"]) == (
        "unknown-field",
        "$.steps[1].respnses",
        6,
        5,
    )
    assert second["hint"] == "did you mean responses?"
    assert (third["path"], third["line"]) == ("$.steps[2].chunk", 8)


def test_validate_json_of_valid_files_is_ok(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "validate", CONFIGS / "fanout.yaml", "--format", "json")
    assert code == 0
    assert json.loads(out) == {
        "ok": True,
        "files": [{"file": str(CONFIGS / "fanout.yaml"), "ok": True, "problems": []}],
    }


def problems_of(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> list[dict[str, Any]]:
    """The problems `validate --format json` reports for one file (exit code 1 asserted)."""
    code, out, _ = cli(capsys, "validate", *argv, "--format", "json")
    assert code == 1
    (report,) = json.loads(out)["files"]
    return report["problems"]


def test_validate_a_prompt_after_a_string_step_is_a_semantic_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "sem.yaml",
        "_type: sequence\nsteps:\n"
        "  - _type: FakeChatModel\n    responses: [x]\n"
        "  - _type: StrOutputParser\n"
        "  - _type: PromptTemplate\n    template: 'hello {question}'\n",
    )
    (problem,) = problems_of(capsys, path)
    assert (problem["phase"], problem["kind"]) == ("semantics", "prompt-variables")
    assert (problem["file"], problem["line"], problem["column"]) == (str(path), 6, 5)
    assert problem["path"] == "$.steps[2]"
    assert "'question'" in problem["message"] and "StrOutputParser" in problem["message"]


def test_validate_an_unknown_class_is_a_semantic_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "unknown.yaml",
        "_type: sequence\nsteps:\n"
        "  - lc: 1\n    type: constructor\n    id: [runwire, nope, Thing]\n    kwargs: {}\n"
        "  - _type: StrOutputParser\n",
    )
    (problem,) = problems_of(capsys, path)
    assert (problem["phase"], problem["kind"]) == ("semantics", "UnknownIdError")
    assert problem["message"] == "unknown class id runwire.nope.Thing"
    assert (problem["line"], problem["column"], problem["path"]) == (5, 5, "$.steps[0].id")


def test_validate_a_secret_node_in_a_plain_field_is_a_semantic_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "misplaced.yaml",
        "_type: PromptTemplate\ntemplate: 'hi {a}'\npartial_variables: {b: !secret MY_KEY}\n",
    )
    (problem,) = problems_of(capsys, path)
    assert (problem["phase"], problem["kind"]) == ("semantics", "SecretPlacementError")
    assert "not in a field declared secret" in problem["message"]
    assert (problem["line"], problem["column"]) == (3, 21)
    assert problem["path"] == "$.partial_variables.b"


def test_check_env_names_unset_variables_and_missing_secrets(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keyed_model: None
) -> None:
    path = write(tmp_path, "keyed.yaml", KEYED)
    # a missing secret is reported by default (issue 17), unset variables with --check-env
    assert [p["kind"] for p in problems_of(capsys, path)] == ["missing-secret"]
    code, out, _ = cli(capsys, "validate", path, "--check-env")
    assert code == 1
    assert (
        f"{path}:4:5: environment: $.steps[0].template: environment variable "
        "CLI_TEST_GREETING is not set and has no default"
    ) in out
    assert (
        f"{path}:6:5: environment: $.steps[1].api_key: secret CLI_TEST_API_KEY is not set"
    ) in out
    kinds = [p["kind"] for p in problems_of(capsys, path, "--check-env")]
    assert kinds == ["unset-variable", "missing-secret"]


def test_check_env_passes_once_everything_is_set(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    keyed_model: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(tmp_path, "keyed.yaml", KEYED)
    monkeypatch.setenv("CLI_TEST_API_KEY", SECRET_VALUE)
    code, out, _ = cli(capsys, "validate", path, "--check-env")
    assert code == 1 and "CLI_TEST_GREETING" in out and "CLI_TEST_API_KEY" not in out
    monkeypatch.setenv("CLI_TEST_GREETING", "hello")
    assert cli(capsys, "validate", path, "--check-env") == (0, f"ok    {path}\n", "")


def test_a_secret_value_set_in_the_environment_is_never_printed(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    keyed_model: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = write(tmp_path, "keyed.yaml", KEYED)
    misplaced = write(
        tmp_path,
        "misplaced.yaml",
        "_type: PromptTemplate\ntemplate: 'hi {a}'\n"
        "partial_variables: {b: !secret CLI_TEST_API_KEY}\n",
    )
    monkeypatch.setenv("CLI_TEST_API_KEY", SECRET_VALUE)
    monkeypatch.setenv("CLI_TEST_GREETING", "hello")
    question = '{"question": "q"}'
    runs: list[tuple[int, list[str | Path]]] = [
        (0, ["validate", path, "--check-env"]),
        (0, ["validate", path, "--check-env", "--format", "json"]),
        (0, ["run", path, "--input", question]),
        (0, ["run", path, "--input", question, "--stream"]),
        (0, ["dump", path]),
        (0, ["dump", path, "--dialect", "langchain"]),
        (0, ["schema", "input", path]),
        (0, ["schema", "output", path]),
        (0, ["schema", "config", path]),
        (1, ["validate", misplaced, "--check-env"]),
        (1, ["run", misplaced, "--input", '{"a": 1}']),
        (1, ["run", path, "--input", "{}"]),  # the prompt fails: no question
    ]
    for expected, argv in runs:
        code, out, err = cli(capsys, *argv)
        assert code == expected, (argv, out, err)
        assert SECRET_VALUE not in out + err, argv
    # the secret was used: the run saw it (else the model would not have been built)
    code, out, _ = cli(capsys, "run", path, "--input", question)
    assert (code, out) == (0, '"ok"\n')


def test_validate_checks_what_overlays_and_sets_make(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    chat = CONFIGS / "chat.yaml"
    terse = CONFIGS / "overlays" / "terse.yaml"
    assert cli(capsys, "validate", chat, "-f", terse)[0] == 0
    overlay = write(tmp_path, "typo.yaml", "steps:\n  1:\n    responsez: [x]\n")
    code, out, _ = cli(capsys, "validate", chat, "-f", overlay)
    assert code == 1
    assert f"{overlay}:3:5: structure: $.steps[1].responsez: FakeChatModel has no field" in out
    code, out, _ = cli(capsys, "validate", chat, "--set", "steps.1.responses=notalist")
    assert code == 1
    assert "$.steps[1].responses: 'notalist' is not of type 'array'" in out
    code, out, _ = cli(capsys, "validate", chat, "--set", "steps.2._type=StrOutputParsr")
    assert code == 1 and "unknown _type 'StrOutputParsr'" in out
    assert "did you mean StrOutputParser" in out


# -- fmt --------------------------------------------------------------------------------
@pytest.mark.parametrize("name", YAML_FILES)
def test_fmt_check_accepts_the_committed_yaml(
    capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = CONFIGS / name
    before = path.read_bytes()
    assert cli(capsys, "fmt", "--check", path) == (0, "", "")
    assert path.read_bytes() == before


def test_fmt_check_accepts_the_committed_configs_folder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli(capsys, "fmt", "--check", CONFIGS) == (0, "", "")


BADLY_INDENTED = """\
# A chat chain, badly indented.
_type: sequence
name: chat   # the run name
steps:
- _type: ChatPromptTemplate
  messages:
  -   [system, "You are {role}."]
  -   [human, "{question}"]
# the model answers from canned replies
- _type:    FakeChatModel
  responses: ["Paris."]
- _type: StrOutputParser
"""


def test_fmt_check_reports_an_unformatted_file_and_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "chat.yaml", BADLY_INDENTED)
    assert cli(capsys, "fmt", "--check", path) == (1, f"would reformat {path}\n", "")
    assert path.read_text(encoding="utf-8") == BADLY_INDENTED
    assert not [p for p in tmp_path.iterdir() if p.name != "chat.yaml"]  # no temp files


def test_fmt_rewrites_in_place_keeping_comments(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "chat.yaml", BADLY_INDENTED)
    before = canonical(path)
    assert cli(capsys, "fmt", path) == (0, f"reformatted {path}\n", "")
    text = path.read_text(encoding="utf-8")
    assert text != BADLY_INDENTED
    for comment in ("# A chat chain, badly indented.", "# the run name", "# the model answers"):
        assert comment in text
    assert "  - _type: ChatPromptTemplate\n" in text and "_type: FakeChatModel\n" in text
    assert text.index("name: chat") < text.index("steps:")  # key order kept
    assert canonical(path) == before
    assert cli(capsys, "fmt", "--check", path) == (0, "", "")
    assert cli(capsys, "fmt", path) == (0, "", "")  # formatted files are left alone


def test_fmt_canonical_then_compact_round_trips_every_example(
    capsys: pytest.CaptureFixture[str], configs: Path
) -> None:
    files = [configs / name for name in MANIFESTS]
    before = {path.name: canonical(path) for path in files}

    code, out, err = cli(capsys, "fmt", "--canonical", *files)
    assert (code, err) == (0, "")
    changed = [f"reformatted {path}" for path in files if path.suffix != ".json"]
    assert out.splitlines() == changed  # wire-form JSON is already canonical
    for path in files:
        assert canonical(path) == before[path.name], path.name
    support = (configs / "support.yaml").read_text(encoding="utf-8")
    assert "!include fragments/support_prompt.yaml" in support  # includes stay includes
    assert "_include: fragments/fake_model.yaml" in support
    assert "id: [runwire, runnables, RunnableSequence]" in support
    chat = (configs / "chat.yaml").read_text(encoding="utf-8")
    assert "_type" not in chat and chat.count("lc: 1") == 4
    assert chat.startswith("# yaml-language-server")  # comments kept
    assert json.loads((configs / "knowledge_base.json").read_text(encoding="utf-8"))[0]["lc"] == 1

    code, _, err = cli(capsys, "fmt", "--compact", *files)
    assert (code, err) == (0, "")
    for path in files:
        assert canonical(path) == before[path.name], path.name
    assert "lc: 1" not in (configs / "chat.yaml").read_text(encoding="utf-8")
    support = (configs / "support.yaml").read_text(encoding="utf-8")
    assert "!include fragments/support_prompt.yaml" in support
    assert "_type: assign" in support
    first = json.loads((configs / "knowledge_base.json").read_text(encoding="utf-8"))[0]
    assert first["_type"] == "Document" and "lc" not in first
    assert cli(capsys, "validate", configs)[0] == 0
    assert cli(capsys, "fmt", "--check", *files) == (0, "", "")


def test_fmt_lays_out_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (
        '{"_type": "sequence", "steps": [{"_type": "FakeChatModel", "responses": ["a"]},'
        ' {"_type": "StrOutputParser"}]}'
    )
    path = write(tmp_path, "chain.json", text)
    before = canonical(path)
    assert cli(capsys, "fmt", "--check", path) == (1, f"would reformat {path}\n", "")
    assert path.read_text(encoding="utf-8") == text
    assert cli(capsys, "fmt", path) == (0, f"reformatted {path}\n", "")
    laid_out = path.read_text(encoding="utf-8")
    assert laid_out.startswith('{\n  "_type": "sequence",\n  "steps": [\n')
    assert canonical(path) == before
    assert cli(capsys, "fmt", "--check", path) == (0, "", "")


def test_fmt_canonical_and_compact_exclude_each_other(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = usage(capsys, "fmt", "--canonical", "--compact", str(CONFIGS / "chat.yaml"))
    assert code == 2 and "not allowed with argument" in err


# -- run --------------------------------------------------------------------------------
def test_run_with_a_json_input(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, "run", CONFIGS / "chat.yaml", "--input", CHAT_INPUT)
    assert result == (0, json.dumps(CHAT_ANSWER) + "\n", "")


def test_run_reads_environment_placeholders(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHAT_ANSWER", "Lyon, obviously.")
    result = cli(capsys, "run", CONFIGS / "chat.yaml", "-i", CHAT_INPUT)
    assert result == (0, '"Lyon, obviously."\n', "")


def test_run_with_an_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    inputs = write(tmp_path, "input.json", '{"text": "Orders ship in two days."}')
    code, out, err = cli(capsys, "run", CONFIGS / "fanout.yaml", "--input", f"@{inputs}")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "summary": "Orders ship in two days and can be returned for a month.",
        "keywords": ["shipping", "returns", "policy"],
    }


def test_run_with_a_missing_input_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    code, out, err = cli(capsys, "run", CONFIGS / "chat.yaml", "--input", f"@{missing}")
    assert (code, out) == (1, "")
    assert f"cannot read --input file {missing}" in err


def test_run_takes_plain_text_as_a_string(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "echo.yaml", "_type: passthrough\n")
    assert cli(capsys, "run", path, "--input", "hello world") == (0, '"hello world"\n', "")
    assert cli(capsys, "run", path, "--input", "42") == (0, "42\n", "")  # JSON first
    assert cli(capsys, "run", path, "--input", '{"a": [1]}') == (0, '{"a":[1]}\n', "")


def test_run_config_picks_configurable_alternatives(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = CONFIGS / "alternatives.yaml"
    question = '{"question": "Capital of France?"}'
    assert cli(capsys, "run", path, "-i", question) == (0, '"Sure, it\'s Paris!"\n', "")
    formal = cli(
        capsys, "run", path, "-i", question, "--config", '{"configurable": {"model": "formal"}}'
    )
    assert formal == (0, '"The capital of France is Paris."\n', "")
    replies = '{"configurable": {"replies": ["Oui."]}}'
    assert cli(capsys, "run", path, "-i", question, "-c", replies) == (0, '"Oui."\n', "")
    config = write(tmp_path, "config.json", '{"configurable": {"model": "formal"}}')
    from_file = cli(capsys, "run", path, "-i", question, "-c", f"@{config}")
    assert from_file == formal


def test_run_refuses_a_config_that_is_not_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", CONFIGS / "chat.yaml", "-i", CHAT_INPUT, "-c", "fast")
    assert (code, out) == (1, "")
    assert "--config must be JSON" in err


def test_run_stream_prints_one_json_value_per_chunk(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "run", CONFIGS / "chat.yaml", "-i", CHAT_INPUT, "--stream")
    assert (code, err) == (0, "")
    chunks = [json.loads(line) for line in out.splitlines()]
    assert len(chunks) > 3 and all(isinstance(c, str) for c in chunks)
    assert "".join(chunks) == CHAT_ANSWER
    assert out.endswith("\n")


def test_run_applies_overlays_and_sets(capsys: pytest.CaptureFixture[str]) -> None:
    chat = CONFIGS / "chat.yaml"
    terse = CONFIGS / "overlays" / "terse.yaml"
    assert cli(capsys, "run", chat, "-i", CHAT_INPUT, "-f", terse) == (0, '"Paris."\n', "")
    hi = cli(capsys, "run", chat, "-i", CHAT_INPUT, "--set", "steps.1.responses=[Hi]")
    assert hi == (0, '"Hi"\n', "")
    # --set applies after the overlays
    both = ["-f", str(terse), "--set", "steps.1.responses=[Bonjour]"]
    assert cli(capsys, "run", chat, "-i", CHAT_INPUT, *both) == (0, '"Bonjour"\n', "")


def test_run_reports_a_bad_set(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(
        capsys, "run", CONFIGS / "chat.yaml", "-i", CHAT_INPUT, "--set", "steps.7.x=1"
    )
    assert (code, out) == (1, "")
    assert "--set steps.7.x: no item 7 in a list of 3" in err


def test_run_a_failing_pipeline_prints_the_error_without_traceback(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "json.yaml",
        "_type: sequence\nsteps:\n"
        "  - _type: FakeChatModel\n    responses: [not json]\n"
        "  - _type: JsonOutputParser\n",
    )
    code, out, err = cli(capsys, "run", path, "-i", '"hi"')
    assert (code, out) == (1, "")
    assert err.startswith("error: OutputParserException: Invalid json output: not json")
    assert "Traceback" not in err
    code, out, err = cli(capsys, "run", CONFIGS / "chat.yaml", "-i", '{"role": "x"}')
    assert (code, out) == (1, "")
    assert err.startswith("error: KeyError: ") and "missing variables ['question']" in err
    assert "Traceback" not in err


def test_run_a_manifest_error_points_into_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.yaml", THREE_ERRORS)
    code, out, err = cli(capsys, "run", path, "-i", '{"question": "q"}')
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}:3:5: $.steps[0]._type: unknown _type 'ChatPromptTemplat'")
    assert "Traceback" not in err


# -- batch ------------------------------------------------------------------------------
def write_inputs(path: Path, values: list[Any]) -> Path:
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_writes_one_record_per_input_in_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    inputs = write_inputs(
        tmp_path / "in.jsonl", [{"text": f"policy number {i}"} for i in range(12)]
    )
    out = tmp_path / "out.jsonl"
    code, stdout, err = cli(
        capsys, "batch", CONFIGS / "fanout.yaml", inputs, "-o", out, "--concurrency", "3"
    )
    assert (code, stdout) == (0, "")
    assert "12 inputs: 0 skipped (done before), 12 ok, 0 failed" in err
    got = records(out)
    assert [r["index"] for r in got] == list(range(12))
    assert len({r["key"] for r in got}) == 12
    assert all(r["output"]["keywords"] == ["shipping", "returns", "policy"] for r in got)


def test_batch_rerun_skips_finished_inputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inputs = write_inputs(
        tmp_path / "in.jsonl",
        [{"role": "a", "question": "q1"}, {"role": "b", "question": "q2"}],
    )
    out = tmp_path / "out.jsonl"
    monkeypatch.setenv("CHAT_ANSWER", "first run")
    code, _, err = cli(capsys, "batch", CONFIGS / "chat.yaml", inputs, "-o", out)
    assert code == 0 and "2 inputs: 0 skipped (done before), 2 ok, 0 failed" in err
    done = out.read_bytes()
    assert [r["output"] for r in records(out)] == ["first run", "first run"]
    monkeypatch.setenv("CHAT_ANSWER", "second run")  # a rerun would answer differently
    code, _, err = cli(capsys, "batch", CONFIGS / "chat.yaml", inputs, "-o", out)
    assert code == 0 and "2 inputs: 2 skipped (done before), 0 ok, 0 failed" in err
    assert out.read_bytes() == done


def test_batch_records_failures_and_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    inputs = write_inputs(
        tmp_path / "in.jsonl",
        [{"role": "a", "question": "q1"}, {"role": "b"}, {"role": "c", "question": "q3"}],
    )
    out = tmp_path / "out.jsonl"
    code, stdout, err = cli(capsys, "batch", CONFIGS / "chat.yaml", inputs, "-o", out)
    assert (code, stdout) == (1, "")
    assert "3 inputs: 0 skipped (done before), 2 ok, 1 failed" in err
    first, failed, third = records(out)
    assert (first["index"], first["output"]) == (0, CHAT_ANSWER)
    assert (third["index"], third["output"]) == (2, CHAT_ANSWER)
    assert failed["index"] == 1 and "output" not in failed
    assert failed["error"]["type"] == "KeyError"
    assert "missing variables ['question']" in failed["error"]["message"]
    # a rerun keeps the outputs and tries the failed input again
    code, _, err = cli(capsys, "batch", CONFIGS / "chat.yaml", inputs, "-o", out)
    assert code == 1 and "3 inputs: 2 skipped (done before), 0 ok, 1 failed" in err


def test_batch_with_a_missing_inputs_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.jsonl"
    code, out, err = cli(capsys, "batch", CONFIGS / "chat.yaml", missing, "-o", tmp_path / "o")
    assert (code, out) == (1, "")
    assert f"cannot read the inputs file {missing}" in err


# -- schema -----------------------------------------------------------------------------
def schema_of(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> dict[str, Any]:
    code, out, err = cli(capsys, "schema", *argv)
    assert (code, err) == (0, "")
    return json.loads(out)


def test_schema_manifest_is_a_valid_2020_12_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from jsonschema import Draft202012Validator
    from ruamel.yaml import YAML

    schema = schema_of(capsys, "manifest")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    chat = YAML(typ="safe", pure=True).load((CONFIGS / "chat.yaml").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(chat)) == []
    chat["steps"][1]["chunk_size"] = "big"
    assert [e.message for e in validator.iter_errors(chat)] == ["'big' is not of type 'integer'"]


def test_schema_input_of_the_chat_chain(capsys: pytest.CaptureFixture[str]) -> None:
    schema = schema_of(capsys, "input", CONFIGS / "chat.yaml")
    assert schema["type"] == "object"
    assert sorted(schema["required"]) == ["question", "role"]
    assert schema["properties"]["question"]["type"] == "string"


def test_schema_output_of_the_fanout(capsys: pytest.CaptureFixture[str]) -> None:
    schema = schema_of(capsys, "output", CONFIGS / "fanout.yaml")
    assert set(schema["properties"]) == {"summary", "keywords"}
    assert schema["properties"]["keywords"]["type"] == "array"
    assert schema_of(capsys, "output", CONFIGS / "chat.yaml")["type"] == "string"


def test_schema_config_lists_the_alternatives(capsys: pytest.CaptureFixture[str]) -> None:
    schema = schema_of(capsys, "config", CONFIGS / "alternatives.yaml")
    assert "configurable" in schema["properties"]
    text = json.dumps(schema)
    enums = [d["enum"] for d in schema.get("$defs", {}).values() if "enum" in d]
    assert sorted(map(sorted, enums)) == [["casual", "formal"]]
    assert '"model"' in text and '"replies"' in text


def test_schema_of_a_pipeline_needs_a_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(capsys, "schema", "input") == (2, "", "runwire schema input needs a FILE\n")


def test_schema_of_a_broken_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", THREE_ERRORS)
    code, out, err = cli(capsys, "schema", "input", path)
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}:3:5: ")


# -- dump -------------------------------------------------------------------------------
def ids_in(node: Any) -> list[list[str]]:
    """Every constructor id in a wire tree."""
    found: list[list[str]] = []
    if isinstance(node, dict):
        if node.get("lc") == 1 and node.get("type") == "constructor":
            found.append(node["id"])
        for value in node.values():
            found.extend(ids_in(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(ids_in(value))
    return found


def test_dump_writes_the_wire_form(capsys: pytest.CaptureFixture[str]) -> None:
    path = CONFIGS / "chat.yaml"
    code, out, err = cli(capsys, "dump", path)
    assert (code, err) == (0, "")
    header, _, body = out.partition("\n")
    assert header == f"# {path}"
    wire = json.loads(body)
    assert (wire["lc"], wire["type"]) == (1, "constructor")
    assert wire["id"] == ["runwire", "runnables", "RunnableSequence"]
    assert wire["kwargs"]["first"]["id"][-1] == "ChatPromptTemplate"
    assert wire["kwargs"]["middle"][0]["kwargs"]["responses"] == [CHAT_ANSWER]
    assert list(wire) == sorted(wire)  # sorted keys
    quiet = cli(capsys, "dump", "-q", path)
    assert quiet == (0, body, "")


def test_dump_langchain_dialect(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "dump", "-q", "--dialect", "langchain", CONFIGS / "chat.yaml")
    assert code == 0
    wire = json.loads(out)
    assert wire["id"] == ["langchain", "schema", "runnable", "RunnableSequence"]
    assert wire["kwargs"]["first"]["id"] == ["langchain", "prompts", "chat", "ChatPromptTemplate"]
    assert wire["kwargs"]["last"]["id"] == [
        "langchain",
        "schema",
        "output_parser",
        "StrOutputParser",
    ]
    runwire_ids = [i for i in ids_in(wire) if i[0] == "runwire"]
    assert runwire_ids == [["runwire", "models", "FakeChatModel"]]  # no LangChain twin


def test_dump_of_a_broken_file_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", THREE_ERRORS)
    code, out, err = cli(capsys, "dump", CONFIGS / "fanout.yaml", bad)
    assert code == 1
    assert out.startswith(f"# {CONFIGS / 'fanout.yaml'}\n") and f"# {bad}" not in out
    assert err.startswith(f"{bad}:3:5: ")


def test_dump_keeps_secret_nodes_without_needing_their_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keyed_model: None
) -> None:
    for name in ("CliKeyedModel", "CliRequiredKeyModel"):
        path = write(
            tmp_path,
            f"{name}.yaml",
            f"_type: {name}\napi_key: !secret CLI_TEST_API_KEY\nresponses: [ok]\n",
        )
        code, out, err = cli(capsys, "dump", "-q", path)
        assert (code, err) == (0, ""), name
        api_key = json.loads(out)["kwargs"]["api_key"]
        assert (api_key["lc"], api_key["type"]) == (1, "secret"), name


# -- help and usage ---------------------------------------------------------------------
@pytest.mark.parametrize("command", ["", "run", "batch", "validate", "fmt", "schema", "dump"])
def test_help_exits_0_and_documents_exit_codes(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    argv = [command, "--help"] if command else ["--help"]
    code, out, err = usage(capsys, *argv)
    assert (code, err) == (0, "")
    assert out.startswith(f"usage: runwire {command}".rstrip())
    assert EXIT_CODES in out and "2 usage error" in out


def test_an_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = usage(capsys, "frobnicate", "x.yaml")
    assert (code, out) == (2, "")
    assert "invalid choice: 'frobnicate'" in err


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = usage(capsys)
    assert code == 2 and "usage: runwire" in err


def test_the_installed_console_script_prints_help() -> None:
    script = shutil.which("runwire") or str(Path(sys.executable).parent / "runwire")
    done = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: runwire")
    assert EXIT_CODES in done.stdout
    for command in ("run", "batch", "validate", "fmt", "schema", "dump"):
        assert command in done.stdout


# -- bad input --------------------------------------------------------------------------
def both_reject(capsys: pytest.CaptureFixture[str], path: Path, *argv: str) -> tuple[str, str]:
    """`validate` and `run` both exit 1; returns (validate's stdout, run's stderr)."""
    code, validated, _ = cli(capsys, "validate", path, *argv)
    assert code == 1 and validated.startswith(f"FAIL  {path}")
    code, out, ran = cli(capsys, "run", path, "-i", '{"question": "q"}', *argv)
    assert (code, out) == (1, "")
    assert "Traceback" not in ran
    return validated, ran


CHAIN = """\
_type: sequence
steps:
  - _type: PromptTemplate
    template: "{question}"
  - _type: FakeChatModel
    responses: [ok]
  - _type: StrOutputParser
"""


def test_bad_unknown_type_suggests_the_nearest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "c.yaml", CHAIN.replace("FakeChatModel", "FakeChatModle"))
    validated, ran = both_reject(capsys, path)
    for text in (validated, ran):
        assert f"{path}:5:5: " in text and "unknown _type 'FakeChatModle'" in text
        assert "did you mean FakeChatModel" in text


def test_bad_kwarg_type(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", CHAIN.replace("responses: [ok]", "chunk_size: many"))
    validated, ran = both_reject(capsys, path)
    expected = "structure: $.steps[1].chunk_size: 'many' is not of type 'integer'"
    assert f"{path}:6:5: {expected}" in validated
    assert ran.startswith(f"{path}:6:5: $.steps[1].chunk_size: ")
    assert "integer" in ran


def test_bad_kwarg_type_of_an_optional_field_names_the_expected_type(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "c.yaml", "_type: FakeChatModel\nresponses: [a]\nname: 5\n")
    code, out, _ = cli(capsys, "validate", path)
    assert code == 1 and f"{path}:3:1: structure: $.name: " in out
    assert "string" in out


def test_bad_misspelt_kwarg_suggests_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "c.yaml", CHAIN.replace("responses", "responsse"))
    validated, ran = both_reject(capsys, path)
    for text in (validated, ran):
        assert f"{path}:6:5: " in text and "FakeChatModel has no field 'responsse'" in text
        assert "did you mean responses?" in text


def test_bad_unset_environment_variable_is_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, "c.yaml", CHAIN.replace("[ok]", '["${CLI_UNSET_VAR_X}"]'))
    code, out, err = cli(capsys, "run", path, "-i", '{"question": "q"}')
    assert (code, out) == (1, "")
    assert err.startswith(
        f"{path}:6:17: $.steps[1].responses[0]: environment variable CLI_UNSET_VAR_X "
        "is not set and has no default"
    )
    code, out, _ = cli(capsys, "validate", path, "--check-env")
    assert code == 1 and f"{path}:6:17: environment: " in out and "CLI_UNSET_VAR_X" in out


def test_bad_include_cycle(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = write(
        tmp_path, "a.yaml", "_type: sequence\nsteps:\n  - !include b.yaml\n  - _type: pick\n"
    )
    second = write(
        tmp_path, "b.yaml", "_type: sequence\nsteps:\n  - _include: a.yaml\n  - _type: pick\n"
    )
    validated, ran = both_reject(capsys, first)
    for text in (validated, ran):
        assert "include cycle: a.yaml -> b.yaml -> a.yaml" in text
        assert f"{second.name}:3:5: " in text


def test_bad_yaml_syntax(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", CHAIN.replace("responses: [ok]", "responses: [ok, no"))
    validated, ran = both_reject(capsys, path)
    for text in (validated, ran):
        assert f"{path}:7:10: " in text and "invalid YAML" in text
    code, out, err = cli(capsys, "fmt", path)
    assert (code, out) == (1, "") and err.startswith(f"{path}:7:10: ")


def test_bad_secret_in_a_plain_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLI_TEST_API_KEY", SECRET_VALUE)
    path = write(tmp_path, "c.yaml", CHAIN.replace('"{question}"', "!secret CLI_TEST_API_KEY"))
    validated, ran = both_reject(capsys, path)
    assert f"{path}:4:5: structure: $.steps[0].template: " in validated
    assert "_secret" in validated
    assert ran.startswith(f"{path}:4:5: $.steps[0].template: secret node")
    assert "is not in a field declared secret" in ran
    assert SECRET_VALUE not in validated + ran


@pytest.mark.parametrize("name", ["empty.yaml", "blank.json"])
def test_bad_empty_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str) -> None:
    path = write(tmp_path, name, "" if name.endswith(".yaml") else "  \n\n")
    validated, ran = both_reject(capsys, path)
    for text in (validated, ran):
        assert f"{path}:1:1: " in text and "the file is empty" in text


def test_bad_huge_file_is_refused_before_reading(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # sparse: nothing is written
    real_read_bytes, real_read_text = pathlib.Path.read_bytes, pathlib.Path.read_text

    def guarded_bytes(self: Path) -> bytes:
        assert self.name != path.name, "the huge file was read"
        return real_read_bytes(self)

    def guarded_text(self: Path, *args: Any, **kwargs: Any) -> str:
        assert self.name != path.name, "the huge file was read"
        return real_read_text(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_bytes", guarded_bytes)
    monkeypatch.setattr(pathlib.Path, "read_text", guarded_text)
    validated, ran = both_reject(capsys, path)
    for text in (validated, ran):
        assert f"{path}: " in text
        assert "file is 52428800 bytes, more than the limit of 16777216" in text
