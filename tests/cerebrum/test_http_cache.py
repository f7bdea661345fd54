"""Anonymous pages are cached in Redis and by HTTP caches; nothing personal is; a content write shows at once."""

from __future__ import annotations

import pytest
from django import forms
from django.http import HttpResponse, JsonResponse
from django.test import Client
from django.urls import include, path
from django.views import View

from cerebrum.cache import l1_clear, page_cache_bump
from cerebrum.http_cache import _view_for_path
from courses.models import Course
from tests.factories import CourseFactory, UserFactory


class PageForm(forms.Form):
    page = forms.IntegerField(min_value=1, max_value=5, required=False)


class CatalogView(View):
    shared_query_form = PageForm  # the only query a copy is kept for (cerebrum.http_cache._query_shareable)

    def get(self, request):
        prices = ",".join(str(fees) for fees in Course.objects.order_by("id").values_list("fees_paise", flat=True))
        return HttpResponse(f"<p>prices:{prices}</p>")


catalog_view = CatalogView.as_view()


def cookie_view(request):
    response = HttpResponse("with a cookie")
    response.set_cookie("anything", "1")
    return response


def private_view(request):
    response = JsonResponse({"who": "me"})
    response["Cache-Control"] = "private"
    return response


urlpatterns = [
    path(
        "",
        include(
            (
                [
                    path("catalog/", catalog_view, name="catalog"),
                    path("cookie/", cookie_view, name="cookie"),
                    path("private/", private_view, name="private"),
                    path("uncached/", catalog_view, name="uncached"),
                ],
                "courses",
            )
        ),
    )
]
pytestmark = pytest.mark.urls(__name__)


@pytest.fixture(autouse=True)
def _public_pages(settings):
    settings.PUBLIC_CACHE_PAGES = {"courses:catalog": 60, "courses:cookie": 60, "courses:private": 60}
    settings.MEMBER_CACHE_PAGES = {}  # signed-in pages: test_member_page_cache.py
    settings.PUBLIC_CACHE_S_MAXAGE = 10
    _view_for_path.cache_clear()
    l1_clear()
    yield
    l1_clear()


@pytest.mark.django_db
def test_anonymous_page_is_built_once_then_served_from_cache_without_sql(client, django_assert_num_queries):
    CourseFactory(fees_paise=4_500_000)

    first = client.get("/catalog/")
    with django_assert_num_queries(0):
        second = client.get("/catalog/")

    assert first["X-Cache"] == "MISS"
    assert second["X-Cache"] == "HIT"
    assert second.content == first.content == b"<p>prices:4500000</p>"
    assert second["Cache-Control"] == "public, max-age=0, s-maxage=10"
    assert second["ETag"] == first["ETag"]
    assert "Cookie" in second["Vary"]
    assert "Accept-Encoding" in second["Vary"]
    assert second["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_hit_served_from_redis_when_the_process_cache_is_empty(client, django_assert_num_queries):
    CourseFactory(fees_paise=100)
    client.get("/catalog/")
    l1_clear()  # another gunicorn worker: only Redis has the page

    with django_assert_num_queries(0):
        response = client.get("/catalog/")

    assert response["X-Cache"] == "HIT"
    assert response.content == b"<p>prices:100</p>"


@pytest.mark.django_db
@pytest.mark.parametrize("second_hit", [False, True])
def test_matching_if_none_match_gets_304_without_body(client, second_hit):
    CourseFactory()
    etag = client.get("/catalog/")["ETag"]
    if second_hit:
        client.get("/catalog/")

    response = client.get("/catalog/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


@pytest.mark.django_db
def test_stale_if_none_match_gets_the_page(client):
    CourseFactory(fees_paise=700)

    response = client.get("/catalog/", HTTP_IF_NONE_MATCH='"not-the-current-etag"')

    assert response.status_code == 200
    assert response.content == b"<p>prices:700</p>"


@pytest.mark.django_db(transaction=True)
def test_price_change_through_the_orm_shows_at_once(client):
    course = CourseFactory(fees_paise=100)
    assert client.get("/catalog/").content == b"<p>prices:100</p>"
    assert client.get("/catalog/")["X-Cache"] == "HIT"

    course.fees_paise = 250
    course.save(update_fields=["fees_paise"])
    response = client.get("/catalog/")

    assert response["X-Cache"] == "MISS"
    assert response.content == b"<p>prices:250</p>"


@pytest.mark.django_db(transaction=True)
def test_invalidated_update_also_invalidates(client):
    course = CourseFactory(fees_paise=100)
    client.get("/catalog/")

    Course.objects.filter(pk=course.pk).invalidated_update(fees_paise=300)

    assert client.get("/catalog/").content == b"<p>prices:300</p>"


@pytest.mark.django_db
def test_explicit_bump_makes_pages_of_that_area_stale(client):
    CourseFactory()
    client.get("/catalog/")

    page_cache_bump("courses")

    assert client.get("/catalog/")["X-Cache"] == "MISS"


@pytest.mark.django_db
def test_session_cookie_bypasses_cache_and_is_private(client):
    student = UserFactory()
    client.get("/catalog/")
    client.force_login(student)

    response = client.get("/catalog/")

    assert "X-Cache" not in response
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_pending_flash_message_bypasses_cache(client):
    CourseFactory()
    client.get("/catalog/")
    client.cookies["messages"] = "pending"

    response = client.get("/catalog/")

    assert "X-Cache" not in response


@pytest.mark.django_db
def test_authorization_header_bypasses_cache_and_is_private(client):
    CourseFactory()
    client.get("/catalog/")

    response = client.get("/catalog/", HTTP_AUTHORIZATION="Bearer abc")

    assert "X-Cache" not in response
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/cookie/", "/private/"])
def test_responses_that_set_cookies_or_are_private_are_never_stored(client, url):
    client.get(url)
    client.cookies.clear()

    response = client.get(url)

    assert response["X-Cache"] == "MISS"
    assert "public" not in response.get("Cache-Control", "")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/uncached/", "get"),
        ("/catalog/?utm_source=ig", "get"),
        ("/catalog/", "post"),
        ("/catalog/?q=" + "x" * 300, "get"),
    ],
)
def test_unlisted_pages_campaign_landings_and_posts_pass_through(client, url, method):
    CourseFactory()
    client.get("/catalog/")

    response = getattr(client, method)(url)

    assert "X-Cache" not in response


@pytest.mark.django_db
def test_query_string_is_part_of_the_key(client):
    CourseFactory()
    client.get("/catalog/?page=1")

    assert client.get("/catalog/?page=2")["X-Cache"] == "MISS"
    assert client.get("/catalog/?page=1")["X-Cache"] == "HIT"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "?utm_medium=x&page=1",  # a campaign landing: attribution runs
        "?fbclid=abc123",  # a parameter the page does not read
        "?page=1&junk=1",
        "?page=99",  # a value its form refuses
        "?page=abc",
        "?page=1&page=2",  # a parameter twice
        # The same valid query spelled another way is another key here and in nginx ($request_uri):
        "?page=1&",
        "?&page=1",
        "?&",
        "?%70age=1",
        "?page=%31",
        "?page=01",
        "?page=+1",
    ],
)
def test_a_query_the_page_does_not_read_is_answered_uncached_and_never_kept(client, query):
    # Each such URL would be one more copy in Redis and nginx: anyone could fill both with junk.
    CourseFactory()

    first = client.get(f"/catalog/{query}")
    second = client.get(f"/catalog/{query}")

    assert first.status_code == second.status_code == 200
    assert "X-Cache" not in first
    assert "X-Cache" not in second
    assert "s-maxage" not in first.get("Cache-Control", "")
    assert Client().get("/catalog/?page=3")["X-Cache"] == "MISS"  # a page the form accepts still is kept
