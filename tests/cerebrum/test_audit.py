"""The audit trail (issue 19 item 7): PostgreSQL triggers record each change with who made it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AttemptScoreAudit, EnrollmentAudit, PaymentAudit, QuestionAudit
from cerebrum.audit_context import acting
from courses import tasks as courses_tasks
from courses.models import Enrollment, Question, TestAttempt
from payments.models import Payment
from tests.cerebrum.admin_forms import admin_form_data
from tests.factories import (
    EnrollmentFactory,
    PaymentFactory,
    PracticeTestFactory,
    QuestionFactory,
    StaffFactory,
    UserFactory,
)
from tests.practice.conftest import take

pytestmark = pytest.mark.django_db


def test_an_admin_edit_of_a_question_is_recorded_with_the_staff_user(client):
    staff = StaffFactory()
    question = QuestionFactory(topic="Cell cycle")
    client.force_login(staff)
    url = reverse("admin:courses_question_change", args=[question.pk])

    response = client.post(url, admin_form_data(client.get(url).content.decode(), topic="Cell division"))

    assert response.status_code == 302
    events = list(QuestionAudit.objects.filter(pgh_obj=question).order_by("pgh_id").select_related("pgh_context"))
    assert [(event.pgh_label, event.topic) for event in events] == [
        ("insert", "Cell cycle"),
        ("update", "Cell division"),
    ]
    assert events[0].pgh_context is None  # made by a factory, outside any request
    assert events[1].pgh_context.metadata == {"user": staff.pk, "url": url}


def test_a_bulk_update_is_recorded_for_every_row_even_without_save():
    enrollments = EnrollmentFactory.create_batch(3, status=Enrollment.Status.PENDING)
    staff = StaffFactory()

    with acting(user_id=staff.pk, command="cancel-stale"):
        changed = Enrollment.objects.filter(pk__in=[e.pk for e in enrollments]).update(
            status=Enrollment.Status.CANCELLED
        )

    assert changed == 3
    updates = EnrollmentAudit.objects.filter(pgh_label="update").select_related("pgh_context")
    assert sorted((event.pgh_obj_id, event.status) for event in updates) == sorted(
        (e.pk, Enrollment.Status.CANCELLED) for e in enrollments
    )
    assert {event.pgh_context.metadata["user"] for event in updates} == {staff.pk}
    assert len({event.pgh_context_id for event in updates}) == 1  # one change, one context


def test_a_payment_status_change_by_raw_queryset_update_is_recorded():
    payment = PaymentFactory()

    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)

    labels = list(PaymentAudit.objects.filter(pgh_obj=payment).order_by("pgh_id").values_list("pgh_label", "status"))
    assert labels == [("insert", Payment.Status.CREATED), ("update", Payment.Status.FAILED)]


def test_attempt_rows_are_audited_only_when_a_score_field_changes():
    test = PracticeTestFactory()
    attempt = TestAttempt.objects.create(test=test, user=UserFactory(), expires_at=timezone.now())
    TestAttempt.objects.filter(pk=attempt.pk).update(question_order=[1, 2, 3])
    assert not AttemptScoreAudit.objects.filter(pgh_obj=attempt).exists()  # no insert row, no score change

    TestAttempt.objects.filter(pk=attempt.pk).update(score=40, correct_count=10)

    assert list(AttemptScoreAudit.objects.filter(pgh_obj=attempt).values_list("score", "correct_count")) == [(40, 10)]


def test_the_audit_lists_are_read_only_in_the_admin(client):
    staff = StaffFactory()
    question = QuestionFactory()
    client.force_login(staff)
    Question.objects.filter(pk=question.pk).update(topic="Photosynthesis")

    listing = client.get(reverse("admin:audit_questionaudit_changelist"))

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    assert client.get(reverse("admin:audit_questionaudit_add")).status_code == 403


def test_a_key_change_names_the_staff_user_on_the_question_and_every_rescored_attempt(
    django_capture_on_commit_callbacks,
):
    # Given three learners' finished attempts of a 2-question test keyed A, A (marking +4 / -1)
    test = PracticeTestFactory(question_count=2)
    question = test.paper_items.order_by("position").first().question
    with django_capture_on_commit_callbacks(execute=True):
        right, wrong, blank = (take(test, UserFactory(), answers, [5, 5]) for answers in ("AA", "BA", "-A"))
    staff = StaffFactory()
    last_attempt_event = AttemptScoreAudit.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first()

    # When the admin's re-key task runs for staff, outside any request (then its second pass)
    with django_capture_on_commit_callbacks(execute=True):
        courses_tasks.question_rekey.delay(question.pk, "B", staff.pk, "Key was B")

    # Then the two changed scores and the key are audited, each naming staff
    attempt_events = AttemptScoreAudit.objects.filter(pgh_id__gt=last_attempt_event).select_related("pgh_context")
    assert sorted((event.pgh_obj_id, event.score) for event in attempt_events) == [(right.pk, 3), (wrong.pk, 8)]
    key_event = QuestionAudit.objects.filter(pgh_obj=question).select_related("pgh_context").latest("pgh_id")
    assert key_event.correct_option == "B"
    for event in [*attempt_events, key_event]:
        assert event.pgh_context.metadata == {"user": staff.pk, "action": "question_rekey"}
