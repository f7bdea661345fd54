"""Providers at their boundaries: WhatsApp's HTTP API (mocked with `responses`), a real local SMTP server."""

import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from communications.models import Channel, CommunicationLog
from communications.providers import email_message_id
from communications.services import message_deliver

pytestmark = pytest.mark.django_db
Status = CommunicationLog.Status
API = "https://graph.test/v21.0"
MESSAGES_URL = f"{API}/1234567890/messages"


@pytest.fixture
def whatsapp(settings):
    settings.WHATSAPP_API_URL = API
    settings.WHATSAPP_PHONE_NUMBER_ID = "1234567890"
    settings.WHATSAPP_TOKEN = "test-token"
    with responses.RequestsMock() as mocked:
        yield mocked


def whatsapp_row(**fields) -> CommunicationLog:
    defaults = {
        "channel": Channel.WHATSAPP,
        "template": "enrollment_confirmed",
        "params": {"name": "Asha", "course": "NEET Biology 2027"},
        "recipient": "+919812345678",
        "idempotency_key": f"k:{CommunicationLog.objects.count()}",
        "scheduled_for": timezone.now() - timedelta(seconds=1),
    }
    return CommunicationLog.objects.create(**{**defaults, **fields})


def make_due(row: CommunicationLog) -> None:
    CommunicationLog.objects.filter(pk=row.pk).update(scheduled_for=timezone.now() - timedelta(seconds=1))


def accepted(message_id: str = "wamid.HBgM") -> dict:
    return {"json": {"messaging_product": "whatsapp", "messages": [{"id": message_id}]}, "status": 200}


def test_whatsapp_success_sends_the_template_with_its_parameters_in_order(whatsapp):
    whatsapp.post(MESSAGES_URL, **accepted("wamid.OK1"))
    row = whatsapp_row()

    assert message_deliver(log_id=row.pk) is None

    row.refresh_from_db()
    assert (row.status, row.provider_message_id, row.attempts) == (Status.SENT, "wamid.OK1", 1)
    request = whatsapp.calls[0].request
    assert request.headers["Authorization"] == "Bearer test-token"
    assert json.loads(request.body) == {
        "messaging_product": "whatsapp",
        "to": "919812345678",
        "type": "template",
        "template": {
            "name": "cerebrum_enrollment_confirmed",
            "language": {"code": "en"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Asha"}, {"type": "text", "text": "NEET Biology 2027"}],
                }
            ],
        },
    }


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "json": {"error": {"message": "Service unavailable", "code": 2}}},
        {"status": 500, "body": "upstream error"},
        {"status": 429, "json": {"error": {"message": "Too many requests", "code": 80007}}},
        {"status": 400, "json": {"error": {"message": "Rate limit hit", "code": 130429}}},
        {"body": requests.ConnectTimeout("timed out")},
        {"body": requests.ConnectionError("connection reset")},
    ],
)
def test_whatsapp_temporary_failure_then_success(whatsapp, failure):
    whatsapp.post(MESSAGES_URL, **failure)
    whatsapp.post(MESSAGES_URL, **accepted("wamid.OK2"))
    row = whatsapp_row()

    retry_in = message_deliver(log_id=row.pk)
    row.refresh_from_db()
    assert retry_in > 0
    assert (row.status, row.attempts, row.provider_message_id) == (Status.QUEUED, 1, None)
    assert row.error

    make_due(row)
    assert message_deliver(log_id=row.pk) is None
    row.refresh_from_db()
    assert (row.status, row.attempts, row.provider_message_id, row.error) == (Status.SENT, 2, "wamid.OK2", "")
    assert len(whatsapp.calls) == 2


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (400, 131026, "Message undeliverable"),
        (400, 100, "Invalid parameter"),
        (404, 133010, "Phone number not registered"),
    ],
)
def test_whatsapp_permanent_failure_fails_at_once(whatsapp, status, code, message):
    whatsapp.post(MESSAGES_URL, status=status, json={"error": {"message": message, "code": code}})
    row = whatsapp_row()

    assert message_deliver(log_id=row.pk) is None

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 1)
    assert row.error == f"WhatsApp {status} code {code}: {message}"
    # A dead letter is never picked up again by a stray task.
    assert message_deliver(log_id=row.pk) is None
    assert len(whatsapp.calls) == 1


def test_without_credentials_whatsapp_goes_to_the_console(settings):
    settings.WHATSAPP_TOKEN = ""
    row = whatsapp_row()

    with responses.RequestsMock():  # any HTTP call would fail the test
        message_deliver(log_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.provider_message_id) == (Status.SENT, f"console-whatsapp-{row.pk}")


def email_row() -> CommunicationLog:
    return CommunicationLog.objects.create(
        channel=Channel.EMAIL,
        template="welcome",
        params={"name": "Asha"},
        recipient="asha@example.com",
        idempotency_key="welcome:1:EMAIL",
        scheduled_for=timezone.now() - timedelta(seconds=1),
    )


def test_email_through_real_smtp_carries_the_rows_message_id(smtp_settings, smtp_sink):
    row = email_row()

    message_deliver(log_id=row.pk)

    row.refresh_from_db()
    assert row.status == Status.SENT
    assert [{key: m[key] for key in ("message_id", "to", "subject")} for m in smtp_sink.messages] == [
        {"message_id": email_message_id(row), "to": ["asha@example.com"], "subject": "Welcome to Cerebrum, Asha"}
    ]


def test_a_name_with_a_line_break_still_gets_its_email_on_one_subject_line(smtp_settings, smtp_sink):
    # Review (issue 22 sibling): a name typed with a line break (the API and raw forms keep \n) made
    # the subject "Welcome to Cerebrum, Asha\nBcc: ..." a BadHeaderError, retried until FAILED.
    row = email_row()
    CommunicationLog.objects.filter(pk=row.pk).update(params={"name": "Asha\r\nBcc: evil@example.com\t "})

    message_deliver(log_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.error) == (Status.SENT, "")
    assert [(m["to"], m["subject"], m["parsed"]["Bcc"]) for m in smtp_sink.messages] == [
        (["asha@example.com"], "Welcome to Cerebrum, Asha Bcc: evil@example.com", None)
    ]


def test_whatsapp_parameters_carry_no_line_breaks_tabs_or_long_runs_of_spaces(whatsapp):
    # Meta refuses such a parameter for good (error 132018); the learner would never get the message.
    whatsapp.post(MESSAGES_URL, **accepted("wamid.NL"))
    row = whatsapp_row(params={"name": "Asha\nKumar", "course": "NEET\tBiology      2027"})

    message_deliver(log_id=row.pk)

    parameters = json.loads(whatsapp.calls[0].request.body)["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["Asha Kumar", "NEET Biology 2027"]


@pytest.mark.parametrize(
    ("reply", "status"),
    [("550 5.1.1 No such user", Status.FAILED), ("451 4.3.0 Try again later", Status.QUEUED)],
)
def test_smtp_refusal_5xx_is_permanent_and_4xx_temporary(smtp_settings, smtp_sink, reply, status):
    smtp_sink.rcpt_reply = reply
    row = email_row()

    message_deliver(log_id=row.pk)

    row.refresh_from_db()
    assert (row.status, row.attempts) == (status, 1)
    assert reply.split()[0] in row.error


def test_smtp_server_down_is_temporary(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # nothing listens there
    row = email_row()

    assert message_deliver(log_id=row.pk) > 0

    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.QUEUED, 1)
    assert row.error.startswith("TemporaryError: SMTP unavailable")
