"""The 404 and 500 pages are the site's own pages; API paths keep JSON errors (issue 14 item 10).

This module is also the URLconf of its 500 tests (`pytest.mark.urls`): a page and an API path that raise.
"""

from __future__ import annotations

import pytest
from django.urls import include, path

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("secret internals: password=hunter2 at /srv/cerebrum/app.py line 42")


urlpatterns = [
    path("boom/", _boom),
    path("api/v1/boom", _boom),
    path("", include("cerebrum.urls")),
]
handler404 = "cerebrum.api.handler404"
handler500 = "cerebrum.api.handler500"


def _assert_site_page(html: str) -> None:
    assert '<header class="site-header">' in html
    assert 'href="/"' in html  # a way home
    assert "Courses" in html  # the site's navigation
    assert "Traceback" not in html


@pytest.mark.parametrize("url", ["/no-such-page/", "/courses/no-such-course/", "/attempts/999999/"])
def test_404_is_the_sites_own_page(client, url):
    client.force_login(UserFactory())

    response = client.get(url)

    assert response.status_code == 404
    html = response.content.decode()
    _assert_site_page(html)
    assert "We could not find that page" in html


def test_404_for_a_visitor_offers_log_in(client):
    html = client.get("/no-such-page/").content.decode()

    _assert_site_page(html)
    assert "Log in" in html


def test_api_404_stays_json(client):
    response = client.get("/api/v1/no-such-thing")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.urls("tests.cerebrum.test_error_pages")
def test_500_is_the_sites_own_page_without_details(client):
    client.raise_request_exception = False

    response = client.get("/boom/")

    assert response.status_code == 500
    html = response.content.decode()
    _assert_site_page(html)
    assert "Something went wrong on our side" in html
    assert "hunter2" not in html
    assert "RuntimeError" not in html
    assert "app.py" not in html


@pytest.mark.urls("tests.cerebrum.test_error_pages")
def test_api_500_stays_json_without_details(client):
    client.raise_request_exception = False

    response = client.get("/api/v1/boom")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "server_error"
    assert "hunter2" not in response.content.decode()
