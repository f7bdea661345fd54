"""One error shape for every 4xx: malformed JSON, wrong types, unknown fields, oversized bodies never give a 500."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.factories import UserFactory

TOKEN_URL = "/api/v1/auth/token"


def assert_error_shape(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{not json", "malformed_json"),
        (b'{"username": "a", "password": ', "malformed_json"),
        (b"\xff\xfe\x00", "malformed_json"),
    ],
)
def test_malformed_json_is_400(api_client, raw, code):
    response = api_client.generic("POST", TOKEN_URL, raw, content_type="application/json")
    assert_error_shape(response, 400, code)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (b'["a", "b"]', {"non_field_errors"}),
        (b'{"username": ["x"], "password": {"y": 1}}', {"username", "password"}),
        (b'{"username": "x", "password": "y", "is_staff": true, "role": "ADMIN"}', {"is_staff", "role"}),
        (b'{"is_staff": true}', {"is_staff", "username", "password"}),
    ],
)
def test_wrong_types_and_unknown_fields_name_the_fields(api_client, body, fields):
    response = api_client.generic("POST", TOKEN_URL, body, content_type="application/json")
    error = assert_error_shape(response, 400, "invalid")
    assert set(error["fields"]) == fields


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_body_is_413(api_client):
    body = b'{"username": "' + b"x" * 2048 + b'", "password": "y"}'
    response = api_client.generic("POST", TOKEN_URL, body, content_type="application/json")
    assert_error_shape(response, 413, "body_too_large")


@pytest.mark.django_db
def test_a_form_body_is_415(api_client):
    response = api_client.post(TOKEN_URL, "username=a&password=b", content_type="application/x-www-form-urlencoded")
    assert_error_shape(response, 415, "unsupported_media_type")


@pytest.mark.django_db
def test_wrong_method_is_405(api_client):
    assert_error_shape(api_client.get(TOKEN_URL), 405, "method_not_allowed")


@pytest.mark.django_db
def test_unknown_api_url_is_404_in_the_error_shape(api_client):
    assert_error_shape(api_client.get("/api/v1/no-such-thing"), 404, "not_found")


@pytest.mark.django_db
def test_anonymous_on_a_protected_endpoint_is_401(api_client):
    assert_error_shape(api_client.get("/api/v1/me"), 401, "not_authenticated")


@pytest.mark.django_db
def test_session_auth_works_for_the_pages_own_calls(client):
    # given a learner signed in on the web pages (a session cookie, no token)
    user = UserFactory()
    client.force_login(user)
    # when the page calls the API
    response = client.get("/api/v1/me")
    # then the session is enough
    assert response.status_code == 200
    assert response.json()["id"] == user.pk


@pytest.mark.django_db
def test_an_unexpected_failure_is_a_json_500_without_details(api_client, monkeypatch):
    # given a bug deep in a read path
    def broken(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("courses.selectors.course_list", broken)
    api_client.raise_request_exception = False
    # when the endpoint is called
    response = api_client.get("/api/v1/courses")
    # then the client gets the error shape and nothing of the internals
    assert_error_shape(response, 500, "server_error")
    assert b"secret" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body", [b'{"username": "a\\u0000b", "password": "x"}', b'{"username": 1e999, "password": "x"}']
)
def test_odd_but_valid_json_is_a_4xx(api_client, body):
    response = api_client.generic("POST", TOKEN_URL, body, content_type="application/json")
    assert 400 <= response.status_code < 500


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "code", "fields"),
    [
        ("colour=blue", "unknown_parameter", {"colour": ["Unknown query parameter."]}),
        ("page_size=5&format=json", "unknown_parameter", {"format": ["Unknown query parameter."]}),
        ("page_size=0", "invalid", {"page_size": ["Must be at least 1."]}),
        ("page_size=ten", "invalid", {"page_size": ["A whole number is required."]}),
        ("page_size=5&page_size=6", "invalid", {"page_size": ["Give this parameter once."]}),
        ("class=13", "invalid", {"class": ["Must be one of: 11, 12, DROPPER."]}),
    ],
)
def test_query_parameters_follow_the_one_rule(api_client, query, code, fields):
    # given a list that declares class, type, cursor and page_size
    # when it is asked with something else, or a declared parameter out of its schema
    response = api_client.get(f"/api/v1/courses?{query}")
    # then it is refused, naming the parameter
    assert assert_error_shape(response, 400, code)["fields"] == fields


@pytest.mark.django_db
def test_declared_query_parameters_are_accepted(api_client):
    assert api_client.get("/api/v1/courses?class=12&type=ONLINE&page_size=100").status_code == 200


@pytest.mark.django_db
def test_a_disallowed_host_under_the_api_is_a_json_400(client):
    response = client.get("/api/v1/courses", HTTP_HOST="evil.example")
    assert_error_shape(response, 400, "bad_request")


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "url"), [("patch", "/api/v1/me"), ("put", "/api/v1/communications/preferences")])
def test_an_operation_that_takes_a_body_refuses_none(api_client, method, url):
    api_client.force_authenticate(UserFactory())
    # no body at all is refused; {} is "nothing to change"
    assert_error_shape(getattr(api_client, method)(url), 400, "body_required")
    assert getattr(api_client, method)(url, {}, format="json").status_code == 200
