"""The ``runwire`` command: the parser and the entry point.

Exit codes: 0 success; 1 a manifest was rejected, a check failed, or the pipeline
raised; 2 bad command-line usage; 130 interrupted. No input makes a command print a
traceback (see :func:`main`) unless ``--debug`` or ``RUNWIRE_DEBUG=1`` asks for one.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from runwire.cli import commands, graphs
from runwire.cli.graphs import GRAPH_MODES
from runwire.errors import RunwireError
from runwire.testing.emulators import EMULATORS

__all__ = ["build_parser", "describe_failure", "main", "run"]

_EPILOG = (
    "exit codes: 0 ok, 1 a manifest was rejected / a check failed / the pipeline raised, "
    "2 usage error, 130 interrupted"
)


def _manifest_options(parser: argparse.ArgumentParser) -> None:
    """Overlays, --set and --root: shared by every command that reads a manifest."""
    parser.add_argument(
        "-f",
        "--file",
        dest="overlays",
        action="append",
        default=[],
        metavar="OVERLAY",
        help="a file deep-merged over the manifest (repeatable; later ones win)",
    )
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override one value, e.g. --set steps.1.temperature=0.3 (repeatable)",
    )
    parser.add_argument(
        "--root",
        default=None,
        help="folder includes must stay inside (default: nearest folder up with .git, "
        "pyproject.toml or runwire.yaml)",
    )


def _thread_options(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    """--thread and --checkpoints: a graph thread kept in SQLite."""
    parser.add_argument(
        "--thread",
        default=None,
        required=required,
        metavar="ID",
        help="graphs: the thread to run or show (its checkpoints are kept)",
    )
    parser.add_argument(
        "--checkpoints",
        default=None,
        metavar="FILE",
        help="the SQLite file of the threads (default: .runwire/checkpoints.sqlite under "
        "the project root)",
    )


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", default=None, help="a RunnableConfig: JSON or @file")


def _command(
    commands_: argparse._SubParsersAction, name: str, summary: str, description: str
) -> argparse.ArgumentParser:
    return commands_.add_parser(
        name,
        help=summary,
        description=description,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _later(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command whose module is imported only when it runs (startup stays fast)."""

    def command(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), name)(args))

    command.__name__ = name
    return command


def _at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1 (else a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


_DEBUG_HELP = "on a failure, print the traceback too (also RUNWIRE_DEBUG=1)"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``runwire`` command."""
    parser = argparse.ArgumentParser(
        prog="runwire",
        description="LLM pipelines as files: check, format, run and print YAML/JSON manifests "
        "(runwire's authoring form or LangChain's lc wire form).",
        epilog=_EPILOG,
    )
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    init = _command(
        sub,
        "init",
        "create a project: a pipeline, runwire.yaml, a snapshot test",
        "Write a starter project into DIR (default: the current folder): a pipeline that\n"
        "runs offline (prompt -> fake chat model -> text), a runwire.yaml serving it, a\n"
        "snapshot test with its stored snapshot, a .env.example and a README. Existing\n"
        "files are never overwritten: if one is in the way nothing is written.",
    )
    init.add_argument("dir", nargs="?", default=".", metavar="DIR")
    init.set_defaults(run=_later("runwire.cli.init", "cmd_init"))

    run = _command(
        sub,
        "run",
        "run a pipeline once and print its output",
        "Load FILE (secrets from the environment), invoke it with --input and print the\n"
        "output: text or highlighted JSON on a terminal, one JSON value when piped.",
    )
    run.add_argument("file", metavar="FILE")
    run.add_argument(
        "-i", "--input", default=None, help="the input: JSON, @file.json, or plain text"
    )
    _config_option(run)
    run.add_argument("--stream", action="store_true", help="print chunks as they come")
    _thread_options(run)
    run.add_argument(
        "--resume",
        default=None,
        metavar="JSON",
        help="continue the interrupted --thread with Command(resume=JSON)",
    )
    run.add_argument(
        "--stream-mode",
        action="append",
        choices=GRAPH_MODES,
        metavar="MODE",
        help="graphs: print [mode, chunk] lines of this stream mode (repeatable: "
        + ", ".join(GRAPH_MODES)
        + ")",
    )
    _manifest_options(run)
    run.set_defaults(run=commands.cmd_run)

    state = _command(
        sub,
        "state",
        "show a graph thread's state",
        "Load the graph FILE and print the latest state of --thread (values, next nodes,\n"
        "interrupts), or with --history every checkpoint, newest first.",
    )
    state.add_argument("file", metavar="FILE")
    _thread_options(state, required=True)
    state.add_argument("--history", action="store_true", help="every checkpoint, newest first")
    _manifest_options(state)
    state.set_defaults(run=graphs.cmd_state)

    picture = _command(
        sub,
        "graph",
        "draw a graph, agent or chain",
        "Load FILE and print its nodes and edges: an outline on a terminal, a Mermaid\n"
        "flowchart when piped (--mermaid / --ascii choose).",
    )
    picture.add_argument("file", metavar="FILE")
    form = picture.add_mutually_exclusive_group()
    form.add_argument("--mermaid", dest="form", action="store_const", const="mermaid")
    form.add_argument("--ascii", dest="form", action="store_const", const="ascii")
    _manifest_options(picture)
    picture.set_defaults(run=graphs.cmd_graph)

    batch = _command(
        sub,
        "batch",
        "run a pipeline over a JSONL file of inputs",
        "Run FILE on every line of INPUTS (one JSON input per line) and write one JSON\n"
        "record per input to OUT: {index, key, output} or {index, key, error}. Re-running\n"
        "skips inputs OUT already holds an output for; failed ones are tried again.",
    )
    batch.add_argument("file", metavar="FILE")
    batch.add_argument("inputs", metavar="INPUTS.jsonl")
    batch.add_argument("-o", "--output", required=True, metavar="OUT.jsonl")
    batch.add_argument(
        "--concurrency", type=_at_least_one, default=8, help="inputs in flight (default 8)"
    )
    batch.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where inputs run: this process (default) or a Ray cluster (pip install "
        "'runwire[ray]')",
    )
    batch.add_argument(
        "--address",
        default=None,
        metavar="ADDR",
        help="--engine ray: the cluster (default: RAY_ADDRESS, else a new local instance)",
    )
    batch.add_argument(
        "--workers",
        type=_at_least_one,
        default=None,
        metavar="N",
        help="--engine ray: Ray actors, one CPU each (default: one per CPU, at most --concurrency)",
    )
    _config_option(batch)
    _manifest_options(batch)
    batch.set_defaults(run=commands.cmd_batch)

    validate = _command(
        sub,
        "validate",
        "check manifests: structure, semantics, environment",
        "Check each manifest (files, or the manifests directly in a folder):\n"
        "  1. structure: against `runwire schema manifest` (every error is reported);\n"
        "  2. semantics: classes known and allowed, secrets only in secret fields, prompt\n"
        "     variables produced by the previous step, steps' schemas compatible,\n"
        "     configurable ids unique;\n"
        "  3. with --check-env: every ${VAR} and secret is set now (names only, no values).\n"
        "A runwire.yaml deployment file is checked against its schema, then each pipeline.",
    )
    validate.add_argument("paths", nargs="+", metavar="FILE")
    validate.add_argument("--check-env", action="store_true", help="also check the environment")
    validate.add_argument("--format", choices=("text", "json"), default="text")
    _manifest_options(validate)
    validate.set_defaults(run=commands.cmd_validate)

    fmt = _command(
        sub,
        "fmt",
        "rewrite manifests in a standard layout",
        "Rewrite each file in place, keeping comments and key order. --canonical writes\n"
        "the wire form (lc constructor nodes), --compact the authoring form (_type).",
    )
    fmt.add_argument("paths", nargs="+", metavar="FILE")
    mode = fmt.add_mutually_exclusive_group()
    mode.add_argument("--canonical", action="store_true", help="write the lc wire form")
    mode.add_argument("--compact", action="store_true", help="write the _type authoring form")
    fmt.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file would change"
    )
    fmt.add_argument(
        "--diff",
        action="store_true",
        help="change nothing; print a unified diff of the changes, exit 1 if there are any",
    )
    fmt.set_defaults(run=commands.cmd_fmt)

    schema = _command(
        sub,
        "schema",
        "print a JSON Schema",
        "manifest: the JSON Schema (2020-12) of the authoring form, for editors and CI;\n"
        "deployment: the JSON Schema of runwire.yaml;\n"
        "input/output/config FILE: the schemas of a pipeline.",
    )
    schema.add_argument("kind", choices=("manifest", "deployment", "input", "output", "config"))
    schema.add_argument("file", nargs="?", metavar="FILE")
    _manifest_options(schema)
    schema.set_defaults(run=commands.cmd_schema)

    dump = _command(
        sub,
        "dump",
        "print the canonical wire form",
        "Load each manifest and print its wire form (sorted keys, secrets as secret\n"
        "nodes). --dialect langchain writes LangChain's ids, for langchain_core.load.",
    )
    dump.add_argument("paths", nargs="+", metavar="FILE")
    dump.add_argument(
        "--dialect",
        choices=("runwire", "langchain"),
        default="runwire",
        help="ids to write: runwire's own, or LangChain's",
    )
    dump.add_argument("-q", "--quiet", action="store_true", help="no '# file' header lines")
    _manifest_options(dump)
    dump.set_defaults(run=commands.cmd_dump)

    from runwire.cli.config_show import cmd_config_show
    from runwire.cli.serve import add_serve_command

    config = _command(
        sub,
        "config",
        "show the deployment settings",
        "show: print every setting `runwire serve` uses, its value (secrets masked) and\n"
        "where it came from: init, env RUNWIRE_..., .env, secrets dir <file>, or default.",
    )
    config.add_argument("action", choices=("show",))
    config.add_argument("--format", choices=("text", "json"), default="text")
    config.set_defaults(run=cmd_config_show)

    serve = _command(
        sub,
        "serve",
        "serve pipelines over HTTP (LangServe's protocol)",
        "Serve a runwire.yaml, or manifests under their file stems (echo.json -> /echo/),\n"
        "with POST /<name>/invoke, /batch, /stream, /stream_events and GET /<name>/*_schema,\n"
        "/healthz, /readyz, /metrics and /docs. Settings come from RUNWIRE_* variables,\n"
        ".env and the secrets dir (see `runwire config show`); flags win over them.\n"
        "SIGTERM drains: requests in flight finish, new ones get 503, then exit 0.",
    )
    add_serve_command(serve)

    emulate = _command(
        sub,
        "emulate",
        "serve a local emulator of a cloud API (" + ", ".join(EMULATORS) + ")",
        "Serve a local emulator of a cloud API on a loopback port, speaking its real wire\n"
        "protocol to the real client (boto3, redis-py, httpx, openai); models answer\n"
        "deterministically (the last user text, or a call of a tool the text names).\n"
        "Without COMMAND it serves until Ctrl-C; with -- COMMAND it runs COMMAND with the\n"
        "endpoint and the credentials the emulator accepts in its environment, then exits\n"
        "with its status. Services:\n"
        + "\n".join(f"  {name:<18} {spec.summary}" for name, spec in EMULATORS.items()),
    )
    emulate.usage = (
        "runwire emulate SERVICE [--host H] [--port N] "
        "[--access-key-id K --secret-access-key S] [-- COMMAND [ARG ...]]"
    )
    emulate.add_argument("service", choices=tuple(EMULATORS))
    emulate.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    emulate.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    emulate.add_argument("--access-key-id", default=None, metavar="K", help="the key to accept")
    emulate.add_argument("--secret-access-key", default=None, metavar="S", help="its secret")
    emulate.set_defaults(run=commands.cmd_emulate, child=[])

    migrate = _command(
        sub,
        "migrate",
        "write the manifest of an OpenAI assistant for the Responses API",
        "runwire migrate assistant ASSISTANT_ID reads the assistant (OPENAI_API_KEY,\n"
        "OPENAI_BASE_URL or --base-url) and prints an OpenAIAssistantV2Runnable manifest\n"
        "with backend: responses and the assistant's model, instructions and tools, so the\n"
        "pipeline runs without the Assistants API (see docs/providers.md).",
    )
    migrate.add_argument("kind", choices=("assistant",))
    migrate.add_argument("assistant_id", metavar="ASSISTANT_ID")
    migrate.add_argument("--base-url", default=None, metavar="URL", help="the API's base URL")
    migrate.add_argument("-o", "--output", default=None, metavar="FILE", help="write it here")
    migrate.set_defaults(run=_later("runwire.providers.openai.migrate", "cmd_migrate"))

    types = _command(
        sub,
        "types",
        "list the _types a manifest can name, or show one",
        "Without NAME: every registered _type (classes and authoring helpers) with its\n"
        "group, runwire id and LangChain id. With NAME: that class's fields (type,\n"
        "default, alias, secret) and its documentation.",
    )
    types.add_argument("name", nargs="?", default=None, metavar="NAME")
    types.set_defaults(run=_later("runwire.cli.types_table", "cmd_types"))

    completion = _command(
        sub,
        "completion",
        "print a shell completion script",
        "Print a completion script for SHELL, generated from this command's options:\n"
        '  bash: eval "$(runwire completion bash)"   (or save it under\n'
        "        ~/.local/share/bash-completion/completions/runwire)\n"
        "  zsh:  runwire completion zsh > ~/.zfunc/_runwire   (~/.zfunc on your fpath)\n"
        "  tcsh: eval `runwire completion tcsh`",
    )
    completion.add_argument("shell", choices=("bash", "zsh", "tcsh"))
    completion.set_defaults(run=_later("runwire.cli.completion", "cmd_completion"))

    for command_parser in sub.choices.values():  # `runwire run ... --debug` works too
        command_parser.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
        )
    return parser


def _version() -> str:
    from runwire import __version__

    return f"runwire {__version__}"


def _split_child(argv: list[str]) -> tuple[list[str], list[str] | None]:
    """``runwire emulate ... -- COMMAND ARGS``: the child command is cut off before
    parsing (argparse mishandles ``--`` after a sub-command)."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)  # after --debug
    if command == "emulate" and "--" in argv:
        cut = argv.index("--")
        return argv[:cut], argv[cut + 1 :]
    return argv, None


_FAILURES: tuple[tuple[type[BaseException], str], ...] = (
    (RecursionError, "the input is nested too deeply to process; flatten it"),
    (MemoryError, "out of memory: the input is too large to process; make it smaller"),
    (UnicodeError, "the input is not valid UTF-8 text ({exc}); save it as UTF-8"),
    (OSError, "{what}{where}; check the path and its permissions"),
)
"""Unexpected exceptions that are about the input or the machine, not a bug: the line
printed for each (first match wins). Anything else is reported as an internal error."""


def describe_failure(exc: BaseException) -> str:
    """One line for an exception a command did not handle itself (never a traceback)."""
    if isinstance(exc, RunwireError):
        return str(exc)
    what = getattr(exc, "strerror", None) or type(exc).__name__
    filename = getattr(exc, "filename", None)
    where = f": {filename}" if filename else ""
    for kind, line in _FAILURES:
        if isinstance(exc, kind):
            return "error: " + line.format(exc=_short(exc), what=what, where=where)
    return (
        f"internal error: {type(exc).__name__}: {_short(exc)}; please report it "
        "(RUNWIRE_DEBUG=1 shows the traceback)"
    )


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else ""
    return line if len(line) <= 300 else line[:300] + "..."


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    No input makes a command print a traceback: an exception a command does not handle
    is one line on stderr and exit code 1, after its traceback with ``--debug`` or
    ``RUNWIRE_DEBUG=1`` (failures a command reports itself show theirs too).
    """
    args_list, child = _split_child(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args, extra = parser.parse_known_args(args_list)
    if extra:
        _refuse_unknown(parser, args.command, extra)
    if child is not None:
        args.child = child
    from runwire.redaction import install_log_redaction, redact

    install_log_redaction()  # a provider's warning never prints a secret either
    from runwire.cli.output import debug_enabled, set_debug, traceback_text

    set_debug(args.debug)
    try:
        return int(args.run(args))
    except BrokenPipeError:
        raise  # the reader went away: run() handles it
    except Exception as exc:  # the one place every unhandled failure is worded
        if debug_enabled():
            print(traceback_text(exc), file=sys.stderr, end="")
        print(redact(describe_failure(exc)), file=sys.stderr)
        return 1


def _refuse_unknown(parser: argparse.ArgumentParser, command: str, extra: list[str]) -> None:
    """Exit 2 with the command's usage, naming the unknown arguments and the nearest
    options of that command (``--inputs``: did you mean --input?)."""
    import difflib

    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    command_parser = sub.choices[command]
    options = [o for a in command_parser._actions for o in a.option_strings]
    hints = []
    for arg in extra:
        near = difflib.get_close_matches(arg.split("=", 1)[0], options, n=1, cutoff=0.6)
        if arg.startswith("-") and near:
            hints.append(f"{arg} (did you mean {near[0]}?)")
        else:
            hints.append(arg)
    command_parser.error("unrecognized arguments: " + " ".join(hints))


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:  # the reader went away (``runwire dump x | head``)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    raise SystemExit(code)


if __name__ == "__main__":
    run()
