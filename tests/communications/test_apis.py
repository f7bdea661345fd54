"""Learners choose their channels through the API."""

import pytest

from communications.models import ChannelPreference
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/communications/preferences"


@pytest.fixture
def learner_client(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def test_every_channel_starts_opted_in(learner_client):
    response = learner_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "channels": {"EMAIL": True, "WHATSAPP": True, "SMS": True},
        "marketing": {"EMAIL": True, "WHATSAPP": True, "SMS": True},
    }


def test_opting_out_of_whatsapp_is_stored_and_returned(learner_client):
    response = learner_client.put(URL, {"WHATSAPP": False}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "channels": {"EMAIL": True, "WHATSAPP": False, "SMS": True},
        "marketing": {"EMAIL": True, "WHATSAPP": True, "SMS": True},
    }
    assert list(ChannelPreference.objects.values_list("user", "channel", "opted_in")) == [
        (learner_client.user.pk, "WHATSAPP", False)
    ]


def test_opting_out_of_marketing_email_keeps_the_channel(learner_client):
    response = learner_client.put(URL, {"marketing": {"EMAIL": False}}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "channels": {"EMAIL": True, "WHATSAPP": True, "SMS": True},
        "marketing": {"EMAIL": False, "WHATSAPP": True, "SMS": True},
    }
    assert list(ChannelPreference.objects.values_list("channel", "opted_in", "marketing_opted_in")) == [
        ("EMAIL", True, False)
    ]


def test_unknown_marketing_channel_is_a_400(learner_client):
    response = learner_client.put(URL, {"marketing": {"PIGEON": False}}, format="json")

    assert response.status_code == 400
    assert ChannelPreference.objects.count() == 0


def test_non_boolean_choice_is_a_400_with_field_errors(learner_client):
    response = learner_client.put(URL, {"EMAIL": "maybe"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["EMAIL"]
    assert ChannelPreference.objects.count() == 0


def test_anonymous_is_refused(api_client):
    assert api_client.get(URL).status_code == 401


def test_unknown_channel_is_a_400_and_nothing_changes(learner_client):
    response = learner_client.put(URL, {"PIGEON": True, "EMAIL": False}, format="json")

    assert response.status_code == 400
    assert "PIGEON" in response.json()["error"]["fields"]
    assert ChannelPreference.objects.count() == 0


def test_preferences_are_in_the_schema(client):
    import yaml

    schema = yaml.safe_load(client.get("/api/schema/").content)

    assert set(schema["paths"]["/api/v1/communications/preferences"]) == {"get", "put"}
