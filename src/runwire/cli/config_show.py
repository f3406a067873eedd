"""``runwire config show``: the effective deployment settings and where each came from."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["cmd_config_show", "format_table"]

_HEADER = ("name", "value", "origin")


def format_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows as left-aligned columns two spaces apart, with a header line."""
    table = [_HEADER, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(_HEADER))]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table)
    return "\n".join(line.rstrip() for line in lines)


def cmd_config_show(args: argparse.Namespace) -> int:
    """Print :func:`runwire.deploy.settings.settings_report` as a table or JSON list."""
    import orjson

    from runwire.deploy.settings import SettingsError, settings_report

    try:
        rows = settings_report()
    except SettingsError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    if args.format == "json":
        body = [row._asdict() for row in rows]
        print(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())
    else:
        print(format_table(rows))
    return 0
