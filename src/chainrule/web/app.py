"""The hiker's FastAPI app: the JSON API, the page, and plotly.js from the installed wheel.

>>> from fastapi.testclient import TestClient
>>> client = TestClient(create_app())
>>> client.get("/healthz").json()["status"]
'ok'
>>> response = client.post("/api/grid", json={"formula": "x^2 + y^2", "resolution": 2})
>>> response.json()["z"]
[[18.0, 18.0], [18.0, 18.0]]
>>> client.post("/api/grid", json={"formula": "x^^2"}).json()["detail"]["position"]
2

Each request's work is bounded in size by ``chainrule.web.schemas`` and in time by
``deadline`` seconds: the descents of ``/api/trajectories`` stop where they are when it
passes (status ``"time_limit"``, the paths so far kept); a grid or a report that takes
longer gets a 503 (its work, bounded in size, finishes in the background).
"""

from __future__ import annotations

import asyncio
import json
import os
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from chainrule.web import handlers, schemas
from chainrule.web.limits import BodySizeLimit

__all__ = ["DEFAULT_DEADLINE", "STATIC_DIR", "create_app", "json_bytes", "plotly_js_path"]

DEFAULT_DEADLINE = 5.0
STATIC_DIR = Path(__file__).parent / "static"


def plotly_js_path() -> Path:
    """The plotly.min.js bundled in the installed ``plotly`` wheel (never a CDN)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def json_bytes(content) -> bytes:
    """``content`` (plain lists, dicts, floats, None) as JSON: by orjson when it is installed
    (the ``web`` extra brings it: it writes the 3,000 points of the default request about
    ten times faster than the standard library), else by ``json``. Either way JSON never
    holds NaN: the handlers give None for a number that is not finite; ``json`` refuses one
    that slipped through, orjson writes it as null.

    >>> json_bytes({"points": [[1.0, -0.5]], "status": None})
    b'{"points":[[1.0,-0.5]],"status":null}'
    """
    if _orjson is not None:
        return _orjson.dumps(content)
    return json.dumps(content, allow_nan=False, separators=(",", ":")).encode()


try:  # optional: the web extra installs it
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


DOCS_ASSETS_URL = "/static/docs"


def docs_assets_dir() -> Path | None:
    """Swagger UI's and ReDoc's files, bundled in the installed ``fastapi-offline`` wheel
    (None when it is not installed)."""
    try:
        folder = Path(str(resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def _add_offline_docs(app) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) with every script, style and icon served
    from ``/static/docs/`` (the files of the ``fastapi-offline`` wheel): nothing is fetched
    from the internet, by the server or the browser."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    folder = docs_assets_dir()
    title = app.title
    missing = HTMLResponse(
        "<!doctype html><title>API docs</title><p>The interactive API docs need fastapi-offline: "
        'pip install chainrule[web]. The API\'s description is at <a href="/openapi.json">'
        "/openapi.json</a>.</p>",
        status_code=503,
    )

    @app.get("/docs", include_in_schema=False)
    def swagger_ui():
        if folder is None:
            return missing
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{title} - API",
            swagger_js_url=f"{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            # no badge from the online validator: the page asks nothing of the internet
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        if folder is None:
            return missing
        return get_redoc_html(
            openapi_url=app.openapi_url,
            title=f"{title} - API",
            redoc_js_url=f"{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    if folder is not None:
        # mounted before the page's /static, so that it takes /static/docs/...
        app.mount(DOCS_ASSETS_URL, StaticFiles(directory=folder), name="docs-assets")


def create_app(deadline: float = DEFAULT_DEADLINE):
    """The app: ``/`` (the page), ``/static/...``, ``/api/...``, ``/healthz``, ``/docs``."""
    try:
        from fastapi import FastAPI, Request
        from fastapi.encoders import jsonable_encoder
        from fastapi.exceptions import RequestValidationError
        from fastapi.responses import FileResponse, JSONResponse, Response
        from fastapi.staticfiles import StaticFiles
    except ImportError as error:  # pragma: no cover - the web extra is missing
        raise ImportError(
            f"the hiker needs FastAPI: pip install chainrule[web] ({error})"
        ) from None
    from chainrule._version import __version__

    app = FastAPI(
        title="chainrule hiker",
        version=__version__,
        description="Optimisers descending a surface, computed by chainrule's own autodiff.",
        # FastAPI's own /docs and /redoc load their scripts from a CDN: ours are served here
        docs_url=None,
        redoc_url=None,
    )
    _add_offline_docs(app)

    def answer(content: dict) -> Response:
        return Response(json_bytes(content), media_type="application/json")

    # CPU work runs in a pool of its own, as many at once as there are cores (more would only
    # share them); requests beyond that wait their turn, and their time limit starts with it
    workers = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="hiker")

    async def in_thread(function, *args, limit: float = deadline):
        """Run CPU work off the event loop; 503 if it runs longer than ``limit`` seconds."""
        loop = asyncio.get_running_loop()
        started = asyncio.Event()

        def work():
            loop.call_soon_threadsafe(started.set)
            return function(*args)

        future = asyncio.wrap_future(workers.submit(work))
        await asyncio.wait(
            [future, asyncio.ensure_future(started.wait())], return_when="FIRST_COMPLETED"
        )
        try:
            return await asyncio.wait_for(future, timeout=limit)
        except asyncio.TimeoutError:
            raise handlers.ApiError(
                503, {"message": f"the request took longer than its {limit:g} s limit"}
            ) from None

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError):
        # FastAPI's own handler echoes the input, and an input of NaN (which Python's JSON
        # reader accepts) would make its answer unserialisable: a 500 instead of a 422
        errors = handlers.json_safe(jsonable_encoder(error.errors()))
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(handlers.ApiError)
    async def api_error(request: Request, error: handlers.ApiError):
        return JSONResponse({"detail": error.detail}, status_code=error.status)

    @app.get("/healthz", response_model=schemas.Health, tags=["status"])
    def healthz():
        return handlers.health()

    @app.get("/api/surfaces", response_model=schemas.SurfacesResponse, tags=["api"])
    def surfaces():
        """The named surfaces of two variables, with domain, minima, start and lesson."""
        return answer(handlers.list_surfaces())

    @app.get("/api/optimizers", response_model=schemas.OptimizersResponse, tags=["api"])
    def optimizers():
        """The page's optimisers: colour, defaults, hyperparameter ranges."""
        return answer(handlers.list_optimizers())

    @app.post("/api/grid", response_model=schemas.GridResponse, tags=["api"])
    async def grid(body: schemas.GridRequest):
        """The surface's values on a grid, for the heatmap and contours."""
        return answer(await in_thread(handlers.compute_grid, body))

    @app.post("/api/trajectories", response_model=schemas.TrajectoriesResponse, tags=["api"])
    async def trajectories(body: schemas.TrajectoriesRequest):
        """Each optimiser's descent from the start, computed by chainrule."""
        # the runs stop themselves at the deadline (status "time_limit"); the wait allows
        # for the step in progress then and for writing the answer
        work = in_thread(handlers.compute_trajectories, body, deadline, limit=2 * deadline + 1)
        return answer(await work)

    @app.post("/api/explain", response_model=schemas.ExplainResponse, tags=["api"])
    async def explain(body: schemas.ExplainRequest):
        """The chain-rule report of the function at a point."""
        return answer(await in_thread(handlers.compute_explain, body))

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js():
        try:
            path = plotly_js_path()
        except ModuleNotFoundError:
            path = None
        if path is None or not path.is_file():
            return JSONResponse(
                {"detail": {"message": "plotly is not installed: pip install chainrule[web]"}},
                status_code=503,
            )
        return FileResponse(path, media_type="text/javascript")

    @app.get("/", include_in_schema=False)
    def index():
        page = STATIC_DIR / "index.html"
        if not page.is_file():
            return JSONResponse({"detail": {"message": "the page is not installed"}}, 404)
        return FileResponse(page, media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
    app.add_middleware(BodySizeLimit)
    return app
