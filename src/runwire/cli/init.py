"""``runwire init [DIR]``: a starter project that validates and passes its test at once.

The files come from ``runwire/cli/templates`` (package data), one row of :data:`FILES`
each. The snapshot the generated test compares against is written too, computed the
way the ``manifest_snapshot`` fixture computes it and stored with syrupy's own amber
writer, so the first ``pytest`` passes without ``--snapshot-update``.

Nothing is overwritten: when any file to write exists already, ``init`` names them all
and writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from importlib.resources import files
from pathlib import Path

from runwire.errors import RunwireError

__all__ = ["FILES", "SNAPSHOT", "InitError", "cmd_init", "init_project"]

FILES: tuple[tuple[str, str], ...] = (
    ("chat.yaml", "pipelines/chat.yaml"),
    ("chat_input.json", "inputs/chat.json"),
    ("runwire.yaml", "runwire.yaml"),
    ("test_pipelines.py.txt", "tests/test_pipelines.py"),
    ("env.example", ".env.example"),
    ("gitignore", ".gitignore"),
    ("README.md", "README.md"),
)
"""(template in runwire/cli/templates, path in the project)."""

SNAPSHOT = "tests/__snapshots__/test_pipelines.ambr"
_SNAPSHOT_TEST = "test_chat_pipeline"
"""The generated test whose snapshot is stored (its name in the amber file)."""
_SNAPSHOT_OF = "pipelines/chat.yaml"


class InitError(RunwireError):
    """The project cannot be written (files in the way, a file where the folder goes)."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(f"error: {message}\n  hint: {hint}")


def _template(name: str) -> str:
    return files("runwire.cli").joinpath("templates", name).read_text(encoding="utf-8")


def _snapshot_file(folder: Path) -> str | None:
    """The amber snapshot file of the generated test, or ``None`` without syrupy."""
    try:
        from syrupy.data import Snapshot, SnapshotCollection
        from syrupy.extensions.amber.serializer import AmberDataSerializer
    except ImportError:
        return None
    from runwire.testing.pytest_plugin import canonical_text

    data = AmberDataSerializer.serialize(canonical_text(folder / _SNAPSHOT_OF))
    target = folder / SNAPSHOT
    collection = SnapshotCollection(location=str(target))
    collection.add(Snapshot(name=_SNAPSHOT_TEST, data=data))
    AmberDataSerializer.write_file(collection, file_lock=False)
    return SNAPSHOT


def init_project(folder: Path, *, name: str | None = None) -> list[str]:
    """Write the starter project into ``folder`` (created if missing); returns the
    paths written, relative to it. Raises :class:`InitError`, writing nothing, when a
    file to write exists already."""
    planned = [target for _, target in FILES] + [SNAPSHOT]
    if folder.exists() and not folder.is_dir():
        raise InitError(f"{folder} is a file, not a folder", hint="give a folder to create")
    taken = [target for target in planned if (folder / target).exists()]
    if taken:
        raise InitError(
            f"{folder}: would overwrite {', '.join(taken)}",
            hint="move them away or choose another folder; `runwire init` never overwrites",
        )
    title = name or folder.resolve().name or "runwire project"
    for template, target in FILES:
        path = folder / target
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _template(template)
        if target == "README.md":
            text = text.replace("$project", title)
        with path.open("x", encoding="utf-8") as handle:  # "x": never replace a file
            handle.write(text)
    (folder / SNAPSHOT).parent.mkdir(parents=True, exist_ok=True)
    written = [target for _, target in FILES]
    stored = _snapshot_file(folder)
    return written + ([stored] if stored else [])


def cmd_init(args: argparse.Namespace) -> int:
    """``runwire init [DIR]``: write the project, list the files, say what to run next."""
    from runwire.cli.output import write_error

    folder = Path(args.dir)
    try:
        written = init_project(folder)
    except InitError as exc:
        write_error(exc)
        return 1
    except OSError as exc:
        write_error(f"error: {folder}: cannot write the project: {exc.strerror or exc}")
        return 1
    for path in written:
        print(f"created {folder / path}")
    if SNAPSHOT not in written:
        print(
            "syrupy is not installed, so no snapshot was stored: install pytest and syrupy, "
            "then run `pytest --snapshot-update` once",
            file=sys.stderr,
        )
    where = "" if folder.resolve() == Path.cwd().resolve() else f"cd {folder} && "
    print(f"next: {where}runwire validate runwire.yaml && pytest   (see README.md)")
    return 0
