"""Graph pictures (cr.viz.to_dot, draw, save_graph): the DOT text is parsed back and checked
against values and gradients computed by hand; SVG and PNG are rendered by Graphviz's dot."""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule.viz import graph as viz_graph
from chainrule.viz.graph_dot import edge_style

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")

_NODE = re.compile(r"^\t(n\d+) \[label=<(.*)>(.*)\]$", re.M)
_EDGE = re.compile(r"^\t(\w+) -> (\w+) \[(.*)\]$", re.M)
_ATTRIBUTE = re.compile(r'(\w+)="([^"]*)"')
_CELL = re.compile(r"<TD([^>]*)>(.*?)</TD>")


def parse_dot(text: str):
    """{node id: [cell text, ...]}, {node id: [cell attributes]}, [(source, target, attrs)]."""
    cells, fills = {}, {}
    for node, label, _ in _NODE.findall(text):
        found = _CELL.findall(label)
        cells[node] = [_plain(body) for _, body in found]
        fills[node] = [dict(_ATTRIBUTE.findall(attrs)) for attrs, _ in found]
    edges = [(s, t, dict(_ATTRIBUTE.findall(a))) for s, t, a in _EDGE.findall(text)]
    return cells, fills, edges


def _plain(body: str) -> str:
    body = re.sub(r"<BR[^>]*/>", "\n", body)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def number_after(prefix: str, cells: list[str]) -> float:
    for cell in cells:
        for line in cell.splitlines():
            if line.startswith(prefix + " "):
                return float(line[len(prefix) + 1 :])
    raise AssertionError(f"no line starting with {prefix!r} in {cells}")


def by_title(cells: dict) -> dict:
    return {lines[0]: node for node, lines in cells.items()}


def sigmoid_graph():
    a, x, b = cr.Scalar(1.0, label="a"), cr.Scalar(2.0, label="x"), cr.Scalar(3.0, label="b")
    return a, x, b, (a * x + b).sigmoid()


def test_every_scalar_node_shows_its_value_and_gradient():
    *_, y = sigmoid_graph()
    y.backward()
    cells, _, _ = parse_dot(cr.viz.to_dot(y))
    s = 1 / (1 + math.exp(-5.0))  # sigmoid(1*2 + 3), by hand
    ds = s * (1 - s)
    expected = {  # title: (value, gradient)
        "a": (1.0, 2.0 * ds),
        "x": (2.0, 1.0 * ds),
        "b": (3.0, ds),
        "×": (2.0, ds),
        "+": (5.0, ds),
        "sigmoid": (s, 1.0),
    }
    nodes = by_title(cells)
    assert sorted(nodes) == sorted(expected)
    for title, (value, gradient) in expected.items():
        shown = cells[nodes[title]]
        assert number_after("data", shown) == pytest.approx(value, rel=1e-3)
        assert number_after("grad", shown) == pytest.approx(gradient, rel=1e-3)


def test_gradients_not_computed_show_as_unset_not_zero():
    *_, y = sigmoid_graph()
    text = cr.viz.to_dot(y)
    cells, _, _ = parse_dot(text)
    assert len(cells) == 6
    assert all("grad unset" in lines for lines in cells.values())
    assert "grad 0" not in text

    w = cr.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss = (w * w).sum()
    before, _, _ = parse_dot(cr.viz.to_dot(loss, params={"w": w}))
    assert "grad unset" in before[by_title(before)["w"]]
    loss.backward()
    after, _, _ = parse_dot(cr.viz.to_dot(loss, params={"w": w}))
    leaf = after[by_title(after)["w"]]
    # d/dw sum(w*w) = 2w; its norm is 2 * sqrt(1 + 4 + 9 + 16)
    assert number_after("‖grad‖", leaf) == pytest.approx(2 * math.sqrt(30), rel=1e-3)
    assert "grad [2, 4, 6, 8]" in leaf[2]


@pytest.mark.parametrize("swap", [False, True])
def test_operand_order_of_a_subtraction_is_on_its_edges(swap):
    a, b = cr.Scalar(5.0, label="a"), cr.Scalar(2.0, label="b")
    y = b - a if swap else a - b
    cells, _, edges = parse_dot(cr.viz.to_dot(y))
    nodes = by_title(cells)
    into_minus = {s: attrs["headlabel"] for s, t, attrs in edges if t == nodes["−"]}
    first, second = ("b", "a") if swap else ("a", "b")
    assert into_minus == {nodes[first]: "0", nodes[second]: "1"}
    assert number_after("data", cells[nodes["−"]]) == (-3.0 if swap else 3.0)


def test_tensor_operands_in_order_including_constants():
    x = cr.tensor([6.0, 8.0], requires_grad=True)
    y = cr.tensor([2.0, 4.0], requires_grad=True)
    out = (y / x - 1).sum()
    text = cr.viz.to_dot(out, params={"x": x, "y": y})
    cells, _, edges = parse_dot(text)
    nodes = by_title(cells)
    into_divide = {s: attrs["headlabel"] for s, t, attrs in edges if t == nodes["divide"]}
    assert into_divide == {nodes["y"]: "0", nodes["x"]: "1"}
    # the constant 1 of "- 1" is operand 1 of subtract
    constant = re.search(r"^\t(c\d+_1) \[label=<1>", text, re.M)
    assert constant is not None
    assert re.search(rf'^\t{constant.group(1)} -> {nodes["subtract"]} \[headlabel="1"', text, re.M)


def test_edges_point_forward_left_to_right_by_default():
    *_, y = sigmoid_graph()
    text = cr.viz.to_dot(y)
    cells, _, edges = parse_dot(text)
    nodes = by_title(cells)
    sources = {s for s, _, _ in edges}
    targets = {t for _, t, _ in edges}
    assert {nodes["a"], nodes["x"], nodes["b"]} <= sources - targets  # inputs only send
    assert nodes["sigmoid"] in targets - sources  # the output only receives
    assert (nodes["a"], nodes["×"]) in {(s, t) for s, t, _ in edges}
    assert "rankdir=LR" in text
    assert "rankdir=TB" in cr.viz.to_dot(y, rankdir="TB")


def test_gradient_size_sets_edge_width_and_shade_monotonically():
    leaves = [cr.Scalar(1.0, label=f"w{k}") for k in range(5)]
    coefficients = [0.5, 4.0, -1.0, 2.0, -8.0]  # d(out)/d(w_k) = coefficient k
    out = sum(c * w for c, w in zip(coefficients, leaves))
    out.backward()
    cells, fills, edges = parse_dot(cr.viz.to_dot(out))
    nodes = by_title(cells)
    width = {s: float(attrs["penwidth"]) for s, _, attrs in edges}
    shade = {node: _lightness(fills[node][-1]["BGCOLOR"]) for node in cells}
    ranked = sorted(range(5), key=lambda k: abs(coefficients[k]))
    widths = [width[nodes[f"w{k}"]] for k in ranked]
    lightness = [shade[nodes[f"w{k}"]] for k in ranked]
    assert widths == sorted(widths) and len(set(widths)) == 5
    assert lightness == sorted(lightness, reverse=True) and len(set(lightness)) == 5
    ratios = np.linspace(0, 1, 11)
    assert np.all(np.diff([float(edge_style(r)["penwidth"]) for r in ratios]) > 0)


def _lightness(color: str) -> int:
    return sum(int(color[i : i + 2], 16) for i in (1, 3, 5))


def _scalar_chain(links: int):
    x = cr.Scalar(0.5, label="x")
    y = x
    for _ in range(links):
        y = (y * 0.5).tanh()
    return x, y


def test_a_10000_node_chain_is_folded_under_max_nodes_and_says_so():
    x, y = _scalar_chain(5000)
    y.backward()
    total = len(cr.topological_order(y))
    assert total == 10001
    text = cr.viz.to_dot(y, max_nodes=50)
    cells, _, _ = parse_dot(text)
    assert len(cells) <= 50
    note = re.search(r"label=<([\d,]+) nodes: ([\d,]+) folded", text)
    assert note is not None and int(note.group(1).replace(",", "")) == total
    shown = len(cells) - 1  # every box but the folded one is one node
    assert int(note.group(2).replace(",", "")) == total - shown
    nodes = by_title(cells)
    assert number_after("data", cells[nodes["x"]]) == 0.5
    assert number_after("data", cells[nodes["tanh"]]) == pytest.approx(y.data, rel=1e-3)
    assert len(parse_dot(cr.viz.to_dot(y))[0]) <= 200  # the default folds too


def test_a_graph_that_is_not_a_chain_is_folded_at_its_far_end():
    x = cr.Scalar(0.5, label="x")
    y = x
    for i in range(1500):  # every product reads x: no runs to fold
        y = y + x * float(i)
    cells, _, edges = parse_dot(cr.viz.to_dot(y, max_nodes=40))
    assert len(cells) <= 40
    assert any("earlier nodes, folded" in lines[0] for lines in cells.values())
    assert len(parse_dot(cr.viz.to_dot(y, max_nodes=None))[0]) == len(cr.topological_order(y))


def test_an_mlp_folds_by_module_with_its_parameter_names():
    cr.manual_seed(0)
    layers = []
    for _ in range(6):
        layers += [cr.nn.Linear(4, 4), cr.nn.ReLU()]
    model = cr.nn.Sequential(*layers[:-1])
    loss = (model(cr.randn(3, 4)) ** 2).mean()
    loss.backward()
    whole, _, _ = parse_dot(cr.viz.to_dot(loss, params=model))
    assert {f"{k}.weight" for k in range(0, 11, 2)} <= set(by_title(whole))
    text = cr.viz.to_dot(loss, params=model.named_parameters(), max_nodes=14)
    cells, fills, _ = parse_dot(text)
    assert len(cells) <= 14
    titles = [lines[0] for lines in cells.values()]
    assert [t for t in titles if t.startswith("module")] == [f"module {k}" for k in range(0, 11, 2)]
    assert titles.count("relu") == 5
    assert "folded into 6 boxes" in text
    module_4 = cells[by_title(cells)["module 4"]]
    weight = model[4].weight
    grad_norm = float(np.linalg.norm(weight.grad.numpy().astype(np.float64)))
    line = next(line for line in "\n".join(module_4).splitlines() if "‖grad‖" in line)
    assert float(line.split()[-1]) == pytest.approx(grad_norm, rel=1e-3)
    assert any(cell.startswith("4.weight: 4×4 float32") for cell in module_4)


def test_tensor_nodes_show_shape_dtype_norm_and_small_values():
    w = cr.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    v = cr.tensor([3.0, 4.0], requires_grad=True)
    v.label = "v"
    out = (w.sum(axis=0)[:2] * v).sum()
    cells, _, _ = parse_dot(cr.viz.to_dot(out, params={"w": w}))
    nodes = by_title(cells)
    w_cells = cells[nodes["w"]]
    assert "3×4 float64" in w_cells[1]
    norm = math.sqrt(sum(k * k for k in range(12)))
    assert number_after("‖data‖", w_cells) == pytest.approx(norm, rel=1e-3)
    v_cells = cells[nodes["v"]]  # named by its label; small, so its values show
    assert "2 float32" in v_cells[1] and "data [3, 4]" in v_cells[1]
    assert "scalar float64" in cells[nodes["sum"]][1]


def test_tensor_graph_is_drawn_after_backward_too():
    w = cr.tensor([1.0, -2.0], requires_grad=True)
    loss = (w.tanh() * 3.0).sum()
    loss.backward()
    cells, _, edges = parse_dot(cr.viz.to_dot(loss, params={"w": w}))
    assert sorted(by_title(cells)) == ["multiply", "sum", "tanh", "w"]
    assert len(edges) == 3
    expected = 3 * (1 - np.tanh([1.0, -2.0]) ** 2)
    shown = cells[by_title(cells)["w"]]
    assert number_after("‖grad‖", shown) == pytest.approx(np.linalg.norm(expected), rel=1e-3)


def test_user_labels_are_escaped():
    x = cr.Scalar(2.0, label='<b>x</b> & "y"\n}')
    text = cr.viz.to_dot(x * x)
    assert "<b>x" not in text and "&lt;b&gt;x&lt;/b&gt; &amp; &quot;y&quot;" in text
    cells, _, _ = parse_dot(text)
    assert '<b>x</b> & "y" }' in [lines[0] for lines in cells.values()]
    if shutil.which("dot"):
        done = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True)
        assert done.returncode == 0, done.stderr


def test_params_accepts_a_dict_pairs_or_a_module_and_rejects_others():
    layer = cr.nn.Linear(2, 1)
    out = layer(cr.ones(1, 2)).sum()
    texts = {
        cr.viz.to_dot(out, params=dict(layer.named_parameters())),
        cr.viz.to_dot(out, params=layer.named_parameters()),
        cr.viz.to_dot(out, params=layer),
    }
    assert len(texts) == 1 and "<B>weight</B>" in texts.pop()
    with pytest.raises(TypeError, match="params"):
        cr.viz.to_dot(out, params=[layer.weight])
    with pytest.raises(ValueError, match="rankdir"):
        cr.viz.to_dot(out, rankdir="up")
    with pytest.raises(ValueError, match="max_nodes"):
        cr.viz.to_dot(out, max_nodes=1)
    with pytest.raises(TypeError, match="Scalar or a Tensor"):
        cr.viz.to_dot(3.0)


@needs_dot
def test_svg_holds_the_node_texts(tmp_path):
    *_, y = sigmoid_graph()
    y.backward()
    path = cr.viz.save_graph(y, tmp_path / "graph.svg")
    svg = html.unescape(path.read_text())
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    for expected in ("sigmoid", "data 0.9933", "grad 0.006648", "grad 0.0133", "a", "×"):
        assert expected in texts
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


@needs_dot
def test_png_is_a_real_picture_and_not_blank(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    *_, y = sigmoid_graph()
    y.backward()
    path = cr.viz.save_graph(y, tmp_path / "graph.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pil.open(path) as image:
        assert image.format == "PNG" and image.width > 200 and image.height > 50
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
    assert pixels.std() > 20  # boxes and text on white, not an empty canvas
    assert (pixels < 128).mean() > 0.01


def test_missing_dot_raises_a_clear_error_and_still_writes_the_dot_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    *_, y = sigmoid_graph()
    with pytest.raises(cr.viz.GraphvizNotFound, match="apt-get install graphviz") as caught:
        cr.viz.save_graph(y, tmp_path / "graph.svg")
    error = caught.value
    assert isinstance(error, RuntimeError) and isinstance(error, ImportError)
    assert error.dot_path == tmp_path / "graph.dot" and str(error.dot_path) in str(error)
    assert error.dot_path.read_text() == cr.viz.to_dot(y)
    assert not (tmp_path / "graph.svg").exists()


def test_draw_gives_a_digraph_or_says_what_to_install(monkeypatch):
    *_, y = sigmoid_graph()
    if importlib_has("graphviz"):
        graph = cr.viz.draw(y, rankdir="TB")
        assert str(graph) == cr.viz.to_dot(y, rankdir="TB")
        assert hasattr(graph, "_repr_mimebundle_")
    monkeypatch.setitem(sys.modules, "graphviz", None)  # as if it were not installed
    with pytest.raises(cr.viz.GraphvizNotFound, match=r"pip install chainrule\[viz\]"):
        cr.viz.draw(y)


def importlib_has(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_save_graph_writes_dot_text_without_graphviz_and_rejects_other_suffixes(tmp_path):
    *_, y = sigmoid_graph()
    for name in ("g.dot", "g.gv"):
        assert (cr.viz.save_graph(y, tmp_path / name)).read_text() == cr.viz.to_dot(y)
    with pytest.raises(ValueError, match=r"\.jpg"):
        cr.viz.save_graph(y, tmp_path / "g.jpg")


def test_importing_chainrule_viz_imports_neither_matplotlib_nor_graphviz():
    code = (
        "import sys, chainrule as cr\n"
        "cr.viz.to_dot(cr.Scalar(1.0) * 2)\n"
        "print(sorted(m for m in ('matplotlib', 'graphviz') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert viz_graph.to_dot is cr.viz.to_dot


def test_a_scalar_edge_is_as_wide_as_the_gradient_it_carries_back():
    x = cr.Scalar(1.0, label="x")
    y = x * 1.0 + x * 9.0  # x's gradient 10 reaches it as 1 along one edge, 9 along the other
    y.backward()
    cells, _, edges = parse_dot(cr.viz.to_dot(y))
    nodes = by_title(cells)
    width = {t: float(attrs["penwidth"]) for s, t, attrs in edges if s == nodes["x"]}
    assert width[nodes["× 1"]] < width[nodes["× 9"]] < float(edge_style(1.0)["penwidth"])
    assert width[nodes["× 9"]] == pytest.approx(float(edge_style(9 / 10)["penwidth"]), abs=0.01)
