"""``runwire serve --reload``: rebuild the pipelines when a served file changes.

The server keeps running in its one process. A watcher thread (watchfiles) follows
every file the service was built from: runwire.yaml and the files it includes, each
manifest, its overlays and includes, and the ``.env`` of the working directory. After
a change it builds the whole service again, the same way start-up does; when that
succeeds, new requests go to the new build (requests in flight finish on the old one).
When it fails, the error is logged - the file, line and what is wrong - and the last
good build keeps serving, so a half-finished edit never leaves a dead server.

What needs a restart: the address (host, port), the worker count, the log level and the
checkpointer (every build serves graphs from the first build's open checkpointer, so
reloads never open another; a changed ``checkpointer:`` is logged as needing one). The
builds share the background graph runs too: a run started by one build is seen,
joined and cancelled through the next, and the shutdown stops them all.
``/metrics`` counts from zero again after each reload (each build has its own).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from runwire.deploy.server.runner import ServeSpec, Service, build_service, served_app
from runwire.redaction import redact

__all__ = ["Reloader", "SwappableApp", "serve_reloading", "watched_files"]

logger = logging.getLogger("runwire.serve")

DEBOUNCE_MS = 400
"""Changes closer together than this are one reload (an editor saving in steps)."""

RETRY_S = 1.0
"""How long to wait before watching again after watching failed."""


class SwappableApp:
    """An ASGI app passing each request to the current build."""

    def __init__(self, app: Any) -> None:
        self.current = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.current(scope, receive, send)


def _read_files(paths: Iterable[Path]) -> set[Path]:
    """``paths`` and every file they include (as far as they can be read)."""
    from runwire.loader.source import compose

    paths = list(paths)
    found = {path.resolve() for path in paths}
    try:
        _, source = compose(paths)
    except Exception:  # a broken file: its includes are unknown until it is fixed
        return found
    found.update(Path(origin.file).resolve() for _, origin, _ in source.spans)
    return found


def watched_files(deployment: Any) -> set[Path]:
    """The files a deployment is built from, includes and ``./.env`` too."""
    files = {Path(".env").resolve()}
    if deployment.source is not None:
        files |= _read_files([deployment.source])
    for spec in deployment.pipelines.values():
        files |= _read_files([spec.path, *spec.overlays])
    return files


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class Reloader:
    """Watches ``files`` on a thread; rebuilds with ``build`` and swaps ``app`` on a change."""

    def __init__(
        self,
        app: SwappableApp,
        service: Service,
        build: Callable[[Service], Service],
        wrap: Callable[[Service], Any] = served_app,
    ) -> None:
        self.app = app
        self.service = service
        """The build being served; the next build gets it (see ``build_service``)."""
        self.files = watched_files(service.deployment)
        self.build = build
        self.wrap = wrap
        self.reloads = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="runwire-reload", daemon=True)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop watching (returns within ``timeout``)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                self._watch_once()
            except Exception as exc:  # a watched folder removed, too many watches...
                logger.warning("--reload: watching failed (%s); trying again", redact(str(exc)))
                self._stop.wait(RETRY_S)

    def _watch_once(self) -> None:
        """Watch the current files until they change (or watching stops)."""
        import watchfiles

        files = set(self.files)
        folders = sorted({path.parent for path in files if path.parent.is_dir()})
        if not folders:
            self._stop.wait(RETRY_S)
            return

        def wanted(change: Any, path: str) -> bool:
            return Path(path) in files

        for changes in watchfiles.watch(
            *folders,
            watch_filter=wanted,
            debounce=DEBOUNCE_MS,
            stop_event=self._stop,
            recursive=False,
            raise_interrupt=False,
        ):
            self.reload({Path(path) for _, path in changes})
            if self.files != files:
                return  # watch the new set of files

    def reload(self, changed: set[Path]) -> bool:
        """Build again after ``changed``; whether the new build is now served."""
        names = ", ".join(sorted(_shown(path) for path in changed)) or "a served file"
        try:
            service = self.build(self.service)
            app = self.wrap(service)
        except Exception as exc:
            self.files |= changed
            logger.error(
                "%s changed but does not build; still serving the last good build:\n%s",
                names,
                redact(str(exc)),
            )
            return False
        self.app.current = app
        self.service = service
        self.files = watched_files(service.deployment)
        self.reloads += 1
        logger.info(
            "reloaded after a change to %s; serving %s", names, ", ".join(service.pipelines)
        )
        return True


def serve_reloading(spec: ServeSpec, service: Service, run: Callable[..., None]) -> None:
    """Serve ``service`` with ``run`` (the runner's), rebuilding it on changes."""
    app = SwappableApp(served_app(service))
    reloader = Reloader(
        app,
        service,
        lambda previous: build_service(spec, state=service.state, previous=previous),
    )
    shown = ", ".join(sorted(_shown(path) for path in reloader.files if path.exists()))
    print(f"runwire serve: --reload watches {shown}", file=sys.stderr)
    reloader.start()
    try:
        run(service, app=app)
    finally:
        reloader.stop()
