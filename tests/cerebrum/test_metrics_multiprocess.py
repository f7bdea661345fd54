"""Under gunicorn (deploy/gunicorn.conf.py) with several workers, /metrics adds up every worker's samples."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def metric(text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


@pytest.fixture
def gunicorn(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cerebrum.settings.test",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "3",
        "GUNICORN_THREADS": "2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cerebrum.wsgi:application", "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return get(f"{base}/health") == b'{"status": "ok"}'
        except OSError:
            return False

    assert wait_until(up, timeout=60), "gunicorn did not start"
    yield base, tmp_path / "prometheus"
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_metrics_aggregate_all_workers(gunicorn):
    base, directory = gunicorn
    before = metric(get(f"{base}/metrics").decode(), "cerebrum_requests_total")

    for _ in range(60):
        get(f"{base}/health")
    after = metric(get(f"{base}/metrics").decode(), "cerebrum_requests_total")

    # +60 health checks and the first /metrics request itself (counted once it had answered)
    assert after - before == 61
    assert len(list(directory.glob("counter_*.db"))) >= 2  # more than one worker answered
