"""Signed-in pages from the page cache: one copy per role with each request's own CSRF token, the
dashboard rendered from its cached data (never a page copy), and nothing served across learners,
roles or pending messages."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.http import HttpRequest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from redis.client import Pipeline, Redis

from accounts.models import User
from cerebrum import edge
from cerebrum.http_cache import _view_for_path
from courses.caches import iso_week
from courses.models import Enrollment
from tests.factories import CourseFactory, UserFactory

pytestmark = pytest.mark.django_db
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_resolver_cache():
    _view_for_path.cache_clear()


def signed_in(user: User) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/")  # the once-per-5-minutes last-active write happens here
    return client


def test_learners_share_one_copy_each_with_a_csrf_token_that_works_for_them(django_assert_num_queries):
    course = CourseFactory(name="NEET 2027 Foundation")
    page = reverse("courses:course_detail", args=[course.slug])
    asha, ravi = signed_in(UserFactory(name="Asha")), signed_in(UserFactory(name="Ravi"))

    first = asha.get(page)
    with django_assert_num_queries(0):  # session, user and page all come from Redis
        second = ravi.get(page)

    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    first_tokens = CSRF_INPUT.findall(first.content.decode())
    second_tokens = CSRF_INPUT.findall(second.content.decode())
    assert len(second_tokens) == len(first_tokens) == 3  # the enroll form, the nav's log-out and language forms
    assert set(first_tokens).isdisjoint(second_tokens)
    assert CSRF_INPUT.sub("", first.content.decode()) == CSRF_INPUT.sub("", second.content.decode())
    assert second["Cache-Control"] == "private, no-store"
    # Ravi's token from the cached copy is accepted for Ravi's own POST.
    enrolled = ravi.post(reverse("courses:enroll", args=[course.slug]), {"csrfmiddlewaretoken": second_tokens[0]})
    assert enrolled.status_code == 302
    assert Enrollment.objects.filter(user__name="Ravi", course=course).exists()


def test_a_parent_gets_the_parent_nav_not_a_learners_copy():
    learner = signed_in(UserFactory())
    parent = signed_in(UserFactory(role=User.Role.PARENT))
    learner.get(reverse("courses:catalog"))

    learner_page = learner.get(reverse("courses:catalog"))
    parent_page = parent.get(reverse("courses:catalog"))

    assert learner_page["X-Cache"] == "HIT"
    assert parent_page["X-Cache"] == "MISS"
    assert "My children" in parent_page.content.decode()
    assert "My children" not in learner_page.content.decode()


def test_the_dashboard_renders_from_its_cached_data_never_a_cached_page(django_assert_num_queries):
    asha, ravi = UserFactory(name="Asha Verma"), UserFactory(name="Ravi Kumar")
    asha_client, ravi_client = signed_in(asha), signed_in(ravi)

    asha_client.get(reverse("courses:dashboard"))
    with django_assert_num_queries(0):  # the dashboard data and the revision line come from Redis
        asha_again = asha_client.get(reverse("courses:dashboard"))
    ravi_page = ravi_client.get(reverse("courses:dashboard"))

    assert asha_again["X-Cache"] == "HIT"  # the dashboard data (courses.caches), not a page copy:
    assert not cache.keys(f"mpage:*{reverse('courses:dashboard')}*")
    assert "Asha Verma" in asha_again.content.decode()
    assert "Ravi Kumar" in ravi_page.content.decode()
    assert "Asha Verma" not in ravi_page.content.decode()


def test_a_warm_dashboard_page_costs_no_sql_and_at_most_3_redis_round_trips(django_assert_num_queries, monkeypatch):
    # Budget (docs/architecture.md): session, user, then the dashboard data and the revision line in one MGET.
    client = signed_in(UserFactory(name="Asha Verma"))
    client.get(reverse("courses:dashboard"))
    client.get(reverse("courses:dashboard"))  # the last-active mark is in this process by now
    commands = []
    execute, execute_pipeline = Redis.execute_command, Pipeline.execute
    monkeypatch.setattr(Redis, "execute_command", lambda self, *a, **k: commands.append(a[0]) or execute(self, *a, **k))
    monkeypatch.setattr(
        Pipeline, "execute", lambda self, *a, **k: commands.append("PIPELINE") or execute_pipeline(self, *a, **k)
    )

    with django_assert_num_queries(0):
        page = client.get(reverse("courses:dashboard"))

    assert "Asha Verma" in page.content.decode()
    assert len(commands) <= 3, commands
    assert "MGET" in commands


def test_a_pending_message_is_shown_not_a_cached_page():
    client = signed_in(UserFactory())
    client.get(reverse("courses:catalog"))
    client.cookies["messages"] = CookieStorage(HttpRequest())._encode([Message(constants.SUCCESS, "Profile saved.")])

    page = client.get(reverse("courses:catalog"))

    assert page.get("X-Cache") != "HIT"
    assert "Profile saved." in page.content.decode()
    assert "Profile saved." not in client.get(reverse("courses:catalog")).content.decode()  # shown once


def test_a_deactivated_learner_is_signed_out_at_once():
    user = UserFactory()
    client = signed_in(user)
    assert client.get(reverse("courses:dashboard")).status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])  # what the admin's change form does

    assert client.get(reverse("courses:dashboard")).status_code == 302


def test_a_visitor_with_a_session_shares_the_guest_copy_never_a_learners():
    signed_in(UserFactory()).get(reverse("courses:catalog"))  # a learner's copy exists
    first, second = Client(), Client()
    for visitor in (first, second):  # free-test takers: a session holding no login
        session = visitor.session
        session["free_user_id"] = 1
        session.save()
        visitor.cookies["sessionid"] = session.session_key

    pages = [visitor.get(reverse("courses:catalog")) for visitor in (first, second)]

    assert [page["X-Cache"] for page in pages] == ["MISS", "HIT"]
    assert "Log in" in pages[1].content.decode()
    assert "Log out" not in pages[1].content.decode()


def test_a_visitor_without_a_session_is_left_to_the_public_cache():
    Client().get(reverse("courses:catalog"))  # stored once, by the public page cache
    with_session = Client()
    session = with_session.session
    session["free_user_id"] = 1
    session.save()
    with_session.cookies["sessionid"] = session.session_key

    assert with_session.get(reverse("courses:catalog"))["X-Cache"] == "MISS"  # no guest copy was made


# --- the page variant cookie nginx keys shared pages by (docs/caching.md, "nginx's page cache") ------


def test_the_variant_cookie_is_set_at_login_put_right_after_a_role_change_and_deleted_at_logout():
    # Given a student who logs in with the form
    user = UserFactory(email="asha@example.com", password="Chloroplast-2027")
    client = Client()
    client.post(reverse("accounts:login"), {"username": "asha@example.com", "password": "Chloroplast-2027"})
    after_login = client.cookies["cerebrum_view"].value

    # When staff make them a parent, and later they log out
    user.role = User.Role.PARENT
    user.save(update_fields=["role"])
    page = client.get(reverse("courses:catalog"))
    client.post(reverse("accounts:logout"))

    # Then the cookie named their variant, was put right on the next page (which was not shareable), and is gone
    assert after_login == "student"
    assert page["Cache-Control"] == "private, no-store"
    assert page.cookies["cerebrum_view"].value == "parent"
    assert client.cookies["cerebrum_view"].value == ""  # deleted: expired, empty


@pytest.mark.parametrize(
    ("edge_key", "cookies", "shared"),
    [
        ("/courses/||student", {}, True),
        ("/courses/||parent", {}, False),  # a student whose variant cookie said "parent" to nginx
        ("/courses/|hi|student", {}, False),  # nginx read another language cookie than Django (sent twice)
        ("/courses/|hi|student", {"django_language": "hi"}, True),
        ("/c%6Furses/||student", {}, False),  # the same page under another raw URI: one more copy in nginx
        ("/courses/?||student", {}, False),
    ],
)
def test_a_signed_in_page_is_shared_only_under_nginxs_key_for_the_sessions_own_variant(edge_key, cookies, shared):
    # Given a student whose page came through nginx's shared-page location, which says the key it stores under
    client = signed_in(UserFactory())
    client.cookies["cerebrum_view"] = "student"
    for name, value in cookies.items():
        client.cookies[name] = value

    # When they ask for the catalog
    page = client.get(reverse("courses:catalog"), HTTP_X_EDGE_KEY=edge_key)

    # Then only the real variant's (and language's) key gets a shareable page, with nginx's SSI for the token
    assert page["Cache-Control"] == ("public, max-age=0, s-maxage=10" if shared else "private, no-store")
    body = page.content.decode()
    masked_tokens = [token for token in CSRF_INPUT.findall(body) if len(token) == 64]  # Django's own, per request
    assert ('<!--# echo var="cookie_csrftoken"' in body) is shared
    assert len(masked_tokens) == (0 if shared else 2)  # the nav's log-out and language forms
    assert ("csrftoken" in page.cookies) is not shared  # a shared page sets no cookie (nginx would not keep it)


@pytest.mark.parametrize(
    ("path", "shared"),
    [
        ("/courses/?class_level=12&type=ONLINE", True),  # the catalog's own filters
        ("/courses/?type=NOSUCH", False),
        ("/courses/?gclid=abc", False),
        ("/tests/?page=2", False),  # the test list reads no query
        ("/leaderboards/topics/cell-organelles/?week=THIS", True),
        ("/leaderboards/topics/cell-organelles/?week=2001-W05", False),  # valid, but older than the kept weeks
    ],
)
def test_only_the_query_a_page_reads_makes_a_shared_copy_or_an_edge_key(path, shared):
    # Given a student coming through nginx's shared-page location
    path = path.replace("THIS", iso_week(timezone.localdate()))
    client = signed_in(UserFactory())
    client.cookies["cerebrum_view"] = "student"
    edge._redis().delete(cache.make_key(edge.EDGE_KEYS))

    # When they open a page with this query
    page = client.get(path, HTTP_X_EDGE_KEY=f"{path}||student")

    # Then junk in the query string gets a private answer: no copy in nginx, none recorded for a purge
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("public, max-age=0, s-maxage=" if shared else "private, no-store")
    assert (edge._redis().zcard(cache.make_key(edge.EDGE_KEYS)) == 1) is shared
