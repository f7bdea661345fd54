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


def _audit_model(model, name: str, fields: list[str], *, inserts: bool = True):
    """One event model per tracked table. Trackers are made fresh per model: pghistory narrows an
    UpdateEvent's condition to its model's fields."""
    trackers = (pghistory.InsertEvent(), pghistory.UpdateEvent()) if inserts else (pghistory.UpdateEvent(),)
    return pghistory.create_event_model(
        model,
        *trackers,
        fields=fields,
        app_label="audit",
        model_name=name,
        abstract=False,
        obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
    )


PaymentAudit = _audit_model(Payment, "PaymentAudit", PAYMENT_FIELDS)
RefundAudit = _audit_model(Refund, "RefundAudit", REFUND_FIELDS)
EnrollmentAudit = _audit_model(Enrollment, "EnrollmentAudit", ENROLLMENT_FIELDS)
QuestionAudit = _audit_model(Question, "QuestionAudit", QUESTION_FIELDS)
AttemptScoreAudit = _audit_model(TestAttempt, "AttemptScoreAudit", ATTEMPT_SCORE_FIELDS, inserts=False)
