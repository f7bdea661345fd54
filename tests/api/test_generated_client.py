"""A Python client generated from /api/schema/ drives a learner's whole journey against the live server.

openapi-python-client (pinned in requirements-dev.txt) generates the client afresh from the served
schema into a temporary directory on every run, so a schema the generator cannot turn into working
code, or a response that does not parse into the generated models, fails here. No hand-written HTTP:
every call below is a generated function returning a generated model. The one step outside the API
is the gateway's own: the sandbox plays Razorpay's checkout, as the Razorpay SDK does on a phone.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from accounts.models import User
from payments.sandbox import sandbox_checkout_complete
from tests.factories import CourseFactory, PracticeTestFactory

PACKAGE = "cerebrum_api_client"


@pytest.fixture
def generated_client(live_server, tmp_path):
    """The generated package, imported from a temporary directory."""
    request = urllib.request.Request(f"{live_server.url}/api/schema/", headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        (tmp_path / "openapi.json").write_bytes(response.read())
    (tmp_path / "config.yaml").write_text("post_hooks: []\n")
    generator = Path(sys.executable).parent / "openapi-python-client"
    result = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--output-path", PACKAGE, "--meta", "none"]
        + ["--config", "config.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout, result.stdout
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def call(module: str, expected: str, **kwargs):
    """A generated operation's `sync`, checked to return the model the schema promises (not an Error)."""
    api = importlib.import_module(f"{PACKAGE}.api.v1.{module}")
    result = api.sync(**kwargs)
    assert type(result).__name__ == expected, f"{module}: {result!r}"
    return result


def test_a_learner_journey_through_the_generated_client(generated_client, live_server, transactional_db, unthrottled):
    models = importlib.import_module(f"{PACKAGE}.models")
    anonymous = generated_client.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    course = CourseFactory(fees_paise=4_999_900)
    test = PracticeTestFactory(question_count=3)

    # register and sign in
    profile = models.ProfileRequest(grade=models.GradeEnum("12"), target_year=2027, city="Kota")
    body = models.RegisterApiInputRequest(
        name="Ananya Iyer", email="ananya@example.com", phone="9812345678", password="Mito-Chondria-42", profile=profile
    )
    registered = call("auth_register", "RegisterApiOutput", client=anonymous, body=body)
    assert registered.user.email == "ananya@example.com"
    login = models.TokenObtainApiInputRequest(username="ananya@example.com", password="Mito-Chondria-42")
    tokens = call("auth_token_obtain", "TokenPairOutput", client=anonymous, body=login)
    client = generated_client.AuthenticatedClient(
        base_url=live_server.url, token=tokens.access, raise_on_unexpected_status=True
    )

    # list courses and enroll
    courses = call("courses_list", "PaginatedCourseOutputList", client=client, page_size=10)
    assert course.slug in [item.slug for item in courses.results]
    enrollment = call(
        "enrollments_create",
        "EnrollmentOutput",
        client=client,
        body=models.EnrollmentListApiInputRequest(course=course.slug),
        idempotency_key=str(uuid.uuid4()),
    )
    assert enrollment.status.value == "PENDING"

    # create an order, pay it on the sandbox checkout (the gateway's side), verify it
    order_body = models.PaymentOrderCreateApiInputRequest(enrollment_id=enrollment.id)
    order = call("payments_order_create", "PaymentOrderCreateApiOutput", client=client, body=order_body)
    assert order.amount_paise == 4_999_900
    learner = User.objects.get(email="ananya@example.com")
    checkout = sandbox_checkout_complete(user=learner, payment_id=order.payment_id, succeeded=True)
    verify_body = models.PaymentVerifyApiInputRequest(
        razorpay_order_id=checkout["razorpay_order_id"],
        razorpay_payment_id=checkout["razorpay_payment_id"],
        razorpay_signature=checkout["razorpay_signature"],
    )
    payment = call("payments_verify", "PaymentDetail", client=client, body=verify_body)
    assert payment.status.value == "CAPTURED"
    assert call("enrollments_read", "EnrollmentOutput", client=client, enrollment_id=enrollment.id).status.value == (
        "ACTIVE"
    )

    # start a test, answer every question right, submit, read the result and the leaderboard
    attempt = call("attempts_start", "AttemptState", client=client, slug=test.slug, idempotency_key=str(uuid.uuid4()))
    answers = [
        models.AnswerItemRequest(question_id=question.id, option=models.OptionEnum("A"), seq=number)
        for number, question in enumerate(attempt.paper, start=1)
    ]
    answer_body = models.AttemptAnswerApiInputRequest(answers=answers)
    call("attempts_answer", "AttemptAnswerApiOutput", client=client, attempt_id=attempt.id, body=answer_body)
    submitted = call("attempts_submit", "AttemptResult", client=client, attempt_id=attempt.id)
    assert submitted.status.value == "SUBMITTED"
    result = call("attempts_result", "AttemptResult", client=client, attempt_id=attempt.id)
    assert (result.correct_count, result.score) == (3, 12)
    board = call("leaderboards_test", "Leaderboard", client=client, slug=test.slug)
    assert board.me.rank == 1

    # refresh the token, log out; the logged-out refresh token is refused in the error shape
    refresh = models.TokenRefreshApiInputRequest(refresh=tokens.refresh)
    rotated = call("auth_token_refresh", "TokenPairOutput", client=anonymous, body=refresh)
    logout = importlib.import_module(f"{PACKAGE}.api.v1.auth_logout")
    assert (
        logout.sync_detailed(client=client, body=models.LogoutApiInputRequest(refresh=rotated.refresh)).status_code
        == 204
    )
    again = models.TokenRefreshApiInputRequest(refresh=rotated.refresh)
    refused = call("auth_token_refresh", "Error", client=anonymous, body=again)
    assert refused.error.code == "token_not_valid"
