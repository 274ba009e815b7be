"""The hiker's load benchmark's bookkeeping: percentiles and its section of RESULTS.md."""

from __future__ import annotations

import json

import pytest

from benchmarks import harness, load_hiker, run


def test_percentile_picks_from_the_sorted_values():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert load_hiker.percentile(values, 50) == 3.0
    assert load_hiker.percentile(values, 99) == 5.0
    assert load_hiker.percentile(values, 0) == 1.0


def _workload_results() -> dict:
    timing = {"engine": "chainrule", "median_s": 0.002, "fastest_s": 0.001, "slowest_s": 0.003}
    return {
        "W1": {
            "title": "a",
            "unit": "per step",
            "target": "fast",
            "metric": "time",
            "date": "2026-01-01",
            "machine": {"cpu": "cpu", "cores": 2, "python": "3.11", "system": "Linux"},
            "versions": {"chainrule": "0"},
            "timings": [{**timing, "runs": 3, "ratio": 1.0}],
        }
    }


@pytest.fixture
def results_files(tmp_path, monkeypatch):
    json_path, md_path = tmp_path / "results.json", tmp_path / "RESULTS.md"
    json_path.write_text(json.dumps(_workload_results()))
    md_path.write_text(harness.render_markdown(_workload_results()))
    monkeypatch.setattr(load_hiker, "RESULTS_JSON", json_path)
    monkeypatch.setattr(load_hiker, "RESULTS_MD", md_path)
    monkeypatch.setattr(run, "RESULTS_JSON", json_path)
    monkeypatch.setattr(run, "RESULTS_MD", md_path)
    return json_path, md_path


def test_the_section_is_added_after_the_workloads_then_replaced(results_files):
    json_path, md_path = results_files
    load_hiker.write_section("## Hiker load\n\nold\n")
    text = md_path.read_text()
    assert text.index("## W1: a") < text.index("## Hiker load\n\nold")
    load_hiker.write_section("## Hiker load\n\nnew\n")
    text = md_path.read_text()
    assert "old" not in text and text.count("## Hiker load") == 1 and "## W1: a" in text
    assert sorted(p.name for p in json_path.parent.iterdir()) == ["RESULTS.md", "results.json"]


def test_rewriting_results_md_from_the_workloads_keeps_the_hiker_section(results_files):
    # what `python -m benchmarks` does after timing a workload: record it, render everything
    json_path, md_path = results_files
    load_hiker.write_section("## Hiker load\n\np50 12 ms\n")
    results = harness.load_results(json_path)
    results["W1"]["title"] = "a, timed again"
    md_path.write_text(harness.render_markdown(results))
    text = md_path.read_text()
    assert "## W1: a, timed again" in text and "## Hiker load\n\np50 12 ms" in text


def test_the_benchmarks_runner_keeps_the_hiker_section(results_files, monkeypatch):
    json_path, md_path = results_files
    load_hiker.write_section("## Hiker load\n\np50 12 ms\n")
    monkeypatch.setattr(run, "WORKLOADS", [])  # time nothing: only the rewrite of the files
    assert run.main([]) == 0
    assert "## Hiker load\n\np50 12 ms" in md_path.read_text()
    assert "## W1: a" in md_path.read_text()
