"""The held phase (issue 17): bisection over short steady runs finds the most learners the box holds at
the steady targets, and the summary reports it with nginx's share and the server's CPU per request."""

from __future__ import annotations

import json

import pytest

from bench import docs, report


def probe(users: int, p95: float, p99: float = 150.0, failures: int = 0) -> dict:
    """A held-<users>-phase.json as `report.phase` writes it, with the numbers the summary reads."""
    return {
        "phase": f"held-{users}",
        "total": {
            "requests": users * 3,
            "failures": failures,
            "rps": users / 10,
            "p50_ms": 20.0,
            "p95_ms": p95,
            "p99_ms": p99,
        },
        "server": {
            "django_requests": users,  # nginx answered the other two thirds
            "client_requests": users * 3,
            "seconds": 10.0,
            "gunicorn_cpu_ms_per_request": 3.0,
            "other_cores_used": {"postgres": 0.1, "redis": 0.05, "locust": 0.9},
            "sql_per_request": 1.2,
            "sql_mean_ms": 0.4,
            "cache_hit_ratio": 0.97,
            "redis_calls_per_request": 2.0,
            "gunicorn_cpu_cores_used": 0.3,
        },
        "endpoints": [],
    }


def test_the_first_probe_is_the_most_learners_asked_for():
    assert report.held_next({}, 10_000) == 10_000


def test_nothing_more_is_tried_once_the_most_is_held():
    assert report.held_next({10_000: probe(10_000, 80)}, 10_000) is None


def test_the_next_probe_halves_the_gap_between_held_and_not_held():
    assert report.held_next({10_000: probe(10_000, 900)}, 10_000) == 5_000
    assert report.held_next({10_000: probe(10_000, 900), 5_000: probe(5_000, 60)}, 10_000) == 7_500
    assert report.held_next({10_000: probe(10_000, 900), 5_000: probe(5_000, 60, failures=3)}, 10_000) == 2_500


@pytest.mark.parametrize(("p95", "p99", "failures"), [(100, 150, 0), (50, 300, 0), (50, 150, 1), (None, None, 0)])
def test_a_probe_holds_only_below_every_target(p95, p99, failures):
    assert not report.probe_passed(probe(1_000, p95, p99, failures))


def test_the_bisection_stops_within_its_resolution():
    probes = {4_000: probe(4_000, 900), 3_800: probe(3_800, 90)}

    assert report.held_next(probes, 10_000) is None  # 200 apart: within 250 learners


def test_the_summary_reports_the_largest_held_probe(tmp_path):
    for users, p95 in ((10_000, 2_400), (5_000, 300), (2_500, 70), (3_750, 95)):
        (tmp_path / f"held-{users}-phase.json").write_text(json.dumps(probe(users, p95)))

    held = report.held(tmp_path, 10_000)

    assert (held["learners_held"], held["first_not_held"], held["shown_users"]) == (3_750, 5_000, 3_750)
    assert [row["users"] for row in held["probes"]] == [2_500, 3_750, 5_000, 10_000]
    assert [row["held"] for row in held["probes"]] == [True, True, False, False]
    assert held["server"]["nginx_share"] == pytest.approx(0.667, abs=0.001)
    # (3 ms x 3,750 gunicorn + 0.15 cores x 10 s other servers) / 11,250 learner requests
    assert held["server"]["server_cpu_ms_per_learner_request"] == pytest.approx((3 * 3_750 + 1_500) / 11_250, abs=0.01)
    assert json.loads((tmp_path / "held-phase.json").read_text())["learners_held"] == 3_750


def test_the_docs_show_learners_held_and_every_probe(tmp_path, monkeypatch):
    for users, p95 in ((10_000, 2_400), (5_000, 70)):
        (tmp_path / f"held-{users}-phase.json").write_text(json.dumps(probe(users, p95)))
    phases = {"held": report.held(tmp_path, 10_000)}
    run = tmp_path / "20261129T160000Z-full.json"
    run.write_text(
        json.dumps(
            {
                "mode": "full",
                "finished_at": "2026-11-29T16:00:00+00:00",
                "machine": {"cpu": "x", "cores": 2, "memory_gb": 24, "kernel": "6", "python": "3.11"},
                "config": {},
                "phases": phases,
                "verdict": report._verdict(phases),
            }
        )
    )
    monkeypatch.setattr(docs, "DOC", tmp_path / "performance.md")
    monkeypatch.setattr(docs, "CHART", tmp_path / "performance.svg")

    docs.write_performance_md([run])

    text = (tmp_path / "performance.md").read_text()
    assert "Learners held at p95 < 100 ms, p99 < 300 ms, 0 errors: 5000" in text
    assert "| learners_held | 5000 | >= 10000 | **no** |" in text
    assert "| 10000 | no | 1000.0 | 2400 | 150.0 | 0 |" in text
