"""gunicorn for Cerebrum: every knob from the environment, defaults chosen by bench/ measurements.

Default: `gthread`, one worker per core plus one, 2 threads each. A request waits on Redis and
PostgreSQL for well under a millisecond at a time, so two threads cover that wait; more threads only
fight over the GIL: with 8 threads the mix cost 15 % more CPU per request and served 13 % fewer
requests, and a fourth worker on 2 cores cost as much (docs/performance.md, "Session 4").
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
from pathlib import Path

from gunicorn import util as gunicorn_util

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", str(multiprocessing.cpu_count() + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", "2")) if worker_class == "gthread" else 1
# gunicorn's own default. At 10,000 users 4,000 took every connection but served fewer requests in
# time than letting nginx fail fast on a full listen queue (docs/performance.md).
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
backlog = int(os.environ.get("GUNICORN_BACKLOG", "4096"))
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new connections across
# them; on one shared socket, nginx's kept-alive connections piled onto whichever worker accepted
# first (one worker served 80 % of the requests) and 1,000 learners saw p95 170–200 ms instead of
# 77–95 ms. A worker that exits drops the connections still waiting in its own accept queue (with
# nginx's kept-alive connections there are few: restarting every 1,500 requests failed none).
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") == "1"
# nginx keeps upstream connections alive; the timeout must outlast nginx's keepalive_timeout.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "75"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Recycle workers now and then (slow leaks), jittered so they never restart together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
preload_app = False  # each worker opens its own DB pool and Redis connections after fork
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "warning")
proc_name = "cerebrum"

# One DB connection per thread plus headroom for the pool's own checks (Django's psycopg pool).
os.environ.setdefault("DB_POOL_MAX", str(threads + 2))


def on_starting(server) -> None:
    # Prometheus multiprocess mode: every worker writes its samples here; /metrics aggregates them.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker) -> None:
    # What the worker loaded at boot (modules, settings, URL patterns: ~110,000 objects) lives as long
    # as the worker; frozen, a full collection scans only what requests made since. Measured at 1,000
    # learners: the longest pause went from 130–350 ms to 40–80 ms, at the same total GC time.
    gc.freeze()


def _write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own refusals (a control character in a header, a bad request line: before Django
    sees the request) in the API's one JSON error shape (docs/api.md) instead of an HTML page.

    gunicorn has no setting for this page; its workers call `gunicorn.util.write_error`, replaced
    below. The request's path is not known here, so pages get the same JSON: only a program sends
    such a request. tests/api/test_errors_before_django.py checks it through nginx and gunicorn.
    """
    code = reason.lower().replace(" ", "_") if status_int != 500 else "server_error"
    body = json.dumps({"error": {"code": code, "message": f"{reason}: {mesg}" if mesg else reason, "fields": {}}})
    data = body.encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + data)


gunicorn_util.write_error = _write_json_error
