"""What each ``runwire`` command does (the parser is in :mod:`runwire.cli.main`).

Every command returns its exit code: 0 success, 1 a manifest was rejected or the
pipeline failed, 2 bad usage (argparse).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from runwire.errors import ManifestError, RunwireError

__all__ = [
    "MANIFEST_SUFFIXES",
    "cmd_batch",
    "cmd_dump",
    "cmd_emulate",
    "cmd_fmt",
    "cmd_run",
    "cmd_schema",
    "cmd_validate",
    "manifest_files",
]

MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")


def manifest_files(paths: Sequence[str]) -> Iterator[Path]:
    """The files named, with folders expanded to the manifests directly in them (sorted).

    Sub-folders are not searched: keep fragments and overlays there.
    """
    for name in paths:
        path = Path(name)
        if path.is_dir():  # regular files only: a FIFO named x.yaml would block
            yield from sorted(
                p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
        else:
            yield path


class UsageError(RunwireError):
    """A command-line value is unusable (an unreadable ``@file``, a non-JSON config)."""


def _error(exc: RunwireError | str) -> int:
    from runwire.cli.output import write_error

    write_error(exc)  # secrets masked in every form
    return 1


def _manifest(args: argparse.Namespace, path: str | Path | None = None) -> Any:
    from runwire.loader.files import Manifest

    first = [str(path)] if path is not None else [args.file]
    return Manifest.read([*first, *args.overlays], sets=args.sets, root=args.root)


def _build(args: argparse.Namespace) -> Any:
    """The pipeline of a run-like command, secrets read from the environment."""
    return _runnable(_manifest(args).build(secrets_from_env=True), args.file)


def _runnable(built: Any, file: str) -> Any:
    """``built`` when it is a runnable; a manifest of plain data cannot be run."""
    from runwire.runtime.base import Runnable

    if not isinstance(built, Runnable):
        raise ManifestError(
            f"the manifest is a {type(built).__name__}, not a runnable pipeline",
            hint="a pipeline is a mapping with `_type` (or an lc constructor node) "
            "naming a runnable class, e.g. _type: sequence",
            file=file,
        )
    return built


def _json_arg(text: str | None, what: str) -> Any:
    """``--input``/``--config`` values: JSON, ``@file`` holding JSON, or plain text."""
    import orjson

    if text is None:
        return None
    if text.startswith("@"):
        text = _read_arg_file(text[1:], what)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if what == "--config":
            raise UsageError('--config must be JSON, e.g. --config \'{"tags": ["cli"]}\'') from None
        if text.lstrip().startswith(("{", "[")):  # meant as JSON: say where it breaks
            raise UsageError(f"{what} is not valid JSON: {exc}") from None
        return text  # plain text is a string input


def _read_arg_file(name: str, what: str) -> str:
    """The text of an ``@file`` argument, at most ``Limits.max_bytes`` of UTF-8."""
    from runwire.loader.limits import DEFAULT_LIMITS

    limit = DEFAULT_LIMITS.max_bytes
    try:
        with open(name, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} file {name}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UsageError(f"{what} file {name} is larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} file {name} is not UTF-8 text (byte {exc.start})") from None


# -- dump ------------------------------------------------------------------------------
def cmd_dump(args: argparse.Namespace) -> int:
    from runwire.loader.validate import PlaceholderSecrets
    from runwire.schema.dump import dumps

    failed = 0
    for path in manifest_files(args.paths):
        try:
            # as validate loads it: unset variables stay as written, secrets are placeholders
            obj = _manifest(args, path).build(keep_unset=True, secrets_map=PlaceholderSecrets())
        except ManifestError as exc:
            failed += _error(exc)
            continue
        if not args.quiet:
            print(f"# {path}")
        print(dumps(obj, pretty=True, sort_keys=True, dialect=args.dialect))
    return 1 if failed else 0


# -- validate --------------------------------------------------------------------------
def cmd_validate(args: argparse.Namespace) -> int:
    """Check manifests, and deployment files (runwire.yaml) with every pipeline in them."""
    import orjson

    from runwire.deploy.deployment import is_deployment_file
    from runwire.loader.validate import finding_of, validate_manifest

    reports: list[dict[str, Any]] = []
    for path in manifest_files(args.paths):
        if is_deployment_file(path):
            if args.overlays or args.sets:
                print(
                    f"{path} is a deployment file: -f/--set apply to manifests only "
                    "(a deployment names its overlays under `overlays:`)",
                    file=sys.stderr,
                )
                return 2
            reports.extend(_deployment_reports(path, args.check_env))
            continue
        try:
            findings = validate_manifest(_manifest(args, path), check_env=args.check_env)
        except ManifestError as exc:
            findings = [finding_of(exc, "structure")]
        reports.append({"file": str(path), "ok": not findings, "problems": findings})
    ok = all(report["ok"] for report in reports)
    if args.format == "json":
        body = {
            "ok": ok,
            "files": [{**r, "problems": [f.to_dict() for f in r["problems"]]} for r in reports],
        }
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        from runwire.cli.output import write_validation

        write_validation(reports)  # coloured and aligned on a terminal, else plain text
    return 0 if ok else 1


def _deployment_reports(path: Path, check_env: bool) -> list[dict[str, Any]]:
    """One report for the deployment file, then one per pipeline, without overlay and
    under each environment (a pipeline an environment leaves unchanged is checked once)."""
    import os

    from runwire.deploy.deployment import deployment_problems, read_deployment
    from runwire.loader.validate import Finding, finding_of

    problems = [finding_of(p, "structure") for p in deployment_problems(path)]
    reports: list[dict[str, Any]] = [{"file": str(path), "ok": not problems, "problems": problems}]
    if problems:
        return reports
    base = read_deployment(path)
    deployments = {
        env: base if env is None else read_deployment(path, env=env)
        for env in [None, *base.environments]
    }
    from runwire.deploy.checkpointers import dsn_secret_problems
    from runwire.deploy.secrets import deployment_secrets

    for problem in dsn_secret_problems(path, deployments, deployment_secrets() or os.environ):
        problems.append(finding_of(problem, "environment"))
        reports[0]["ok"] = False
    selected = os.environ.get("RUNWIRE_ENV")
    if check_env and selected and selected not in base.environments:
        known = ", ".join(sorted(base.environments)) or "none"
        problems.append(
            Finding(
                "environment",
                "unknown-environment",
                f"RUNWIRE_ENV={selected} names no environment of this file",
                "$.environments",
                str(path),
                hint=f"known environments: {known}",
            )
        )
        reports[0]["ok"] = False
    seen: set[tuple[str, str]] = set()
    for env, deployment in deployments.items():
        for name, spec in deployment.pipelines.items():
            key = (name, spec.model_dump_json())
            if key in seen:
                continue
            seen.add(key)
            findings = _pipeline_findings(deployment, name, check_env)
            reports.append(
                {
                    "file": _relative(spec.path),
                    "deployment": str(path),
                    "pipeline": name,
                    "env": env,
                    "ok": not findings,
                    "problems": findings,
                }
            )
    return reports


def _pipeline_findings(deployment: Any, name: str, check_env: bool) -> list[Any]:
    """The manifest's own problems, then the deployment's checks of it (allowed_objects,
    configurable ids), built with placeholder secrets."""
    from runwire.deploy.deployment import DeploymentError
    from runwire.deploy.pipelines import build_pipeline
    from runwire.loader.files import Manifest
    from runwire.loader.validate import PlaceholderSecrets, finding_of, validate_manifest

    spec = deployment.pipelines[name]
    try:
        manifest = Manifest.read([_relative(p) for p in (spec.path, *spec.overlays)])
    except ManifestError as exc:
        return [finding_of(exc, "structure")]
    from runwire.deploy.secrets import deployment_secrets  # serve's secret sources

    findings = validate_manifest(manifest, check_env=check_env, secrets=deployment_secrets())
    if any(f.phase != "environment" for f in findings):
        return findings
    try:
        build_pipeline(deployment, name, PlaceholderSecrets(), keep_unset=True)
    except DeploymentError as exc:
        findings.append(finding_of(exc, "semantics"))
    return findings


def _relative(path: Path) -> str:
    """A path relative to the working folder when it is inside it."""
    import os

    shown = os.path.relpath(path)
    return str(path) if shown.startswith("..") else shown


# -- fmt -------------------------------------------------------------------------------
def cmd_fmt(args: argparse.Namespace) -> int:
    from runwire.loader.rewrite import format_text
    from runwire.loader.source import YAML_SUFFIXES

    mode = "canonical" if args.canonical else "compact" if args.compact else "keep"
    changed = failed = 0
    for path in manifest_files(args.paths):
        try:
            text = path.read_text(encoding="utf-8")
            new = format_text(text, yaml=path.suffix in YAML_SUFFIXES, mode=mode, source=str(path))
        except OSError as exc:
            failed += _error(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            failed += _error(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8")
            continue
        except ManifestError as exc:
            failed += _error(exc)
            continue
        if new == text:
            continue
        changed += 1
        if args.diff:  # what would change, as `diff -u` prints it; nothing is written
            import difflib

            lines = difflib.unified_diff(
                text.splitlines(keepends=True), new.splitlines(keepends=True), str(path), str(path)
            )
            for line in lines:
                end = "" if line.endswith("\n") else "\n\\ No newline at end of file\n"
                sys.stdout.write(line + end)
        elif args.check:
            print(f"would reformat {path}")
        else:
            _write_atomically(path, new)
            print(f"reformatted {path}")
    return 1 if failed or ((args.check or args.diff) and changed) else 0


def _write_atomically(path: Path, text: str) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# -- run -------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    from runwire.cli import graphs
    from runwire.cli.output import write_result, write_stream
    from runwire.runtime.text_stream import skip_empty_text

    try:
        pipeline = _build(args)
        value = _json_arg(args.input, "--input")
        config = _json_arg(args.config, "--config")
        threaded = args.thread or args.resume is not None or args.stream_mode
        if value is None and not (args.thread or args.resume is not None):
            raise UsageError(f"no --input given: {_input_hint(pipeline)}")
        if isinstance(value, str) and args.input and not args.input.startswith("@"):
            hint = _input_hint(pipeline)
            if "takes an object" in hint:  # plain text to a pipeline that wants fields
                raise UsageError(f"--input is a string, but {hint}")
        if threaded and not graphs.is_graph(pipeline):
            raise UsageError("--thread, --resume and --stream-mode run graph files")
        if args.resume is not None:
            args.resume = _json_arg(args.resume, "--resume")
    except (ManifestError, UsageError) as exc:
        return _error(exc)
    try:
        if threaded:
            for result in graphs.run_graph(args, pipeline, value, config, _project_root(args)):
                write_result(result)
        elif args.stream:
            write_stream(skip_empty_text(pipeline.stream(value, config)))
        else:
            write_result(pipeline.invoke(value, config))
    except UsageError as exc:
        return _error(exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the pipeline failed: say so, no traceback
        return _error(f"error: {type(exc).__name__}: {exc}")
    return 0


def _input_hint(pipeline: Any) -> str:
    """What the pipeline takes, from its input schema, with an example ``--input``."""
    try:
        schema = pipeline.get_input_jsonschema()
    except Exception:  # a pipeline that cannot say
        return 'pass one, e.g. --input \'{"question": "..."}\' or --input @input.json'
    props = schema.get("properties") or {}
    if props:
        fields = ", ".join(f"{k} ({(v or {}).get('type', 'any')})" for k, v in props.items())
        example = "{" + ", ".join(f'"{k}": ...' for k in props) + "}"
        return f"the pipeline takes an object with {fields}: --input '{example}'"
    if schema.get("type") == "string":
        return 'the pipeline takes a string: --input "some text"'
    return "pass one: JSON, @file.json, or plain text"


def _project_root(args: argparse.Namespace) -> Path:
    from runwire.loader.source import find_root

    return Path(args.root) if args.root else find_root(Path(args.file))


# -- batch -----------------------------------------------------------------------------
def cmd_batch(args: argparse.Namespace) -> int:
    from runwire.cli.batch import BatchError, run_batch

    try:
        if args.engine == "ray":
            report = _batch_ray(args)
        elif args.address is not None or args.workers is not None:
            raise UsageError("--address and --workers are options of --engine ray")
        else:
            pipeline = _build(args)
            config = _json_arg(args.config, "--config")
            report = run_batch(
                pipeline,
                Path(args.inputs),
                Path(args.output),
                concurrency=args.concurrency,
                config=config,
            )
    except (ManifestError, UsageError, BatchError) as exc:
        return _error(exc)
    print(report.summary(), file=sys.stderr)
    return 1 if report.failed else 0


def _batch_ray(args: argparse.Namespace) -> Any:
    """``--engine ray``: the manifest's text goes to the workers (runwire.cli.batch_ray)."""
    from runwire.cli.batch_ray import run_batch_ray, shipped_manifest

    text = shipped_manifest(_manifest(args), args.file)
    return run_batch_ray(
        text,
        Path(args.inputs),
        Path(args.output),
        source=args.file,
        concurrency=args.concurrency,
        workers=args.workers,
        address=args.address,
        config=_json_arg(args.config, "--config"),
    )


# -- schema ----------------------------------------------------------------------------
def cmd_schema(args: argparse.Namespace) -> int:
    import orjson

    if args.kind == "manifest":
        from runwire.loader.validate import authoring_schema

        schema = authoring_schema()
    elif args.kind == "deployment":
        from runwire.deploy.deployment import deployment_json_schema

        schema = deployment_json_schema()
    else:
        if args.file is None:
            print(f"runwire schema {args.kind} needs a FILE", file=sys.stderr)
            return 2
        try:
            from runwire.loader.validate import PlaceholderSecrets

            built = _manifest(args).build(keep_unset=True, secrets_map=PlaceholderSecrets())
            pipeline = _runnable(built, args.file)
        except ManifestError as exc:
            return _error(exc)
        getter = {
            "input": pipeline.get_input_jsonschema,
            "output": pipeline.get_output_jsonschema,
            "config": pipeline.get_config_jsonschema,
        }[args.kind]
        schema = getter()
    print(orjson.dumps(schema, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode())
    return 0


# -- emulate ---------------------------------------------------------------------------
def cmd_emulate(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C (130), or run ``args.child`` against the emulator and return
    its exit status."""
    import threading

    from runwire.testing.emulators import EMULATORS, EmulatorOptions

    spec = EMULATORS[args.service]
    if (args.access_key_id is None) != (args.secret_access_key is None):
        print("--access-key-id and --secret-access-key go together", file=sys.stderr)
        return 2
    options = EmulatorOptions(
        args.host,
        args.port,
        args.access_key_id,
        args.secret_access_key,
        log=None if args.child else _stderr_line,  # serve mode logs each request
    )
    try:
        started = spec.start(options)
    except OSError as exc:
        return _error(f"cannot listen on {args.host}:{args.port}: {exc.strerror}")
    try:
        if args.child:
            code = _run_child(args.child, started.env, started.unset)
            report = started.report() if started.report is not None else ""
            if report:
                print(report, file=sys.stderr, flush=True)
            return code
        print(started.title, flush=True)
        exports = "".join(f"  export {name}={value}\n" for name, value in started.shown.items())
        print(
            f"Point a client at it:\n{exports}  export AWS_REGION=us-east-1\nCtrl-C stops it."
            if spec.aws
            else f"Point a client at it:\n{exports}Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        threading.Event().wait()
        return 0  # not reached: only Ctrl-C ends the wait
    except KeyboardInterrupt:
        return 130
    finally:
        started.emulator.stop()


def _stderr_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _run_child(command: list[str], extra: Mapping[str, str], unset: Sequence[str]) -> int:
    """Run ``command`` with the emulator's environment ``extra`` (and without the
    variables ``unset``); its exit status (128 + N for signal N)."""
    import os
    import signal
    import subprocess

    env = {**os.environ, **extra}
    for name in unset:
        env.pop(name, None)
    env.setdefault("AWS_REGION", "us-east-1")
    env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])  # the one boto3 itself reads
    children: list[subprocess.Popen[bytes]] = []
    early: list[int] = []

    def forward(signum: int, frame: object) -> None:
        """Pass the signal on: the child decides, the wrapper waits for it (never
        leaving it running alone)."""
        if children:
            children[0].send_signal(signum)
        else:
            early.append(signum)  # before the child exists: given to it once it does

    forwarded = (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
    previous = {sig: signal.signal(sig, forward) for sig in forwarded}
    try:
        try:
            child = subprocess.Popen(command, env=env)
        except OSError as exc:
            print(f"cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
            return 127
        children.append(child)
        for signum in early:
            child.send_signal(signum)
        while True:
            try:
                code = child.wait()
                break
            except KeyboardInterrupt:  # the child got it too: wait for it to finish
                continue
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code if code >= 0 else 128 - code
