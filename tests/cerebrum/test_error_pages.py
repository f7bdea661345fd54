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


def _denied(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied("internal reason")


def _refused(request):
    from cerebrum.errors import Conflict

    raise Conflict("This enrollment is not awaiting payment.", fields={"enrollment_id": ["Not pending."]})


def _not_found(request):
    from cerebrum.errors import NotFound

    raise NotFound("Payment not found.")


urlpatterns = [
    path("refused/", _refused),
    path("not-found/", _not_found),
    path("denied/", _denied),
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


def test_a_form_whose_csrf_token_expired_gets_the_sites_own_403_page():
    # Review (issue 14 item 10 sibling): a login form left open while the learner signed in elsewhere
    # (the token rotates) answered Django's bare "CSRF verification failed" page with no way home.
    from django.test import Client

    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "a@example.com", "password": "x"})

    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_page(html)
    assert "CSRF verification failed" not in html
    assert "reload" in html.lower()


def test_api_csrf_failure_stays_json(client):
    # A signed-in browser's API write without the CSRF header keeps the API's error shape.
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(UserFactory())

    response = browser.patch("/api/v1/me", {"name": "Asha"}, content_type="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["code"]


@pytest.mark.urls(__name__)
def test_403_is_the_sites_own_page(client):
    client.force_login(UserFactory())

    response = client.get("/denied/")

    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_page(html)
    assert "internal reason" not in html


@pytest.mark.urls(__name__)
def test_a_domain_error_on_a_page_is_its_status_with_its_message(client):
    # The pages' one DomainError mapping (cerebrum.middleware.DomainErrorMiddleware).
    response = client.get("/refused/")

    assert response.status_code == 409
    html = response.content.decode()
    _assert_site_page(html)
    assert "This enrollment is not awaiting payment." in html


@pytest.mark.urls(__name__)
def test_a_not_found_on_a_page_is_the_sites_404_page(client):
    response = client.get("/not-found/")

    assert response.status_code == 404
    _assert_site_page(html := response.content.decode())
    assert "We could not find that page" in html
