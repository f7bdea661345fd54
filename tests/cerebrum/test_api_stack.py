"""The API's own middleware stack (issue 17 item 4) and the audit context paid only by audited writes.

JSON endpoints skip the page machinery (messages, member page cache, X-Frame-Options, CSRF middleware);
a JWT request never touches the session store, even with a session cookie beside it; CSRF still guards
a session-authenticated unsafe API call; the audit context reaches exactly the statements the audit
triggers record, with the user who made them (session or JWT).
"""

from __future__ import annotations

from importlib import import_module

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework_simplejwt.tokens import AccessToken

from audit.models import AttemptScoreAudit
from courses import caches
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db
CSRF_SECRET = "s" * 32


@pytest.fixture
def session_store_calls(monkeypatch):
    """Every read or write of the session store (the engine's SessionStore: cache, then database)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    calls: list[str] = []
    for name in ("load", "save", "create", "delete", "exists", "cycle_key"):
        original = getattr(store, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(store, name, spy)
    return calls


def _signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _events(count: int = 2) -> dict:
    from django.utils import timezone

    now = timezone.now().isoformat()
    return {
        "events": [
            {
                "event_id": f"00000000-0000-4000-8000-{i:012d}",
                "type": "PAGE_VIEW",
                "name": "page_view",
                "timestamp": now,
            }
            for i in range(count)
        ]
    }


def test_a_jwt_request_never_touches_the_session_store_even_with_a_session_cookie(session_store_calls):
    # given a learner whose browser holds a signed-in session and whose app sends a JWT
    user = UserFactory()
    client = _signed_in(user, headers={"authorization": f"Bearer {AccessToken.for_user(user)}"})
    session_store_calls.clear()

    # when the app reads its dashboard and sends an event batch
    read = client.get("/api/v1/dashboard")
    sent = client.post("/api/v1/events", _events(), content_type="application/json")

    # then both are answered for the JWT's user, and the session store was never read or written
    assert (read.status_code, sent.status_code) == (200, 202)
    assert read.wsgi_request.user == user
    assert session_store_calls == []


def test_a_session_call_still_reads_the_session(session_store_calls):
    user = UserFactory()
    client = _signed_in(user)
    session_store_calls.clear()

    assert client.get("/api/v1/dashboard").status_code == 200
    assert session_store_calls == ["load"]


def test_a_session_authenticated_unsafe_api_call_needs_the_csrf_token():
    # given a signed-in browser (session cookie and CSRF cookie) and a free test
    user = UserFactory()
    test = PracticeTestFactory(question_count=3, is_free=True)
    client = _signed_in(user, enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET

    # when it starts the test through the API without the token, then with it
    refused = client.post(f"/api/v1/tests/{test.slug}/attempts", {}, content_type="application/json")
    started = client.post(
        f"/api/v1/tests/{test.slug}/attempts", {}, content_type="application/json", headers={"x-csrftoken": CSRF_SECRET}
    )

    # then the first is refused with the API's error shape and nothing is written; the second starts
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "permission_denied"
    assert started.status_code == 201
    assert user.attempts.count() == 1


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        ("Bearer not.a.jwt", 401),  # a forged token beside a valid session is refused, not ignored
        ("Basic Zm9vOmJhcg==", 403),  # not a JWT: the session authenticates, so CSRF must hold
        ("Token abc", 403),
    ],
)
def test_a_session_cookie_with_another_authorization_header_gets_no_way_around_csrf(authorization, status):
    # given a signed-in browser (session and CSRF cookies) and a free test
    user = UserFactory()
    test = PracticeTestFactory(question_count=3, is_free=True)
    client = _signed_in(user, enforce_csrf_checks=True, headers={"authorization": authorization})
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET

    # when a page elsewhere makes it start the test through the API without the CSRF token
    response = client.post(f"/api/v1/tests/{test.slug}/attempts", {}, content_type="application/json")

    # then it is refused and nothing is written
    assert response.status_code == status
    assert user.attempts.count() == 0


def test_api_requests_skip_the_page_machinery_and_pages_keep_it():
    user = UserFactory()
    client = _signed_in(user)

    api = client.get("/api/v1/dashboard")
    page = client.get("/dashboard/")

    assert api.status_code == page.status_code == 200
    assert "X-Frame-Options" not in api.headers
    assert not hasattr(api.wsgi_request, "_messages")  # the messages middleware did not run
    assert page.headers["X-Frame-Options"] == "DENY"
    assert hasattr(page.wsgi_request, "_messages")


def _started_attempt(client: Client, test) -> int:
    response = client.post(f"/tests/{test.slug}/start/")
    assert response.status_code == 302
    return int(response["Location"].rstrip("/").split("/")[-1])


def test_requests_that_write_no_audited_row_carry_no_audit_context():
    # given a learner on a free test (a start inserts an attempt: its audit trigger is update-only)
    user = UserFactory()
    test = PracticeTestFactory(question_count=3, is_free=True)
    client = _signed_in(user)
    question = caches.paper_get(test)["questions"][0]["id"]

    # when they start and save an answer
    with CaptureQueriesContext(connection) as captured:
        attempt_id = _started_attempt(client, test)
        saved = client.post(
            f"/attempts/{attempt_id}/answer/",
            {"answers": [{"question_id": question, "option": "A", "seq": 1}]},
            content_type="application/json",
            headers={"accept": "application/json"},
        )

    # then no statement carried pghistory's set_config
    assert saved.status_code == 200
    assert not [q["sql"] for q in captured.captured_queries if "set_config" in q["sql"]]


@pytest.mark.parametrize("how", ["session page", "jwt api"])
def test_a_submit_is_audited_with_the_user_who_made_it(how):
    # given a learner with a running attempt
    user = UserFactory()
    test = PracticeTestFactory(question_count=3, is_free=True)
    client = _signed_in(user)
    attempt_id = _started_attempt(client, test)

    # when they submit from the exam page (session) or from the app (JWT)
    if how == "session page":
        path = f"/attempts/{attempt_id}/submit/"
        response = client.post(path, {"confirm": "1"})
    else:
        path = f"/api/v1/attempts/{attempt_id}/submit"
        app = Client(headers={"authorization": f"Bearer {AccessToken.for_user(user)}"})
        response = app.post(path, {}, content_type="application/json")

    # then the score change is audited once, naming the learner and the URL
    assert response.status_code in (200, 302)
    audit = AttemptScoreAudit.objects.select_related("pgh_context").get(pgh_obj_id=attempt_id)
    assert audit.pgh_context.metadata == {"user": user.pk, "url": path}
