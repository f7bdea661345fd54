"""cerebrum.edge against nginx stand-ins (local HTTP servers): an edit's refreshes survive an nginx that is down
and wait a bounded time for one that is slow; the copies left live their s-maxage."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from cerebrum import edge
from tests.nginx_serving import free_port

COPIES = 10


class Nginx(BaseHTTPRequestHandler):
    """Answers every refresh after `delay` seconds and notes its path."""

    delay = 0.0
    received: list[str]

    def do_GET(self) -> None:
        time.sleep(self.delay)
        self.received.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def nginx() -> Iterator[tuple[str, type[Nginx]]]:
    handler = type("Handler", (Nginx,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()


@pytest.fixture
def recorded_copies() -> list[str]:
    uris = [f"/courses/?page={number}" for number in range(COPIES)]
    for uri in uris:
        edge.edge_key_record(uri=uri, language="", variant="anon", seconds=10)
    return uris


def test_a_down_nginx_is_skipped_and_the_next_one_still_gets_every_refresh(nginx, recorded_copies, settings):
    # Given an nginx that refuses connections listed before one that answers
    url, handler = nginx
    settings.EDGE_PURGE_URLS = [f"http://127.0.0.1:{free_port()}", url]

    # When an edit expires the recorded copies
    edge.edge_purge()

    # Then nothing was raised to the editing request, and the live nginx got every copy's refresh
    assert sorted(handler.received) == sorted(recorded_copies)


def test_a_slow_nginx_holds_the_edit_for_its_purge_budget_only(nginx, recorded_copies, settings, monkeypatch):
    # Given an nginx that answers each refresh after 0.4 s, and a budget of 1 s per nginx
    url, handler = nginx
    handler.delay = 0.4
    settings.EDGE_PURGE_URLS = [url]
    monkeypatch.setattr(edge, "PURGE_SECONDS_PER_NGINX", 1)

    # When an edit expires the ten recorded copies (4 s of refreshes)
    edge.edge_purge()

    # Then it stopped when the budget ran out; the copies left live their s-maxage
    assert 1 <= len(handler.received) <= 3


def test_a_second_edit_right_after_refreshes_nothing_twice(nginx, recorded_copies, settings):
    # Given the recorded copies expired by one edit (an admin save of a test with its inline questions bumps
    # the pages once per row saved)
    url, handler = nginx
    settings.EDGE_PURGE_URLS = [url]
    edge.edge_purge()

    # When the next row's save bumps them again, before anyone asked nginx for a page
    edge.edge_purge()

    # Then each copy was refreshed once; a copy stored again is recorded again and refreshed by the next edit
    assert sorted(handler.received) == sorted(recorded_copies)
    edge.edge_key_record(uri=recorded_copies[0], language="", variant="anon", seconds=10)
    edge.edge_purge()
    assert handler.received.count(recorded_copies[0]) == 2
