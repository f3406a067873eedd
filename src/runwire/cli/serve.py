"""``runwire serve``: manifests or a runwire.yaml over HTTP (LangServe's protocol)."""

from __future__ import annotations

import argparse
import sys

from runwire.errors import RunwireError

__all__ = ["add_serve_command", "cmd_serve"]

_OVERRIDES = (
    "host",
    "port",
    "workers",
    "max_body_bytes",
    "request_timeout_s",
    "max_concurrency",
    "access_log",
)


def add_serve_command(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``runwire serve``."""
    parser.add_argument(
        "targets",
        nargs="*",
        metavar="runwire.yaml | FILE",
        help="a deployment file, or manifests served under their file stems "
        "(default: RUNWIRE_DEPLOYMENT, else ./runwire.yaml)",
    )
    parser.add_argument("--host", default=None, help="address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 1)")
    parser.add_argument("--env", default=None, help="the runwire.yaml environment (RUNWIRE_ENV)")
    parser.add_argument("--max-body-bytes", type=int, default=None, dest="max_body_bytes")
    parser.add_argument("--request-timeout", type=float, default=None, dest="request_timeout_s")
    parser.add_argument("--max-concurrency", type=int, default=None, dest="max_concurrency")
    parser.add_argument(
        "--reload",
        action="store_true",
        help="rebuild when a served file changes (manifests, includes, runwire.yaml, .env); "
        "a broken edit is logged and the last good build keeps serving",
    )
    parser.add_argument(
        "--no-access-log",
        action="store_const",
        const=False,
        default=None,
        dest="access_log",
        help="no JSON access line per request (RUNWIRE_SERVER__ACCESS_LOG=0)",
    )
    parser.set_defaults(run=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Build every pipeline, then serve until SIGTERM (drained, exit 0) or Ctrl-C."""
    import os

    from runwire.deploy.server.runner import ServeSpec, serve

    if args.reload and args.workers is not None and args.workers > 1:
        print("runwire serve: --reload serves from one process; drop --workers", file=sys.stderr)
        return 2
    if args.env:
        os.environ["RUNWIRE_ENV"] = args.env
    overrides = {name: getattr(args, name) for name in _OVERRIDES}
    spec = ServeSpec(targets=tuple(args.targets), overrides=overrides, reload=args.reload)
    try:
        return serve(spec)
    except RunwireError as exc:
        from runwire.redaction import redact

        print(redact(f"runwire serve: cannot start\n{exc}"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
