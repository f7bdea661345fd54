"""Each pytest-xdist worker gets Redis databases of its own (cerebrum/settings/test.py), since every test
flushes its worker's Redis database first (tests/conftest.py)."""

from __future__ import annotations

from cerebrum.settings.test import xdist_worker_redis_url

CACHE, BROKER = "redis://127.0.0.1:6379/15", "redis://127.0.0.1:6379/14"  # make test's defaults


def test_the_first_worker_keeps_the_urls_as_given():
    assert xdist_worker_redis_url(CACHE, "gw0") == CACHE
    assert xdist_worker_redis_url("redis://127.0.0.1:6379", "gw0") == "redis://127.0.0.1:6379"


def test_up_to_eight_workers_never_share_a_database_with_the_default_urls():
    urls = [xdist_worker_redis_url(url, f"gw{n}") for n in range(8) for url in (CACHE, BROKER)]

    assert len(set(urls)) == 16
    assert xdist_worker_redis_url(CACHE, "gw1") == "redis://127.0.0.1:6379/13"
    assert xdist_worker_redis_url(BROKER, "gw1") == "redis://127.0.0.1:6379/12"


def test_host_port_and_query_are_kept_and_a_socket_url_shifts_its_db_parameter():
    assert (
        xdist_worker_redis_url("redis://:pw@10.0.0.5:6401/0?timeout=1", "gw1")
        == "redis://:pw@10.0.0.5:6401/14?timeout=1"
    )
    assert xdist_worker_redis_url("unix:///run/redis.sock?db=4", "gw1") == "unix:/run/redis.sock?db=2"
