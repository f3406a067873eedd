"""``runwire config show``: the settings ``runwire serve`` will use and where each came from.

The rows are the settings (init, environment, .env, secrets dir, defaults) with the
deployment file ``serve`` would read applied under them: a ``server:`` limit in
runwire.yaml (or its ``environments.<env>`` overlay) wins over a default, and loses to
a variable, as it does in ``serve``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["cmd_config_show", "format_table", "serve_report"]

_HEADER = ("name", "value", "origin")


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns two spaces apart, with a header line."""
    table = [_HEADER, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table)
    return "\n".join(line.rstrip() for line in lines)


def _deployment_file(settings: Any) -> Path | None:
    """The deployment file ``serve`` reads when given no target, if it exists."""
    from runwire.deploy.deployment import DEPLOYMENT_FILE_NAMES

    if settings.deployment is not None:
        return Path(settings.deployment)
    found = [Path(name) for name in DEPLOYMENT_FILE_NAMES if Path(name).is_file()]
    return found[0] if found else None


def serve_report() -> list[Any]:
    """:func:`~runwire.deploy.settings.settings_report` with the deployment file's
    ``server:`` limits applied where no variable, .env or secret sets them."""
    import orjson

    from runwire.deploy.deployment import read_deployment
    from runwire.deploy.settings import SettingOrigin, load_settings, settings_report

    rows = settings_report()
    settings = load_settings()
    path = _deployment_file(settings)
    if path is None:
        return rows
    deployment = read_deployment(path, env=settings.env)
    limits = deployment.server
    if limits is None:
        return rows
    origin = f"{path}" + (f" (environment {settings.env})" if settings.env else "")
    out = []
    for row in rows:
        section, _, name = row.name.partition(".")
        value = getattr(limits, name, None) if section == "server" else None
        if value is not None and row.origin == "default":
            shown = orjson.dumps(value).decode() if not isinstance(value, str) else value
            row = SettingOrigin(row.name, shown, origin)
        out.append(row)
    return out


def cmd_config_show(args: argparse.Namespace) -> int:
    """Print :func:`serve_report` as a table or a JSON list."""
    import orjson

    from runwire.errors import RunwireError

    try:
        rows = serve_report()
    except RunwireError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.format == "json":
        body = [row._asdict() for row in rows]
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_table(rows))
    return 0
