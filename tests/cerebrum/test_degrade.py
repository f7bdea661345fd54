"""Redis refused or hung: pages, the public page cache, cacheops, sessions and get_or_build serve from PostgreSQL.

"Down" is a closed port (connection refused at once); "slow" is a socket that accepts nothing and
never answers, so every call waits for the client's socket timeout. Neither may turn into a 5xx.
"""

from __future__ import annotations

import socket

import pytest
from cacheops.redis import redis_client
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from redis import ConnectionError as RedisConnectionError
from redis import ConnectionPool

from cerebrum.cache import (
    BreakerRedis,
    get_or_build,
    l1_clear,
    redis_breaker_open,
    redis_breaker_reset,
    versions_new,
)
from cerebrum.http_cache import _view_for_path
from courses import selectors
from courses.models import Course
from tests.factories import CourseFactory, UserFactory


def catalog_view(request):
    names = [course.name for course in selectors.course_list()]
    return HttpResponse(",".join(names))


def dashboard_view(request):
    built, _ = get_or_build(f"dash:{request.user.pk}", lambda: {"courses": Course.objects.count()}, timeout=60)
    return JsonResponse(built)


urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("catalog/", catalog_view, name="catalog"),
                    path("dashboard/", dashboard_view, name="dashboard"),
                ],
                "courses",
            )
        ),
    ),
]
pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def blackhole():
    """A listening socket that never accepts: connects queue up and reads never return."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture(params=["refused", "hung"])
def redis_unavailable(request, settings, monkeypatch):
    port = closed_port() if request.param == "refused" else request.getfixturevalue("blackhole")
    url = f"redis://127.0.0.1:{port}/0"
    caches = {**settings.CACHES}
    caches["default"] = {**caches["default"], "LOCATION": url}
    settings.CACHES = caches
    settings.PUBLIC_CACHE_PAGES = {"courses:catalog": 60}
    settings.REDIS_BREAKER_SECONDS = 5.0
    monkeypatch.setattr(
        redis_client, "connection_pool", ConnectionPool.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
    )
    _view_for_path.cache_clear()
    l1_clear()
    redis_breaker_reset()
    yield request.param
    l1_clear()
    redis_breaker_reset()


@pytest.fixture(autouse=True)
def _clean_redis():
    """Overrides the shared flush: the cache under test points at a dead Redis."""
    return


def test_cacheops_querysets_fall_back_to_postgresql(redis_unavailable):
    CourseFactory(name="NEET 2027 Dropper")

    assert [course.name for course in Course.objects.cache().all()] == ["NEET 2027 Dropper"]


def test_public_page_is_served_from_postgresql(client, redis_unavailable):
    CourseFactory(name="Class 11 Foundation")

    responses = [client.get("/catalog/") for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert responses[1].content == b"Class 11 Foundation"


def test_logged_in_page_with_object_cache_is_served(client, redis_unavailable):
    CourseFactory()
    client.force_login(UserFactory())

    response = client.get("/dashboard/")

    assert response.status_code == 200
    assert response.json() == {"courses": 1}


def test_get_or_build_builds_when_redis_is_unavailable(redis_unavailable):
    assert get_or_build("anything", lambda: "from postgres", timeout=60) == ("from postgres", False)


def test_new_versions_without_redis_are_empty_so_nothing_is_stored_under_them(redis_unavailable):
    assert versions_new(["kv:a", "kv:b"]) == {"kv:a": "", "kv:b": ""}


def test_readiness_names_redis_but_liveness_stays_up(client, redis_unavailable, settings):
    settings.ROOT_URLCONF = "cerebrum.urls"

    ready = client.get("/ready")
    health = client.get("/health")

    assert ready.status_code == 503
    assert ready.json()["failing"][0].startswith("redis:")
    assert health.status_code == 200


def test_one_failure_opens_the_breaker_and_later_calls_skip_the_network(redis_unavailable, monkeypatch):
    get_or_build("first", lambda: 1, timeout=60)
    assert redis_breaker_open()

    def no_network(*args, **kwargs):
        raise AssertionError("the breaker should have answered without a connection")

    monkeypatch.setattr(redis_client.connection_pool, "get_connection", no_network)
    assert list(Course.objects.cache().all()) == []
    assert get_or_build("second", lambda: 2, timeout=60) == (2, False)


def test_breaker_closes_after_a_successful_probe(settings):
    client = BreakerRedis.from_url(settings.REDIS_URL)
    settings.REDIS_BREAKER_SECONDS = 0.0
    dead = BreakerRedis.from_url(f"redis://127.0.0.1:{closed_port()}/0")

    with pytest.raises(RedisConnectionError):
        dead.ping()

    assert client.ping() is True
    assert client.pipeline().ping().execute() == [True]
    assert not redis_breaker_open()


def test_an_idempotency_key_request_is_processed_when_redis_is_unavailable(api_client, redis_unavailable, settings):
    # Given Redis down: the key's lock cannot be taken (django-redis answers the ADD with None)
    settings.ROOT_URLCONF = "cerebrum.urls"
    course = CourseFactory()
    api_client.force_authenticate(UserFactory())

    response = api_client.post("/api/v1/enrollments", {"course": course.slug}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    # Then the enrolment is made from PostgreSQL, not refused as "in progress"
    assert response.status_code == 201, response.content
