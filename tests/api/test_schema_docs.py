"""The OpenAPI schema and the interactive docs are served, and the docs load nothing from a CDN."""

from __future__ import annotations

import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_and_lists_the_api(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/courses", "/api/v1/attempts/{attempt_id}/submit", "/api/v1/me"):
        assert path in schema["paths"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["error"]


def test_nested_serializers_get_distinct_component_names(client):
    names = yaml.safe_load(client.get("/api/schema/").content)["components"]["schemas"]
    assert {"RegisterApiInputRequest", "PatchedMeApiInputRequest", "EnrollmentListApiInputRequest"} <= set(names)
    assert "InputRequest" not in names


def test_docs_are_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    external = re.findall(r"""(?:src|href)=["'](https?:)?//""", html)
    assert external == []
    assert "swagger-ui" in html


def test_the_schema_states_the_control_characters_the_server_refuses():
    from cerebrum.api import NO_CONTROL_CHARACTERS
    from cerebrum.middleware import CONTROL_CHARACTERS

    for code in range(0x100):
        text = f"a{chr(code)}b"
        assert bool(re.fullmatch(NO_CONTROL_CHARACTERS, text)) != bool(CONTROL_CHARACTERS.search(text)), hex(code)


def test_every_operation_documents_its_refusals_in_the_error_shape(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"400", "401", "406", "429", "500", "502", "503", "504"} <= codes, f"{method} {path}"
            if "{" in path:
                assert "404" in codes, f"{method} {path}"
            if method in ("post", "put", "patch"):
                assert {"403", "413", "415"} <= codes, f"{method} {path}"
            for code, response in operation["responses"].items():
                if code >= "400":
                    ref = response["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith(("/Error", "/BatchRefused")), f"{method} {path} {code}: {ref}"
