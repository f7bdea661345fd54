"""Every index of report §1.1 exists after migrate, exactly as written, built concurrently outside a transaction."""

from __future__ import annotations

import pytest
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import connection
from django.db.migrations.loader import MigrationLoader

# name → (table, the column list as PostgreSQL prints it, the WHERE clause as it prints it or None)
REPORT_INDEXES = {
    "idx_users_email_role": ("users", "email, role", None),
    "idx_users_phone_verified": ("users", "phone, phone_verified", None),
    "idx_users_created_at_desc": ("users", "created_at DESC", None),
    "idx_enrollments_user_status": ("enrollments", "user_id, status", None),
    "idx_enrollments_course_status": ("enrollments", "course_id, status", None),
    "idx_enrollments_status_date": ("enrollments", "status, enrollment_date DESC", None),
    "idx_payments_user_status": ("payments", "user_id, status", None),
    "idx_payments_status_created": ("payments", "status, created_at DESC", None),
    "idx_payments_razorpay_order": ("payments", "razorpay_order_id", "(razorpay_order_id IS NOT NULL)"),
    # The report's "type" column of communication logs is our channel.
    "idx_communication_user_type": ("communication_logs", "user_id, channel", None),
    "idx_communication_status_sent": ("communication_logs", "status, sent_at DESC", None),
    "idx_analytics_events_user_type": ("analytics_events", "user_id, event_type, created_at DESC", None),
    "idx_analytics_events_utm_source": ("analytics_events", "utm_source, created_at", "(utm_source IS NOT NULL)"),
    "idx_test_attempts_user_status": ("test_attempts", "free_user_id, status, started_at DESC", None),
    "idx_questions_topic_difficulty": ("questions", "topic, difficulty, is_active", None),
    "idx_chapter_notes_curriculum_grade": ("chapter_notes", "curriculum, grade, is_published", None),
    "idx_users_comprehensive": (
        "users",
        "role, email_verified, created_at DESC",
        "((role)::text = ANY ((ARRAY['STUDENT'::character varying, 'PARENT'::character varying])::text[]))",
    ),
    "idx_enrollments_comprehensive": ("enrollments", "user_id, course_id, status, enrollment_date DESC", None),
}
APPS_WITH_REPORT_INDEXES = ("accounts", "courses", "payments", "analytics", "communications")


def _expected_indexdef(name: str) -> str:
    table, columns, condition = REPORT_INDEXES[name]
    indexdef = f"CREATE INDEX {name} ON public.{table} USING btree ({columns})"
    return f"{indexdef} WHERE {condition}" if condition else indexdef


@pytest.fixture(scope="module")
def pg_indexes(django_db_setup, django_db_blocker) -> dict[str, str]:
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
        return dict(cursor.fetchall())


@pytest.mark.parametrize("name", sorted(REPORT_INDEXES))
def test_report_index_exists_with_exact_columns_order_and_condition(pg_indexes, name):
    assert pg_indexes.get(name) == _expected_indexdef(name)


@pytest.fixture(scope="module")
def report_index_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {app: loader.get_migration(app, "0002_report_indexes") for app in APPS_WITH_REPORT_INDEXES}


@pytest.mark.parametrize("app", APPS_WITH_REPORT_INDEXES)
def test_index_migration_runs_outside_a_transaction_concurrently(report_index_migrations, app):
    migration = report_index_migrations[app]

    assert migration.atomic is False
    assert migration.operations
    assert all(isinstance(operation, AddIndexConcurrently) for operation in migration.operations)


def test_every_report_index_is_created_by_a_concurrent_migration(report_index_migrations):
    created = {
        operation.index.name for migration in report_index_migrations.values() for operation in migration.operations
    }

    assert set(REPORT_INDEXES) <= created


def test_no_report_index_is_valid_only_partly(pg_indexes, django_db_blocker):
    # CREATE INDEX CONCURRENTLY can leave an INVALID index behind if it fails; none may be.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(%s)",
            [list(REPORT_INDEXES)],
        )
        assert cursor.fetchall() == []
