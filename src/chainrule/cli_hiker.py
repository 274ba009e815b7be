"""``chainrule hiker``: serve the hiker's page and API with uvicorn, on loopback by default.

>>> check_web_extra() is None  # FastAPI and uvicorn are installed here
True
"""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import webbrowser

from chainrule.cli_output import CommandError

__all__ = ["check_web_extra", "run_hiker"]


def check_web_extra() -> None:
    """CommandError naming ``pip install chainrule[web]`` when FastAPI or uvicorn is missing."""
    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(f"the hiker needs {' and '.join(missing)}: pip install chainrule[web]")


def _check_listenable(host: str, port: int) -> None:
    """CommandError now, in one line, if the address is taken or not this machine's (uvicorn
    would log it and exit with a status of its own)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as error:
        raise CommandError(f"cannot serve on {host}:{port}: {error.strerror or error}") from None


def run_hiker(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = False) -> int:
    """Serve until Ctrl-C; with ``open_browser``, open the page once the server is up."""
    check_web_extra()
    if not 0 <= port <= 65535:
        raise CommandError(f"--port must be 0..65535, got {port}")
    _check_listenable(host, port)
    from chainrule.web.server import serve

    url = f"http://{host}:{port}/"
    sys.stderr.write(f"chainrule hiker: serving on {url} (Ctrl-C to stop)\n")
    if open_browser:
        # a moment's delay: the browser should find the server listening
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    try:
        serve(host=host, port=port)
    except KeyboardInterrupt:
        pass
    return 0
