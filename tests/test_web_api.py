"""The hiker's API through FastAPI's TestClient: each answer checked against chainrule computed
apart (the formula at the grid points, cr.descend's runs, cr.explain's report), and every kind
of bad input answered with a 4xx that names what was wrong, never a 5xx or a NaN."""

from __future__ import annotations

import json
import math
import urllib.request

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

import chainrule as cr  # noqa: E402
from chainrule.colors import OPTIMIZER_COLORS  # noqa: E402
from chainrule.web.app import create_app, plotly_js_path  # noqa: E402
from chainrule.web.server import running_server  # noqa: E402
from tests.conftest import needs_torch  # noqa: E402

PAGE_OPTIMIZERS = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "newton"]


@pytest.fixture(scope="module")
def client():
    from fastapi.testclient import TestClient

    return TestClient(create_app())


def strict_json(response) -> dict:
    """The body parsed by a JSON reader that refuses NaN and Infinity, as browsers' does."""

    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(response.text, parse_constant=refuse)


def trajectories(client, **body):
    response = client.post("/api/trajectories", json=body)
    assert response.status_code == 200, response.text
    return strict_json(response)


# -- the small endpoints --------------------------------------------------------------------


def test_healthz_gives_the_version(client):
    assert client.get("/healthz").json() == {"status": "ok", "version": cr.__version__}


def test_surfaces_are_the_two_variable_ones_of_cr_surfaces(client):
    listed = {s["name"]: s for s in client.get("/api/surfaces").json()["surfaces"]}
    expected = [n for n in cr.surfaces.names() if cr.surfaces.get(n).ndim == 2]
    assert list(listed) == expected
    rosenbrock = listed["rosenbrock"]
    surface = cr.surfaces.get("rosenbrock")
    assert rosenbrock["formula"] == surface.text
    assert rosenbrock["variables"] == ["x", "y"]
    assert rosenbrock["domain"] == [list(r) for r in surface.domain]
    assert rosenbrock["minima"] == [[1.0, 1.0]]
    assert rosenbrock["start"] == list(surface.start)
    assert listed["saddle"]["minimum"] is None and listed["saddle"]["minima"] == []


def test_optimizers_are_the_pages_six_with_their_colours(client):
    listed = client.get("/api/optimizers").json()["optimizers"]
    assert [o["name"] for o in listed] == PAGE_OPTIMIZERS
    assert {o["name"] for o in listed if o["default"]} == {"sgd", "momentum", "adam"}
    for o in listed:
        assert o["color"] == OPTIMIZER_COLORS[o["name"]]
        assert o["ranges"]["lr"]["min"] < o["hyperparameters"]["lr"] <= o["ranges"]["lr"]["max"]
    momentum = next(o for o in listed if o["name"] == "momentum")
    assert momentum["hyperparameters"]["momentum"] == 0.9


def test_openapi_lists_every_endpoint(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in ["/healthz", "/api/surfaces", "/api/optimizers", "/api/grid"]:
        assert path in paths
    assert "post" in paths["/api/trajectories"] and "post" in paths["/api/explain"]
    assert client.get("/docs").status_code == 200


def test_plotly_comes_from_the_installed_wheel(client):
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.content == plotly_js_path().read_bytes()
    assert "javascript" in response.headers["content-type"]


def test_the_page_is_served_at_the_root(client):
    from chainrule.web.app import STATIC_DIR

    response = client.get("/")
    assert response.status_code == 200
    assert response.content == (STATIC_DIR / "index.html").read_bytes()


# -- grid -----------------------------------------------------------------------------------


def test_grid_holds_the_formula_at_the_grid_points(client):
    body = {"formula": "x**2 + 3*x*y - sin(y)", "bounds": {"x": [-1, 2], "y": [0, 4]}}
    grid = strict_json(client.post("/api/grid", json={**body, "resolution": 7}))
    xs, ys, z = np.array(grid["x"]), np.array(grid["y"]), np.array(grid["z"])
    assert xs[0] == -1 and xs[-1] == 2 and ys[0] == 0 and ys[-1] == 4 and z.shape == (7, 7)
    for j in (0, 3, 6):
        for i in (0, 2, 6):
            x, y = xs[i], ys[j]
            assert z[j, i] == pytest.approx(x**2 + 3 * x * y - math.sin(y), rel=1e-12, abs=1e-12)
    assert grid["zmin"] == z.min() and grid["zmax"] == z.max()


def test_grid_of_a_surface_defaults_to_its_domain_and_scales_rosenbrock_by_log(client):
    grid = client.post("/api/grid", json={"surface": "rosenbrock"}).json()
    assert len(grid["x"]) == len(grid["y"]) == 100
    assert [grid["x"][0], grid["x"][-1], grid["y"][0], grid["y"][-1]] == [-2, 2, -1, 3]
    assert grid["formula"] == cr.surfaces.get("rosenbrock").text
    assert grid["log_scale"] is True
    bowl = client.post("/api/grid", json={"surface": "bowl"}).json()
    assert bowl["log_scale"] is False


def test_grid_of_a_formula_defaults_to_minus_three_to_three(client):
    grid = client.post("/api/grid", json={"formula": "x", "resolution": 2}).json()
    assert grid["x"] == [-3, 3] and grid["y"] == [-3, 3]
    assert grid["z"] == [[-3, 3], [-3, 3]]  # a formula without y is constant along y


def test_grid_values_that_are_not_finite_are_null(client):
    grid = strict_json(client.post("/api/grid", json={"formula": "log(x)", "resolution": 3}))
    assert grid["z"][0] == [None, None, pytest.approx(math.log(3))]
    assert grid["zmin"] == grid["zmax"] == pytest.approx(math.log(3))


def test_grid_of_a_surface_in_w_and_b_uses_x_and_y_as_its_axes(client):
    grid = client.post("/api/grid", json={"surface": "linear_fit", "resolution": 3}).json()
    fit = cr.surfaces.get("linear_fit")
    assert grid["variables"] == ["w", "b"]
    assert grid["z"][2][0] == pytest.approx(fit(grid["x"][0], grid["y"][2]))


# -- trajectories -----------------------------------------------------------------------------


def test_trajectories_are_cr_descend_runs(client):
    surface = cr.surfaces.get("rosenbrock")
    choices = [
        {"name": "sgd", "lr": 0.001},
        {"name": "momentum", "lr": 0.001, "momentum": 0.8},
        {"name": "nesterov", "lr": 0.0005},
        {"name": "rmsprop", "lr": 0.01, "alpha": 0.9},
        {"name": "adam", "lr": 0.05, "betas": [0.8, 0.99]},
        {"name": "newton"},
    ]
    body = {"surface": "rosenbrock", "start": [-1.2, 1.0], "optimizers": choices, "steps": 60}
    runs = trajectories(client, **body)["runs"]
    assert [r["name"] for r in runs] == PAGE_OPTIMIZERS
    for run, choice in zip(runs, choices):
        options = {k: v for k, v in choice.items() if k != "name"}
        if "betas" in options:
            options["betas"] = tuple(options["betas"])
        if choice["name"] == "nesterov":
            options["momentum"] = 0.9  # the page's default
        ref = cr.descend(surface, [-1.2, 1.0], choice["name"], steps=60, tol=1e-6, **options)
        assert run["status"] == ref.status and run["steps"] == ref.steps
        np.testing.assert_allclose(run["points"], ref.points, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(run["values"], ref.values, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(run["gradients"], ref.gradients, rtol=1e-12, atol=1e-9)
        assert run["color"] == OPTIMIZER_COLORS[choice["name"]]
        for key, value in options.items():
            assert run["hyperparameters"][key] == (list(value) if key == "betas" else value)


def test_trajectories_move_toward_the_minimum(client):
    body = {
        "surface": "bowl",
        "start": [2.5, -1.5],
        "optimizers": [{"name": "sgd", "lr": 0.1}, {"name": "adam", "lr": 0.1}],
        "steps": 300,
    }
    for run in trajectories(client, **body)["runs"]:
        distances = [math.hypot(x, y) for x, y in run["points"]]
        assert distances[-1] < 0.05 * distances[0]
        assert run["values"][-1] < run["values"][0]
        assert run["status"] == "converged" and run["converged_at"] == run["steps"]


def test_newton_reaches_the_rosenbrock_minimum_and_says_when(client):
    body = {"surface": "rosenbrock", "start": [-1.2, 1.0], "optimizers": [{"name": "newton"}]}
    (run,) = trajectories(client, **body)["runs"]
    assert run["status"] == "converged"
    assert run["points"][-1] == pytest.approx([1.0, 1.0], abs=1e-9)
    assert len(run["points"]) == run["steps"] + 1


def test_a_formula_in_x_only_descends_along_x(client):
    body = {
        "formula": "(x - 2)^2",
        "start": [0.0, 5.0],
        "optimizers": [{"name": "sgd", "lr": 0.25}],
    }
    (run,) = trajectories(client, **body)["runs"]
    assert run["points"][:3] == [[0.0, 5.0], [1.0, 5.0], [1.5, 5.0]]
    assert all(g[1] == 0 for g in run["gradients"])


def test_a_diverging_learning_rate_ends_with_its_status_and_no_nan(client):
    body = {
        "formula": "exp(x^2) + y^2",
        "start": [1.0, 1.0],
        "optimizers": [{"name": "sgd", "lr": 1000}, {"name": "adam", "lr": 0.01}],
        "steps": 200,
    }
    sgd, adam = trajectories(client, **body)["runs"]
    assert sgd["status"] == "diverged" and sgd["diverged_at"] is not None
    assert all(math.isfinite(c) for p in sgd["points"] for c in p)
    assert len(sgd["values"]) == len(sgd["points"]) == len(sgd["gradients"])
    assert adam["status"] != "diverged"


@needs_torch
@pytest.mark.parametrize(
    "choice",
    [
        {"name": "momentum", "lr": 0.001, "momentum": 0.9},
        {"name": "nesterov", "lr": 0.001, "momentum": 0.7},
        {"name": "adam", "lr": 0.05, "betas": [0.9, 0.999]},
        {"name": "rmsprop", "lr": 0.01, "alpha": 0.99},
    ],
    ids=lambda c: c["name"],
)
def test_the_first_steps_match_torch_optim(client, choice):
    import torch

    body = {"surface": "rosenbrock", "start": [-1.2, 1.0], "optimizers": [choice], "steps": 5}
    (run,) = trajectories(client, **body)["runs"]
    p = torch.tensor([-1.2, 1.0], dtype=torch.float64, requires_grad=True)
    options = {k: v for k, v in choice.items() if k != "name"}
    if choice["name"] == "adam":
        opt = torch.optim.Adam([p], lr=options["lr"], betas=tuple(options["betas"]), eps=1e-8)
    elif choice["name"] == "rmsprop":
        opt = torch.optim.RMSprop([p], lr=options["lr"], alpha=options["alpha"], eps=1e-8)
    else:
        nesterov = choice["name"] == "nesterov"
        opt = torch.optim.SGD([p], options["lr"], momentum=options["momentum"], nesterov=nesterov)
    for k in range(5):
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
        loss.backward()
        assert run["values"][k] == pytest.approx(loss.item(), rel=1e-12)
        assert run["gradients"][k] == pytest.approx(p.grad.tolist(), rel=1e-12)
        opt.step()
        assert run["points"][k + 1] == pytest.approx(p.tolist(), rel=1e-12, abs=1e-15)


def test_a_long_formula_stops_at_the_deadline_with_the_path_so_far():
    from fastapi.testclient import TestClient

    client = TestClient(create_app(deadline=0.3))
    formula = " + ".join(f"sin(x*{k} + y)^2" for k in range(1, 29))
    assert len(formula) <= 500
    body = {
        "formula": formula,
        "start": [0.5, 0.5],
        "optimizers": [{"name": n, "lr": 1e-5} for n in ("sgd", "momentum", "adam", "rmsprop")],
        "steps": 10000,
        "tol": None,
    }
    runs = trajectories(client, **body)["runs"]
    for run in runs:
        assert run["status"] == "time_limit"
        assert 1 <= run["steps"] < 10000
        assert len(run["points"]) == run["steps"] + 1


# -- explain --------------------------------------------------------------------------------


def test_explain_gives_the_chain_rule_report_at_the_point(client):
    body = {"formula": "(3*x + 1)^2 * y", "point": {"x": 1.0, "y": 2.0}}
    answer = strict_json(client.post("/api/explain", json=body))
    assert answer["value"] == 32.0
    assert answer["gradient"] == {"x": 48.0, "y": 16.0}  # 2(3x+1)*3*y, (3x+1)^2
    leaves = {n: cr.Scalar(v, label=n) for n, v in {"x": 1.0, "y": 2.0}.items()}
    expected = cr.explain(cr.parse(body["formula"])(**leaves))
    assert answer["report"] == json.loads(json.dumps(expected.to_dict()))
    assert answer["markdown"] == expected.markdown()
    assert answer["point"] == {"x": 1.0, "y": 2.0}


def test_explain_of_a_surface_names_its_own_variables(client):
    answer = client.post("/api/explain", json={"surface": "linear_fit", "point": {"x": 2, "y": 1}})
    assert answer.status_code == 200
    assert answer.json()["point"] == {"w": 2.0, "b": 1.0}
    assert answer.json()["gradient"] == {"w": 0.0, "b": 0.0}  # the fit's minimum


def test_explain_where_the_gradient_is_infinite_sends_null(client):
    answer = client.post("/api/explain", json={"formula": "sqrt(x) + y", "point": {"x": 0, "y": 1}})
    assert answer.status_code == 200
    assert strict_json(answer)["gradient"] == {"x": None, "y": 1.0}


# -- bad input: 4xx naming what was wrong, never a 5xx --------------------------------------

GOOD_RUN = {"surface": "bowl", "start": [1.0, 1.0], "optimizers": [{"name": "sgd"}]}


def _field_of_422(response) -> list:
    assert response.status_code == 422, response.text
    return [tuple(error["loc"]) for error in response.json()["detail"]]


@pytest.mark.parametrize(
    "body",
    [{}, {"surface": "bowl", "formula": "x"}],
    ids=["neither", "both"],
)
def test_exactly_one_of_surface_and_formula(client, body):
    for path, extra in [("/api/grid", {}), ("/api/explain", {"point": {"x": 0, "y": 0}})]:
        response = client.post(path, json={**body, **extra})
        assert response.status_code == 422
        assert "exactly one of 'surface' and 'formula'" in response.text


@pytest.mark.parametrize("resolution", [0, 1, 401, 2.5, "many"])
def test_resolution_out_of_range(client, resolution):
    response = client.post("/api/grid", json={"surface": "bowl", "resolution": resolution})
    assert ("body", "resolution") in _field_of_422(response)


@pytest.mark.parametrize("steps", [0, 10001])
def test_steps_out_of_range(client, steps):
    response = client.post("/api/trajectories", json={**GOOD_RUN, "steps": steps})
    assert ("body", "steps") in _field_of_422(response)


def test_at_most_six_optimizers_and_at_least_one(client):
    seven = [{"name": "sgd"}] * 7
    response = client.post("/api/trajectories", json={**GOOD_RUN, "optimizers": seven})
    assert ("body", "optimizers") in _field_of_422(response)
    response = client.post("/api/trajectories", json={**GOOD_RUN, "optimizers": []})
    assert ("body", "optimizers") in _field_of_422(response)


def test_an_unknown_optimizer_is_named_with_a_close_match(client):
    body = {**GOOD_RUN, "optimizers": [{"name": "sgd"}, {"name": "Adma"}]}
    response = client.post("/api/trajectories", json=body)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "'Adma'" in detail["message"] and "'adam'" in detail["message"]
    assert detail["field"] == "optimizers[1].name"


def test_an_optimizer_outside_the_page_is_refused(client):
    response = client.post(
        "/api/trajectories", json={**GOOD_RUN, "optimizers": [{"name": "adamw"}]}
    )
    assert response.status_code == 400 and "'adamw'" in response.json()["detail"]["message"]


def test_a_hyperparameter_the_optimizer_does_not_take_is_named(client):
    body = {**GOOD_RUN, "optimizers": [{"name": "sgd", "betas": [0.9, 0.99]}]}
    response = client.post("/api/trajectories", json=body)
    assert response.status_code == 400 and "betas" in response.json()["detail"]["message"]
    body = {**GOOD_RUN, "optimizers": [{"name": "nesterov", "momentum": 0}]}
    response = client.post("/api/trajectories", json=body)
    assert response.status_code == 400 and "momentum" in response.json()["detail"]["message"]


def test_an_unknown_field_is_named(client):
    response = client.post("/api/grid", json={"surface": "bowl", "resolutoin": 50})
    assert ("body", "resolutoin") in _field_of_422(response)


def test_an_unknown_surface_is_named_with_a_close_match(client):
    for path, extra in [
        ("/api/grid", {}),
        ("/api/trajectories", {"start": [0, 0], "optimizers": [{"name": "sgd"}]}),
        ("/api/explain", {"point": {"x": 0, "y": 0}}),
    ]:
        response = client.post(path, json={"surface": "rosenbrok", **extra})
        assert response.status_code == 400
        detail = response.json()["detail"]
        assert detail["field"] == "surface"
        assert "'rosenbrok'" in detail["message"] and "'rosenbrock'" in detail["message"]


def test_a_surface_of_one_variable_is_not_on_the_map(client):
    response = client.post("/api/grid", json={"surface": "course_parabola"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "formula, position",
    [("x^^2", 2), ("x + * y", 4), ("2x", 1), ("sin(x", 3), ("__import__('os')", 0), ("x + z", 4)],
)
def test_a_bad_formula_gets_400_with_its_position(client, formula, position):
    expected = None
    try:
        cr.parse(formula)
    except cr.ParseError as error:
        expected = error.position
    for path, extra in [
        ("/api/grid", {}),
        ("/api/trajectories", {"start": [0, 0], "optimizers": [{"name": "sgd"}]}),
        ("/api/explain", {"point": {"x": 0, "y": 0}}),
    ]:
        response = client.post(path, json={"formula": formula, **extra})
        assert response.status_code == 400, response.text
        detail = response.json()["detail"]
        assert detail["field"] == "formula" and detail["formula"] == formula
        assert detail["position"] == (position if expected is None else expected)
        assert detail["message"]


def test_a_formula_too_long_is_refused_before_parsing(client):
    response = client.post("/api/grid", json={"formula": "x+" * 300 + "y"})
    assert ("body", "formula") in _field_of_422(response)


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_in_a_body_are_refused(client, number):
    # JSON has no NaN, but Python's reader takes these words, so they must be refused
    cases = [
        ("/api/trajectories", GOOD_RUN, ("start", 0)),
        ("/api/explain", {"surface": "bowl", "point": {"x": 0, "y": 0}}, ("point", "y")),
        ("/api/trajectories", GOOD_RUN, ("optimizers", 0, "lr")),
    ]
    for path, body, where in cases:
        body = json.loads(json.dumps(body))
        holder = body
        for key in where[:-1]:
            holder = holder[key]
        holder[where[-1]] = "HERE"
        text = json.dumps(body).replace('"HERE"', number)
        headers = {"content-type": "application/json"}
        response = client.post(path, content=text, headers=headers)
        assert ("body", *where) in _field_of_422(response)


@pytest.mark.parametrize("start", [[1e300, 0.0], [0.0, -1e10], ["one", 0.0], [1.0], [1, 2, 3]])
def test_a_start_out_of_range_is_refused(client, start):
    response = client.post("/api/trajectories", json={**GOOD_RUN, "start": start})
    assert any(loc[:2] == ("body", "start") for loc in _field_of_422(response))


def test_bounds_must_be_ordered_and_finite(client):
    for bounds in [
        {"x": [1, 0], "y": [0, 1]},
        {"x": [0, 1], "y": [2, 2]},
        {"x": [0, 1e300], "y": [0, 1]},
    ]:
        response = client.post("/api/grid", json={"surface": "bowl", "bounds": bounds})
        assert response.status_code == 422, bounds


def test_a_body_that_is_not_json_is_a_422(client):
    response = client.post(
        "/api/grid", content="{surface", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_the_server_stays_up_after_bad_input(client):
    client.post("/api/grid", content="\x00\xff", headers={"content-type": "application/json"})
    client.post(
        "/api/trajectories",
        json={"formula": "1/0*x", "start": [0, 0], "optimizers": [{"name": "newton"}]},
    )
    assert client.get("/healthz").status_code == 200


def test_a_run_that_starts_where_f_is_not_finite_is_diverged_at_zero(client):
    body = {
        "formula": "log(x) + y",
        "start": [-1.0, 0.0],
        "optimizers": [{"name": "newton"}, {"name": "sgd"}],
    }
    for run in trajectories(client, **body)["runs"]:
        assert run["status"] == "diverged" and run["diverged_at"] == 0
        assert run["points"] == [[-1.0, 0.0]] and run["values"] == [None]


# -- a real server --------------------------------------------------------------------------


def test_a_real_uvicorn_answers_over_http():
    with running_server() as url:
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
            assert json.load(response) == {"status": "ok", "version": cr.__version__}
        request = urllib.request.Request(
            url + "/api/grid",
            data=json.dumps({"formula": "x*y", "resolution": 2}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert json.load(response)["z"] == [[9.0, -9.0], [-9.0, 9.0]]


def test_a_grid_over_its_time_limit_is_a_503_and_the_server_goes_on():
    from fastapi.testclient import TestClient

    client = TestClient(create_app(deadline=0.001))
    formula = " + ".join(f"sin(x*{k} + y)^2" for k in range(1, 29))
    response = client.post("/api/grid", json={"formula": formula, "resolution": 400})
    assert response.status_code == 503
    assert "limit" in response.json()["detail"]["message"]
    assert client.get("/healthz").status_code == 200


def test_explain_of_a_formula_without_variables_says_there_is_nothing_to_explain(client):
    response = client.post("/api/explain", json={"formula": "2 + 3", "point": {"x": 0, "y": 0}})
    assert response.status_code == 400
    assert "no variables" in response.json()["detail"]["message"]


def test_a_body_too_large_is_a_413_before_it_is_parsed(client):
    huge = '{"surface": "bowl", "pad": "' + "x" * 100_000 + '"}'
    headers = {"content-type": "application/json"}
    response = client.post("/api/grid", content=huge, headers=headers)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]["message"]

    def chunks():  # no content-length: the size is counted as it arrives
        for _ in range(20):
            yield b" " * 8192
        yield b"{}"

    response = client.post("/api/grid", content=chunks(), headers=headers)
    assert response.status_code == 413
    assert client.post("/api/grid", json={"surface": "bowl", "resolution": 2}).status_code == 200
