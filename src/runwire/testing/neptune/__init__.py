"""A local Amazon Neptune openCypher endpoint on an embedded graph engine, for tests
and demos (``runwire emulate neptune``). Names load on first use."""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_GRAPH_ID": "runwire.testing.neptune.emulator",
    "GraphEngine": "runwire.testing.neptune.engine",
    "NeptuneEmulator": "runwire.testing.neptune.emulator",
    "RecordedQuery": "runwire.testing.neptune.emulator",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
