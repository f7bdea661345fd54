"""nginx in front of app nodes, one of which hangs (a SIGSTOPped node: its socket accepts, nothing answers).

deploy/nginx.conf.template retries a request on another node only if it is idempotent, and its passive
health check stops sending to a node that failed max_fails times. Real nginx, real sockets; the read
timeout is cut to 1 s as deploy/cluster/up.sh cuts it to 10 s.
"""

from __future__ import annotations

import os
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.cerebrum.test_http_cache_nginx import render

MAX_FAILS = 3


class HealthyNode(BaseHTTPRequestHandler):
    received: list[str] = []

    def do_GET(self):
        self._answer()

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self):
        self.received.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def hung_node():
    """A listening socket that accepts connections and never answers; the connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept():
        while True:
            try:
                accepted.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()
    for connection in accepted:
        connection.close()


@pytest.fixture
def healthy_node():
    HealthyNode.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), HealthyNode)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], HealthyNode.received
    server.shutdown()


@pytest.fixture
def nginx(tmp_path, hung_node, healthy_node):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    upstreams = (
        f"        server 127.0.0.1:{hung_node[0]} max_fails={MAX_FAILS} fail_timeout=30s;\n"
        f"        server 127.0.0.1:{healthy_node[0]} max_fails={MAX_FAILS} fail_timeout=30s;"
    )
    text = render(tmp_path, UPSTREAM_SERVERS=upstreams, LISTEN=f"127.0.0.1:{port}")
    config = tmp_path / "nginx.conf"
    config.write_text(text.replace("proxy_read_timeout 60s;", "proxy_read_timeout 1s;"))
    os.chmod(tmp_path, 0o755)  # nginx's workers run as nobody when the master is root
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (tmp_path / name).mkdir(mode=0o777)
        os.chmod(tmp_path / name, 0o777)
    command = ["nginx", "-c", str(config), "-p", str(tmp_path), "-g", f"error_log {tmp_path}/error.log;"]
    subprocess.run(command, check=True, timeout=30)
    yield f"http://127.0.0.1:{port}"
    subprocess.run([*command, "-s", "stop"], timeout=30)


def until_the_hung_node_is_tried(send, hung_connections: list, tries: int = 8) -> list[int]:
    """Sends requests (nginx takes turns between the nodes) until one went to the hung node; their statuses."""
    before, statuses = len(hung_connections), []
    while len(hung_connections) == before and len(statuses) < tries:
        statuses.append(send(len(statuses)))
    assert len(hung_connections) == before + 1
    return statuses


def test_a_hung_node_gets_idempotent_requests_retried_elsewhere_and_is_then_left_alone(nginx, hung_node, healthy_node):
    _, hung = hung_node
    _, healthy_received = healthy_node

    def get(n: int) -> int:
        return requests.get(f"{nginx}/page/{n}", timeout=10).status_code

    def post(n: int) -> int:
        return requests.post(f"{nginx}/api/v1/x/{n}", data=b"{}", timeout=10).status_code

    # a GET that reaches the hung node times out there and is answered by the other node
    assert set(until_the_hung_node_is_tried(get, hung)) == {200}

    # a POST that reaches it times out and is sent nowhere else: 504, and the other node never saw it
    posts = until_the_hung_node_is_tried(post, hung)
    assert posts[-1] == 504
    assert [line for line in healthy_received if line.startswith("POST")] == [
        f"POST /api/v1/x/{n}" for n, status in enumerate(posts) if status == 200
    ]

    # after its third failure (max_fails) the hung node gets nothing more: every request goes to the other
    assert set(until_the_hung_node_is_tried(get, hung)) == {200}
    connections = len(hung)
    assert [get(n) for n in range(6)] == [200] * 6
    assert len(hung) == connections
