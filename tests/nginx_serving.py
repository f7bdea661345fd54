"""A real nginx from the shipped template (tests/cerebrum/test_http_cache_nginx.render), in the foreground,
for tests that go through it: started, waited for until it accepts connections, stopped afterwards."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from tests.cerebrum.test_http_cache_nginx import render


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def nginx_serving(run_dir: Path, *, as_root: bool = False, **overrides: str) -> Iterator[int]:
    """Render the template into `run_dir` listening on a free port, run nginx until the block ends; yields
    the port. `as_root`: nginx's workers run as root, to write the page cache under run_dir."""
    port = free_port()
    config = run_dir / "nginx.conf"
    config.write_text(render(run_dir, LISTEN=f"127.0.0.1:{port}", **overrides))
    directives = f"daemon off; {'user root; ' if as_root else ''}error_log {run_dir}/error.log;"
    process = subprocess.Popen(
        ["nginx", "-c", str(config), "-p", str(run_dir), "-g", directives],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextlib.contextmanager
def nginx_in_front(
    run_dir: Path, live_server, settings, *, page_cache: bool = True, host: str = "127.0.0.1", **overrides: str
) -> Iterator[str]:
    """The shipped template in front of the live server, as deployed: the app trusts nginx's address
    (TRUSTED_PROXY_COUNT=1); with `page_cache`, nginx keeps pages ("pages", its workers as root to write the
    cache under run_dir) and Django expires its copies after an edit (EDGE_PURGE_URLS). Yields the base URL."""
    settings.TRUSTED_PROXY_COUNT = 1
    upstream = f"        server {live_server.url.removeprefix('http://')} max_fails=0;"
    cache = {"PROXY_CACHE": "pages"} if page_cache else {}
    with nginx_serving(run_dir, as_root=page_cache, UPSTREAM_SERVERS=upstream, **cache, **overrides) as port:
        if page_cache:
            settings.EDGE_PURGE_URLS = [f"http://127.0.0.1:{port}"]
        yield f"http://{host}:{port}"
