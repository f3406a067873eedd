"""``/docs`` and ``/redoc`` work offline: every file they load comes from the server.

The app runs with uvicorn on a free loopback port; the pages' HTML must name no other
host, and every script, style sheet and icon they reference must be served here. A real
Chromium then renders Swagger UI with every request answered by the server itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import expect

from chromium import chromium
from conftest import FAKE_SECRET
from runwire.deploy.server.app import create_app
from runwire.runtime.models.fakes import FakeChatModel
from runwire.testing.server import serving


class _References(HTMLParser):
    """Every ``src``/``href`` in a page, and the text of its inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def _references(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


_ABSOLUTE = re.compile(r"""(?:https?:)?//[A-Za-z0-9.-]+""")
"""An absolute or scheme-relative URL (what would reach another host)."""

_MEDIA = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = create_app({"chat": FakeChatModel(responses=["Paris."])})
    with serving(app) as url:
        yield url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_from_the_server(base_url: str, page: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.get(page)
        assert response.status_code == 200
        found = _references(response.text)
        assert found.urls, "the page references no files"
        assert not [url for url in found.urls if _ABSOLUTE.match(url)], found.urls
        assert not _ABSOLUTE.search(" ".join(found.scripts)), found.scripts
        for url in found.urls:
            assert urlsplit(url).path.startswith("/docs/static/"), url
            asset = client.get(urljoin(f"{base_url}{page}", url))
            assert asset.status_code == 200, url
            suffix = url[url.rfind(".") :]
            assert _MEDIA[suffix] in asset.headers["content-type"], url
            assert len(asset.content) > 1000, url  # the real file, not a stub
        assert client.get("/openapi.json").json()["info"]["title"] == "runwire"


def test_swagger_ui_renders_with_no_other_host(base_url: str) -> None:
    with chromium() as browser:
        page = browser.new_page()
        requested: list[str] = []
        page.on("request", lambda request: requested.append(request.url))
        page.goto(f"{base_url}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("runwire")
        expect(page.locator(".opblock-summary-path").first).to_have_text("/chat/invoke")
        assert requested, "the page made no request"
        assert [url for url in requested if not url.startswith(f"{base_url}/")] == []


def test_with_api_keys_the_docs_need_one_but_their_files_do_not() -> None:
    app = create_app({"chat": FakeChatModel(responses=["Paris."])}, api_keys=[FAKE_SECRET])
    with serving(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert client.get(path).status_code == 401, path
        docs = client.get("/docs", headers={"x-api-key": FAKE_SECRET})
        assert docs.status_code == 200
        for asset in _references(docs.text).urls:
            assert client.get(asset).status_code == 200, asset  # vendor files: no data
        assert client.post("/docs/static/swagger-ui.css").status_code == 401  # GET only
