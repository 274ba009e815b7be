"""End to end: the hiker's page in Debian's chromium against a real uvicorn on 127.0.0.1.

One browser and one server per module; a fresh browser context (no shared state) per test.
Expected values come from the API itself (surfaces, optimisers, formula errors), never from the
page under test. Screenshots land in tests/artifacts/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

import math
import re
import shutil

import pytest

from tests.browser_helpers import CHROMIUM, CHROMIUM_ARGS, Tab, skip_or_fail

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def server():
    try:
        from chainrule.web.server import running_server
    except ImportError as error:
        skip_or_fail(f"the hiker's server cannot start: {error}")
    with running_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install playwright)")
    if shutil.which(CHROMIUM) is None:
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def api(server):
    import httpx

    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def catalog(api):
    surfaces = {s["name"]: s for s in api.get("/api/surfaces").json()["surfaces"]}
    optimizers = {o["name"]: o for o in api.get("/api/optimizers").json()["optimizers"]}
    return surfaces, optimizers


@pytest.fixture(scope="module")
def context(browser):
    # one context for the module: plotly.min.js is then read from the HTTP cache after the
    # first page; reduced motion draws each run whole at once, so tests need not wait for
    # the animation (the keyboard test turns motion back on for its page)
    shared = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    yield shared
    shared.close()


def _open_tab(context, server, width=1280, height=900, motion="reduce"):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.emulate_media(reduced_motion=motion)
    return page, Tab(page, server)


@pytest.fixture
def tab(context, server):
    page, opened = _open_tab(context, server)
    yield opened
    page.close()


def _distance(point, target):
    return math.hypot(point[0] - target[0], point[1] - target[1])


def test_the_page_opens_on_a_surface_map_without_console_errors(tab, catalog):
    surfaces, _ = catalog
    tab.open()
    first = tab.page.evaluate("document.getElementById('map').data[0]")
    name = tab.page.input_value("#surface")
    assert name in surfaces
    assert first["type"] == "contour"
    # the map covers the surface's domain, ready to click: no start, no paths yet
    assert [first["x"][0], first["x"][-1]] == pytest.approx(surfaces[name]["domain"][0])
    assert [first["y"][0], first["y"][-1]] == pytest.approx(surfaces[name]["domain"][1])
    assert tab.state()["start"] is None
    assert tab.page.is_visible("#map-hint")
    assert tab.painted() == []
    tab.screenshot("hiker-open")
    assert tab.errors == []


def test_choosing_a_surface_or_zooming_in_redraws_the_map(tab, catalog):
    surfaces, _ = catalog
    tab.open("?surface=rosenbrock")
    before = tab.page.evaluate("document.getElementById('map').data[0].z")
    tab.page.select_option("#surface", "himmelblau")
    tab.page.wait_for_function("window.hiker.state.surface === 'himmelblau'")
    tab.wait_idle()
    contour = tab.page.evaluate("document.getElementById('map').data[0]")
    assert contour["z"] != before
    assert [contour["x"][0], contour["x"][-1]] == pytest.approx(surfaces["himmelblau"]["domain"][0])
    assert surfaces["himmelblau"]["formula"] in tab.page.inner_text("#lesson")
    assert "surface=himmelblau" in tab.page.url
    # a zoom box asks for a finer grid over the box alone
    corner, other = tab.map_pixel(1.0, 3.0), tab.map_pixel(3.0, 1.0)
    tab.page.mouse.move(*corner)
    tab.page.mouse.down()
    tab.page.mouse.move((corner[0] + other[0]) / 2, (corner[1] + other[1]) / 2)
    tab.page.mouse.move(*other)
    tab.page.mouse.up()
    tab.page.wait_for_function("document.getElementById('map').data[0].x[0] > 0.5")
    zoomed = tab.page.evaluate("document.getElementById('map').data[0]")
    assert [zoomed["x"][0], zoomed["x"][-1]] == pytest.approx([1.0, 3.0], abs=0.05)
    assert [zoomed["y"][0], zoomed["y"][-1]] == pytest.approx([1.0, 3.0], abs=0.05)
    assert len(zoomed["x"]) == len(contour["x"])
    assert tab.errors == []


def test_a_click_starts_the_run_and_every_default_optimizer_walks_downhill(tab, catalog):
    surfaces, optimizers = catalog
    minimum = surfaces["rosenbrock"]["minima"][0]
    tab.open("?surface=rosenbrock")
    tab.fast()
    tab.click_map(-1.5, 2.0)
    paths = tab.wait_run_drawn()
    defaults = {name for name, o in optimizers.items() if o["default"]}
    assert {p["name"] for p in paths} == defaults
    start = tab.state()["start"]
    assert start == pytest.approx([-1.5, 2.0], abs=0.03)  # within a pixel or two
    values = {r["name"]: r["values"] for r in tab.page.evaluate("window.hiker.runs")}
    for path in paths:
        points = path["points"]
        assert len(points) > 10
        assert points[0] == pytest.approx(start)
        # closer to the minimum at the end of the drawn path, and well down the hill
        # (SGD's default step crawls along Rosenbrock's valley: that is the lesson)
        assert _distance(points[-1], minimum) < _distance(points[0], minimum), path["name"]
        assert values[path["name"]][len(points) - 1] < 0.5 * values[path["name"]][0], path["name"]
        assert path["color"] == optimizers[path["name"]]["color"]
    # the canvas shows it: the last head drawn (on top) is in its optimiser's colour
    last = paths[-1]
    pixel = tab.page.evaluate(
        """([x, y]) => {
          const gd = document.getElementById('map'), canvas = document.getElementById('paths');
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = window.devicePixelRatio;
          const px = Math.round((xa._offset + xa.d2p(x)) * r);
          const py = Math.round((ya._offset + ya.d2p(y)) * r);
          return Array.from(canvas.getContext('2d').getImageData(px, py, 1, 1).data);
        }""",
        last["points"][-1],
    )
    assert "#{:02X}{:02X}{:02X}".format(*pixel[:3]) == last["color"].upper()
    badges = tab.page.inner_text("#badges")
    for name in defaults:
        assert optimizers[name]["label"] in badges
    assert tab.page.eval_on_selector("#steps-table", "t => t.rows.length") > 10
    assert "Chain rule" in tab.page.inner_text("#report")
    tab.screenshot("hiker-run")
    assert tab.errors == []


def test_changing_a_learning_rate_changes_the_path(tab):
    tab.open("?surface=rosenbrock&start=-1.2,1&opt=sgd&steps=200")
    tab.fast()
    before = tab.wait_run_drawn()[0]["points"]
    count = tab.run_count()
    tab.page.fill("#sgd-lr", "0.002")
    tab.page.press("#sgd-lr", "Enter")
    after = tab.wait_run_drawn(after=count)[0]["points"]
    assert tab.page.evaluate("window.hiker.runs[0].hyperparameters.lr") == pytest.approx(0.002)
    assert after[0] == before[0]
    assert after[5] != before[5]
    assert "sgd.lr=0.002" in tab.page.url
    # the log slider moves with the number, and moving the slider reruns too
    slider = tab.page.input_value("#sgd-lr-slider")
    assert float(slider) == pytest.approx(math.log10(0.002), abs=0.01)
    count = tab.run_count()
    tab.page.focus("#sgd-lr-slider")
    tab.page.keyboard.press("ArrowRight")
    tab.wait_run_drawn(after=count)
    assert tab.state()["hyper"]["sgd"]["lr"] > 0.002
    assert tab.errors == []


def test_a_bad_formula_shows_its_error_where_it_is(tab, api):
    formula = "x**2 + * y"
    expected = api.post("/api/grid", json={"formula": formula}).json()["detail"]
    tab.open("?surface=rosenbrock")
    tab.page.fill("#formula", formula)
    tab.page.press("#formula", "Enter")
    tab.page.wait_for_selector("#formula-error:not([hidden])")
    text = tab.page.inner_text("#formula-error")
    assert expected["message"] in text
    assert tab.page.inner_text("#formula-error mark") == formula[expected["position"]]
    caret_line = tab.page.inner_text("#formula-error pre").split("\n")[-1]
    assert caret_line == " " * expected["position"] + "^"
    assert tab.page.get_attribute("#formula", "aria-invalid") == "true"
    # nothing else changed: the map still shows the surface, no banner
    assert tab.state()["surface"] == "rosenbrock" and tab.state()["formula"] is None
    assert tab.page.is_hidden("#error-banner")
    tab.screenshot("hiker-formula-error")
    # a good formula then draws
    tab.page.fill("#formula", "x**2 + 3*y**2")
    tab.page.press("#formula", "Enter")
    tab.page.wait_for_function("window.hiker.state.formula === 'x**2 + 3*y**2'")
    tab.wait_idle()
    assert tab.page.is_hidden("#formula-error")
    assert "formula=" in tab.page.url


def test_a_copied_url_restores_the_state(context, server, tab):
    tab.open("?surface=himmelblau")
    tab.fast()
    tab.page.check("#opt-nesterov")
    tab.page.uncheck("#opt-adam")
    tab.page.fill("#momentum-momentum", "0.5")
    tab.page.press("#momentum-momentum", "Enter")
    tab.page.fill("#steps", "150")
    tab.page.press("#steps", "Enter")
    count = tab.run_count()
    tab.click_map(-1.0, 1.0)
    paths = tab.wait_run_drawn(after=count)
    state = tab.state()
    assert state["selected"] == ["sgd", "momentum", "nesterov"]
    assert state["hyper"]["momentum"]["momentum"] == 0.5
    url = tab.page.url

    page, again = _open_tab(context, server)
    try:
        again.page.goto(url)
        restored_paths = again.wait_run_drawn()
        restored = again.state()
        for key in ("surface", "formula", "start", "steps", "selected", "view"):
            assert restored[key] == state[key], key
        for name in state["selected"]:
            assert restored["hyper"][name] == state["hyper"][name], name
        assert restored_paths == paths
        assert again.page.input_value("#momentum-momentum") == "0.5"
        assert again.page.is_checked("#opt-nesterov") and not again.page.is_checked("#opt-adam")
        assert again.errors == []
    finally:
        page.close()


def test_the_page_loads_nothing_from_outside(tab, api):
    html = api.get("/").text
    for attribute in re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html):
        assert not re.match(r"(https?:)?//", attribute), attribute
    tab.open("?surface=rosenbrock&start=-1.2,1")
    tab.wait_run_drawn()
    external = tab.page.evaluate(
        """() => [...document.querySelectorAll('script[src], link[href], img[src], iframe[src]')]
              .map((e) => e.getAttribute('src') || e.getAttribute('href'))
              .filter((u) => /^(https?:)?\\/\\//.test(u))"""
    )
    assert external == []
    assert any(url.endswith("/static/plotly.min.js") for url in tab.requests)
    assert tab.foreign_requests() == []


def test_on_a_phone_a_tap_starts_the_run_with_the_map_on_top_and_no_sideways_scroll(
    browser, server
):
    phone_context = browser.new_context(
        viewport={"width": 375, "height": 812},
        has_touch=True,
        is_mobile=True,
        reduced_motion="reduce",
    )
    try:
        phone = Tab(phone_context.new_page(), server)
        phone.open("?surface=rosenbrock")
        phone.page.touchscreen.tap(*phone.map_pixel(-1.0, 2.0))
        paths = phone.wait_run_drawn()
        assert phone.state()["start"] == pytest.approx([-1.0, 2.0], abs=0.03)
        assert paths and all(p["points"][0] == phone.state()["start"] for p in paths)
        widths = phone.page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1]
        top = phone.page.evaluate(
            """['map', 'controls', 'loss'].map(
                (id) => document.getElementById(id).getBoundingClientRect().top)"""
        )
        assert top[0] < top[1] < top[2]
        phone.screenshot("hiker-phone")
        assert phone.errors == []
    finally:
        phone_context.close()


def test_the_keyboard_reaches_play_and_enter_plays(context, server):
    page, tab = _open_tab(context, server, motion="no-preference")
    try:
        tab.open("?surface=rosenbrock&start=-1.2,1&steps=300")
        tab.fast()
        tab.wait_run_drawn()
        last = tab.page.evaluate("window.hiker.frame")
        for _ in range(40):
            tab.page.keyboard.press("Tab")
            if tab.page.evaluate("document.activeElement.id") == "play":
                break
        else:
            pytest.fail("Tab never reached the play button")
        tab.page.keyboard.press("Enter")  # at the last step, Play starts again from step 0
        tab.page.wait_for_function(f"window.hiker.frame > 0 && window.hiker.frame < {last}")
        tab.page.wait_for_function(f"window.hiker.frame === {last}")
        tab.page.keyboard.press("Tab")
        tab.page.keyboard.press("Tab")
        assert tab.page.evaluate("document.activeElement.id") == "reset"
        tab.page.keyboard.press("Space")
        tab.page.keyboard.press("Shift+Tab")
        tab.page.keyboard.press("Space")
        assert tab.page.evaluate("window.hiker.frame") == 1
        assert "step 1 of" in tab.page.inner_text("#frame")
        assert tab.errors == []
    finally:
        page.close()


def test_a_failing_server_shows_the_error_banner(tab):
    tab.open("?surface=rosenbrock")
    tab.page.route(
        "**/api/trajectories",
        lambda route: route.fulfill(
            status=503, content_type="application/json", body='{"detail": {"message": "too slow"}}'
        ),
    )
    tab.click_map(0.0, 0.0)
    tab.page.wait_for_selector("#error-banner:not([hidden])")
    assert "too slow" in tab.page.inner_text("#error-banner")
    tab.page.wait_for_function("document.body.dataset.busy === '0'")
    assert tab.page.is_hidden("#busy")


def test_the_png_export_and_the_3d_view_show_the_paths(tab):
    tab.open("?surface=himmelblau&start=-1,1&opt=adam")
    paths = tab.wait_run_drawn()
    with tab.page.expect_download() as download_info:
        tab.page.click("#export")
    download = download_info.value
    assert download.suggested_filename.endswith(".png")
    with open(download.path(), "rb") as picture:
        assert picture.read(8) == b"\x89PNG\r\n\x1a\n"
    tab.page.check("#view3d")
    tab.page.wait_for_function(
        "document.getElementById('map').data.some((t) => t.uid === 'path-adam')"
    )
    traces = {t["uid"]: t for t in tab.page.evaluate("document.getElementById('map').data")}
    assert traces["surface"]["type"] == "surface"
    path = traces["path-adam"]
    assert path["type"] == "scatter3d"
    assert [path["x"][-1], path["y"][-1]] == pytest.approx(paths[0]["points"][-1])
    assert "view=3d" in tab.page.url
    assert tab.errors == []
