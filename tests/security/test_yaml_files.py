"""Manifest files within bounds: YAML aliases, includes, overlays and ``--set`` values.

Every case here once exhausted memory or time, hung, or escaped as a Python exception
(issue 13). Each now fails fast as a runwire error naming the file (and line, where the
node has one) with a hint. Time bounds are generous and only on inputs that hung.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runwire.errors import LimitExceededError, ManifestError, ManifestSyntaxError
from runwire.loader.files import Manifest, load_file
from runwire.loader.limits import Limits
from runwire.loader.source import apply_set, deep_merge

MIB = 1024 * 1024


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root (pyproject.toml) as the working folder."""
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, name: str, text: str) -> Path:
    """Write ``folder/name``; returns the path relative to the working folder (``folder``),
    as errors show it."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return Path(name)


def refusal(read: Callable[[], Any]) -> ManifestError:
    """The ManifestError ``read`` raises (any other exception fails the test)."""
    with pytest.raises(ManifestError) as caught:
        read()
    return caught.value


def within(seconds: float, read: Callable[[], Any]) -> ManifestError:
    """``refusal(read)``, which must come within ``seconds`` (for inputs that once hung)."""
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            read()
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=target, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(seconds)
    assert outcome, f"still running after {time.monotonic() - started:.0f} s"
    assert isinstance(outcome[0], ManifestError), f"expected a ManifestError: {outcome[0]!r}"
    return outcome[0]


# -- YAML aliases ---------------------------------------------------------------------
def test_a_big_scalar_aliased_200k_times_is_refused_before_parsing(project: Path) -> None:
    scalar = "x" * (8 * MIB)
    path = write(project, "bomb.yaml", f"a: &a '{scalar}'\nb: [{', '.join(['*a'] * 200_000)}]\n")
    error = within(10, lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and error.file == "bomb.yaml"
    assert "bytes" in error.message and "JSON" in error.hint


def test_aliases_count_the_text_they_expand_to(project: Path) -> None:
    scalar = "x" * (600 * 1024)  # within the YAML size limit; 30 uses are 18 MB of text
    aliases = "\n".join(f"  - *a  # use {i}" for i in range(30))
    path = write(project, "bomb.yaml", f"a: &a '{scalar}'\nb:\n{aliases}\n")
    error = within(10, lambda: load_file(path))
    assert isinstance(error, LimitExceededError)
    assert "bytes of text once YAML aliases are expanded" in error.message
    assert error.file == "bomb.yaml" and error.line is not None and error.line > 2
    assert error.path.startswith("$.b[") and "Limits.max_bytes" in error.hint


def test_nested_aliases_count_the_nodes_they_expand_to(project: Path) -> None:
    layers = ["a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for name, previous in zip("bcdefg", "abcdef", strict=True):
        layers.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 10)}]")
    path = write(project, "laughs.yaml", "\n".join(layers) + "\n")
    error = within(10, lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "nodes once YAML aliases" in error.message
    assert (error.file, error.line) == ("laughs.yaml", 6)


def test_an_alias_inside_the_node_it_names_is_refused(project: Path) -> None:
    path = write(project, "loop.yaml", "a: &a\n  b: *a\n")
    error = refusal(lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "inside the node it names" in error.message
    assert (error.file, error.line) == ("loop.yaml", 2)


def test_a_reused_anchor_is_not_a_warning_flood(project: Path) -> None:
    text = "_type: PromptTemplate\ntemplate: x\nz: [" + ", ".join(["&a 1"] * 100) + "]\n"
    path = write(project, "anchors.yaml", text)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        Manifest.read(path)
    assert not seen, [str(w.message)[:80] for w in seen]


# -- YAML size, nodes, depth and values -----------------------------------------------
def test_a_1mb_flow_list_of_500k_items_fails_fast(project: Path) -> None:
    path = write(project, "flow.yaml", "[" + ",".join(["1"] * 500_000) + "]")
    error = within(20, lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "YAML nodes" in error.message
    assert error.file == "flow.yaml" and error.line == 1
    assert "JSON" in error.hint and "max_yaml_nodes" in error.hint


def test_the_node_count_stops_the_parser_early(project: Path) -> None:
    path = write(project, "flow.yaml", "[" + ",".join(["1"] * 500_000) + "]")
    started = time.monotonic()
    error = refusal(lambda: load_file(path, limits=Limits(max_yaml_nodes=1_000)))
    assert "more than 1000 YAML nodes" in error.message
    assert error.column is not None and error.column < 3_000  # where it stopped
    assert time.monotonic() - started < 10


def test_runs_of_comment_lines_count_as_nodes(project: Path) -> None:
    path = write(project, "notes.yaml", "a: 1\n" + "# note\n" * 30_000 + "b: 2\n")
    error = within(10, lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "comment lines" in error.message


def test_yaml_text_has_its_own_smaller_size_limit(project: Path) -> None:
    path = write(project, "big.yaml", "a: '" + "x" * (2 * MIB) + "'\n")
    error = refusal(lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "1048576" in error.message
    assert "JSON" in error.hint


@pytest.mark.parametrize("text", ["[" * 10_000, "a:\n" + "- " * 5_000 + "x\n"])
def test_deep_yaml_is_a_limit_error_not_a_recursion_error(project: Path, text: str) -> None:
    path = write(project, "deep.yaml", text)
    error = within(10, lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "levels deep" in error.message
    assert error.file == "deep.yaml" and error.line is not None


@pytest.mark.parametrize("digits", ["9" * 5_000, "18446744073709551616", "0x" + "f" * 40])
def test_a_huge_yaml_integer_is_refused_at_its_line(project: Path, digits: str) -> None:
    path = write(project, "n.yaml", f"_type: PromptTemplate\ntemplate: x\nn: {digits}\n")
    error = refusal(lambda: load_file(path))
    assert isinstance(error, LimitExceededError) and "64-bit" in error.message
    assert (error.file, error.line, error.column) == ("n.yaml", 3, 4)
    assert "quote" in error.hint


def test_a_yaml_value_python_cannot_convert_is_a_syntax_error(project: Path) -> None:
    path = write(project, "date.yaml", "_type: PromptTemplate\ntemplate: x\nwhen: 2024-02-30\n")
    error = refusal(lambda: load_file(path))
    assert isinstance(error, ManifestSyntaxError) and (error.file, error.line) == ("date.yaml", 3)


# -- JSON files: limits before positions ----------------------------------------------
def test_deep_json_files_are_limit_errors(project: Path) -> None:
    for depth in (1_000, 10_000):
        path = write(project, f"deep{depth}.json", "[" * depth + "]" * depth)
        error = within(10, lambda path=path: load_file(path))
        assert isinstance(error, LimitExceededError) and "levels deep" in error.message


def test_a_json_file_over_the_node_limit_is_refused_without_parsing_it_as_yaml(
    project: Path,
) -> None:
    path = write(project, "big.json", "[" + ",".join(["0"] * 1_100_000) + "]")  # 2.2 MB
    error = within(10, lambda: load_file(path))  # locating it with ruamel took minutes
    assert isinstance(error, LimitExceededError) and error.file == "big.json"
    assert "1000000 nodes" in error.message


def test_positions_in_json_files_share_one_budget(project: Path) -> None:
    from runwire.loader.validate import validate_manifest

    item = '{"_type": "PromptTemplate", "template": "x", "z": [' + "0," * 3_000 + "0]}"
    for i in range(8):
        write(project, f"p{i}.json", item)
    lines = "\n".join(f"  - !include p{i}.json" for i in range(8))
    path = write(project, "main.yaml", "_type: sequence\nsteps:\n" + lines + "\n")
    manifest = Manifest.read(path, limits=Limits(max_yaml_nodes=5_000))  # one file's worth
    findings = validate_manifest(manifest)
    assert sorted({f.file for f in findings}) == [f"p{i}.json" for i in range(8)]
    located = [f.line is not None for f in findings]
    assert located[0] and not all(located)  # parsing for positions stopped at the budget


# -- includes ---------------------------------------------------------------------------
def test_include_fan_out_is_bounded(project: Path) -> None:
    for level in range(6):
        body = (
            "\n".join(f"k{i}: !include f{level + 1}.yaml" for i in range(10))
            if level < 5
            else "x: 1"
        )
        write(project, f"f{level}.yaml", body + "\n")
    error = within(10, lambda: load_file("f0.yaml"))
    assert isinstance(error, LimitExceededError) and "more than 200 includes" in error.message
    assert error.file is not None and error.file.endswith(".yaml") and error.line is not None
    assert "max_includes" in error.hint


def test_a_1000_include_chain_is_bounded(project: Path) -> None:
    for i in range(1_000):
        write(project, f"c{i}.yaml", f"_include: c{i + 1}.yaml\n")
    write(project, "c1000.yaml", "_type: StrOutputParser\n")
    error = within(10, lambda: load_file("c0.yaml"))
    assert isinstance(error, LimitExceededError)
    assert "includes nested more than 16 files deep" in error.message
    assert error.file == "c15.yaml" and error.line == 1


def test_total_bytes_read_by_one_load_are_bounded(project: Path) -> None:
    write(project, "part.json", '{"a": "' + "x" * 4_000 + '"}')
    write(project, "main.yaml", "\n".join(f"k{i}: !include part.json" for i in range(5)) + "\n")
    error = refusal(lambda: load_file("main.yaml", limits=Limits(max_bytes=10_000)))
    assert isinstance(error, LimitExceededError) and "10000" in error.message
    assert error.file == "main.yaml" and error.line == 3


def test_a_directory_include_is_a_clear_error(project: Path) -> None:
    (project / "fragments").mkdir()
    path = write(project, "main.yaml", "a: !include fragments\n")
    error = refusal(lambda: load_file(path))
    assert "fragments" in error.message and "a folder" in error.message
    assert (error.file, error.line) == ("main.yaml", 1) and "regular files" in error.hint


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_include_never_blocks(project: Path) -> None:
    os.mkfifo(project / "pipe.yaml")
    path = write(project, "main.yaml", "_type: PromptTemplate\ntemplate: !include pipe.yaml\n")
    error = within(10, lambda: load_file(path))
    assert "not a regular file" in error.message and (error.file, error.line) == ("main.yaml", 2)


# -- overlays and --set -----------------------------------------------------------------
def test_non_ascii_digit_keys_are_not_list_indexes() -> None:
    assert deep_merge([1, 2], {"²": 3}) == {"²": 3}
    assert deep_merge([1, 2], {"1": 3}) == [1, 3]
    assert deep_merge([1, 2], {"9" * 5_000: 3}) == {"9" * 5_000: 3}
    with pytest.raises(ManifestError, match="no item ²"):
        apply_set({"steps": [1]}, "steps.²=1")


def test_an_overlay_with_a_superscript_key_is_a_manifest_error(project: Path) -> None:
    base = write(project, "base.yaml", "_type: sequence\nsteps: [{_type: StrOutputParser}]\n")
    over = write(project, "over.yaml", "steps:\n  '²': {_type: StrOutputParser}\n")
    error = refusal(lambda: load_file([base, over]))
    assert error.file is not None


def test_a_set_value_alias_bomb_fails_fast(project: Path) -> None:
    path = write(project, "m.yaml", "_type: PromptTemplate\ntemplate: x\n")
    lists = ["&a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    for name, previous in zip("bcdefgh", "abcdefg", strict=True):
        lists.append(f"&{name} [{', '.join([f'*{previous}'] * 10)}]")
    bomb = "partial_variables=[" + ", ".join(lists) + "]"
    error = within(10, lambda: load_file(path, sets=[bomb]))
    assert isinstance(error, LimitExceededError) and error.file == "--set"
    assert "aliases" in error.message


def test_set_values_keep_their_yaml_meaning() -> None:
    assert apply_set({}, "a.b=0.5") == {"a": {"b": 0.5}}
    assert apply_set({}, "a=[1, x]") == {"a": [1, "x"]}
    assert apply_set({}, "a=") == {"a": None}
    assert apply_set({}, "a=!unknown tag") == {"a": "!unknown tag"}  # not YAML: the text
    with pytest.raises(LimitExceededError, match="64-bit"):
        apply_set({}, "a=" + "9" * 5_000)
    with pytest.raises(LimitExceededError, match="keys"):
        apply_set({}, "." * 1_000 + "=1")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="[]{}:,-&*!#'\"|>?\n ax1", max_size=60))
def test_any_yaml_value_is_data_or_a_manifest_error(text: str) -> None:
    try:
        value = apply_set({}, "v=" + text, limits=Limits(max_yaml_nodes=200))
    except ManifestError as exc:
        assert exc.file == "--set"
    else:
        assert set(value) == {"v"}
