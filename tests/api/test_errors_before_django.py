"""Refusals made before a view runs reach API clients in the one JSON error shape, through nginx and gunicorn.

nginx (deploy/nginx.conf.template) answers malformed requests, bodies over 1 MiB and a dead app node
itself; gunicorn (deploy/gunicorn.conf.py) answers a control character in a header; Django answers
bodies over 256 KiB and unknown query parameters. Each is sent over a raw socket to a real nginx in
front of a real gunicorn on the test database.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.cerebrum.test_http_cache_nginx import render
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send(port: int, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One raw HTTP/1.1 request (headers exactly as given) → (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + b"\r\n" + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    raw_head, _, payload = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, payload


def assert_json_error(response, status: int, code: str) -> None:
    got_status, headers, body = response
    assert (got_status, headers.get("content-type")) == (status, "application/json"), body[:300]
    error = json.loads(body)
    assert set(error) == {"error"}
    assert set(error["error"]) == {"code", "message", "fields"}
    assert error["error"]["code"] == code


@pytest.fixture
def stack(transactional_db):
    """nginx on a free port in front of one gunicorn worker on the test database; yields nginx's port."""
    # nginx's workers may run as another user and buffer large bodies to disk here: pytest's tmp_path
    # (mode 0700 under a private parent) would make them answer 500.
    tmp_path = Path(tempfile.mkdtemp(prefix="cerebrum-nginx-"))
    tmp_path.chmod(0o755)
    db = settings.DATABASES["default"]
    app_port, nginx_port = free_port(), free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cerebrum.settings.test",
        "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{connection.settings_dict['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "GUNICORN_WORKERS": "1",
        "TRUSTED_PROXY_COUNT": "1",
    }
    gunicorn = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cerebrum.wsgi:application", "-c", "deploy/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    (tmp_path / "static").mkdir()
    config = tmp_path / "nginx.conf"
    upstream = f"        server 127.0.0.1:{app_port};"
    # Loopback is rate limited here (1 request a second, 20 at once), so nginx's own 429 can be seen.
    limits = {"UNLIMITED_CIDR": "192.0.2.1/32", "API_RATE": "60r/m", "AUTH_RATE": "60r/m"}
    config.write_text(render(tmp_path, UPSTREAM_SERVERS=upstream, LISTEN=f"127.0.0.1:{nginx_port}", **limits))
    nginx = subprocess.Popen(
        ["nginx", "-c", str(config), "-p", str(tmp_path), "-g", f"daemon off; error_log {tmp_path}/error.log;"],
        start_new_session=True,
    )

    def up() -> bool:
        try:
            return send(nginx_port, b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n")[0] == 200
        except OSError:
            return False

    try:
        assert wait_until(up, timeout=60), "nginx + gunicorn did not start"
        yield nginx_port, gunicorn
    finally:
        for process in (nginx, gunicorn):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
        shutil.rmtree(tmp_path, ignore_errors=True)


def request(path: str, *headers: bytes, method: bytes = b"GET", body: bytes = b"") -> bytes:
    lines = [method + b" " + path.encode() + b" HTTP/1.1", b"Host: localhost", b"Connection: close", *headers]
    if body:
        lines += [b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode()]
    return b"\r\n".join(lines) + b"\r\n"


def test_a_control_character_in_a_header_is_json_400(stack):
    port, _ = stack
    # gunicorn refuses it (nginx passes \x01 through)
    assert_json_error(send(port, request("/api/v1/courses", b"X-Client: a\x01b")), 400, "bad_request")
    # nginx refuses NUL and a control character in a header's name itself
    assert_json_error(send(port, request("/api/v1/courses", b"X-Client: a\x00b")), 400, "bad_request")
    assert_json_error(send(port, request("/api/v1/courses", b"X-Cli\x01ent: ab")), 400, "bad_request")


def test_a_300_kib_body_is_json_413(stack):
    port, _ = stack
    body = json.dumps({"name": "x" * 300 * 1024, "password": "y"}).encode()
    assert_json_error(
        send(port, request("/api/v1/auth/register", method=b"POST", body=body), body), 413, "body_too_large"
    )


def test_a_body_over_nginx_limit_is_json_413(stack):
    port, _ = stack
    body = b"x" * (1024 * 1024 + 1)
    assert_json_error(send(port, request("/api/v1/events", method=b"POST", body=body), body), 413, "body_too_large")


def test_an_unknown_query_parameter_is_json_400(stack):
    port, _ = stack
    response = send(port, request("/api/v1/courses?page_size=5&colour=blue"))
    assert_json_error(response, 400, "unknown_parameter")
    assert json.loads(response[2])["error"]["fields"] == {"colour": ["Unknown query parameter."]}


def test_nginx_rate_limit_is_json_429_with_retry_after(stack):
    port, _ = stack
    statuses = [send(port, request("/api/v1/courses"))[0] for _ in range(30)]
    assert statuses.count(429) >= 1, statuses
    response = send(port, request("/api/v1/courses"))
    assert_json_error(response, 429, "throttled")
    assert response[1]["retry-after"] == "60"


def test_a_dead_app_server_is_json_502_for_the_api_and_a_page_for_pages(stack):
    port, gunicorn = stack
    os.killpg(gunicorn.pid, signal.SIGTERM)
    gunicorn.wait(timeout=30)
    assert_json_error(send(port, request("/api/v1/courses")), 502, "bad_gateway")
    status, headers, _ = send(port, request("/courses/"))
    assert (status, headers["content-type"]) == (502, "text/html")


def test_pages_keep_an_html_400(stack):
    port, _ = stack
    status, headers, _ = send(port, request("/courses/", b"X-Client: a\x00b"))
    assert (status, headers["content-type"]) == (400, "text/html")
