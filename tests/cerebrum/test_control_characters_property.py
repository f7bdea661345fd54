"""Property: text with control characters sent to every page, form and API operation is never a 5xx and
never stored (issue 14 item 7).

Pages come from walking the URL patterns (each with real ids and slugs of a small world, as a signed-in
learner), their forms from the HTML they serve; API operations come from the OpenAPI schema. Each
endpoint gets a few generated examples (hypothesis), so the file stays well under a minute.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_simplejwt.tokens import RefreshToken

from analytics import services as analytics_services
from courses import services
from tests.factories import ChapterNoteFactory, CourseFactory, EnrollmentFactory, PracticeTestFactory, UserFactory

EXAMPLES_PER_ENDPOINT = 3
CONTROL = "".join(chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F))
# Text holding at least one control character, anywhere.
control_text = st.builds(
    lambda before, control, after: before + control + after,
    st.text(max_size=6),
    st.text(alphabet=CONTROL, min_size=1, max_size=3),
    st.text(max_size=6),
)
STORED_CONTROL = re.compile("[" + CONTROL[1:] + "]")  # PostgreSQL cannot store NUL at all
# Ending sessions or rebuilding rollups would only end the walk early; neither takes text.
SKIPPED_ROUTES = ("admin/", "accounts/logout/", "metrics", "bench/")
QUERY_NAMES = ("q", "utm_source", "utm_campaign", "cursor", "page", "next", "grade")


@pytest.fixture
def world(db):
    student = UserFactory()
    course = CourseFactory(fees_paise=100_000)
    enrollment = EnrollmentFactory(user=student, course=course)
    test = PracticeTestFactory(question_count=2)
    attempt = services.attempt_start(test=test, user=student)
    note = ChapterNoteFactory(grade="12")
    return {
        "student": student,
        "args": {
            "pk": attempt.pk,
            "attempt_id": attempt.pk,
            "enrollment_id": enrollment.pk,
            "payment_id": 1,
            "student_id": student.pk,
            "grade": "12",
            "chapter": note.slug,
            "topic": "cell-biology",
            "token": "x",
            "uidb64": "x",
        },
        "slugs": {"courses": course.slug, "notes": note.slug, "tests": test.slug},
    }


@pytest.fixture(autouse=True)
def _no_throttles():
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = dict.fromkeys(original, "1000000/min")
    yield
    SimpleRateThrottle.THROTTLE_RATES = original


def page_urls(world) -> list[str]:
    """Every page URL pattern (not the API, not the admin) with the world's ids and slugs put in."""
    urls = []
    for route in _routes(get_resolver().url_patterns, ""):
        if route.startswith(("api/", *SKIPPED_ROUTES)):
            continue
        urls.append("/" + re.sub(r"<(?:(\w+):)?(\w+)>", lambda m, r=route: _argument(world, r, m.group(2)), route))
    return sorted(set(urls))


def _routes(patterns, prefix: str):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def _argument(world, route: str, name: str) -> str:
    if name == "slug":
        area = route.split("/")[0].replace("read", "")
        return world["slugs"].get(area, world["slugs"]["tests"] if "tests" in route else world["slugs"]["notes"])
    return str(world["args"].get(name, 1))


class FormFields(HTMLParser):
    """The names of every input, textarea and select in a page's forms."""

    def __init__(self):
        super().__init__()
        self.names: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in ("input", "textarea", "select") and attributes.get("name"):
            self.names.add(attributes["name"])


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "learner"])
def test_every_page_and_form_refuses_control_characters_without_a_5xx(client, world, signed_in):
    if signed_in:
        client.force_login(world["student"])
    urls = page_urls(world)
    assert len(urls) > 30  # the walk reaches the whole site, not a few pages

    for url in urls:
        parser = FormFields()
        parser.feed(client.get(url).content.decode(errors="replace"))
        fields = (parser.names - {"csrfmiddlewaretoken"}) or {"name", "text"}
        _check_endpoint(client, url, sorted(fields))

    analytics_services.buffer_flush()  # whatever was buffered is written, or set aside, never fatal
    _assert_nothing_stored_with_control_characters()


def _check_endpoint(client, url: str, fields: list[str]) -> None:
    @settings(max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=control_text)
    def check(text):
        posted = client.post(url, dict.fromkeys(fields, text))
        assert posted.status_code < 500, (url, text)
        fetched = client.get(url, dict.fromkeys(QUERY_NAMES, text))
        assert fetched.status_code < 500, (url, text)

    check()


def test_every_api_operation_refuses_control_characters_without_a_5xx(world):
    api = APIClient()
    schema = json.loads(api.get("/api/schema/", {"format": "json"}).content)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(world['student']).access_token}")
    operations = [
        (path, method, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 25

    for path, method, operation in operations:
        url = re.sub(r"{(\w+)}", lambda m, p=path: _api_argument(world, p, m.group(1)), path)
        _check_operation(api, method, url, _body_fields(schema, operation), _query_names(operation))
    # webhooks take raw JSON bodies that are not in the schema
    for url in ("/payments/webhooks/razorpay/", "/communications/whatsapp/webhook/", "/communications/email/bounces/"):
        _check_operation(api, "post", url, ["event", "entry", "type"], ["hub.verify_token"])

    analytics_services.buffer_flush()
    _assert_nothing_stored_with_control_characters()


def _api_argument(world, path: str, name: str) -> str:
    if name == "slug":
        return (
            world["slugs"]["courses"]
            if "/courses/" in path
            else world["slugs"]["notes" if "notes" in path else "tests"]
        )
    return str(world["args"].get(name, 1))


def _body_fields(schema: dict, operation: dict) -> list[str]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    reference = content.get("schema", {}).get("$ref", "")
    component = schema["components"]["schemas"].get(reference.rsplit("/", 1)[-1], {}) if reference else {}
    return sorted(component.get("properties", {})) or ["name"]


def _query_names(operation: dict) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"] or ["q"]


def _check_operation(api, method: str, url: str, fields: list[str], queries: list[str]) -> None:
    @settings(max_examples=EXAMPLES_PER_ENDPOINT, deadline=None, suppress_health_check=list(HealthCheck))
    @given(text=control_text)
    def check(text):
        query = dict.fromkeys(queries, text)
        if method == "get":
            response = api.get(url, query)
        else:
            response = getattr(api, method)(url, dict.fromkeys(fields, text), format="json")
        assert response.status_code < 500, (method, url, text)
        response = getattr(api, method)(f"{url}?{urlencode(query)}")
        assert response.status_code < 500, (method, url, text)

    check()


def _assert_nothing_stored_with_control_characters() -> None:
    """No text column of any model holds a control character (PostgreSQL refuses NUL outright)."""
    for model in apps.get_models():
        text_fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField)) and not f.choices
        ]
        for name in text_fields:
            stored = model._default_manager.filter(**{f"{name}__regex": STORED_CONTROL.pattern})
            assert not stored.exists(), (model.__name__, name)
