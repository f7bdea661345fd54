"""Regenerates the measured part of docs/performance.md (between the markers) and docs/performance.svg."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "performance.svg"
BEGIN, END = "<!-- bench:results:begin -->", "<!-- bench:results:end -->"
PHASES = ("steady", "storm", "ceiling", "capacity")


def write_performance_md(result_files: list[Path]) -> None:
    results = [json.loads(path.read_text()) | {"file": path.name} for path in result_files]
    if not results:
        return
    # The newest run of all four phases: a steady-only or capacity-only experiment after it would
    # otherwise stand in for the whole benchmark. Every run stays in the table below.
    complete = [result for result in results if all(result["phases"].get(name) for name in PHASES)]
    latest = (complete or results)[-1]
    full = [result for result in results if result["mode"] == "full"]
    generated = "\n".join(
        [
            BEGIN,
            f"### Latest {'complete ' if complete else ''}run: `{latest['file']}` ({latest['mode']}, {latest['finished_at']})",
            "",
            _machine_line(latest),
            "",
            f"Command: `{latest['config'].get('command', 'make bench')}`; "
            f"gunicorn `{latest['config'].get('gunicorn', '?')}`; Locust processes: {latest['config'].get('locust_processes', 1)}.",
            "",
            _verdict_table(latest),
            "",
            *_phase_sections(latest),
            "![p95 per endpoint, latest run](performance.svg)",
            "",
            "#### All recorded runs",
            "",
            _history_table(results),
            "",
            f"Latest full run: `{full[-1]['file']}`." if full else "No full (10,000-user) run recorded yet.",
            END,
        ]
    )
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + generated + tail)
    CHART.write_text(_chart(latest))


def _machine_line(result: dict) -> str:
    machine = result["machine"]
    return (
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB, Linux {machine['kernel']}, "
        f"Python {machine['python']}; load generator on the same box."
    )


def _verdict_table(result: dict) -> str:
    lines = ["| target | measured | goal | met |", "|---|---|---|---|"]
    for name, check in result["verdict"].items():
        lines.append(f"| {name} | {check['value']} | {check['target']} | {'yes' if check['met'] else '**no**'} |")
    return "\n".join(lines)


def _others(server: dict) -> str:
    cores = server.get("other_cores_used")
    if not cores:
        return ""
    return " Cores used by the rest: " + ", ".join(f"{name} {value}" for name, value in cores.items()) + "."


def _phase_sections(result: dict) -> list[str]:
    out = []
    for name, phase in result["phases"].items():
        total, server = phase["total"], phase["server"]
        out += [
            f"#### {name}",
            "",
            f"{total['requests']} requests, {total['rps']} req/s, p50/p95/p99 {total['p50_ms']}/{total['p95_ms']}/"
            f"{total['p99_ms']} ms, {total['failures']} failures. Server: {server['sql_per_request']} SQL/request, "
            f"{server['sql_mean_ms']} ms mean SQL, cache hit ratio {server['cache_hit_ratio']}, "
            f"{server['redis_calls_per_request']} Redis commands/request (a pipeline counts each command), {server['gunicorn_cpu_ms_per_request']} gunicorn "
            f"CPU-ms/request ({server['gunicorn_cpu_cores_used']} cores busy); whole machine "
            f"{server.get('machine_cpu_busy')} busy, load average {server.get('loadavg_end')} at the end."
            + _others(server),
            "",
        ]
        if name == "held":
            out += _held_lines(phase)
        for key in (
            "paper_builds",
            "builds_after_prewarm",
            "attempts_started",
            "attempts_submitted",
            "answers_sent",
            "answers_stored",
        ):
            if key in phase:
                out.append(f"- {key.replace('_', ' ')}: {phase[key]}")
        out += [
            "",
            "| endpoint | requests | fails | 5xx | req/s | p50 | p95 | p99 | SQL/req | X-Cache hit |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for row in phase["endpoints"]:
            out.append(
                f"| {row['method']} {escape(row['name'])} | {row['requests']} | {row['failures']} | {row.get('errors_5xx', 0)} | "
                f"{row['rps']} | {row['p50_ms']} | {row['p95_ms']} | {row['p99_ms']} | {row.get('sql_per_request', '')} | "
                f"{row.get('x_cache_hit_ratio', '')} |"
            )
        out.append("")
    return out


def _held_lines(phase: dict) -> list[str]:
    server = phase["server"]
    lines = [
        f"**Learners held at p95 < 100 ms, p99 < 300 ms, 0 errors: {phase['learners_held']}** "
        f"(tried up to {phase['most_tried']}; first not held: {phase['first_not_held'] or '—'}). "
        f"The numbers above and below are the {phase.get('shown_users')}-learner probe's: nginx answered "
        f"{server.get('nginx_share')} of the requests; the server used {server.get('server_cpu_ms_per_learner_request')} "
        "CPU-ms per learner request (gunicorn, PostgreSQL, Redis, nginx, Celery; not the load generator).",
        "",
        "| learners | held | req/s | p95 ms | p99 ms | failures |",
        "|---|---|---|---|---|---|",
    ]
    for probe in phase["probes"]:
        lines.append(
            f"| {probe['users']} | {'yes' if probe['held'] else 'no'} | {probe['rps']} | {probe['p95_ms']} | "
            f"{probe['p99_ms']} | {probe['failures']} |"
        )
    return [*lines, ""]


def _history_table(results: list[dict]) -> str:
    lines = [
        "| file | mode | gunicorn | steady users | steady req/s | steady p95 ms | learners held | storm start p95 ms "
        "| ceiling req/s | capacity req/s | capacity ÷ ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        phases, verdict = result["phases"], result["verdict"]

        def total(phase: str, key: str, phases=phases):
            return phases.get(phase, {}).get("total", {}).get(key)

        lines.append(
            f"| {result['file']} | {result['mode']} | {result['config'].get('gunicorn')} | "
            f"{result['config'].get('steady_users') if 'steady' in phases else ''} | {total('steady', 'rps')} | "
            f"{total('steady', 'p95_ms')} | {phases.get('held', {}).get('learners_held', '')} | "
            f"{verdict.get('storm_start_p95_ms', {}).get('value')} | "
            f"{total('ceiling', 'rps')} | {total('capacity', 'rps')} | {verdict.get('capacity_ratio', {}).get('value')} |"
        )
    return "\n".join(lines)


def _chart(result: dict) -> str:
    """Horizontal bars: p95 per endpoint of the steady (or first) phase, with the 100 ms target line."""
    phase = result["phases"].get("steady") or next(iter(result["phases"].values()), None)
    rows = [row for row in (phase or {}).get("endpoints", []) if row["p95_ms"] is not None][:24]
    width, bar_left, row_height = 900, 330, 22
    height = 50 + row_height * len(rows)
    scale_max = max([row["p95_ms"] for row in rows] + [150])
    x = lambda ms: bar_left + (width - bar_left - 60) * ms / scale_max  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        f'<text x="10" y="20" font-size="14">p95 (ms) per endpoint — {escape(result["mode"])} run {escape(result["finished_at"])}</text>',
    ]
    for index, row in enumerate(rows):
        y = 35 + index * row_height
        colour = "#2e7d32" if row["p95_ms"] < 100 else "#c62828"
        parts.append(f'<text x="10" y="{y + 14}">{escape((row["method"] + " " + row["name"])[:48])}</text>')
        parts.append(
            f'<rect x="{bar_left}" y="{y + 3}" width="{x(row["p95_ms"]) - bar_left:.1f}" height="14" fill="{colour}"/>'
        )
        parts.append(f'<text x="{x(row["p95_ms"]) + 4:.1f}" y="{y + 14}">{row["p95_ms"]:.0f}</text>')
    parts.append(
        f'<line x1="{x(100):.1f}" y1="30" x2="{x(100):.1f}" y2="{height - 5}" stroke="#555" stroke-dasharray="4 3"/>'
    )
    parts.append(f'<text x="{x(100) + 3:.1f}" y="{height - 8}" fill="#555">100 ms target</text>')
    parts.append("</svg>")
    return "\n".join(parts)
