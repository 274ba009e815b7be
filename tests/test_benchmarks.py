"""The benchmark harness measures, compares and records correctly (no timings are asserted)."""

from __future__ import annotations

import json
import types

import pytest

from benchmarks import harness, run


def fake_workload(calls: dict[str, int]):
    """A workload whose two engines count their calls; chainrule's does less work."""

    def setup(engine, work):
        def build():
            def unit():
                calls[engine] += 1
                sum(range(work))

            return unit

        return build

    return types.SimpleNamespace(
        NAME="W0",
        TITLE="counting",
        UNIT="per call",
        TARGET="none",
        engines=lambda: {"chainrule": setup("chainrule", 10), "peer": setup("peer", 200_000)},
        check=lambda: None,
    )


def test_every_engine_runs_warmup_then_an_untimed_and_a_timed_call_per_round():
    calls = {"chainrule": 0, "peer": 0}
    timings = harness.time_workload(fake_workload(calls), warmup=2, repeat=5)
    assert calls == {"chainrule": 2 + 2 * 5, "peer": 2 + 2 * 5}
    assert [t.engine for t in timings] == ["chainrule", "peer"]
    assert all(t.runs == 5 and t.median > 0 for t in timings)


def test_rounds_alternate_between_engines():
    order = []
    runs = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    harness.interleave(runs, warmup=0, repeat=2)
    assert order == ["a", "a", "b", "b", "a", "a", "b", "b"]


def test_ratios_are_peer_time_over_chainrule_time():
    timings = [
        harness.Timing("chainrule", 0.5, 0.4, 0.6, 3),
        harness.Timing("micrograd", 2.0, 1.9, 2.2, 3),
    ]
    assert harness.ratios(timings) == {"chainrule": 1.0, "micrograd": 4.0}


def test_measure_times_each_call_after_the_warmup(monkeypatch):
    calls = []
    clock = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])
    monkeypatch.setattr(harness.time, "perf_counter", lambda: next(clock))
    samples = harness.measure(lambda: calls.append(1), warmup=2, repeat=3)
    assert samples == [3.0, 1.0, 2.0]
    assert len(calls) == 5


def test_timings_report_median_and_spread(monkeypatch):
    def three_samples(runs, warmup, repeat):
        return {engine: [3.0, 1.0, 2.0] for engine in runs}

    monkeypatch.setattr(harness, "interleave", three_samples)
    workload = fake_workload({"chainrule": 0, "peer": 0})
    chainrule, _ = harness.time_workload(workload, warmup=0, repeat=3)
    assert (chainrule.median, chainrule.fastest, chainrule.slowest) == (2.0, 1.0, 3.0)


def test_runner_records_machine_date_versions_and_ratios(tmp_path, monkeypatch, capsys):
    calls = {"chainrule": 0, "peer": 0}
    monkeypatch.setattr(run, "WORKLOADS", [fake_workload(calls)])
    monkeypatch.setattr(run, "RESULTS_JSON", tmp_path / "results.json")
    monkeypatch.setattr(run, "RESULTS_MD", tmp_path / "RESULTS.md")
    assert run.main(["--warmup", "1", "--repeat", "3"]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    entry = results["W0"]
    assert {"machine", "date", "versions", "timings"} <= entry.keys()
    assert entry["versions"]["chainrule"]
    peer = next(t for t in entry["timings"] if t["engine"] == "peer")
    assert peer["ratio"] > 1.0  # the peer does 20,000 times the work
    markdown = (tmp_path / "RESULTS.md").read_text()
    assert "## W0: counting" in markdown and "| peer |" in markdown
    assert entry["date"] in markdown and entry["machine"]["cpu"] in markdown
    assert "ratio" in capsys.readouterr().out


def test_quick_runs_write_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "WORKLOADS", [fake_workload({"chainrule": 0, "peer": 0})])
    monkeypatch.setattr(run, "RESULTS_JSON", tmp_path / "results.json")
    monkeypatch.setattr(run, "RESULTS_MD", tmp_path / "RESULTS.md")
    run.main(["--quick"])
    assert list(tmp_path.iterdir()) == []


def test_write_atomically_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "RESULTS.md"
    target.write_text("old")

    class Unprintable:
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(TypeError):
        harness.write_atomically(target, Unprintable())
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # no temporary left behind
    harness.write_atomically(target, "new")
    assert target.read_text() == "new"


def test_the_real_workloads_offer_chainrule_first():
    for workload in run.WORKLOADS:
        engines = list(workload.engines())
        assert not engines or engines[0] == "chainrule"
        assert workload.NAME and workload.TITLE and workload.TARGET
