"""Personal data through the shipped nginx (deploy/nginx.conf.template with its page cache on), in front of
a live server on PostgreSQL and Redis: two signed-in learners each see only their own dashboard and rank,
by JWT and by session, and every kind of answer is cached only where it should be (issue 17, "Tests that
must exist": `Cache-Control` per page type)."""

from __future__ import annotations

import shutil

import pytest
import requests
from django.conf import settings
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import PracticeTestFactory, UserFactory
from tests.nginx_serving import nginx_in_front

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


@pytest.fixture
def nginx(tmp_path, live_server, settings):
    """The shipped template, nginx's page cache on ("pages"), in front of the live server; yields its URL."""
    with nginx_in_front(tmp_path, live_server, settings) as url:
        yield url


def jwt_headers(user) -> dict:
    return {"Host": "localhost", "Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}


def session_cookies(user) -> dict:
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("auth", ["jwt", "session"])
def test_through_nginx_two_learners_each_get_only_their_own_dashboard_and_rank(nginx, auth):
    # Given two learners signed in (by JWT or by session) and a test neither has taken
    asha, ravi = UserFactory(name="Asha Verma"), UserFactory(name="Ravi Kumar")
    test = PracticeTestFactory(question_count=1)

    # One sign-in each (a sign-in saves the user, and any save of the user is a new dashboard version)
    sessions = {user.pk: session_cookies(user) for user in (asha, ravi)} if auth == "session" else {}

    def get(user, path: str, etag: str = "") -> requests.Response:
        headers = jwt_headers(user) if auth == "jwt" else {"Host": "localhost"}
        cookies = sessions.get(user.pk, {})
        if etag:
            headers["If-None-Match"] = etag
        return requests.get(f"{nginx}{path}", headers=headers, cookies=cookies, timeout=30)

    for path, mine in (
        ("/api/v1/dashboard", lambda body: body["user"]["name"]),
        (f"/api/v1/tests/{test.slug}/leaderboard/me", None),
    ):
        # When each asks in turn through nginx, the second also sending the first's ETag
        first = get(asha, path)
        second = get(ravi, path, etag=first.headers["ETag"])
        again = get(asha, path, etag=first.headers["ETag"])

        # Then nginx stored nothing, each got their own answer, and the first's tag is a 304 for them only
        assert (first.status_code, second.status_code, again.status_code) == (200, 200, 304)
        for response in (first, second, again):
            assert response.headers["Cache-Control"] == "private, no-cache"
            assert response.headers.get("X-Proxy-Cache", "BYPASS") in ("BYPASS", "MISS")
        assert second.headers["ETag"] != first.headers["ETag"]
        if mine:
            assert (mine(first.json()), mine(second.json())) == ("Asha Verma", "Ravi Kumar")


@pytest.mark.django_db(transaction=True)
def test_through_nginx_cache_control_per_page_type(nginx):
    # Given a learner with a session (and the CSRF and variant cookies their first page set), and a visitor
    learner = UserFactory(name="Asha Verma")
    browser = requests.Session()
    browser.cookies.update(session_cookies(learner))
    host = {"Host": "localhost"}
    first = browser.get(f"{nginx}/", headers=host, timeout=30)

    # When each kind of answer goes through nginx twice
    def twice(path: str, headers: dict | None = None, client=requests) -> list[requests.Response]:
        return [client.get(f"{nginx}{path}", headers={**host, **(headers or {})}, timeout=30) for _ in range(2)]

    public = twice("/")
    signed_in = twice("/", client=browser)
    dashboard_page = twice("/dashboard/", client=browser)
    personal_json = twice("/api/v1/dashboard", headers=jwt_headers(learner))
    page_state = twice("/api/v1/me/page-state", client=browser)
    api_with_authorization = twice("/api/v1/courses", headers=jwt_headers(learner))

    # Then the anonymous page and the signed-in one are shared (nginx keeps one copy of each: the second
    # answer is nginx's HIT) once the learner holds their variant cookie (their first page was private);
    # a personal page is private and never stored, and personal JSON is private and revalidated every time
    responses = public + signed_in + dashboard_page + personal_json + page_state + api_with_authorization
    assert [r.status_code for r in responses] == [200] * 12
    assert (first.headers["Cache-Control"], first.headers["X-Proxy-Cache"]) == ("private, no-store", "BYPASS")
    for shared in (public, signed_in):
        assert shared[0].headers["Cache-Control"] == "public, max-age=0, s-maxage=10"
        assert shared[1].headers["X-Proxy-Cache"] == "HIT"
    assert "Log out" in signed_in[1].text
    assert "Log out" not in public[1].text
    for response in dashboard_page:
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "X-Proxy-Cache" not in response.headers  # not a shared page: nginx's cache is not even asked
    assert "Asha Verma" in dashboard_page[1].text
    for response in personal_json + page_state:
        assert response.headers["Cache-Control"] == "private, no-cache"
        assert response.headers["X-Proxy-Cache"] == "BYPASS"
    assert personal_json[1].json()["user"]["name"] == "Asha Verma"
    for response in api_with_authorization:
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Proxy-Cache"] == "BYPASS"
