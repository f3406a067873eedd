"""The ``runwire`` command.

Exit codes: 0 success, 1 a manifest was rejected, 2 bad command-line usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["build_parser", "main", "run"]

MANIFEST_SUFFIXES = (".json",)


def _manifest_files(paths: Sequence[str]) -> Iterator[Path]:
    """The files named, with folders expanded to the manifests they hold (sorted)."""
    for name in paths:
        path = Path(name)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES)
        else:
            yield path


def _cmd_dump(args: argparse.Namespace) -> int:
    from runwire.errors import ManifestError
    from runwire.loader.wire import loads
    from runwire.schema.dump import dumps

    failed = 0
    for path in _manifest_files(args.paths):
        try:
            text = path.read_bytes()
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            failed += 1
            continue
        try:
            obj = loads(text, allowed_objects="all", source=str(path))
        except ManifestError as exc:
            print(str(exc), file=sys.stderr)
            failed += 1
            continue
        if not args.quiet:
            print(f"# {path}")
        print(dumps(obj, pretty=True, sort_keys=True, dialect=args.dialect))
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``runwire`` command."""
    parser = argparse.ArgumentParser(
        prog="runwire",
        description="LLM pipelines as files: load, check and print runwire/LangChain manifests.",
        epilog="exit codes: 0 ok, 1 a manifest was rejected, 2 usage error",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dump = commands.add_parser(
        "dump",
        help="load manifests and print their canonical wire form",
        description="Load each manifest (files, or folders of *.json) and print its canonical "
        "wire form: sorted keys, 2-space indent, secrets as secret nodes.",
    )
    dump.add_argument("paths", nargs="+", metavar="PATH", help="manifest file or folder")
    dump.add_argument(
        "--dialect",
        choices=("runwire", "langchain"),
        default="runwire",
        help="ids to write: runwire's own, or LangChain's (for langchain_core.load.loads)",
    )
    dump.add_argument("-q", "--quiet", action="store_true", help="no '# file' header lines")
    dump.set_defaults(run=_cmd_dump)
    return parser


def _version() -> str:
    from runwire import __version__

    return f"runwire {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.run(args))


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``runwire dump x | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    raise SystemExit(code)


if __name__ == "__main__":
    run()
