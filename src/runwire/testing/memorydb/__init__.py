"""A local Amazon MemoryDB (Redis protocol with vector search), for tests and demos.

::

    from runwire.testing.memorydb import MemoryDBEmulator

    with MemoryDBEmulator(password="pw") as emu:
        client = redis.Redis.from_url(emu.url)
        client.ft("idx").create_index(...)

Names load on first use: importing this package starts nothing.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_PASSWORD": "runwire.testing.memorydb.emulator",
    "Limits": "runwire.testing.memorydb.resp",
    "MemoryDBEmulator": "runwire.testing.memorydb.emulator",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
