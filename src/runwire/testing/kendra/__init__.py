"""A local Amazon Kendra emulator (Retrieve and Query) for tests and demos.

::

    from runwire.testing.kendra import KendraEmulator

    with KendraEmulator(credentials={"AKID": "secret"}) as kendra:
        client = boto3.client("kendra", endpoint_url=kendra.endpoint_url, ...)
        kendra.add_index(INDEX_ID, "corpus.jsonl")
        kendra.fail(code="ThrottlingException")

Names load on first use: importing this package starts nothing.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DEFAULT_INDEX_ID": "runwire.testing.kendra.operations",
    "KendraEmulator": "runwire.testing.kendra.emulator",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
