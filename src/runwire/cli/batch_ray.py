"""``runwire batch --engine ray``: the inputs run on a Ray cluster, the files stay here.

The engine uses Ray core actors, not Ray Data (that would add pyarrow, and blocks of rows
to turn back into records); the local engine's file handling applies unchanged:

- **What is shipped**: the driver (this process) composes the manifest as ``--engine
  local`` would (overlays, includes, ``--set``, ``${VAR}`` read here), checks that it
  builds, with placeholder secrets, and sends its wire form as JSON text
  (:func:`shipped_manifest`). Secret nodes in it carry names, never values; no
  runnable is pickled.
- **Workers**: ``workers`` actors (one CPU each) each load that text once, through the
  safe loader (:func:`runwire.loads` with the options a deployer's own file gets).
  Secrets are resolved on the worker, by the worker's configured secret sources
  (``RUNWIRE_SECRETS__ORDER``, default: its environment, ``.env``, ``/run/secrets``;
  see :mod:`runwire.deploy.secrets`). A worker that cannot load the manifest stops the
  batch with its error (before any input runs when none can, as when a secret is missing).
- **The file**: :func:`runwire.cli.batch.write_batch` reads the inputs and the output
  file, so resuming, error records, input order and the progress bar are the local
  engine's. The inputs to run go out in chunks, two queued per worker; a worker runs at
  most its share of ``concurrency`` inputs at a time (over all its chunks), so
  ``--concurrency`` means what it means locally: inputs in flight. Records are made on
  the workers (errors redacted there, where the secret values are known) and each
  chunk's records are appended as soon as it returns: an interrupted run loses only the
  chunks in flight.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import socket
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from runwire.cli.batch import (
    BatchError,
    BatchInput,
    BatchReport,
    Completed,
    record_line,
    write_batch,
)
from runwire.redaction import redact

if TYPE_CHECKING:
    from runwire.loader.files import Manifest

__all__ = ["BatchWorker", "run_batch_ray", "shipped_manifest"]

CHUNK = 16
"""Inputs per call to a worker, at least (a Ray call costs about 1 ms: chunks amortise it)."""

QUEUED = 2
"""Chunks sent ahead to each worker, so it never waits for the driver."""

_INSTALL_HINT = "--engine ray needs Ray: pip install 'runwire[ray]'"


def shipped_manifest(manifest: Manifest, file: str) -> str:
    """The text the workers load: the wire form, ``${VAR}`` read here, secrets as names.

    Raises :class:`~runwire.errors.ManifestError` (located in the files) when the
    manifest does not build into a runnable, secrets standing in as placeholders.
    """
    from runwire.cli.commands import _runnable
    from runwire.loader.validate import PlaceholderSecrets

    wire = manifest.wire()
    built = wire.build(secrets_map=PlaceholderSecrets(), allowed_objects="all", trusted=True)
    _runnable(built, file)
    return orjson.dumps(wire.data).decode()


def _load(manifest: str, source: str) -> Any:
    """The worker side: the shipped text through the safe loader, secrets from here."""
    from runwire.cli.commands import _runnable
    from runwire.deploy.secrets import secret_resolver
    from runwire.deploy.settings import load_settings
    from runwire.loader.wire import loads

    secrets = secret_resolver(load_settings())
    built = loads(manifest, secrets_map=secrets, allowed_objects="all", trusted=True, source=source)
    return _runnable(built, source)


class BatchWorker:
    """The body of a Ray actor: the pipeline, loaded once, run on chunks of inputs."""

    def __init__(
        self, manifest: str, source: str, config: dict[str, Any] | None, concurrency: int
    ) -> None:
        self._config = dict(config or {})
        self._slots = asyncio.Semaphore(concurrency)
        self._runnable: Any = None
        self._problem: str | None = None
        try:
            self._runnable = _load(manifest, source)
        except Exception as exc:  # told to the driver as text: no exception travels
            self._problem = redact(f"{type(exc).__name__}: {exc}")

    async def ready(self) -> str | None:
        """``None`` when the pipeline loaded, else why it did not."""
        return self._problem

    async def run(self, items: list[BatchInput]) -> list[Completed]:
        """The records of ``items``, in their order."""
        return list(await asyncio.gather(*(self._one(item) for item in items)))

    async def _one(self, item: BatchInput) -> Completed:
        async with self._slots:
            try:
                result = await self._runnable.ainvoke(item.value, self._config)
            except Exception as exc:
                result = exc
        return record_line(item, result)


def _shares(concurrency: int, workers: int) -> list[int]:
    """``concurrency`` split over ``workers`` as evenly as whole numbers allow."""
    return [concurrency // workers + (i < concurrency % workers) for i in range(workers)]


def _chunk_size(runs: int, workers: int, concurrency: int) -> int:
    """Inputs per call: ``CHUNK``, or two rounds of a worker's share when that is more,
    but small enough that every worker gets ``QUEUED`` chunks of a short batch."""
    return max(1, min(max(CHUNK, 2 * concurrency // workers), -(-runs // (QUEUED * workers))))


def _failure(exc: BaseException) -> BatchError:
    first = (str(exc).strip().splitlines() or [""])[0]
    return BatchError(
        redact(
            f"a Ray worker failed ({type(exc).__name__}: {first}); the records written "
            "so far are kept: run the batch again to finish it"
        )
    )


def _check_reachable(address: str) -> None:
    """Refuse a ``host:port`` (or ``ray://host:port``) that nothing answers on at once:
    ``ray.init`` would retry for minutes. Other forms (``auto``, none) are Ray's to judge."""
    host, colon, port = address.removeprefix("ray://").rpartition(":")
    if not colon or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BatchError(f"cannot reach the Ray cluster at {address}: {reason}") from None


class _Cluster:
    """The Ray side of one batch: connected and staffed on first use, released by close."""

    def __init__(
        self,
        manifest: str,
        source: str,
        config: dict[str, Any] | None,
        concurrency: int,
        workers: int | None,
        address: str | None,
    ) -> None:
        self.manifest, self.source, self.config = manifest, source, config
        self.concurrency, self.workers, self.address = concurrency, workers, address
        self._ray: Any = None
        self._started = False
        self._actors: list[Any] = []

    def _connect(self) -> Any:
        import ray

        self._ray = ray
        if not ray.is_initialized():  # a driver that called ray.init itself is reused
            _check_reachable(self.address or os.environ.get("RAY_ADDRESS", ""))
            try:
                ray.init(
                    address=self.address, include_dashboard=False, logging_level=logging.WARNING
                )
            except (ConnectionError, ValueError, RuntimeError) as exc:
                where = self.address or "a new local instance"
                raise BatchError(redact(f"cannot start Ray ({where}): {exc}")) from None
            self._started = True
        return ray

    def _staff(self) -> list[Any]:
        """Start the workers (they load the manifest while the driver goes on)."""
        ray = self._connect()
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = min(self.workers or max(cpus, 1), self.concurrency)
        actor = ray.remote(BatchWorker).options(num_cpus=1)
        self._actors = [
            actor.remote(self.manifest, self.source, self.config, share)
            for share in _shares(self.concurrency, count)
        ]
        return self._actors

    async def records(self, runs: list[BatchInput]) -> AsyncIterator[Completed]:
        """The engine: ``runs`` in chunks to the workers, records as chunks return.

        Each worker gets its first chunks as soon as it has loaded the pipeline (a slow
        one holds no other back); the first worker that cannot load it stops the batch.
        """
        actors = self._staff()
        errors = self._ray.exceptions.RayError
        size = _chunk_size(len(runs), len(actors), self.concurrency)
        chunks = deque(runs[i : i + size] for i in range(0, len(runs), size))
        loading = {asyncio.ensure_future(actor.ready.remote()): actor for actor in actors}
        pending: dict[asyncio.Future[Any], Any] = {}

        def send(actor: Any) -> None:
            if chunks:
                pending[asyncio.ensure_future(actor.run.remote(chunks.popleft()))] = actor

        try:
            while pending or (loading and chunks):  # a late worker may find no work left
                waits = {*loading, *pending}
                done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    try:
                        answer = future.result()
                    except errors as exc:
                        raise _failure(exc) from None
                    if future in loading:  # a worker loaded the pipeline, or could not
                        if answer is not None:
                            raise BatchError(f"a Ray worker cannot load the pipeline: {answer}")
                        actor = loading.pop(future)
                        for _ in range(QUEUED):
                            send(actor)
                        continue
                    send(pending.pop(future))
                    for record in answer:
                        yield record
        finally:
            for future in (*loading, *pending):
                future.cancel()

    def close(self) -> None:
        """Stop the workers, and Ray itself when this batch started it."""
        if self._ray is None:
            return
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._started:
            self._ray.shutdown()


def run_batch_ray(
    manifest: str,
    inputs: Path,
    output: Path,
    *,
    source: str = "<manifest>",
    concurrency: int = 8,
    workers: int | None = None,
    address: str | None = None,
    config: dict[str, Any] | None = None,
    progress: bool | None = None,
    progress_stream: TextIO | None = None,
) -> BatchReport:
    """Run the pipeline ``manifest`` (:func:`shipped_manifest` text) over ``inputs`` on Ray.

    ``output``, ``config``, ``progress`` and ``progress_stream`` are as in
    :func:`runwire.cli.batch.run_batch`. At most ``concurrency`` inputs run at a time,
    over ``workers`` actors (default: one per CPU of the cluster, at most
    ``concurrency``). ``address`` is the cluster's (``ray.init``'s; default
    ``RAY_ADDRESS``, else a new local instance); a process already connected to Ray
    keeps its connection. ``source`` names the manifest in errors. Ray is started
    only when some input needs to run, and stopped at the end if it was started here.
    """
    if type(concurrency) is not int or concurrency < 1:
        raise ValueError(f"concurrency must be a whole number of at least 1, got {concurrency!r}")
    if workers is not None and (type(workers) is not int or workers < 1):
        raise ValueError(f"workers must be a whole number of at least 1, got {workers!r}")
    if importlib.util.find_spec("ray") is None:
        raise BatchError(_INSTALL_HINT)
    cluster = _Cluster(manifest, source, config, concurrency, workers, address)
    try:
        return asyncio.run(
            write_batch(
                inputs,
                output,
                cluster.records,
                progress=progress,
                progress_stream=progress_stream,
            )
        )
    finally:
        cluster.close()
