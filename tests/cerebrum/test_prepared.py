"""cerebrum.prepared: a queryset compiled once, run with new arguments, gives what the queryset gives."""

from __future__ import annotations

import pytest
from django.utils import timezone

from cerebrum.prepared import PreparedInsert, PreparedQuery, PreparedUpdate, model_columns, model_from_row
from courses.models import PracticeTest, TestAttempt
from tests.factories import PracticeTestFactory, TestAttemptFactory, UserFactory

pytestmark = pytest.mark.django_db


def _attempts_of(test_id: int, user_id: int):
    return (
        TestAttempt.objects.filter(test_id=test_id, user_id=user_id)
        .order_by("-attempt_number")
        .values_list("pk", "attempt_number", "status", "expires_at", "option_orders")
    )


def test_a_prepared_query_returns_what_its_queryset_returns_for_each_call(django_assert_num_queries):
    # Given attempts of two learners, with JSON and datetime columns
    test, first, second = PracticeTestFactory(), UserFactory(), UserFactory()
    for number in (1, 2):
        TestAttemptFactory(test=test, user=first, attempt_number=number, option_orders={"7": "CADB"})
    TestAttemptFactory(test=test, user=second, attempt_number=1)
    prepared = PreparedQuery(_attempts_of)

    # When it runs for each learner (compiled at the first call only), then: the rows the ORM reads
    for user in (first, second, first):
        with django_assert_num_queries(1):
            rows = prepared(test.pk, user.pk)
        assert rows == list(_attempts_of(test.pk, user.pk))
    assert prepared(test.pk, 10**9) == []


def test_model_from_row_builds_the_attempt_and_its_test_from_one_row():
    attempt = TestAttemptFactory(option_orders={"7": "CADB"}, question_order=[7, 3])
    prepared = PreparedQuery(
        lambda pk: TestAttempt.objects.filter(pk=pk).values_list(
            *model_columns(TestAttempt), *model_columns(PracticeTest, "test__")
        )
    )
    [row] = prepared(attempt.pk)
    built = model_from_row(TestAttempt, row)
    test = model_from_row(PracticeTest, row, len(TestAttempt._meta.concrete_fields))
    fresh = TestAttempt.objects.select_related("test").get(pk=attempt.pk)
    assert [getattr(built, f.attname) for f in TestAttempt._meta.concrete_fields] == [
        getattr(fresh, f.attname) for f in TestAttempt._meta.concrete_fields
    ]
    assert (test.pk, test.slug, test.marks_wrong) == (fresh.test.pk, fresh.test.slug, fresh.test.marks_wrong)
    assert not built._state.adding


def test_an_example_missing_from_the_parameters_is_refused_at_compile():
    prepared = PreparedQuery(lambda pk: TestAttempt.objects.filter(pk=1).values_list("pk"))
    with pytest.raises(ValueError, match="every argument"):
        prepared(5)


def test_a_prepared_insert_and_update_write_what_save_would(django_assert_num_queries):
    # Given a new attempt with JSON and datetime values
    test, user = PracticeTestFactory(), UserFactory()
    attempt = TestAttempt(
        test=test, user=user, expires_at=timezone.now(), question_order=[3, 1], option_orders={"3": "DCBA"}
    )
    # When it is inserted (one statement, its primary key returned), then scored by a prepared update
    with django_assert_num_queries(1):
        PreparedInsert(TestAttempt)(attempt)
    attempt.score, attempt.answers, attempt.status = 7, {"3": "A"}, TestAttempt.Status.SUBMITTED
    with django_assert_num_queries(1):
        updated = PreparedUpdate(TestAttempt, ["score", "answers", "status"])(attempt)
    # Then the row reads back as written, and only the named fields changed
    stored = TestAttempt.objects.get(pk=attempt.pk)
    assert (updated, attempt._state.adding) == (1, False)
    assert (stored.question_order, stored.option_orders, stored.started_at) == (
        [3, 1],
        {"3": "DCBA"},
        attempt.started_at,
    )
    assert (stored.score, stored.answers, stored.status) == (7, {"3": "A"}, TestAttempt.Status.SUBMITTED)
    attempt.pk = 10**9
    assert PreparedUpdate(TestAttempt, ["score"])(attempt) == 0
