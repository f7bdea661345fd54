"""The audit trail: who changed what and when, for money, enrollments, questions and attempt scores.

django-pghistory writes one event row per inserted or updated row from a PostgreSQL trigger on the
tracked table, so bulk `QuerySet.update()`, raw SQL and the admin are all caught, not only `save()`.
Each event row snapshots the listed fields after the change and points at `pghistory.Context`, which
holds the acting user and URL (`audit.middleware.AuditContextMiddleware`, or `cerebrum.audit_context.acting`
in tasks and commands).

The fields are listed explicitly: a column added to a tracked model later is not audited (and needs
no audit migration) until it is added here. Attempt rows are audited on update only, for the fields
that make a score, so 10,000 learners starting a mock write no audit rows.

The embedded SQLite default has the tables but no triggers (pgtrigger is PostgreSQL-only): there the
trail stays empty. This app sits at the top of the dependency order: nothing imports it.
"""

from __future__ import annotations

import pghistory

from courses.models import Enrollment, Question, TestAttempt
from payments.models import Payment, Refund


def row_changes() -> tuple[pghistory.InsertEvent, pghistory.UpdateEvent]:
    """Fresh trackers per model: pghistory narrows an UpdateEvent's condition to its model's fields."""
    return pghistory.InsertEvent(), pghistory.UpdateEvent()


PAYMENT_FIELDS = [
    "user",
    "payer",
    "enrollment",
    "amount_paise",
    "refunded_paise",
    "discount_paise",
    "coupon",
    "status",
    "gateway",
    "razorpay_payment_id",
    "anomaly",
    "captured_at",
]
REFUND_FIELDS = ["payment", "amount_paise", "status", "razorpay_refund_id", "reason", "created_by"]
ENROLLMENT_FIELDS = ["user", "course", "status", "enrollment_date"]
QUESTION_FIELDS = [
    "ncert_class",
    "chapter",
    "topic",
    "difficulty",
    "is_active",
    "text",
    "option_a",
    "option_b",
    "option_c",
    "option_d",
    "correct_option",
    "explanation",
]
ATTEMPT_SCORE_FIELDS = [
    "status",
    "score",
    "correct_count",
    "wrong_count",
    "unanswered_count",
    "submitted_at",
    "extra_seconds",
]

PaymentAudit = pghistory.create_event_model(
    Payment,
    *row_changes(),
    fields=PAYMENT_FIELDS,
    app_label="audit",
    model_name="PaymentAudit",
    abstract=False,
    obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
)
RefundAudit = pghistory.create_event_model(
    Refund,
    *row_changes(),
    fields=REFUND_FIELDS,
    app_label="audit",
    model_name="RefundAudit",
    abstract=False,
    obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
)
EnrollmentAudit = pghistory.create_event_model(
    Enrollment,
    *row_changes(),
    fields=ENROLLMENT_FIELDS,
    app_label="audit",
    model_name="EnrollmentAudit",
    abstract=False,
    obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
)
QuestionAudit = pghistory.create_event_model(
    Question,
    *row_changes(),
    fields=QUESTION_FIELDS,
    app_label="audit",
    model_name="QuestionAudit",
    abstract=False,
    obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
)
AttemptScoreAudit = pghistory.create_event_model(
    TestAttempt,
    pghistory.UpdateEvent(),
    fields=ATTEMPT_SCORE_FIELDS,
    app_label="audit",
    model_name="AttemptScoreAudit",
    abstract=False,
    obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
)
