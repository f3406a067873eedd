"""A local Amazon S3 Vectors emulator: vector buckets, indexes and exact nearest neighbours.

::

    from runwire.testing.s3vectors import S3VectorsEmulator

    with S3VectorsEmulator(credentials={"AKID": "secret"}) as s3v:
        client = boto3.client("s3vectors", endpoint_url=s3v.endpoint_url, ...)

Names load on first use.
"""

from __future__ import annotations

from runwire._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "S3VectorsEmulator": "runwire.testing.s3vectors.emulator",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
