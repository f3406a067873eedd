"""The deployment file ``runwire.yaml``: reading, overlays, errors with lines, the schema,
and ``runwire validate`` / ``runwire schema deployment`` on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from runwire.cli.main import main
from runwire.deploy.deployment import (
    Deployment,
    DeploymentError,
    deployment_for_files,
    deployment_json_schema,
    deployment_problems,
    is_deployment_file,
    read_deployment,
)
from runwire.deploy.pipelines import build_pipelines
from runwire.loader.source import read_yaml_tree

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "docs" / "deployment.schema.json"

BOTH_FORMS = """\
allowed_objects: core
server: {max_body_bytes: 2048, request_timeout_s: 5}
pipelines:
  chat: configs/chat.yaml
  switchable:
    path: configs/alternatives.yaml
    overlays: [configs/overlays/none.yaml]
    configurable: [model, replies]
    allowed_objects: all
environments:
  prod:
    server: {max_concurrency: 256}
    pipelines:
      switchable: {configurable: [model]}
      extra: configs/chat.yaml
  lean:
    allowed_objects: messages
    pipelines:
      chat: null
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder with configs/ (a copy of the repo's) and the working directory in it."""
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    (tmp_path / "configs" / "overlays" / "none.yaml").write_text("name: renamed\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RUNWIRE_ENV", raising=False)
    return tmp_path


def write(folder: Path, text: str, name: str = "runwire.yaml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, env: str | None = None) -> str:
    with pytest.raises(DeploymentError) as caught:
        read_deployment(path.name, env=env)
    return str(caught.value)


# -- reading -----------------------------------------------------------------------------
def test_short_and_long_forms_read_to_absolute_specs(project: Path) -> None:
    write(project, BOTH_FORMS)
    deployment = read_deployment("runwire.yaml")
    chat, switchable = deployment.pipelines["chat"], deployment.pipelines["switchable"]
    assert chat.path == project / "configs" / "chat.yaml"
    assert (chat.overlays, chat.configurable, chat.allowed_objects) == ([], [], "core")
    assert switchable.path == project / "configs" / "alternatives.yaml"
    assert switchable.overlays == [project / "configs" / "overlays" / "none.yaml"]
    assert (switchable.configurable, switchable.allowed_objects) == (["model", "replies"], "all")
    assert deployment.server.model_dump() == {
        "max_body_bytes": 2048,
        "request_timeout_s": 5.0,
        "max_concurrency": None,
        "drain_timeout_s": None,
    }
    assert (deployment.source, deployment.env) == (project / "runwire.yaml", None)
    assert sorted(deployment.environments) == ["lean", "prod"]


def test_an_environment_deep_merges_over_the_top_level(project: Path) -> None:
    write(project, BOTH_FORMS)
    prod = read_deployment("runwire.yaml", env="prod")
    assert prod.env == "prod"
    # mappings merge: the top level's limits stay, the overlay's is added
    assert (prod.server.max_body_bytes, prod.server.max_concurrency) == (2048, 256)
    # lists replace; the rest of the pipeline is kept
    switchable = prod.pipelines["switchable"]
    assert switchable.configurable == ["model"]
    assert switchable.overlays == [project / "configs" / "overlays" / "none.yaml"]
    assert sorted(prod.pipelines) == ["chat", "extra", "switchable"]
    assert prod.pipelines["extra"].allowed_objects == "core"
    lean = read_deployment("runwire.yaml", env="lean")
    assert sorted(lean.pipelines) == ["switchable"]  # null removes a pipeline
    assert lean.allowed_objects == "messages"
    assert lean.pipelines["switchable"].allowed_objects == "all"  # its own setting wins


def test_an_unknown_environment_lists_the_known_ones(project: Path) -> None:
    write(project, BOTH_FORMS)
    assert error_of(project / "runwire.yaml", env="prd") == (
        "runwire.yaml:10:1: $.environments: unknown environment 'prd' (RUNWIRE_ENV)\n"
        "  hint: did you mean prod? known: lean, prod"
    )
    write(project, "pipelines: {chat: configs/chat.yaml}\n")
    assert error_of(project / "runwire.yaml", env="prod").endswith(
        "hint: this file defines no environments"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "pipelines:\n  chat: configs/chat.yaml\nservr: {max_concurrency: 3}\n",
            "runwire.yaml:3:1: $.servr: unknown key 'servr'\n  hint: did you mean server?",
        ),
        (
            "pipelines:\n  chat:\n    path: configs/chat.yaml\n    configurabel: [x]\n",
            "runwire.yaml:4:5: $.pipelines.chat.configurabel: unknown key 'configurabel'\n"
            "  hint: did you mean configurable?",
        ),
        (
            "pipelines:\n  chat: configs/chat.yaml\nserver:\n  max_concurency: 3\n",
            "runwire.yaml:4:3: $.server.max_concurency: unknown key 'max_concurency'\n"
            "  hint: did you mean max_concurrency?",
        ),
        (
            "pipelines:\n  chat: configs/chat.yaml\nenvironments:\n  prod:\n"
            "    pipelines: {chat: {pth: x.yaml}}\n",
            "runwire.yaml:5:24: $.environments.prod.pipelines.chat.pth: unknown key 'pth'\n"
            "  hint: did you mean path?",
        ),
        (
            "pipelines:\n  chat: configs/chat.yaml\nenvironments:\n  prod:\n    environments: {}\n",
            "runwire.yaml:5:5: $.environments.prod.environments: unknown key 'environments'\n"
            "  hint: use allowed_objects, trusted, allowed_endpoints, server, pipelines, "
            "checkpointer",
        ),
    ],
    ids=["top", "pipeline", "server", "overlay", "nested-environments"],
)
def test_unknown_keys_are_errors_with_their_line(project: Path, text: str, expected: str) -> None:
    assert error_of(write(project, text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "# a deployment\nallowed_objects: all\nserver: {}\npipelines:\n  chat:\n"
            "    path: configs/chat.yaml\n    configurable: model\n",
            "runwire.yaml:7:5: $.pipelines.chat.configurable: expected a list of strings, "
            "got a string",
        ),
        (
            "pipelines:\n  chat: {path: configs/chat.yaml, configurable: [model, 3]}\n",
            "runwire.yaml:2:57: $.pipelines.chat.configurable[1]: expected a list of strings, "
            "got 3",
        ),
        (
            "pipelines:\n  chat: 7\n",
            "runwire.yaml:2:3: $.pipelines.chat: expected a manifest path, or a mapping with "
            "`path`, got 7",
        ),
        (
            "pipelines:\n  chat: configs/chat.yaml\nserver: {max_concurrency: 0}\n",
            "runwire.yaml:3:10: $.server.max_concurrency: expected a positive integer, got 0",
        ),
        (
            "pipelines:\n  chat: configs/chat.yaml\nserver: {request_timeout_s: '5'}\n",
            "runwire.yaml:3:10: $.server.request_timeout_s: expected a positive number of "
            "seconds, got a string",
        ),
        (
            "pipelines:\n  chat: configs/chat.yaml\nallowed_objects: everything\n",
            "runwire.yaml:3:1: $.allowed_objects: expected 'all', 'core', 'messages' or a list "
            "of class names",
        ),
        (
            "pipelines:\n  chat: {overlays: [x.yaml]}\n",
            "runwire.yaml:2:3: $.pipelines.chat: missing required key 'path'",
        ),
        (
            "pipelines: {}\n",
            "runwire.yaml:1:1: $.pipelines: expected a mapping of pipeline names to manifests, "
            "with at least one pipeline, got a mapping",
        ),
        ("server: {}\n", "runwire.yaml:1:1: $: missing required key 'pipelines'"),
        (
            "- chat\n",
            "runwire.yaml:1:1: $: expected a mapping with `pipelines:`, got a list\n"
            "  hint: see docs/deployment.schema.json",
        ),
    ],
    ids=[
        "string-for-list",
        "list-item",
        "pipeline-number",
        "zero",
        "quoted-number",
        "allowed-word",
        "no-path",
        "no-pipelines",
        "missing-pipelines",
        "not-a-mapping",
    ],
)
def test_wrong_types_name_what_was_expected(project: Path, text: str, expected: str) -> None:
    assert error_of(write(project, text)) == expected


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("healthz", "is reserved for the server's own /healthz route"),
        ("readyz", "is reserved for the server's own /readyz route"),
        ("metrics", "is reserved for the server's own /metrics route"),
        ("docs", "is reserved for the server's own /docs route"),
        ("openapi.json", "is not URL-safe: use letters, digits, '_' and '-'"),
        ("my chat", "is not URL-safe: use letters, digits, '_' and '-'"),
        ("a/b", "is not URL-safe: use letters, digits, '_' and '-'"),
        ("ch%61t", "is not URL-safe: use letters, digits, '_' and '-'"),
    ],
)
def test_pipeline_names_must_be_url_safe_and_not_reserved(
    project: Path, name: str, problem: str
) -> None:
    path = write(project, f"pipelines:\n  ok-name_2: configs/chat.yaml\n  {name!r}: x.yaml\n")
    assert error_of(path).startswith("runwire.yaml:3:3: $.pipelines")
    assert error_of(path).endswith(f"pipeline name {name!r} {problem}")


def test_a_missing_manifest_names_the_file_and_the_pipeline(project: Path) -> None:
    path = write(project, "pipelines:\n  chat: configs/chat.yaml\n  qa: configs/qa.yaml\n")
    assert error_of(path) == (
        f"runwire.yaml:3:3: $.pipelines.qa.path: pipeline qa: manifest 'configs/qa.yaml' "
        f"does not exist\n  hint: paths are relative to the deployment file's folder {project}"
    )
    path = write(
        project, "pipelines:\n  chat:\n    path: configs/chat.yaml\n    overlays: [gone.yaml]\n"
    )
    assert "$.pipelines.chat.overlays[0]: pipeline chat: manifest overlay 'gone.yaml'" in (
        error_of(path)
    )


def test_manifest_paths_are_relative_to_the_deployment_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, "pipelines: {chat: configs/chat.yaml}\n")
    monkeypatch.chdir(project / "configs")
    deployment = read_deployment("../runwire.yaml")
    assert deployment.pipelines["chat"].path == project / "configs" / "chat.yaml"


def test_unknown_class_names_in_allowed_objects_are_errors(project: Path) -> None:
    path = write(
        project,
        "pipelines:\n  chat:\n    path: configs/chat.yaml\n"
        "    allowed_objects: [ChatPromptTemplate, FakeChatModl]\n",
    )
    assert error_of(path) == (
        "runwire.yaml:4:43: $.pipelines.chat.allowed_objects[1]: unknown class "
        "'FakeChatModl' in allowed_objects\n  hint: did you mean FakeChatModel?"
    )


def test_an_overlay_error_is_reported_where_the_overlay_sets_it(project: Path) -> None:
    path = write(
        project,
        "pipelines:\n  chat: configs/chat.yaml\nenvironments:\n  prod:\n"
        "    pipelines:\n      chat: {path: configs/missing.yaml}\n",
    )
    assert read_deployment(path.name).pipelines["chat"].path.name == "chat.yaml"
    assert error_of(path, env="prod").startswith(
        "runwire.yaml:6:14: $.environments.prod.pipelines.chat.path: pipeline chat: manifest "
        "'configs/missing.yaml' does not exist"
    )


def test_every_problem_is_listed_and_the_first_is_raised_with_a_count(project: Path) -> None:
    text = (
        "pipelines:\n  chat: {path: configs/chat.yaml, configurable: x}\n"
        "sever: {}\nenvironments:\n  prod: {server: {max_concurrency: -1}}\n"
    )
    path = write(project, text)
    assert [str(p).split("\n")[0] for p in deployment_problems(path.name)] == [
        "runwire.yaml:2:35: $.pipelines.chat.configurable: expected a list of strings, got a "
        "string",
        "runwire.yaml:3:1: $.sever: unknown key 'sever'",
        "runwire.yaml:5:19: $.environments.prod.server.max_concurrency: expected a positive "
        "integer, got -1",
    ]
    assert error_of(path).endswith(
        "hint: 2 more problem(s): `runwire validate runwire.yaml` lists them"
    )


def test_problems_of_each_environment_are_found(project: Path) -> None:
    text = (
        "pipelines: {chat: configs/chat.yaml}\nenvironments:\n"
        "  prod: {pipelines: {chat: configs/nope.yaml}}\n  dev: {pipelines: {x: {}}}\n"
    )
    found = [(p.path, p.message) for p in deployment_problems(write(project, text))]
    assert found == [
        (
            "$.environments.prod.pipelines.chat.path",
            "pipeline chat: manifest 'configs/nope.yaml' does not exist",
        ),
        ("$.environments.dev.pipelines.x", "missing required key 'path'"),
    ]
    assert deployment_problems(write(project, BOTH_FORMS)) == []


# -- manifests served directly, and recognising a deployment -----------------------------
def test_manifests_given_directly_are_served_under_their_stem(project: Path) -> None:
    deployment = deployment_for_files(["configs/chat.yaml", "configs/knowledge_base.json"])
    assert sorted(deployment.pipelines) == ["chat", "knowledge_base"]
    assert deployment.pipelines["chat"].path == project / "configs" / "chat.yaml"
    assert deployment.pipelines["chat"].allowed_objects == "all"
    assert deployment.source is None


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            ["configs/chat.yaml", "other/chat.json"],
            "configs/chat.yaml and other/chat.json would both be /chat",
        ),
        (["configs/nope.yaml"], "manifest 'configs/nope.yaml' does not exist"),
        (
            ["other/my chat.json"],
            "cannot serve my chat.json as 'my chat': pipeline name 'my chat' is not URL-safe",
        ),
        (["other/healthz.json"], "'healthz' is reserved"),
        ([], "no manifest to serve"),
    ],
)
def test_manifests_given_directly_must_have_distinct_usable_names(
    project: Path, files: list[str], message: str
) -> None:
    (project / "other").mkdir()
    for name in ("chat.json", "my chat.json", "healthz.json"):
        shutil.copy(project / "configs" / "knowledge_base.json", project / "other" / name)
    with pytest.raises(DeploymentError, match=message):
        deployment_for_files(files)


def test_is_deployment_file(project: Path) -> None:
    write(project, "pipelines: {chat: configs/chat.yaml}\n", "serve.yaml")
    write(project, '{"pipelines": {"chat": "configs/chat.yaml"}}', "serve.json")
    write(project, "_type: sequence\npipelines: {a: b}\n", "odd.yaml")
    write(project, "pipelines: [a]\n", "list.yaml")
    write(project, "{{{", "broken.yaml")
    assert is_deployment_file(project / "runwire.yaml")  # the name alone (even missing)
    assert is_deployment_file("runwire.yml")
    assert is_deployment_file(project / "serve.yaml")
    assert is_deployment_file(project / "serve.json")
    for name in ("odd.yaml", "list.yaml", "broken.yaml", "missing.yaml", "configs"):
        assert not is_deployment_file(project / name), name
    assert not is_deployment_file(project / "configs" / "chat.yaml")


# -- the JSON Schema -----------------------------------------------------------------------
def test_the_committed_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """docs/deployment.schema.json (what editors point at) is `runwire schema deployment`."""
    assert json.loads(SCHEMA_FILE.read_text()) == deployment_json_schema()
    assert main(["schema", "deployment"]) == 0
    assert capsys.readouterr().out == SCHEMA_FILE.read_text(), (
        "regenerate it: runwire schema deployment > docs/deployment.schema.json"
    )


def _schema_errors(text: str) -> list[str]:
    validator = jsonschema.Draft202012Validator(deployment_json_schema())
    data = json.loads(json.dumps(read_yaml_tree(text, source="t")))
    return sorted(e.message for e in validator.iter_errors(data))


def test_the_schema_accepts_the_example_and_refuses_what_the_reader_refuses() -> None:
    jsonschema.Draft202012Validator.check_schema(deployment_json_schema())
    assert _schema_errors((ROOT / "runwire.yaml").read_text()) == []
    assert _schema_errors(BOTH_FORMS) == []
    assert _schema_errors("pipelines: {healthz: a.yaml}\n") != []
    assert _schema_errors("pipelines: {'a b': a.yaml}\n") != []
    assert _schema_errors("pipelines: {a: a.yaml}\nservr: {}\n") != []
    assert _schema_errors("pipelines: {a: {path: a.yaml, configurable: x}}\n") != []
    assert _schema_errors("pipelines: {}\n") != []
    assert _schema_errors("pipelines: {a: a.yaml}\nenvironments: {p: {pipelines: {b: 3}}}\n")


# -- the example and `runwire validate` ---------------------------------------------------
def test_the_example_deployment_reads_and_builds_in_every_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    base = read_deployment("runwire.yaml")
    assert base.pipelines["switchable"].configurable
    for env in [None, *base.environments]:
        pipelines = build_pipelines(read_deployment("runwire.yaml", env=env), {})
        answer = pipelines["chat"].runnable.invoke({"role": "a guide", "question": "Capital?"})
        assert answer == "Paris is the capital of France."
        formal = {"configurable": {"model": "formal"}}
        assert pipelines["switchable"].runnable.invoke({"question": "?"}, formal) == (
            "The capital of France is Paris."
        )


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_checks_a_good_deployment_and_each_pipeline(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, BOTH_FORMS)
    assert cli(capsys, "validate", "runwire.yaml") == (
        0,
        "ok    runwire.yaml\n"
        "ok    runwire.yaml: chat (configs/chat.yaml)\n"
        "ok    runwire.yaml: switchable (configs/alternatives.yaml)\n"
        "ok    runwire.yaml [prod]: switchable (configs/alternatives.yaml)\n"
        "ok    runwire.yaml [prod]: extra (configs/chat.yaml)\n",  # lean changes none
        "",
    )


def test_validate_reports_a_broken_deployment_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "pipelines:\n  chat: configs/chat.yaml\n  docs: configs/chat.yaml\nxyz: 1\n")
    code, out, err = cli(capsys, "validate", "runwire.yaml")
    assert (code, err) == (1, "")
    assert out == (
        "FAIL  runwire.yaml (2 problems)\n"
        "  runwire.yaml:3:3: structure: $.pipelines.docs: pipeline name 'docs' is reserved "
        "for the server's own /docs route\n"
        "  runwire.yaml:4:1: structure: $.xyz: unknown key 'xyz'\n"
        "    hint: use allowed_objects, trusted, allowed_endpoints, server, pipelines, "
        "environments, checkpointer\n"
    )


def test_validate_reports_each_broken_pipeline(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, "steps: {1: {_type: FakeChatModel, respnses: [x]}}\n", "configs/bad.yaml")
    text = (
        "pipelines:\n  chat: configs/chat.yaml\n  bad: {path: configs/chat.yaml, "
        "overlays: [configs/bad.yaml]}\n  strict:\n    path: configs/chat.yaml\n"
        "    allowed_objects: [RunnableSequence, ChatPromptTemplate, StrOutputParser]\n"
        "  switch: {path: configs/alternatives.yaml, configurable: [modle]}\n"
    )
    write(project, text)
    code, out, _ = cli(capsys, "validate", ".")  # a folder's runwire.yaml is recognised
    assert code == 1
    lines = out.splitlines()
    assert lines[:2] == ["ok    runwire.yaml", "ok    runwire.yaml: chat (configs/chat.yaml)"]
    assert lines[2] == "FAIL  runwire.yaml: bad (configs/chat.yaml) (1 problem)"
    assert lines[3].startswith("  configs/bad.yaml:1:35: structure: $.steps[1].respnses:")
    assert lines[5] == "FAIL  runwire.yaml: strict (configs/chat.yaml) (1 problem)"
    assert lines[6] == (
        "  configs/chat.yaml:11:5: semantics: $.steps[1].id: pipeline strict: FakeChatModel "
        "(core) is not in allowed_objects"
    )
    assert lines[-3:] == [
        "FAIL  runwire.yaml: switch (configs/alternatives.yaml) (1 problem)",
        "  runwire.yaml:7:60: semantics: $.pipelines.switch.configurable[0]: pipeline switch: "
        "configurable 'modle' is not declared by the pipeline",
        "    hint: did you mean model? it declares: model, replies",
    ]


def test_validate_reports_an_unset_checkpointer_dsn_secret(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        project,
        "pipelines:\n  chat: configs/chat.yaml\ncheckpointer: {postgres: {dsn: !secret PG_DSN}}\n"
        "environments:\n  prod:\n    checkpointer:\n      postgres: {dsn: !secret PROD_DSN}\n",
    )
    monkeypatch.delenv("PG_DSN", raising=False)
    monkeypatch.setenv("PROD_DSN", "postgresql://app:Hidden-pw-1@db/prod")
    code, out, _ = cli(capsys, "validate", "runwire.yaml")
    assert code == 1
    assert out.splitlines()[:3] == [
        "FAIL  runwire.yaml (1 problem)",
        "  runwire.yaml:3:27: environment: $.checkpointer.postgres.dsn: secret PG_DSN "
        "(the checkpointer's DSN) is not set",
        "    hint: export PG_DSN (its value is never printed)",
    ]
    monkeypatch.setenv("PG_DSN", "postgresql://app:Hidden-pw-2@db/app")
    monkeypatch.delenv("PROD_DSN")
    code, out, _ = cli(capsys, "validate", "runwire.yaml")
    assert code == 1 and "runwire.yaml:7:18: environment: $.environments.prod." in out
    monkeypatch.setenv("PROD_DSN", "postgresql://app:Hidden-pw-1@db/prod")
    code, out, _ = cli(capsys, "validate", "runwire.yaml")
    assert code == 0 and "Hidden-pw" not in out


def test_validate_json_names_the_pipeline_and_environment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, BOTH_FORMS)
    code, out, _ = cli(capsys, "validate", "runwire.yaml", "--format", "json")
    body = json.loads(out)
    assert (code, body["ok"]) == (0, True)
    assert body["files"][0] == {"file": "runwire.yaml", "ok": True, "problems": []}
    assert body["files"][3] == {
        "file": "configs/alternatives.yaml",
        "deployment": "runwire.yaml",
        "pipeline": "switchable",
        "env": "prod",
        "ok": True,
        "problems": [],
    }


def test_validate_with_check_env_refuses_an_unknown_runwire_env(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, BOTH_FORMS)
    monkeypatch.setenv("RUNWIRE_ENV", "staging")
    assert cli(capsys, "validate", "runwire.yaml")[0] == 0
    code, out, _ = cli(capsys, "validate", "runwire.yaml", "--check-env")
    assert code == 1
    assert out.splitlines()[:3] == [
        "FAIL  runwire.yaml (1 problem)",
        "  runwire.yaml: environment: $.environments: RUNWIRE_ENV=staging names no "
        "environment of this file",
        "    hint: known environments: lean, prod",
    ]


def test_validate_refuses_manifest_options_on_a_deployment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(project, BOTH_FORMS)
    code, out, err = cli(capsys, "validate", "runwire.yaml", "--set", "a=1")
    assert (code, out) == (2, "")
    assert "runwire.yaml is a deployment file: -f/--set apply to manifests only" in err


def test_deployment_error_is_a_manifest_error_with_its_pipeline(project: Path) -> None:
    path = write(project, "pipelines: {qa: configs/qa.yaml}\n")
    with pytest.raises(DeploymentError) as caught:
        read_deployment(path)
    assert caught.value.pipeline == "qa"
    assert caught.value.to_dict()["path"] == "$.pipelines.qa.path"
    assert isinstance(Deployment(pipelines={}).error_at(("x",), "m"), DeploymentError)
