"""The hiker's load benchmark's bookkeeping: percentiles and its section of RESULTS.md."""

from __future__ import annotations

from benchmarks import load_hiker


def test_percentile_picks_from_the_sorted_values():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert load_hiker.percentile(values, 50) == 3.0
    assert load_hiker.percentile(values, 99) == 5.0
    assert load_hiker.percentile(values, 0) == 1.0


def test_the_section_is_replaced_and_the_others_kept(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# Benchmark results\n\n## W1: a\n\nrow\n\n## Hiker load\n\nold\n\n## W9: z\n"
    )
    monkeypatch.setattr(load_hiker, "RESULTS_MD", results)
    load_hiker.write_section("## Hiker load\n\nnew\n")
    text = results.read_text()
    assert "old" not in text and "new" in text
    assert text.index("## W1") < text.index("## Hiker load") < text.index("## W9")
    assert [p.name for p in tmp_path.iterdir()] == ["RESULTS.md"]  # no temporary left


def test_the_section_is_added_when_missing(tmp_path, monkeypatch):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## W1: a\n")
    monkeypatch.setattr(load_hiker, "RESULTS_MD", results)
    load_hiker.write_section("## Hiker load\n\nnew\n")
    assert results.read_text().endswith("## W1: a\n\n## Hiker load\n\nnew\n")
