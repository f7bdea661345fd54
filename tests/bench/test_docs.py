"""docs/performance.md features the newest run of the whole benchmark, not a later one-phase experiment."""

from __future__ import annotations

import shutil
from pathlib import Path

from bench import docs

RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results"
COMPLETE = "20261126T111032Z-full.json"  # steady, storm, ceiling and capacity
STEADY_ONLY = "20261126T113013Z-full.json"  # a later BENCH_PHASES=steady run


def test_the_latest_complete_run_is_featured_and_every_run_is_listed(tmp_path, monkeypatch):
    doc = tmp_path / "performance.md"
    doc.write_text(f"# Performance\n\nhand-written\n\n{docs.BEGIN}\nold\n{docs.END}\n")
    monkeypatch.setattr(docs, "DOC", doc)
    monkeypatch.setattr(docs, "CHART", tmp_path / "performance.svg")
    runs = [shutil.copy(RESULTS / name, tmp_path / name) for name in (COMPLETE, STEADY_ONLY)]

    docs.write_performance_md([Path(run) for run in runs])

    text = doc.read_text()
    assert f"### Latest complete run: `{COMPLETE}`" in text
    assert "hand-written" in text
    assert "\nold\n" not in text
    table = text.split("#### All recorded runs", 1)[1]
    assert COMPLETE in table
    assert STEADY_ONLY in table


def test_without_a_complete_run_the_newest_is_featured(tmp_path, monkeypatch):
    doc = tmp_path / "performance.md"
    doc.write_text(f"{docs.BEGIN}\n{docs.END}\n")
    monkeypatch.setattr(docs, "DOC", doc)
    monkeypatch.setattr(docs, "CHART", tmp_path / "performance.svg")
    run = Path(shutil.copy(RESULTS / STEADY_ONLY, tmp_path / STEADY_ONLY))

    docs.write_performance_md([run])

    assert f"### Latest run: `{STEADY_ONLY}`" in doc.read_text()
