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

__all__ = ["DEFAULT_DEADLINE", "STATIC_DIR", "create_app", "plotly_js_path"]

DEFAULT_DEADLINE = 5.0
STATIC_DIR = Path(__file__).parent / "static"


def plotly_js_path() -> Path:
    """The plotly.min.js bundled in the installed ``plotly`` wheel (never a CDN)."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


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
    )

    def answer(content: dict) -> Response:
        # strict JSON: a NaN that slipped through is a bug to see, not a body to send
        body = json.dumps(content, allow_nan=False, separators=(",", ":"))
        return Response(body, media_type="application/json")

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
