"""Serving the hiker with uvicorn: in the foreground (``chainrule hiker``) or, for tests and
benchmarks, in a background thread on a free loopback port.

>>> with running_server() as url:
...     import urllib.request, json
...     json.load(urllib.request.urlopen(url + "/healthz"))["status"]
'ok'
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

__all__ = ["running_server", "serve", "serve_in_background"]


def _uvicorn():
    try:
        import uvicorn
    except ImportError:
        raise ImportError("the hiker needs uvicorn: pip install chainrule[web]") from None
    return uvicorn


def serve(host: str = "127.0.0.1", port: int = 8000, deadline: float | None = None) -> None:
    """Run the hiker until interrupted (Ctrl-C)."""
    from chainrule.web.app import DEFAULT_DEADLINE, create_app

    uvicorn = _uvicorn()
    app = create_app(DEFAULT_DEADLINE if deadline is None else deadline)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def serve_in_background(
    host: str = "127.0.0.1", port: int = 0, app=None, timeout: float = 20.0
) -> tuple[str, callable]:
    """Start a real uvicorn in a daemon thread; return ``(base_url, stop)``.

    ``port=0`` picks a free port. ``app`` defaults to ``create_app()``. ``stop()`` asks the
    server to finish and waits for its thread.
    """
    uvicorn = _uvicorn()
    if app is None:
        from chainrule.web.app import create_app

        app = create_app()
    port = port or _free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # not the main thread: no signal handlers
    thread = threading.Thread(target=server.run, name=f"hiker-{port}", daemon=True)
    thread.start()
    until = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > until:
            server.should_exit = True
            raise RuntimeError(f"the hiker's server did not start on {host}:{port}")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout)

    return f"http://{host}:{port}", stop


@contextlib.contextmanager
def running_server(host: str = "127.0.0.1", port: int = 0, app=None):
    """``with running_server() as url:`` a real uvicorn serving the hiker, stopped after."""
    url, stop = serve_in_background(host, port, app)
    try:
        yield url
    finally:
        stop()
