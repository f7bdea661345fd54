"""Server-side numbers and the report: `python bench/report.py snapshot|phase|finish ...` (called by bench/run.sh).

snapshot OUT     Prometheus counters from /metrics, Redis INFO commandstats, CPU ticks of gunicorn
                 (master and workers), and the clock.
phase NAME DIR   Diffs the snapshots around a phase and joins Locust's CSV and the per-endpoint tally.
held-next DIR MOST   The next learner count to try in the "held" bisection (nothing when it is done).
held DIR MOST    Sums up the bisection's probes as the held phase (held-phase.json).
finish DIR MODE  Writes bench/results/<timestamp>-<mode>.json and regenerates docs/performance.md + chart.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import platform
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TARGETS = {
    "p95_ms": 100,
    "p99_ms": 300,
    "storm_start_p95_ms": 500,
    "sql_mean_ms": 2,
    "sql_per_request": 4,
    "hit_ratio": 0.95,
    "capacity_ratio": 0.40,
    "learners_held": 10_000,
}
# The held bisection stops when it knows the answer to within this many learners or this share of it.
HELD_RESOLUTION = (250, 0.05)


# --- snapshot -------------------------------------------------------------------------------------


def snapshot(out: Path) -> None:
    data = {
        "time": time.time(),
        "metrics": _metrics(),
        "redis_calls": _redis_calls(),
        "cpu_ticks": _gunicorn_ticks(),
        "component_ticks": _component_ticks(),
        "machine_ticks": _machine_ticks(),
        "loadavg": float(Path("/proc/loadavg").read_text().split()[0]),
    }
    out.write_text(json.dumps(data))


def _metrics() -> dict[str, float]:
    wanted = {
        "django_http_requests_before_middlewares_total",
        "cerebrum_sql_queries_total",
        "cerebrum_sql_seconds_total",
        "cerebrum_requests_total",
        "cerebrum_cache_requests_total",
        "cerebrum_paper_builds_total",
    }
    values: dict[str, float] = {}
    for family in _metric_families():
        for sample in family.samples:
            if sample.name in wanted:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()) if k in {"result", "cache"})
                key = f"{sample.name}{{{labels}}}" if labels else sample.name
                values[key] = values.get(key, 0.0) + sample.value
    return values


def _metric_families():
    """The workers' samples, read from the multiprocess directory when there is one: an overloaded
    server answers /metrics behind every queued request, after the phase has ended."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        return registry.collect()
    url = os.environ.get("BENCH_METRICS_URL", "http://127.0.0.1:8088/metrics")
    return text_string_to_metric_families(urllib.request.urlopen(url, timeout=30).read().decode())


def _redis_calls() -> int:
    port = os.environ.get("BENCH_REDIS_PORT", "6390")
    output = subprocess.run(
        ["redis-cli", "-p", port, "INFO", "commandstats"], capture_output=True, text=True, check=True
    ).stdout
    total = 0
    for line in output.splitlines():
        if line.startswith("cmdstat_") and not line.startswith(("cmdstat_info", "cmdstat_ping")):
            total += int(line.split("calls=")[1].split(",")[0])
    return total


def _machine_ticks() -> dict[str, int]:
    """All CPUs' busy and total ticks (/proc/stat): how busy the whole box was, whoever used it."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return {"busy": sum(values) - idle, "total": sum(values)}


# Who else uses the 2 cores: process command lines → component (gunicorn is counted by its pid files).
_COMPONENTS = (
    ("locust", "locust"),
    ("postgres", "postgres"),
    ("redis", "redis-server"),
    ("nginx", "nginx"),
    ("celery", "celery"),
)


def _component_ticks() -> dict[str, int]:
    """CPU ticks of the load generator, PostgreSQL, Redis, nginx and Celery, summed over their processes."""
    ticks = dict.fromkeys((name for name, _ in _COMPONENTS), 0)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        for name, needle in _COMPONENTS:
            if needle in command:
                ticks[name] += sum(int(value) for value in fields[11:13])  # utime stime (children counted apart)
                break
    return ticks


def _gunicorn_ticks() -> int:
    """CPU ticks of every gunicorn master (BENCH_GUNICORN_PIDFILES, a glob) and its workers."""
    pids = []
    for pidfile in glob.glob(os.environ["BENCH_GUNICORN_PIDFILES"]):
        master = int(Path(pidfile).read_text().strip())
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        pids += [master, *map(int, children)]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks


# --- phase ----------------------------------------------------------------------------------------


def phase(name: str, directory: Path) -> dict:
    before = json.loads((directory / f"{name}-before.json").read_text())
    after = json.loads((directory / f"{name}-after.json").read_text())
    endpoints, total = _locust_rows(directory / f"{name}_stats.csv")
    tally = (
        json.loads((directory / f"{name}-tally.json").read_text())
        if (directory / f"{name}-tally.json").exists()
        else {}
    )
    for row in endpoints:
        extra = tally.get(f"{row['method']} {row['name']}", {})
        if extra.get("sql_responses"):
            row["sql_per_request"] = round(extra["sql_queries"] / extra["sql_responses"], 2)
            row["sql_max"] = int(extra["sql_max"])
        hits, misses = extra.get("cache_hit", 0), extra.get("cache_miss", 0)
        if hits + misses:
            row["x_cache_hit_ratio"] = round(hits / (hits + misses), 3)
        row["errors_5xx"] = int(extra.get("status_5xx", 0))
    server = _server_numbers(before, after, total["requests"])
    if server.get("other_cores_used") is not None and "_generator" in tally:
        server["other_cores_used"]["locust"] = tally["_generator"]["cores"]  # it has exited by "after"
    result = {"phase": name, "total": total, "server": server, "endpoints": endpoints}
    extra_file = directory / f"{name}-extra.json"
    if extra_file.exists():
        result.update(json.loads(extra_file.read_text()))
    answers = next((row for row in endpoints if row["name"] == "exam answer"), None)
    if name == "storm" and answers:
        result["answers_sent"] = answers["requests"] - answers["failures"]
    (directory / f"{name}-phase.json").write_text(json.dumps(result, indent=2))
    return result


def _locust_rows(path: Path) -> tuple[list[dict], dict]:
    rows, total = [], {}
    with path.open() as handle:
        for raw in csv.DictReader(handle):
            row = {
                "method": raw["Type"],
                "name": raw["Name"],
                "requests": int(raw["Request Count"]),
                "failures": int(raw["Failure Count"]),
                "rps": round(float(raw["Requests/s"]), 1),
                "p50_ms": _ms(raw["50%"]),
                "p95_ms": _ms(raw["95%"]),
                "p99_ms": _ms(raw["99%"]),
                "mean_ms": round(float(raw["Average Response Time"] or 0), 1),
            }
            if raw["Name"] == "Aggregated":
                total = row
            else:
                rows.append(row)
    return sorted(rows, key=lambda row: -row["requests"]), total


def _ms(value: str) -> float | None:
    return None if value in ("", "N/A") else float(value)


def _busy_share(before: dict, after: dict) -> float | None:
    if "machine_ticks" not in before:
        return None
    busy = after["machine_ticks"]["busy"] - before["machine_ticks"]["busy"]
    total = after["machine_ticks"]["total"] - before["machine_ticks"]["total"]
    return round(busy / total, 3) if total else None


def _component_cores(before: dict, after: dict) -> dict[str, float] | None:
    """Cores each other component used during the phase (processes that ended meanwhile are missed)."""
    if "component_ticks" not in before:
        return None
    seconds = max(after["time"] - before["time"], 1e-9)
    return {
        name: round(max(after["component_ticks"].get(name, 0) - ticks, 0) / CLOCK_TICKS / seconds, 2)
        for name, ticks in before["component_ticks"].items()
    }


def _server_numbers(before: dict, after: dict, client_requests: int) -> dict:
    def delta(key: str) -> float:
        return after["metrics"].get(key, 0.0) - before["metrics"].get(key, 0.0)

    requests = delta("cerebrum_requests_total") or 1
    queries = delta("cerebrum_sql_queries_total")
    hits = sum(
        delta(key)
        for key in after["metrics"]
        if key.startswith("cerebrum_cache_requests_total{") and "result=hit" in key
    )
    misses = sum(
        delta(key)
        for key in after["metrics"]
        if key.startswith("cerebrum_cache_requests_total{") and "result=miss" in key
    )
    cpu_ms = (after["cpu_ticks"] - before["cpu_ticks"]) * 1000 / CLOCK_TICKS
    return {
        "django_requests": int(requests),
        "seconds": round(after["time"] - before["time"], 1),
        "sql_per_request": round(queries / requests, 2),
        "sql_mean_ms": round(delta("cerebrum_sql_seconds_total") * 1000 / queries, 3) if queries else None,
        "cache_lookups": int(hits + misses),
        "cache_hit_ratio": round(hits / (hits + misses), 3) if hits + misses else None,
        "redis_calls_per_request": round((after["redis_calls"] - before["redis_calls"]) / requests, 2),
        "gunicorn_cpu_ms_per_request": round(cpu_ms / requests, 2),
        "gunicorn_cpu_cores_used": round(cpu_ms / 1000 / max(after["time"] - before["time"], 1e-9), 2),
        "machine_cpu_busy": _busy_share(before, after),
        "other_cores_used": _component_cores(before, after),
        "loadavg_end": after.get("loadavg"),
        "client_requests": client_requests,
    }


# --- held: the most learners this box holds at the steady targets (issue 17) ---------------------


def probe_passed(probe: dict) -> bool:
    """A steady run holds when p95 < 100 ms, p99 < 300 ms and nothing failed (TARGETS)."""
    total = probe["total"]
    return (
        total.get("p95_ms") is not None
        and total["p95_ms"] < TARGETS["p95_ms"]
        and total["p99_ms"] is not None
        and total["p99_ms"] < TARGETS["p99_ms"]
        and total["failures"] == 0
    )


def held_bounds(probes: dict[int, dict]) -> tuple[int, int | None]:
    """(most learners a probe held, fewest a probe did not hold — None if every probe held)."""
    held = [users for users, probe in probes.items() if probe_passed(probe)]
    failed = [users for users, probe in probes.items() if not probe_passed(probe)]
    return max(held, default=0), min(failed, default=None)


def held_next(probes: dict[int, dict], most: int) -> int | None:
    """Bisection over learner counts: first `most`, then halfway between the most held and the fewest
    not held, rounded to 50; None once `most` held or the gap is within HELD_RESOLUTION."""
    if not probes:
        return most
    low, high = held_bounds(probes)
    if high is None:
        return None
    absolute, share = HELD_RESOLUTION
    if high - low <= max(absolute, share * high):
        return None
    middle = max(50, round((low + high) / 2 / 50) * 50)
    return None if middle in probes else middle


def _held_probes(directory: Path) -> dict[int, dict]:
    probes = {}
    for path in directory.glob("held-*-phase.json"):
        probes[int(path.name.split("-")[1])] = json.loads(path.read_text())
    return probes


def held(directory: Path, most: int) -> dict:
    """The held phase: the most learners held, every probe, and the best held probe's full numbers
    (endpoints, SQL, cache) with the share of requests nginx answered and the server's CPU-ms per
    learner request (gunicorn + PostgreSQL + Redis + nginx + Celery, not the load generator)."""
    probes = _held_probes(directory)
    low, high = held_bounds(probes)
    # The numbers shown are those of the largest probe held (or the smallest tried, if none held).
    shown_at = low if low in probes else min(probes, default=None)
    shown = probes.get(shown_at)
    result = {"phase": "held", "learners_held": low, "most_tried": most, "first_not_held": high}
    result["probes"] = [
        {
            "users": users,
            "held": probe_passed(probe),
            "p95_ms": probe["total"]["p95_ms"],
            "p99_ms": probe["total"]["p99_ms"],
            "failures": probe["total"]["failures"],
            "rps": probe["total"]["rps"],
        }
        for users, probe in sorted(probes.items())
    ]
    if shown:
        server = dict(shown["server"])
        client = max(server.get("client_requests") or 0, 1)
        server["nginx_share"] = round(max(0.0, 1 - server["django_requests"] / client), 3)
        others = {k: v for k, v in (server.get("other_cores_used") or {}).items() if k != "locust"}
        server_ms = (
            server["gunicorn_cpu_ms_per_request"] * server["django_requests"]
            + sum(others.values()) * server["seconds"] * 1000
        )
        server["server_cpu_ms_per_learner_request"] = round(server_ms / client, 2)
        result |= {"shown_users": shown_at, "total": shown["total"], "server": server}
        result["endpoints"] = shown["endpoints"]
    (directory / "held-phase.json").write_text(json.dumps(result, indent=2))
    return result


# --- finish ---------------------------------------------------------------------------------------


def finish(directory: Path, mode: str) -> Path:
    phases = {}
    for name in ("steady", "held", "storm", "ceiling", "capacity"):
        if (directory / f"{name}-phase.json").exists():
            phases[name] = json.loads((directory / f"{name}-phase.json").read_text())
    config = json.loads((directory / "config.json").read_text())
    result = {
        "mode": mode,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "config": config,
        "phases": phases,
        "verdict": _verdict(phases),
    }
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = ROOT / "bench" / "results" / f"{stamp}-{mode}.json"
    target.write_text(json.dumps(result, indent=2))
    _write_docs()
    return target


def _machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "?",
    )
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _verdict(phases: dict) -> dict:
    verdict = {}
    steady = phases.get("steady")
    if steady:
        total, server = steady["total"], steady["server"]
        verdict["steady_p95_ms"] = _check(total["p95_ms"], "<", TARGETS["p95_ms"])
        verdict["steady_p99_ms"] = _check(total["p99_ms"], "<", TARGETS["p99_ms"])
        verdict["steady_errors"] = _check(total["failures"], "==", 0)
        verdict["sql_mean_ms"] = _check(server["sql_mean_ms"], "<", TARGETS["sql_mean_ms"])
        verdict["sql_per_request"] = _check(server["sql_per_request"], "<=", TARGETS["sql_per_request"])
        verdict["cache_hit_ratio"] = _check(server["cache_hit_ratio"], ">=", TARGETS["hit_ratio"])
    if phases.get("held"):
        verdict["learners_held"] = _check(phases["held"]["learners_held"], ">=", TARGETS["learners_held"])
    storm = phases.get("storm")
    if storm:
        start = next((row for row in storm["endpoints"] if row["name"] == "exam start"), None)
        verdict["storm_start_p95_ms"] = _check(start and start["p95_ms"], "<", TARGETS["storm_start_p95_ms"])
        verdict["storm_errors"] = _check(storm["total"]["failures"], "==", 0)
        verdict["storm_paper_builds"] = _check(storm.get("paper_builds"), "<=", 1)
        # Answers still in flight when the phase stopped are stored but never acknowledged: stored >= sent.
        verdict["storm_answers_stored"] = _check(storm.get("answers_stored"), ">=", storm.get("answers_sent"))
    if phases.get("ceiling") and phases.get("capacity"):
        ratio = phases["capacity"]["total"]["rps"] / max(phases["ceiling"]["total"]["rps"], 1e-9)
        verdict["capacity_ratio"] = _check(round(ratio, 3), ">=", TARGETS["capacity_ratio"])
    return verdict


def _check(value, op: str, target) -> dict:
    if value is None:
        return {"value": None, "target": f"{op} {target}", "met": False}
    met = {"<": value < target, "<=": value <= target, "==": value == target, ">=": value >= target}[op]
    return {"value": value, "target": f"{op} {target}", "met": bool(met)}


def _write_docs() -> None:
    from bench.docs import write_performance_md

    runs = (ROOT / "bench" / "results").glob("*.json")
    write_performance_md(sorted(path for path in runs if path.stem.endswith(("-quick", "-full"))))


def profile(path: Path, top: int = 25) -> str:
    """Top functions by own (self) samples and by inclusive samples, from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame for frame in stack.split(";") if frame]
        if not frames or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        own[frames[-1]] = own.get(frames[-1], 0) + samples
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
    lines = [f"{total} samples", "", "own time:"]
    lines += [f"{100 * n / total:5.1f}%  {frame}" for frame, n in sorted(own.items(), key=lambda kv: -kv[1])[:top]]
    lines += ["", "own time by package:"]
    by_package: dict[str, int] = {}
    for frame, n in own.items():
        by_package[_package(frame)] = by_package.get(_package(frame), 0) + n
    lines += [f"{100 * n / total:5.1f}%  {name}" for name, n in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]]
    lines += ["", "inclusive time:"]
    lines += [
        f"{100 * n / total:5.1f}%  {frame}" for frame, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:top]
    ]
    return "\n".join(lines)


def _package(frame: str) -> str:
    """'render (django/template/base.py:1017)' -> 'django.template'; 'get (courses/views.py:9)' -> 'courses'."""
    path = frame.rpartition("(")[2].split(":")[0]
    if "/" not in path:
        return path or frame
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:2]) if len(parts) > 2 else parts[0]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    command = sys.argv[1]
    if command == "snapshot":
        snapshot(Path(sys.argv[2]))
    elif command == "phase":
        print(json.dumps(phase(sys.argv[2], Path(sys.argv[3]))["total"]))
    elif command == "held-next":
        print(held_next(_held_probes(Path(sys.argv[2])), int(sys.argv[3])) or "")
    elif command == "held":
        print(
            json.dumps(
                {key: value for key, value in held(Path(sys.argv[2]), int(sys.argv[3])).items() if key != "endpoints"}
            )
        )
    elif command == "profile":
        print(profile(Path(sys.argv[2])))
    elif command == "finish":
        print(finish(Path(sys.argv[2]), sys.argv[3]))
    else:
        raise SystemExit(f"unknown command {command}")
