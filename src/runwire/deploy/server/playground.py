"""The playground: a page per served pipeline to try it from a browser.

``GET /<name>/playground/`` answers one static page (plain HTML, JavaScript modules and
CSS shipped in ``static/``, no build step, nothing loaded from elsewhere). The page reads
the pipeline's name from its own URL, builds an input form from ``../input_schema`` and
a config form from ``../config_schema``, and streams ``../stream`` into the page.

The page and its files hold no data, so anyone may load them, API key or not
(:func:`public_labels` tells the guard which paths those are); every call the page
makes goes through the guard like any other client's. When the server requires API
keys, the page is answered for any name, known or not, so that a client without a key
cannot learn which pipelines exist from its status.

Every answer carries a strict Content-Security-Policy: scripts, styles and requests
only from the server itself, no inline script or style, no frames, no plugins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

__all__ = ["CONTENT_SECURITY_POLICY", "Playground", "public_labels"]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The policy of every playground answer: nothing inline, nothing from elsewhere."""

_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}

_FILES: dict[str, tuple[str, str]] = {
    # path after /<name>/playground/ -> (file in static/, media type)
    "": ("playground.html", "text/html; charset=utf-8"),
    "playground.css": ("playground.css", "text/css; charset=utf-8"),
    "playground.js": ("playground.js", "text/javascript; charset=utf-8"),
    "forms.js": ("forms.js", "text/javascript; charset=utf-8"),
    "stream.js": ("stream.js", "text/javascript; charset=utf-8"),
}

_PATH = re.compile(
    r"/([^/]+)/playground(?:/(?:{})?)?".format("|".join(re.escape(f) for f in _FILES if f))
)
"""The paths the playground answers (without the trailing slash, a redirect to it)."""


def public_labels(pipelines: Collection[str]) -> Callable[[str], tuple[str, str] | None]:
    """For the guard: a playground path -> its metrics labels, ``None`` for other paths.

    A path of a known pipeline is labelled ``(name, "playground")``; any other name
    shares one label, so the label set stays bounded.
    """
    known = frozenset(pipelines)

    def labels(path: str) -> tuple[str, str] | None:
        match = _PATH.fullmatch(path)
        if match is None:
            return None
        name = match.group(1)
        return (name, "playground") if name in known else ("-", "playground")

    return labels


@dataclass(frozen=True)
class _Asset:
    body: bytes
    media_type: str


def _load_assets() -> dict[str, _Asset]:
    static = resources.files(__package__) / "static"
    return {
        path: _Asset(static.joinpath(file).read_bytes(), media_type)
        for path, (file, media_type) in _FILES.items()
    }


class Playground:
    """The handler of ``/<name>/playground/`` and its files, read once into memory."""

    def __init__(self, pipelines: Collection[str], *, keys_required: bool) -> None:
        self.pipelines = frozenset(pipelines)
        self.keys_required = keys_required
        self.assets = _load_assets()

    async def serve(self, request: Request) -> Response:
        """GET ``/<name>/playground/`` (the page) or ``/<name>/playground/<file>``."""
        name = request.path_params["name"]
        asset = self.assets.get(request.path_params.get("file", ""))
        if asset is None or (name not in self.pipelines and not self.keys_required):
            return Response(
                b'{"detail":"Not Found"}', status_code=404, media_type="application/json"
            )
        return Response(asset.body, media_type=asset.media_type, headers=_HEADERS)

    @property
    def routes(self) -> tuple[str, ...]:
        """The route templates to register (GET) for this handler."""
        return ("/{name}/playground/", "/{name}/playground/{file}")
