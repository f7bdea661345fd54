"""get_or_build: L1 then Redis, one builder at a time across threads, hit/miss counted; versioned entries."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.cache import cache
from prometheus_client import REGISTRY

from cerebrum.cache import (
    get_or_build,
    l1_clear,
    page_cache_bump,
    page_version_key,
    version_new,
    versioned_get_many,
    versioned_get_or_build,
    versioned_set_many,
    versions_bump,
    versions_new,
    warm,
)


@pytest.fixture(autouse=True)
def _empty_l1():
    l1_clear()
    yield
    l1_clear()


def cache_count(result: str) -> float:
    return REGISTRY.get_sample_value("cerebrum_cache_requests_total", {"result": result, "cache": "object"}) or 0.0


def test_first_call_builds_and_later_calls_hit():
    calls = []
    hits_before, misses_before = cache_count("hit"), cache_count("miss")

    first = get_or_build("k:1", lambda: calls.append(1) or {"v": 1}, timeout=60)
    second = get_or_build("k:1", lambda: calls.append(1) or {"v": 2}, timeout=60)

    assert first == ({"v": 1}, False)
    assert second == ({"v": 1}, True)
    assert calls == [1]
    assert cache_count("miss") - misses_before == 1
    assert cache_count("hit") - hits_before == 1


def test_l1_serves_without_redis_until_it_expires():
    get_or_build("k:l1", lambda: "first", timeout=60, l1_seconds=5)
    cache.delete("k:l1")

    value, hit = get_or_build("k:l1", lambda: "rebuilt", timeout=60, l1_seconds=5)

    assert (value, hit) == ("first", True)


def test_without_l1_a_deleted_key_is_rebuilt():
    get_or_build("k:nol1", lambda: "first", timeout=60)
    cache.delete("k:nol1")

    assert get_or_build("k:nol1", lambda: "rebuilt", timeout=60) == ("rebuilt", False)


@pytest.mark.parametrize("threads", [2, 12])
def test_concurrent_misses_build_once(threads):
    builds = []
    barrier = threading.Barrier(threads)
    results = []

    def builder():
        builds.append(1)
        time.sleep(0.3)  # long enough for every other thread to find the lock taken
        return "paper"

    def worker():
        barrier.wait()
        results.append(get_or_build("k:storm", builder, timeout=60, wait_seconds=5)[0])

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()

    assert builds == [1]
    assert results == ["paper"] * threads


def test_lock_holder_that_never_finishes_does_not_block_forever():
    cache.add("lock:k:stuck", 1, 30)  # another process holds the lock and died

    value, hit = get_or_build("k:stuck", lambda: "built anyway", timeout=60, wait_seconds=0.2)

    assert (value, hit) == ("built anyway", False)


def test_a_builder_slower_than_its_lock_does_not_free_the_lock_another_builder_took():
    # Given a build that outlives its 1 s lock, while a second process takes the lock for the same key
    def slow_build():
        cache.delete("lock:k:slow")  # our lock expired ...
        assert cache.add("lock:k:slow", "second-builder", 30)  # ... and another process took it
        return "value"

    get_or_build("k:slow", slow_build, timeout=60, lock_seconds=1)

    # Then the second process still holds its lock (a third would otherwise build too)
    assert cache.get("lock:k:slow") == "second-builder"


def test_a_builder_releases_its_own_lock():
    get_or_build("k:own", lambda: "value", timeout=60)

    assert cache.get("lock:k:own") is None


def test_warm_replaces_whatever_is_cached():
    cache.set("k:warm", "old", 60)

    warm("k:warm", lambda: "new", timeout=60)

    assert get_or_build("k:warm", lambda: "never", timeout=60) == ("new", True)


def test_page_version_starts_from_the_clock_then_increments():
    page_cache_bump("courses")
    first = cache.get(page_version_key("courses"))

    page_cache_bump("courses")

    assert first > 1_700_000_000_000
    assert cache.get(page_version_key("courses")) == first + 1


def _versioned(key: str, version_key: str, builder):
    return versioned_get_or_build(key, version_key, builder, timeout=60)


def _single_flight_versioned(key: str, version_key: str, builder):
    return get_or_build(key, builder, timeout=60, version_key=version_key)[0]


READS = pytest.mark.parametrize("read", [_versioned, _single_flight_versioned], ids=["plain", "single-flight"])


@READS
def test_a_versioned_entry_is_served_until_its_version_moves(read):
    assert read("k:v", "kv:v", lambda: "first") == "first"
    assert read("k:v", "kv:v", lambda: "never") == "first"

    versions_bump(["kv:v"])

    assert read("k:v", "kv:v", lambda: "second") == "second"


@READS
def test_what_a_build_read_before_a_bump_is_stored_but_never_served(read):
    def build_raced_by_a_write():
        old = "old row"  # read before the write commits ...
        versions_bump(["kv:race"])  # ... which then bumps the version
        return old

    assert read("k:race", "kv:race", build_raced_by_a_write) == "old row"  # this request's own answer

    assert read("k:race", "kv:race", lambda: "new row") == "new row"


@READS
def test_entries_of_an_evicted_version_are_never_read_again(read):
    read("k:evicted", "kv:evicted", lambda: "first")
    cache.delete("kv:evicted")  # expired or evicted: the next reader makes a new random version

    assert read("k:evicted", "kv:evicted", lambda: "rebuilt") == "rebuilt"


def test_versioned_reads_of_several_keys_are_one_mget():
    versioned_set_many({"k:a": (version_new("kv:a"), "a"), "k:b": (version_new("kv:b"), "b")}, 60)

    found, versions = versioned_get_many({"k:a": "kv:a", "k:b": "kv:b", "k:c": "kv:a"})

    assert found == {"k:a": "a", "k:b": "b"}
    assert versions == {"k:a": cache.get("kv:a"), "k:b": cache.get("kv:b"), "k:c": cache.get("kv:a")}


def test_missing_versions_are_made_in_one_round_trip_keeping_a_racing_readers(redis_round_trips):
    cache.set("kv:raced", "theirs", 60)  # another reader made this one first
    redis_round_trips.reset()

    versions = versions_new(["kv:raced", "kv:new", "kv:other"])

    assert redis_round_trips.count == 1, redis_round_trips.commands
    assert versions["kv:raced"] == "theirs"
    assert versions == {key: cache.get(key) for key in versions}
    assert len(set(versions.values())) == 3
