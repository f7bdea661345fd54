"""Control characters are refused at the door, in one place (cerebrum.middleware.ControlCharacterMiddleware).

Issue 14 item 7: a NUL byte in the login form's username was a 500 (PostgreSQL refuses NUL in text), and
`?utm_source=%00` halted analytics. Every form, query parameter, header and JSON body of pages, API and
webhooks now gets a 400 (the API's error shape under /api/), cookies carrying one are dropped.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuthLog, FreeUser, User
from analytics.models import AnalyticsEvent
from payments.models import PaymentEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
REFUSED = {"code": "control_characters", "message": "Control characters (such as NUL) are not allowed in requests."}


@pytest.mark.parametrize("username", ["learner\x00@example.com", "98765\x0002222", "\x00", "a\x1bb@example.com"])
def test_control_character_in_the_login_username_is_400_not_500(client, username):
    # given the example: a NUL byte typed (or sent) in the login form's username
    UserFactory(email="learner@example.com")

    response = client.post(reverse("accounts:login"), {"username": username, "password": "whatever-123"})

    # then the site's own 400 page, and nothing written (no auth log, no lockout row)
    assert response.status_code == 400
    assert "Control characters" in response.content.decode()
    assert "<header" in response.content.decode()
    assert not AuthLog.objects.exists()


def test_signup_form_with_a_nul_in_the_name_writes_nothing(client):
    data = {"name": "Asha\x00", "email": "asha@example.com", "password": "a-long-password-1", "grade": "12"}

    response = client.post(reverse("accounts:signup"), data)

    assert response.status_code == 400
    assert not User.objects.filter(email="asha@example.com").exists()


@pytest.mark.parametrize(
    ("path", "where"),
    [
        ("/api/v1/courses?cursor=%00", "query.cursor"),
        ("/api/v1/courses?%00=1", "query.\x00"),
        ("/api/v1/tests?utm_source=x%7Fy", "query.utm_source"),
    ],
)
def test_api_query_parameters_with_control_characters_are_400_in_the_error_shape(client, path, where):
    response = client.get(path)

    assert response.status_code == 400
    assert response.json() == {"error": {**REFUSED, "fields": {where: [REFUSED["message"]]}}}


@pytest.mark.parametrize("path", ["/?utm_campaign=neet%00", "/courses/?utm_source=%01", "/notes/?q=%1F"])
def test_page_query_parameters_with_control_characters_are_400(client, path):
    response = client.get(path)

    assert response.status_code == 400
    assert not AnalyticsEvent.objects.exists()


def test_path_with_a_nul_is_400(client):
    assert client.get("/courses/a%00b/").status_code == 400


@pytest.mark.parametrize("header", ["HTTP_USER_AGENT", "HTTP_REFERER", "HTTP_X_REQUESTED_WITH", "HTTP_IDEMPOTENCY_KEY"])
def test_headers_with_control_characters_are_400(client, header):
    response = client.get("/api/v1/courses", **{header: "x\x00y"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "control_characters"


def test_cookie_with_a_nul_is_dropped_and_the_page_served(client):
    client.cookies["cb_aid"] = "visitor\x00id"

    response = client.get("/?utm_source=google")

    assert response.status_code == 200
    # the landing is recorded under a fresh visitor id, not the poisoned one
    assert response.cookies["cb_aid"].value != "visitor\x00id"


@pytest.mark.parametrize(
    "body",
    [
        b'{"identifier": "a\\u0000b", "password": "x"}',
        b'{"identifier": "a\\u001bb", "password": "x"}',
        b'{"identifier": "a\\\\\\u0000b", "password": "x"}',  # escaped backslash, then a real \u0000
        b'{"identifier": "\\ud800", "password": "x"}',  # a lone surrogate: not storable as UTF-8
        b'{"identifier": "a\x7fb", "password": "x"}',  # DEL is valid JSON unescaped
    ],
)
def test_json_bodies_with_control_characters_are_400(client, body):
    response = client.post("/api/v1/auth/register", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "control_characters"


@pytest.mark.parametrize(
    "body",
    [
        b'{"email": "a\\\\u0000b@example.com"}',  # the six characters \u0000 as text, not a NUL
        b'{"email": "tab\\tand\\nnewline@example.com"}',  # tab and newline are ordinary text
        b'{"email": "\\ud83d\\ude00@example.com"}',  # a surrogate pair is an emoji
    ],
)
def test_json_bodies_without_control_characters_pass_the_door(client, body):
    response = client.post("/api/v1/auth/password/reset", body, content_type="application/json")

    assert response.status_code != 400 or response.json()["error"]["code"] != "control_characters"


def test_page_forms_keep_newlines_and_tabs(client):
    response = client.get("/courses/?q=cell%09biology%0A")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url", "content_type"),
    [
        ("/payments/webhooks/razorpay/", "application/json"),
        ("/communications/whatsapp/webhook/", "application/json"),
        ("/api/v1/events", "application/json"),
    ],
)
def test_webhooks_and_event_ingestion_refuse_escaped_nul(client, url, content_type):
    body = b'{"event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_\\u0000"}}}}'

    response = client.post(url, body, content_type=content_type, HTTP_X_RAZORPAY_SIGNATURE="sig")

    assert response.status_code == 400
    assert not PaymentEvent.objects.exists()


def test_free_test_form_with_a_nul_phone_is_400(client):
    # the lead form: name + phone, stored as a FreeUser
    response = client.post("/tests/some-free-test/start/", {"name": "Lead\x00", "phone": "9876502222"})

    assert response.status_code == 400
    assert not FreeUser.objects.exists()


def test_a_raw_nul_in_a_json_body_is_malformed_json(client):
    # JSON forbids raw control characters: the parser's own 400 says so
    response = client.post("/api/v1/auth/register", b'{"identifier": "a\x00b"}', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("path", ["/api/v1/courses?q=%00", "/courses/?q=%00", "/nope%00/"], ids=["api", "page", "path"])
def test_refusals_carry_the_security_headers(client, path):
    # The refusal is answered before the rest of the stack runs; the security middleware still sees it.
    response = client.get(path)

    assert response.status_code == 400
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    if not path.startswith("/api/"):  # JSON is never framed: the API's stack sets no X-Frame-Options
        assert response["X-Frame-Options"] == "DENY"
