"""The hiker's API docs (/docs, /redoc) served whole from this machine, and its JSON writer."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("fastapi_offline")

from fastapi.testclient import TestClient  # noqa: E402

from chainrule.web import app as web_app  # noqa: E402
from chainrule.web.app import create_app, docs_assets_dir  # noqa: E402


@pytest.fixture(scope="module")
def client():
    return TestClient(create_app())


def _asset_urls(html: str) -> list[str]:
    """Every script, style, icon and spec address in the page (attributes and the JS setup)."""
    attributes = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    in_script = re.findall(r"""(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']""", html)
    return attributes + in_script


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_everything_from_this_server(client, page):
    response = client.get(page)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    html = response.text
    assert not re.search(r"https?://|//cdn|fonts\.googleapis", html), "an outside address"
    urls = _asset_urls(html)
    assert any(u.endswith(".js") for u in urls)
    assert "/openapi.json" in urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url


def test_swagger_ui_comes_from_the_fastapi_offline_wheel(client):
    html = client.get("/docs").text
    assert "/static/docs/swagger-ui-bundle.js" in html and "/static/docs/swagger-ui.css" in html
    served = client.get("/static/docs/swagger-ui-bundle.js")
    assert served.content == (docs_assets_dir() / "swagger-ui-bundle.js").read_bytes()
    # the online validator's badge is off: Swagger UI would ask validator.swagger.io for it
    assert '"validatorUrl": null' in html


def test_fastapis_own_cdn_docs_are_off():
    app = create_app()
    assert app.docs_url is None and app.redoc_url is None
    assert [r.path for r in app.routes].count("/docs") == 1


def test_without_fastapi_offline_the_docs_say_what_to_install(monkeypatch):
    monkeypatch.setattr(web_app, "docs_assets_dir", lambda: None)
    response = TestClient(create_app()).get("/docs")
    assert response.status_code == 503
    assert "pip install chainrule[web]" in response.text
    assert not re.search(r"<script", response.text)


def test_json_bytes_is_the_same_json_with_or_without_orjson(monkeypatch):
    content = {
        "points": [[0.1, -2.5e-300], [1e300, 3.0]],
        "values": [None, 0.30000000000000004],
        "status": "converged",
        "n": 3,
        "ok": True,
    }
    if web_app._orjson is None:
        pytest.skip("orjson is not installed")
    fast = web_app.json_bytes(content)
    monkeypatch.setattr(web_app, "_orjson", None)
    plain = web_app.json_bytes(content)
    assert json.loads(fast) == json.loads(plain) == content
    with pytest.raises(ValueError):  # the standard library's writer refuses a NaN
        web_app.json_bytes({"value": float("nan")})
