"""Every registered admin page loads for staff, and no change list issues a query per row."""

from __future__ import annotations

import inspect

import factory
import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.db import connection
from django.test.client import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from analytics.models import AnalyticsEvent
from cerebrum.admin_tools import EXACT_COUNT_BELOW, EstimatedCountPaginator
from communications.models import CommunicationLog
from courses import models as course_models
from courses.models import Enrollment, PracticeTest, Question
from payments.models import Payment, PaymentEvent
from tests import factories

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
MODEL_ADMINS = [pytest.param(model, model_admin, id=model._meta.label) for model, model_admin in REGISTERED]


def _factories_by_model() -> dict[type, type]:
    """The first factory declared for each model (e.g. UserFactory, not its ParentFactory subclass)."""
    found: dict[type, type] = {}
    for candidate in vars(factories).values():  # definition order
        if inspect.isclass(candidate) and issubclass(candidate, factory.django.DjangoModelFactory):
            found.setdefault(candidate._meta.model, candidate)
    return found


FACTORIES = _factories_by_model()
WITH_FACTORY = [param for param in MODEL_ADMINS if param.values[0] in FACTORIES]


@pytest.fixture
def staff_client(client, db, settings):
    # Count real queries: cacheops would answer repeated reads from Redis and hide an N+1.
    settings.CACHEOPS_ENABLED = False
    staff = User.objects.create_superuser("admin-test@cerebrum.test", "admin-pass-123", name="Admin")
    client.force_login(staff)
    client.staff = staff
    return client


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _queries_for(client, url: str) -> int:
    client.get(url)  # warm per-process caches (content types, permissions) before counting
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


@pytest.mark.parametrize(("model", "model_admin"), MODEL_ADMINS)
def test_changelist_and_add_form_load(staff_client, model, model_admin):
    request = RequestFactory().get("/")
    request.user = staff_client.staff

    changelist = staff_client.get(_url(model, "changelist"))
    searched = staff_client.get(_url(model, "changelist"), {"q": "kota"})
    add_form = staff_client.get(_url(model, "add"))

    assert changelist.status_code == 200
    assert searched.status_code == 200
    assert add_form.status_code == (200 if model_admin.has_add_permission(request) else 403)


@pytest.mark.parametrize(("model", "model_admin"), WITH_FACTORY)
def test_change_form_loads(staff_client, model, model_admin):
    obj = FACTORIES[model]()

    response = staff_client.get(_url(model, "change", obj.pk))

    assert response.status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), WITH_FACTORY)
def test_changelist_query_count_does_not_grow_with_rows(staff_client, django_assert_num_queries, model, model_admin):
    model_factory = FACTORIES[model]
    model_factory()
    with_one_row = _queries_for(staff_client, _url(model, "changelist"))

    model_factory.create_batch(49)

    staff_client.get(_url(model, "changelist"))
    with django_assert_num_queries(with_one_row):
        response = staff_client.get(_url(model, "changelist"))
    assert response.context["cl"].result_count >= 50


def test_practice_test_change_form_query_count_does_not_grow_with_questions(staff_client, django_assert_num_queries):
    short = factories.PracticeTestFactory(question_count=1)
    long = factories.PracticeTestFactory(question_count=50)
    with_one_question = _queries_for(staff_client, _url(PracticeTest, "change", short.pk))

    staff_client.get(_url(PracticeTest, "change", long.pk))
    with django_assert_num_queries(with_one_question):
        response = staff_client.get(_url(PracticeTest, "change", long.pk))

    paper = next(
        inline.formset for inline in response.context["inline_admin_formsets"] if inline.formset.prefix == "paper_items"
    )
    assert paper.total_form_count() == 51  # 50 + 1 extra


def test_editing_the_paper_in_admin_bumps_the_paper_version(staff_client):
    test = factories.PracticeTestFactory(question_count=1)
    extra_question = factories.QuestionFactory()
    item = test.paper_items.get()
    data = {
        "title": test.title,
        "slug": test.slug,
        "description": "",
        "grade": "",
        "duration_minutes": 30,
        "marks_correct": 4,
        "marks_wrong": -1,
        "marks_unanswered": 0,
        "is_free": "on",
        "max_attempts": 3,
        "is_published": "on",
        "sections-TOTAL_FORMS": 0,
        "sections-INITIAL_FORMS": 0,
        "paper_items-TOTAL_FORMS": 2,
        "paper_items-INITIAL_FORMS": 1,
        "paper_items-0-id": item.pk,
        "paper_items-0-test": test.pk,
        "paper_items-0-position": 1,
        "paper_items-0-question": item.question_id,
        "paper_items-1-test": test.pk,
        "paper_items-1-position": 2,
        "paper_items-1-question": extra_question.pk,
    }

    response = staff_client.post(_url(PracticeTest, "change", test.pk), data)

    assert response.status_code == 302
    test.refresh_from_db()
    assert list(test.paper_items.values_list("question_id", flat=True)) == [item.question_id, extra_question.pk]
    assert test.paper_version == 2


@pytest.mark.django_db
def test_estimated_paginator_uses_planner_estimate_for_a_big_unfiltered_table():
    # Given the planner believes the attempts table is large
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE test_attempts")
        cursor.execute(
            "UPDATE pg_class SET reltuples = %s WHERE oid = 'test_attempts'::regclass", [EXACT_COUNT_BELOW * 100]
        )

    # When the admin pages the whole table
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(course_models.TestAttempt.objects.order_by("-pk"), 50).count

    # Then it reads the estimate and never runs COUNT(*)
    assert count == EXACT_COUNT_BELOW * 100
    assert not any("COUNT(" in query["sql"].upper() for query in queries.captured_queries)


@pytest.mark.django_db
def test_estimated_paginator_caps_a_filtered_count():
    paginator = EstimatedCountPaginator(
        course_models.TestAttempt.objects.filter(status="SUBMITTED").order_by("-pk"), 50
    )

    with CaptureQueriesContext(connection) as queries:
        assert paginator.count == 0

    assert "LIMIT" in queries.captured_queries[0]["sql"].upper()


@pytest.mark.parametrize(
    ("model", "model_factory"),
    [
        (course_models.TestAttempt, factories.TestAttemptFactory),
        (AnalyticsEvent, factories.AnalyticsEventFactory),
        (CommunicationLog, factories.CommunicationLogFactory),
        (Payment, factories.PaymentFactory),
        (PaymentEvent, factories.PaymentEventFactory),
    ],
    ids=["attempts", "analytics_events", "communication_logs", "payments", "payment_events"],
)
def test_big_table_change_list_never_counts_the_whole_table(staff_client, model, model_factory):
    # Given a table the planner believes holds a million rows
    model_factory()
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
        cursor.execute("UPDATE pg_class SET reltuples = %s WHERE oid = %s::regclass", [EXACT_COUNT_BELOW * 100, table])

    # When staff open its change list
    with CaptureQueriesContext(connection) as queries:
        response = staff_client.get(_url(model, "changelist"))

    # Then no query counts its rows, and the pager uses the estimate
    assert response.status_code == 200
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and table in q["sql"]]
    assert counts == []
    assert response.context["cl"].result_count == EXACT_COUNT_BELOW * 100


def test_staff_adds_a_phone_only_learner_in_the_admin(staff_client):
    data = {
        "email": "",
        "phone": "+919876543210",
        "name": "Priya Nair",
        "role": User.Role.STUDENT,
        "password1": "kota-2027-biology",
        "password2": "kota-2027-biology",
        "parent_links-TOTAL_FORMS": 0,
        "parent_links-INITIAL_FORMS": 0,
    }

    response = staff_client.post(_url(User, "add"), data)

    assert response.status_code == 302
    learner = User.objects.get(phone="+919876543210")
    assert learner.email is None
    assert learner.check_password("kota-2027-biology")


def test_staff_edits_a_learner_in_the_admin(staff_client):
    learner = factories.UserFactory(email="old@example.com")
    data = {
        "email": "New.Address@Example.com",
        "phone": learner.phone,
        "name": learner.name,
        "role": User.Role.STUDENT,
        "email_verified": "on",
        "profile": '{"grade": "12"}',
        "first_touch": "{}",
        "last_touch": "{}",
        "is_active": "on",
        "parent_links-TOTAL_FORMS": 0,
        "parent_links-INITIAL_FORMS": 0,
    }

    response = staff_client.post(_url(User, "change", learner.pk), data)

    assert response.status_code == 302
    learner.refresh_from_db()
    assert (learner.email, learner.email_verified) == ("new.address@example.com", True)


def test_staff_enroll_a_learner_through_the_enrollment_service(staff_client):
    learner, course = factories.UserFactory(), factories.CourseFactory()

    response = staff_client.post(_url(Enrollment, "add"), {"user": learner.pk, "course": course.pk})

    assert response.status_code == 302
    enrollment = Enrollment.objects.get(user=learner, course=course)
    assert (enrollment.status, enrollment.utm_source) == (Enrollment.Status.PENDING, "admin")


def test_enrolling_in_an_inactive_course_is_refused_on_the_form(staff_client):
    learner, course = factories.UserFactory(), factories.CourseFactory(is_active=False)

    response = staff_client.post(_url(Enrollment, "add"), {"user": learner.pk, "course": course.pk})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"course": ["Course is not active."]}
    assert not Enrollment.objects.exists()


def test_activate_action_moves_pending_enrollments_and_refuses_cancelled_ones(staff_client):
    pending = factories.EnrollmentFactory()
    cancelled = factories.EnrollmentFactory(status=Enrollment.Status.CANCELLED)

    response = staff_client.post(
        _url(Enrollment, "changelist"), {"action": "activate", "_selected_action": [pending.pk, cancelled.pk]}
    )

    assert response.status_code == 302
    pending.refresh_from_db()
    cancelled.refresh_from_db()
    assert (pending.status, cancelled.status) == (Enrollment.Status.ACTIVE, Enrollment.Status.CANCELLED)
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    assert shown[0] == "Activated 1 enrollments."
    assert shown[1].startswith(f"Not activated: #{cancelled.pk}: ")


def test_enrollment_status_cannot_be_edited_by_hand(staff_client):
    enrollment = factories.EnrollmentFactory()

    response = staff_client.get(_url(Enrollment, "change", enrollment.pk))

    assert "status" not in response.context["adminform"].form.fields


def test_editing_a_question_bumps_the_paper_of_every_test_using_it(staff_client):
    using, other = factories.PracticeTestFactory(question_count=1), factories.PracticeTestFactory(question_count=1)
    question = using.paper_items.get().question
    data = {field: getattr(question, field) for field in ("ncert_class", "chapter", "topic", "difficulty", "text")}
    data |= {f"option_{key.lower()}": value for key, value in question.options.items()}
    data |= {"correct_option": "B", "explanation": "Corrected key.", "is_active": "on"}

    response = staff_client.post(_url(Question, "change", question.pk), data)

    assert response.status_code == 302
    using.refresh_from_db()
    other.refresh_from_db()
    assert (using.paper_version, other.paper_version) == (2, 1)
