"""The Tensor workloads (W2, W2-nn, W3, W2-big, W5, W6) compute the same numbers on every
engine, and the harness records memory and GFLOP/s correctly (no timings are asserted)."""

from __future__ import annotations

import collections
import types

import numpy as np
import pytest

from benchmarks import (
    harness,
    memory,
    run,
    w2_big,
    w2_mlp,
    w2_nn,
    w3_elementwise,
    w4_second_order,
    w5_matmuls,
    w6_cnn,
)
from tests.conftest import needs_torch

FLOOR = ["chainrule", "numpy"]  # always installed; the peers' imports alone take seconds


def test_w2_chainrule_and_numpy_losses_agree_and_fall():
    losses = w2_mlp.check(steps=3, names=FLOOR)
    assert set(losses) == set(FLOOR)
    ours = losses["chainrule"]
    assert ours[0] > ours[1] > ours[2] > 0  # the steps train: the same batch gets easier


def test_w2_check_catches_an_engine_that_disagrees(monkeypatch):
    honest = w2_mlp._numpy_setup

    def off_by_a_little(batch=w2_mlp.BATCH):
        step = honest(batch)

        def wrong():
            return step() * 1.001

        return wrong

    monkeypatch.setattr(w2_mlp, "_numpy_setup", off_by_a_little)
    with pytest.raises(AssertionError, match="numpy losses"):
        w2_mlp.check(steps=1, names=FLOOR)


def test_w2_every_engine_starts_from_the_same_float32_problem():
    (params, x, labels), (again, _, _) = w2_mlp.problem(), w2_mlp.problem()
    assert [p.shape for p in params] == [(784, 512), (512,), (512, 256), (256,), (256, 10), (10,)]
    assert all(p.dtype == np.float32 for p in params) and x.dtype == np.float32
    assert x.shape == (128, 784) and 0 <= labels.min() and labels.max() <= 9
    assert all(np.array_equal(a, b) for a, b in zip(params, again))


def test_w2_nn_layers_and_optimizer_take_the_same_steps_as_w2_by_hand():
    losses = w2_nn.check(steps=3, names=FLOOR)
    ours = losses["chainrule"]
    assert ours[0] > ours[1] > ours[2] > 0
    # and the same numbers as W2's own chainrule step, written with raw Tensor ops
    assert np.allclose(ours, w2_mlp.check(steps=3, names=FLOOR)["chainrule"], rtol=1e-5)


def test_w2_nn_layers_hold_w2s_weights_transposed():
    layers, x, labels = w2_nn.layer_weights()
    arrays, x2, labels2 = w2_mlp.problem()
    assert [a.shape for a in layers[::2]] == [(512, 784), (256, 512), (10, 256)]
    assert all(np.array_equal(a.T, b) for a, b in zip(layers[::2], arrays[::2]))
    assert np.array_equal(x, x2) and np.array_equal(labels, labels2)


def test_w2_nn_check_catches_an_engine_that_disagrees(monkeypatch):
    honest = w2_mlp._numpy_setup

    def off_by_a_little(batch=w2_mlp.BATCH):
        step = honest(batch)
        return lambda: step() * 1.001

    monkeypatch.setattr(w2_mlp, "_numpy_setup", off_by_a_little)
    with pytest.raises(AssertionError, match="W2-nn: numpy losses"):
        w2_nn.check(steps=1, names=FLOOR)


def test_w6_problem_is_a_batch_of_digit_images_and_the_steps_train():
    (conv, conv_bias, linear, linear_bias), images, labels = w6_cnn.problem()
    assert conv.shape == (16, 1, 3, 3) and linear.shape == (10, 16 * 3 * 3)
    assert images.shape == (256, 1, 8, 8) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0 and set(labels.tolist()) == set(range(10))
    ours = w6_cnn.check(steps=3, names=["chainrule"])["chainrule"]
    assert ours[0] > ours[1] > ours[2] > 0


@needs_torch
def test_w6_chainrule_and_torch_losses_agree():
    losses = w6_cnn.check(steps=3)
    assert set(losses) == {"chainrule", "torch"}
    np.testing.assert_allclose(losses["torch"], losses["chainrule"], rtol=1e-4)


def test_new_workloads_are_registered():
    names = [w.NAME for w in run.WORKLOADS]
    assert "W2-nn" in names and "W6" in names and len(set(names)) == len(names)


def test_w3_chainrule_and_numpy_agree_and_stay_finite():
    results = w3_elementwise.check(names=FLOOR)
    for parts in results.values():
        assert all(np.all(np.isfinite(part)) for part in parts)


def test_w3_is_exactly_200_ops_cycling_four_kinds():
    import chainrule as cr

    x, w = (cr.tensor(a, requires_grad=True) for a in w3_elementwise.inputs())
    out = w3_elementwise.chain(x, w, cr.tanh, cr.exp)
    ops = collections.Counter(node.op for node in cr.topological_order(out) if node.op)
    assert sum(ops.values()) == w3_elementwise.LENGTH == 200
    assert sorted(ops.values()) == [50, 50, 50, 50]


def test_w5_flops_count_two_per_multiply_add():
    # layers 3->4->5 at batch 2: forward 2*2*(3*4 + 4*5), the same for the weight gradients,
    # and one input gradient (the second layer's): 2*2*5*4
    assert w5_matmuls.flops(batch=2, sizes=(3, 4, 5)) == 128 + 128 + 80
    assert w5_matmuls.FLOPS == 2 * 128 * (
        2 * (784 * 512 + 512 * 256 + 256 * 10) + 10 * 256 + 256 * 512
    )


def test_w5_products_have_the_shapes_counted():
    products = w5_matmuls._numpy_setup()()
    assert [(p.shape[0], p.shape[1]) for p in products] == [
        (m, n) for m, _, n in w5_matmuls.shapes()
    ]
    assert all(p.dtype == np.float32 for p in products)


def test_gflops_are_flops_over_the_median_time():
    timing = harness.summarise("numpy", [0.5, 1.0, 4.0], flops=3_000_000_000)
    assert timing.median == 1.0 and timing.gflops == pytest.approx(3.0)
    assert harness.summarise("numpy", [1.0]).gflops is None


def test_memory_runs_an_engine_in_a_fresh_process():
    parent = np.ones(256 * 2**20, dtype=np.uint8)  # the child must not report this peak
    timing = memory.measure(w2_big, "numpy", warmup=0, repeat=1)
    batch_kb = w2_big.BATCH * 784 * 4 // 1024  # the inputs alone: 12.25 MiB
    assert batch_kb < timing.work_kb < timing.peak_kb < parent.nbytes // 1024
    assert timing.runs == 1 and timing.median > 0


def test_memory_ratios_compare_the_work_not_the_time():
    timings = [
        harness.Timing("chainrule", 1.0, 1.0, 1.0, 1, peak_kb=300, work_kb=100),
        harness.Timing("numpy", 4.0, 4.0, 4.0, 1, peak_kb=250, work_kb=50),
    ]
    assert harness.ratios(timings, "memory") == {"chainrule": 1.0, "numpy": 0.5}
    assert harness.ratios(timings) == {"chainrule": 1.0, "numpy": 4.0}


def fake(name: str, **attributes):
    return types.SimpleNamespace(
        NAME=name, TITLE=name, UNIT="per call", TARGET="none", **attributes
    )


def test_results_show_memory_and_gflops_columns():
    results = {}
    memory_timings = [
        harness.Timing("chainrule", 0.2, 0.1, 0.3, 5, peak_kb=3072, work_kb=2048),
        harness.Timing("numpy", 0.1, 0.1, 0.1, 5, peak_kb=2048, work_kb=1024),
    ]
    harness.record(results, fake("W8", METRIC="memory"), memory_timings, {"numpy": "2"})
    flop_timings = [harness.summarise(e, [0.5], flops=10**9) for e in ("chainrule", "numpy")]
    harness.record(results, fake("W9", FLOPS=10**9), flop_timings, {"numpy": "2"})
    markdown = harness.render_markdown(results)
    assert "| engine | work's peak RSS | process's peak RSS | median time per call |" in markdown
    assert "| numpy | 1.0 MiB | 2.0 MiB | 100 ms | 100 ms – 100 ms | 0.50 |" in markdown
    assert (
        "| GFLOP/s | ratio |" in markdown
        and "| chainrule | 500 ms | 500 ms – 500 ms | 2.0 |" in markdown
    )


def test_a_workload_repeat_caps_the_runner_repeat():
    calls = []

    def setup():
        def unit():
            calls.append(1)

        return unit

    def engines():
        return {"chainrule": setup}

    workload = fake("W0", REPEAT=2, engines=engines)
    (timing,) = harness.time_workload(workload, warmup=1, repeat=15)
    assert timing.runs == 2 and len(calls) == 1 + 2 * 2  # warm-up, then untimed + timed pairs


def test_the_new_workloads_are_registered():
    names = [w.NAME for w in run.WORKLOADS]
    assert {"W2", "W3", "W2-big", "W5"} <= set(names)


@pytest.mark.parametrize("workload", [w4_second_order.HESSIAN, w4_second_order.HVP])
def test_w4_chainrule_matches_the_hessian_worked_out_by_hand(workload):
    results = workload.check(names=FLOOR)
    assert set(results) == set(FLOOR)


def test_w4_by_hand_hessian_is_rosenbrocks():
    # the floor itself, against finite differences of an independent gradient formula
    x, v = w4_second_order.point(6)

    def gradient(p):
        g = np.zeros_like(p)
        g[:-1] = -400 * p[:-1] * (p[1:] - p[:-1] ** 2) - 2 * (1 - p[:-1])
        g[1:] += 200 * (p[1:] - p[:-1] ** 2)
        return g

    h = 1e-6
    numeric = np.stack(
        [(gradient(x + h * e) - gradient(x - h * e)) / (2 * h) for e in np.eye(6)], axis=1
    )
    assert np.allclose(w4_second_order.hessian_by_hand(x), numeric, atol=1e-5)
    assert np.allclose(w4_second_order.hvp_by_hand(x, v), numeric @ v, atol=1e-5)


def test_pooled_samples_gather_every_fresh_process(monkeypatch):
    calls = []

    def fake_run(command, **options):
        calls.append(command)
        seconds = {"chainrule": [0.001 * len(calls)], "numpy": [0.002 * len(calls)]}
        return types.SimpleNamespace(stdout=harness.json.dumps(seconds))

    monkeypatch.setattr(harness.subprocess, "run", fake_run)
    pooled = harness.pooled_samples("W2", warmup=1, repeat=4, processes=3)
    assert [c[1:] for c in calls] == [["-m", "benchmarks.sample", "W2", "1", "4"]] * 3
    assert pooled == {"chainrule": [0.001, 0.002, 0.003], "numpy": [0.002, 0.004, 0.006]}


def test_w2_pools_processes_and_results_say_so():
    assert w2_mlp.PROCESSES > 1 and w2_nn.PROCESSES > 1
    timings = [harness.summarise("chainrule", [1.0] * 10), harness.summarise("numpy", [0.5] * 10)]
    results: dict = {}
    harness.record(results, w2_mlp, timings, {"numpy": "2"}, processes=5)
    assert results["W2"]["processes"] == 5
    assert "Samples pooled from 5 fresh processes, 2 timed calls" in harness.render_markdown(
        results
    )
