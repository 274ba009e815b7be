"""Driving the hiker's page in Debian's chromium: launching, waiting, clicking the map.

Used by tests/test_web_browser.py. Only Debian's /usr/bin/chromium is driven, never a browser
that playwright would download; without it (or playwright) the tests skip, unless
CHAINRULE_REQUIRE_BROWSER=1 (as in CI), where they fail instead.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"
TIMEOUT_MS = 30_000


def skip_or_fail(reason: str) -> None:
    """Skip the browser tests, or fail them when CHAINRULE_REQUIRE_BROWSER=1."""
    if os.environ.get("CHAINRULE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"CHAINRULE_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


class Tab:
    """A page with everything it logged and asked for, so a test can check both."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("request", lambda request: self.requests.append(request.url))
        page.set_default_timeout(TIMEOUT_MS)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def open(self, query: str = "") -> None:
        """Load the page (with a query string of state) and wait until it is ready to click."""
        self.page.goto(self.base_url + "/" + query)
        self.page.wait_for_selector("body[data-ready='true']")
        self.wait_idle()

    def fast(self) -> None:
        """Play at the fastest speed, so a run's animation ends soon."""
        self.page.eval_on_selector("#speed", "el => { el.value = el.max; }")

    def wait_idle(self) -> None:
        """Wait until no request is in flight and no animation is playing."""
        self.page.wait_for_function(
            "document.body.dataset.busy === '0' && document.body.dataset.playing !== 'true'"
        )

    def run_count(self) -> int:
        return self.page.evaluate("window.hiker.runCount")

    def wait_run_drawn(self, after: int = 0) -> list[dict]:
        """Wait until a run newer than run number `after` is drawn to its last step; return
        the painted paths."""
        self.page.wait_for_function(
            """(after) => {
              const h = window.hiker;
              if (!h || document.body.dataset.busy !== '0' || h.runCount <= after) return false;
              const last = Math.max(...h.runs.map((r) => r.points.length - 1));
              return h.frame === last && document.body.dataset.playing !== 'true';
            }""",
            arg=after,
        )
        return self.painted()

    def painted(self) -> list[dict]:
        return self.page.evaluate("window.hiker.paintedPaths()")

    def state(self) -> dict:
        return self.page.evaluate("JSON.parse(JSON.stringify(window.hiker.state))")

    def map_pixel(self, x: float, y: float) -> tuple[float, float]:
        """The page coordinates of the data point (x, y) on the 2-D map."""
        return tuple(
            self.page.evaluate(
                """([x, y]) => {
                  const gd = document.getElementById('map');
                  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                  const box = gd.getBoundingClientRect();
                  return [box.left + xa._offset + xa.d2p(x), box.top + ya._offset + ya.d2p(y)];
                }""",
                [x, y],
            )
        )

    def click_map(self, x: float, y: float) -> None:
        self.page.mouse.click(*self.map_pixel(x, y))

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def foreign_requests(self) -> list[str]:
        """Requests that went anywhere but the test server (data: URLs are local)."""
        here = urlsplit(self.base_url).netloc
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != here
        ]
