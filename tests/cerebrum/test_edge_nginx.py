"""Shared pages from nginx for signed-in learners (issue 17 item 1), through the shipped template with its page
cache on, in front of a live server on PostgreSQL and Redis: one copy per page variant holds no one's CSRF
token (nginx's SSI puts each requester's own in), the personal bits come from each learner's own JSON, a
forged variant cookie poisons nothing, and a content edit is purged from nginx before the next request."""

from __future__ import annotations

import http.client
import re
import shutil
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse
from requests.cookies import remove_cookie_by_name
from rest_framework_simplejwt.tokens import RefreshToken

from courses import services
from courses.models import Course, Enrollment
from tests.cerebrum.admin_forms import admin_form_data
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ParentFactory,
    PracticeTestFactory,
    StaffFactory,
    UserFactory,
)
from tests.nginx_serving import nginx_in_front

pytestmark = [
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed"),
    pytest.mark.django_db(transaction=True),  # the live server sees the rows; content versions move on commit
]
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')
SSI = b'<!--# echo var="cookie_csrftoken" encoding="entity" default="" -->'


@pytest.fixture
def nginx(tmp_path, live_server, settings):
    """The shipped template, page cache on, in front of the live server, purged by Django; yields its URL."""
    with nginx_in_front(tmp_path, live_server, settings) as url:
        yield url


class Browser:
    """One browser through nginx: its cookie jar, signed in as `user` (a real session) or anonymous."""

    def __init__(self, base: str, user=None):
        self.base, self.http = base, requests.Session()
        if user is not None:
            client = Client()
            client.force_login(user)
            self.http.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)

    def get(self, path: str, **headers: str) -> requests.Response:
        return self.http.get(f"{self.base}{path}", headers={"Host": "localhost", **headers}, timeout=30)

    def post(self, path: str, data: dict) -> requests.Response:
        url = f"{self.base}{path}"
        return self.http.post(url, data=data, headers={"Host": "localhost"}, allow_redirects=False, timeout=30)

    def cookie(self, name: str) -> str | None:
        return self.http.cookies.get(name)

    def set_cookie(self, name: str, value: str) -> None:
        remove_cookie_by_name(self.http.cookies, name)
        self.http.cookies.set(name, value)


def cached_files(run_dir: Path) -> list[bytes]:
    return [path.read_bytes() for path in (run_dir / "cache").rglob("*") if path.is_file()]


def test_two_learners_share_one_copy_with_their_own_token_and_their_own_page_state(nginx, tmp_path):
    # Given two learners: Asha enrolled in the course, Ravi with an attempt running on the test
    course, test = CourseFactory(), PracticeTestFactory(question_count=2)
    asha_user, ravi_user = UserFactory(name="Asha Verma"), UserFactory(name="Ravi Kumar")
    enrollment = EnrollmentFactory(user=asha_user, course=course, status=Enrollment.Status.ACTIVE)
    attempt = services.attempt_start(test=test, user=ravi_user)
    asha, ravi = Browser(nginx, asha_user), Browser(nginx, ravi_user)
    page = reverse("courses:course_detail", args=[course.slug])
    first_visits = [browser.get(page) for browser in (asha, ravi)]  # Django gives each its variant cookie

    # When each asks for the course, test and leaderboard pages through nginx
    pages = {}
    for path in (
        page,
        reverse("courses:test_detail", args=[test.slug]),
        reverse("courses:leaderboard", args=[test.slug]),
    ):
        pages[path] = (asha.get(path), ravi.get(path))

    # Then the first visit (no variant cookie yet) was Django's and private, and set the cookies
    for response in first_visits:
        assert response.headers["Cache-Control"] == "private, no-store"
        assert response.headers["X-Proxy-Cache"] == "BYPASS"
    assert (asha.cookie("cerebrum_view"), ravi.cookie("cerebrum_view")) == ("student", "student")
    # each page is nginx's one copy: stored from Asha's request, a HIT for Ravi, public for a few seconds
    for asha_page, ravi_page in pages.values():
        assert (asha_page.status_code, ravi_page.status_code) == (200, 200)
        assert (asha_page.headers["X-Proxy-Cache"], ravi_page.headers["X-Proxy-Cache"]) == ("MISS", "HIT")
        assert asha_page.headers["Cache-Control"].startswith("public, max-age=0, s-maxage=")
        assert "Set-Cookie" not in asha_page.headers
        # identical but for each one's own token, which is their own CSRF cookie
        assert CSRF_INPUT.sub("", asha_page.text) == CSRF_INPUT.sub("", ravi_page.text)
        assert set(CSRF_INPUT.findall(asha_page.text)) <= {asha.cookie("csrftoken")}
        assert set(CSRF_INPUT.findall(ravi_page.text)) <= {ravi.cookie("csrftoken")}
    assert set(CSRF_INPUT.findall(pages[page][1].text)) == {ravi.cookie("csrftoken")}
    assert "Asha" not in pages[page][1].text
    board = pages[reverse("courses:leaderboard", args=[test.slug])][1].text
    assert '<p class="card" id="my-rank" hidden' in board  # filled by page_state.js from Ravi's own rank JSON
    # nginx's stored copies hold the SSI directive, nobody's token
    stored = b"".join(cached_files(tmp_path))
    assert SSI in stored
    for browser in (asha, ravi):
        assert browser.cookie("csrftoken").encode() not in stored
    # each learner's own state comes from their own JSON
    asha_state, ravi_state = (browser.get("/api/v1/me/page-state") for browser in (asha, ravi))
    assert asha_state.json() == {"enrolled": {course.slug: enrollment.pk}, "running": {}}
    assert ravi_state.json() == {"enrolled": {}, "running": {test.slug: attempt.pk}}
    for response in (asha_state, ravi_state):
        assert response.headers["Cache-Control"] == "private, no-cache"

    # And a POST with one's own token from the shared page succeeds, with the other's it is refused
    enroll = reverse("courses:enroll", args=[course.slug])
    (ravi_token,) = set(CSRF_INPUT.findall(pages[page][1].text))
    refused = ravi.post(enroll, {"csrfmiddlewaretoken": asha.cookie("csrftoken")})
    enrolled = ravi.post(enroll, {"csrfmiddlewaretoken": ravi_token})
    assert refused.status_code == 403
    assert enrolled.status_code == 302
    assert Enrollment.objects.filter(user=ravi_user, course=course).exists()


def test_a_forged_variant_cookie_is_never_stored_under_that_variant(nginx):
    # Given a student who claims the parents' variant, and a real parent
    course = CourseFactory()
    page = reverse("courses:course_detail", args=[course.slug])
    forger, parent = Browser(nginx, UserFactory()), Browser(nginx, ParentFactory())
    forger.get(page)  # a valid session and CSRF cookie
    parent.get(page)
    forger.set_cookie("cerebrum_view", "parent")

    # When the forger asks first, then the parent
    forged = forger.get(page)
    real = parent.get(page)

    # Then the forger's answer was Django's, private, with the cookie put right; the parent's copy is a
    # parent's, from Django (nothing was stored for them) and then shared by nginx
    assert forged.headers["Cache-Control"] == "private, no-store"
    assert forged.headers["X-Proxy-Cache"] == "MISS"
    assert forged.cookies["cerebrum_view"] == "student"
    assert "My children" not in forged.text
    assert real.headers["X-Proxy-Cache"] == "MISS"
    assert "My children" in real.text
    assert parent.get(page).headers["X-Proxy-Cache"] == "HIT"


def test_a_content_edit_in_the_admin_shows_on_the_next_request_for_learners_and_visitors(nginx):
    # Given a course page nginx keeps for two learners (one copy), an anonymous visitor and a parent, and for
    # a learner, a visitor and a parent in Hindi
    course = CourseFactory(name="NEET Foundation 2027")
    page = reverse("courses:course_detail", args=[course.slug])
    browsers = [
        Browser(nginx, UserFactory()),
        Browser(nginx, UserFactory()),
        Browser(nginx),
        Browser(nginx, ParentFactory()),
    ]
    in_hindi = [Browser(nginx, UserFactory()), Browser(nginx), Browser(nginx, ParentFactory())]
    for browser in in_hindi:
        browser.set_cookie("django_language", "hi")
    for browser in browsers + in_hindi:
        browser.get(page)
        browser.get(page)
    assert [browser.get(page).headers["X-Proxy-Cache"] for browser in browsers + in_hindi] == ["HIT"] * 7

    # When staff rename the course in the admin (the page's copies would live their s-maxage otherwise)
    staff = Client()
    staff.force_login(StaffFactory())
    change = reverse("admin:courses_course_change", args=[course.pk])
    saved = staff.post(change, admin_form_data(staff.get(change).content.decode(), name="NEET Achiever 2027"))
    assert saved.status_code == 302

    # Then the very next request of each gets the new page from Django (nginx's copies had expired), and
    # the second learner the first one's new copy
    after = [browser.get(page) for browser in browsers + in_hindi]
    assert [response.headers["X-Proxy-Cache"] for response in after] == ["EXPIRED", "HIT"] + ["EXPIRED"] * 5
    assert all("NEET Achiever 2027" in response.text for response in after)
    assert [response.headers["Content-Language"] for response in after] == ["en-in"] * 4 + ["hi"] * 3
    assert Course.objects.get(pk=course.pk).name == "NEET Achiever 2027"


def test_a_learners_own_enrollment_and_start_show_at_once_in_their_page_state(nginx):
    # Given a learner holding their page state's ETag, on a shared course page
    course, test = CourseFactory(), PracticeTestFactory(question_count=2)
    learner = Browser(nginx, UserFactory())
    course_page = reverse("courses:course_detail", args=[course.slug])
    learner.get(course_page)
    (token,) = set(CSRF_INPUT.findall(learner.get(course_page).text))
    before = learner.get("/api/v1/me/page-state")
    assert learner.get("/api/v1/me/page-state", **{"If-None-Match": before.headers["ETag"]}).status_code == 304

    # When they enroll, then start the test, with the shared pages' forms
    enrolled = learner.post(reverse("courses:enroll", args=[course.slug]), {"csrfmiddlewaretoken": token})
    after_enroll = learner.get("/api/v1/me/page-state", **{"If-None-Match": before.headers["ETag"]})
    started = learner.post(reverse("courses:test_start", args=[test.slug]), {"csrfmiddlewaretoken": token})
    after_start = learner.get("/api/v1/me/page-state", **{"If-None-Match": after_enroll.headers["ETag"]})

    # Then each write shows in their next page state at once
    enrollment = Enrollment.objects.get(course=course)
    assert (enrolled.status_code, started.status_code) == (302, 302)
    assert after_enroll.status_code == 200
    assert after_enroll.json() == {"enrolled": {course.slug: enrollment.pk}, "running": {}}
    assert after_start.status_code == 200
    attempt_id = after_start.json()["running"][test.slug]
    assert started.headers["Location"] == reverse("courses:attempt", args=[attempt_id])


def test_authorization_a_flash_message_or_a_campaign_link_always_reach_django(nginx):
    # Given a catalog page nginx keeps for visitors
    learner = UserFactory()
    catalog = reverse("courses:catalog")
    visitor = Browser(nginx)
    visitor.get(catalog)
    assert visitor.get(catalog).headers["X-Proxy-Cache"] == "HIT"
    bearer = f"Bearer {RefreshToken.for_user(learner).access_token}"

    # When the page is asked for with Authorization, with a campaign link, with a message waiting
    with_token = visitor.get(catalog, Authorization=bearer)
    campaign = visitor.get(f"{catalog}?utm_source=whatsapp")
    visitor.set_cookie("messages", "x")
    with_message = visitor.get(catalog)

    # Then nginx passed each to Django and stored none
    assert with_token.headers["X-Proxy-Cache"] == "BYPASS"
    assert with_token.headers["Cache-Control"] == "private, no-store"
    assert campaign.headers["X-Proxy-Cache"] == "BYPASS"
    assert with_message.headers["X-Proxy-Cache"] == "BYPASS"


def test_public_api_json_is_expired_by_an_edit_and_never_stored_under_a_doubled_language_cookie(nginx, settings):
    # Given the course list JSON that nginx keeps for apps without a session, and an allowed web origin
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    course = CourseFactory(name="NEET Foundation 2027")
    api = reverse("courses_api:course_list")
    app = Browser(nginx)
    app.get(api)
    assert app.get(api).headers["X-Proxy-Cache"] == "HIT"

    # When staff rename the course, a client sends the language cookie twice (nginx keys the first, Django
    # reads the last), and a web app on the allowed origin asks
    admin_rename(course, "NEET Achiever 2027")
    after_edit = app.get(api)
    doubled = app.get(api, Cookie="django_language=en-in; django_language=hi")
    from_origin = app.get(api, Origin="https://app.example.com")

    # Then the edit shows on the very next request, the doubled cookie's answer is private and stored for
    # no one, and the origin's CORS answer reached Django and is not replayed to a client without one
    assert after_edit.headers["X-Proxy-Cache"] == "EXPIRED"
    assert "NEET Achiever 2027" in after_edit.text
    assert doubled.headers["Cache-Control"] == "private, no-store"
    assert from_origin.headers["X-Proxy-Cache"] == "BYPASS"
    assert from_origin.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    plain = app.get(api)
    assert plain.headers["X-Proxy-Cache"] == "HIT"
    assert "Access-Control-Allow-Origin" not in plain.headers


def admin_rename(course: Course, name: str) -> None:
    """A content edit through the admin (its save runs the page-version bump and nginx's refresh)."""
    staff = Client()
    staff.force_login(StaffFactory())
    change = reverse("admin:courses_course_change", args=[course.pk])
    assert staff.post(change, admin_form_data(staff.get(change).content.decode(), name=name)).status_code == 302


def test_a_learner_holding_two_csrf_cookies_gets_forms_that_post(nginx):
    # Given a course page nginx keeps for students, and a learner whose browser holds two csrftoken cookies (a
    # parent domain's first: nginx's SSI would put that one in, Django checks the last)
    course = CourseFactory()
    page = reverse("courses:course_detail", args=[course.slug])
    other = Browser(nginx, UserFactory())
    other.get(page)
    assert other.get(page).headers["X-Proxy-Cache"] == "MISS"
    learner = Browser(nginx, UserFactory())
    learner.get(page)  # a session, its variant and CSRF cookies
    cookies = f"csrftoken={'A' * 32}; " + "; ".join(f"{name}={value}" for name, value in learner.http.cookies.items())

    # When the learner asks for the page and posts its enroll form
    answer = learner.get(page, Cookie=cookies)
    (token,) = set(CSRF_INPUT.findall(answer.text))
    enroll = requests.post(
        f"{nginx}{reverse('courses:enroll', args=[course.slug])}",
        data={"csrfmiddlewaretoken": token},
        headers={"Host": "localhost", "Cookie": cookies},
        allow_redirects=False,
        timeout=30,
    )

    # Then nginx passed the page by to Django, which put its own token in and kept it private, and it posts
    assert answer.headers["X-Proxy-Cache"] == "BYPASS"
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert enroll.status_code == 302


def test_a_clients_own_edge_headers_neither_refresh_a_copy_nor_poison_one(tmp_path, live_server, settings):
    # Given nginx that takes refreshes from 192.0.2.1 and loopback's 127.0.0.1 only, keeping the catalog
    CourseFactory()
    catalog = reverse("courses:catalog")
    with nginx_in_front(tmp_path, live_server, settings, EDGE_REFRESH_FROM="192.0.2.1/32") as url:
        visitor = Browser(url)
        visitor.get(catalog)
        assert visitor.get(catalog).headers["X-Proxy-Cache"] == "HIT"

        # When a client on 127.0.0.2 asks for a refresh, and another claims nginx keyed its doubled language
        # cookie's Hindi page under Hindi
        refresh = get_from("127.0.0.2", url, catalog, {"X-Edge-Refresh": "1"})
        forged = visitor.get(
            f"{catalog}?class_level=12",
            Cookie="django_language=en-in; django_language=hi",
            **{"X-Edge-Key": f"{catalog}?class_level=12|hi|anon"},
        )

        # Then the copy was served, not refreshed, and Django saw nginx's own key: private, stored for no one
        assert refresh.getheader("X-Proxy-Cache") == "HIT"
        assert refresh.getheader("Content-Length") != "0"
        assert visitor.get(catalog).headers["X-Proxy-Cache"] == "HIT"
        assert forged.headers["Cache-Control"] == "private, no-store"
        assert visitor.get(f"{catalog}?class_level=12").headers["Content-Language"] == "en-in"


def get_from(source: str, base: str, path: str, headers: dict) -> http.client.HTTPResponse:
    """A GET sent from the local address `source` (a client that is not loopback's 127.0.0.1)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30, source_address=(source, 0))
    connection.request("GET", path, headers={"Host": "localhost", **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response
