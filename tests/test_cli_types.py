"""``runwire types [NAME]``: every registered ``_type``, and one class's fields."""

from __future__ import annotations

import io

import pytest

from runwire.cli.main import main
from runwire.cli.types_table import write_table
from runwire.loader.authoring import HELPERS
from runwire.schema.ids import id_table


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def columns(text: str) -> list[list[str]]:
    """Split an aligned plain table on the header's column starts."""
    lines = text.rstrip("\n").split("\n")
    header = lines[0]
    starts = [i for i, c in enumerate(header) if c != " " and (i == 0 or header[i - 1] == " ")]
    # a header cell may hold one space ("RUNWIRE ID"): keep starts that begin a word after 2+
    starts = [s for s in starts if s == 0 or header[s - 2 : s] == "  "]
    ends = [*starts[1:], None]
    return [[line[s:e].strip() for s, e in zip(starts, ends, strict=True)] for line in lines]


def test_types_lists_every_class_and_helper_in_aligned_columns(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys, "types")
    assert code == 0
    header, *rows = columns(out)
    assert header == ["NAME", "GROUP", "RUNWIRE ID", "LANGCHAIN ID"]
    by_name = {row[0]: row for row in rows}
    assert len(rows) == len(id_table.entries) + len(HELPERS)
    for entry in id_table.entries:
        langchain = ".".join(entry.langchain[0]) if entry.langchain else "-"
        assert by_name[entry.name] == [entry.name, entry.group, ".".join(entry.id), langchain]
    assert by_name["sequence"] == ["sequence", "helper", "-> RunnableSequence", "-"]
    assert by_name["ChatBedrockConverse"][3] == "langchain_aws.chat_models.ChatBedrockConverse"
    assert [row[1] for row in rows].index("core") == len(HELPERS)  # helpers first


def test_types_includes_registered_user_classes(
    capsys: pytest.CaptureFixture[str], registered: list[str]
) -> None:
    code, out, _ = cli(capsys, "types")
    rows = {row[0]: row for row in columns(out)[1:]}
    assert code == 0 and rows["KeyedProbe"][:3] == [
        "KeyedProbe",
        "user",
        "runwire_tests.KeyedProbe",
    ]
    code, out, _ = cli(capsys, "types", "KeyedProbe")
    fields = {row[0]: row for row in columns(out.split("\n\n")[-1])[1:]}
    assert fields["api_key"] == ["api_key", "SecretStr", "required", "API_KEY"]
    assert fields["model"] == ["model", "str", "'probe-1'", ""]
    assert "A required secret field (secret id ``API_KEY``) next to a plain one." in out


def test_types_name_shows_fields_types_defaults_aliases_and_secrets(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    value = "wJalrXUtnFEMI-do-not-print-me"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", value)  # a default factory reads it: never run
    code, out, _ = cli(capsys, "types", "ChatBedrockConverse")
    assert code == 0 and value not in out
    head, doc, table = out.split("\n\n")
    assert head.split("\n") == [
        "ChatBedrockConverse (providers)",
        "id: runwire.providers.aws.ChatBedrockConverse",
        "langchain id: langchain_aws.chat_models.ChatBedrockConverse",
    ]
    assert doc.startswith("A Bedrock chat model called through the Converse API")
    header, *rows = columns(table)
    assert header == ["FIELD", "TYPE", "DEFAULT", "ALIAS", "SECRET"]  # no descriptions: no column
    fields = {row[0]: row for row in rows}
    assert fields["model_id"] == ["model_id", "str", "required", "model", ""]
    assert fields["temperature"] == ["temperature", "float | None", "None", "", ""]
    assert fields["aws_secret_access_key"] == [
        "aws_secret_access_key",
        "SecretStr | None",
        "env_AWS_SECRET_ACCESS_KEY()",
        "",
        "AWS_SECRET_ACCESS_KEY",
    ]
    assert fields["reasoning_effort"][1].startswith("Literal['none', 'low'")
    assert "client" not in fields and "callbacks" not in fields  # excluded fields are not kwargs


@pytest.mark.parametrize(
    ("name", "first_line"),
    [
        ("langchain.prompts.prompt.PromptTemplate", "PromptTemplate (core)"),
        ("runwire.models.FakeChatModel", "FakeChatModel (core)"),
        ("HumanMessage", "HumanMessage (messages)"),
    ],
)
def test_types_name_takes_short_names_and_ids(
    capsys: pytest.CaptureFixture[str], name: str, first_line: str
) -> None:
    code, out, _ = cli(capsys, "types", name)
    assert code == 0 and out.split("\n")[0] == first_line


def test_types_of_a_helper_shows_its_authoring_keys(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "types", "retry")
    assert code == 0
    head, doc, table = out.split("\n\n")
    assert head.split("\n")[:2] == ["retry (authoring helper)", "builds: RunnableRetry"]
    assert doc.startswith("``bound``, retried on ``retry_exception_types``")
    assert "key stop_after_attempt: written as max_attempt_number" in head
    keys = {row[0]: row for row in columns(table)[1:]}
    assert keys["bound"][1:3] == ["runnable", "required"]
    assert keys["stop_after_attempt"][1:3] == ["int", "3"]
    assert "max_attempt_number" not in keys  # shown under its authoring name
    code, out, _ = cli(capsys, "types", "sequence")
    keys = {row[0]: row for row in columns(out.split("\n\n")[-1])[1:]}
    assert keys["steps"][1:3] == ["list[runnable]", "required"]


def test_an_unknown_name_suggests_the_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "types", "ChatBedrockConvers")
    assert (code, out) == (1, "")
    assert err == (
        "error: no _type named 'ChatBedrockConvers'; did you mean ChatBedrockConverse or "
        "ChatBedrock? (`runwire types` lists them all)\n"
    )
    code, _, err = cli(capsys, "types", "strOutputparser")
    assert code == 1 and "did you mean StrOutputParser" in err
    code, _, err = cli(capsys, "types", "zzzzzz")
    assert code == 1 and "did you mean" not in err


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_rich_table_unless_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    table = (("NAME", "GROUP"), [("sequence", "helper"), ("[red]x", "core")])
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = Terminal()
    write_table(table, lines=["title"], stream=tty)
    shown = tty.getvalue()
    assert "\x1b[" in shown and "sequence" in shown and "[red]x" in shown  # markup escaped
    monkeypatch.setenv("NO_COLOR", "1")
    plain = Terminal()
    write_table(table, lines=["title"], stream=plain)
    assert plain.getvalue() == "title\n\nNAME      GROUP\nsequence  helper\n[red]x    core\n"


def test_fields_a_validator_fills_in_are_derived_not_required(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """PromptTemplate's input_variables come from its template: a manifest may leave them out."""
    code, out, _ = cli(capsys, "types", "PromptTemplate")
    fields = {row[0]: row for row in columns(out.split("\n\n")[-1])[1:]}
    assert code == 0
    assert fields["input_variables"][1:3] == ["list[str]", "derived"]
    assert fields["template"][1:3] == ["str", "required"]
    assert fields["template_format"][2] == "'f-string'"
