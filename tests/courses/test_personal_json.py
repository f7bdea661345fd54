"""Personal JSON with a version check (issue 17 item 2): the dashboard, "my rank" on a test and a parent's
view of a child answer an ETag, and 304 to it without building anything; a learner's own write changes
it at once; one learner's tag never opens another's data. Through HTTP with a real JWT or session."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from courses import caches, selectors, services
from courses.models import Enrollment
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ParentFactory,
    ParentLinkFactory,
    PracticeTestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DASHBOARD = "/api/v1/dashboard"
JSON = "application/json"


def rank_url(test) -> str:
    return f"/api/v1/tests/{test.slug}/leaderboard/me"


@pytest.fixture(params=["jwt", "session"])
def sign_in(request):
    """sign_in(user) -> a client that authenticates as the learner with a real JWT or a real session."""

    def signed_in(user):
        if request.param == "jwt":
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
            return client
        client = Client()
        client.force_login(user)
        return client

    signed_in.kind = request.param
    return signed_in


def submit(client, test, *, right: int) -> None:
    """Start, answer `right` questions correctly and submit, through the API (`client` is signed in)."""
    attempt = client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    key = {int(qid): row["correct"] for qid, row in caches.answer_key_get(test_id=test.pk, version=1).items()}
    answers = [
        {"question_id": question["id"], "option": key[question["id"]], "marked_for_review": False, "seq": seq}
        for seq, question in enumerate(attempt["questions"][:right], start=1)
    ]
    if answers:
        client.post(f"/api/v1/attempts/{attempt['id']}/answers", json.dumps({"answers": answers}), content_type=JSON)
    assert client.post(f"/api/v1/attempts/{attempt['id']}/submit").status_code == 200


# --- the version check ------------------------------------------------------------------------------


def test_dashboard_answers_its_etag_with_304_and_no_sql(sign_in, django_assert_num_queries, redis_round_trips):
    # Given a learner who loaded their dashboard once
    learner = UserFactory()
    EnrollmentFactory(user=learner, status=Enrollment.Status.ACTIVE)
    client = sign_in(learner)
    first = client.get(DASHBOARD)
    etag = first["ETag"]

    # When they ask again with its ETag
    redis_round_trips.reset()
    with django_assert_num_queries(0):
        again = client.get(DASHBOARD, HTTP_IF_NONE_MATCH=etag)

    # Then the answer is 304 with no body, nothing built, and the same private headers
    assert (first.status_code, first.json()["user"]["id"]) == (200, learner.pk)
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", etag)
    for response in (first, again):
        assert response["Cache-Control"] == "private, no-cache"
        assert {"Authorization", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}
    # The endpoint's own part of the 304 is one read of the dashboard version; the rest is what every API
    # request costs: the user copy, the user throttle (one script) and, with a cookie, the session.
    assert len(redis_round_trips.touching(":dashboard")) == 1, redis_round_trips.commands
    assert redis_round_trips.count == {"jwt": 3, "session": 4}[sign_in.kind], redis_round_trips.commands


@pytest.mark.parametrize("header", ["W/{etag}", "*", '"other", {etag}'])
def test_a_weak_a_listed_or_a_star_tag_also_answers_304(api_client, header):
    learner = UserFactory()
    api_client.force_authenticate(learner)
    etag = api_client.get(DASHBOARD)["ETag"]

    assert api_client.get(DASHBOARD, HTTP_IF_NONE_MATCH=header.format(etag=etag)).status_code == 304


def test_an_enrollment_changes_the_etag_and_shows_at_once(sign_in, django_capture_on_commit_callbacks):
    # Given a learner holding their dashboard's ETag
    learner = UserFactory()
    client = sign_in(learner)
    before = client.get(DASHBOARD)
    course = CourseFactory()

    # When they enroll (the API's POST, its after-commit work run)
    with django_capture_on_commit_callbacks(execute=True):
        enrolled = client.post("/api/v1/enrollments", json.dumps({"course": course.slug}), content_type=JSON)

    # Then their next conditional request gets the new data at once, under a new tag
    after = client.get(DASHBOARD, HTTP_IF_NONE_MATCH=before["ETag"])
    assert enrolled.status_code == 201
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert [row["course"]["slug"] for row in after.json()["enrollments"]] == [course.slug]
    assert before.json()["enrollments"] == []


def test_a_submitted_attempt_changes_both_etags_and_shows_at_once(sign_in, django_capture_on_commit_callbacks):
    # Given a learner holding the ETags of their dashboard and their rank on a test they have not taken
    learner, test = UserFactory(), PracticeTestFactory(question_count=3)
    client = sign_in(learner)
    dashboard, rank = client.get(DASHBOARD), client.get(rank_url(test))
    assert rank.json() == {
        "test_slug": test.slug,
        "rank": None,
        "score": None,
        "percentile": None,
        "position": None,
        "total": 0,
        "results_open_at": None,
    }

    # When they submit an attempt with two right answers
    with django_capture_on_commit_callbacks(execute=True):
        submit(client, test, right=2)

    # Then both answer new data at once
    dashboard_after = client.get(DASHBOARD, HTTP_IF_NONE_MATCH=dashboard["ETag"])
    rank_after = client.get(rank_url(test), HTTP_IF_NONE_MATCH=rank["ETag"])
    assert (dashboard_after.status_code, rank_after.status_code) == (200, 200)
    assert [row["test_slug"] for row in dashboard_after.json()["test_history"]] == [test.slug]
    assert rank_after.json() | {"results_open_at": None} == {
        "test_slug": test.slug,
        "rank": 1,
        "score": 8,
        "percentile": 100.0,
        "position": 1,
        "total": 1,
        "results_open_at": None,
    }
    assert client.get(rank_url(test), HTTP_IF_NONE_MATCH=rank_after["ETag"]).status_code == 304


def test_another_learners_submit_moves_my_percentile(api_client, django_capture_on_commit_callbacks):
    # Given a learner who scored 8 of 12 and holds their rank's ETag
    me, better, test = UserFactory(), UserFactory(), PracticeTestFactory(question_count=3)
    api_client.force_authenticate(me)
    with django_capture_on_commit_callbacks(execute=True):
        submit(api_client, test, right=2)
    mine = api_client.get(rank_url(test))

    # When another learner scores 12
    api_client.force_authenticate(better)
    with django_capture_on_commit_callbacks(execute=True):
        submit(api_client, test, right=3)

    # Then my conditional request sees rank 2 of 2
    api_client.force_authenticate(me)
    now = api_client.get(rank_url(test), HTTP_IF_NONE_MATCH=mine["ETag"])
    assert (mine.json()["rank"], mine.json()["total"]) == (1, 1)
    assert now.status_code == 200
    assert (now.json()["rank"], now.json()["score"], now.json()["percentile"], now.json()["total"]) == (2, 8, 50.0, 2)


def test_one_learners_etag_never_opens_another_learners_data(sign_in):
    # Given two learners, the first holding their dashboard's and rank's ETags
    asha, ravi = UserFactory(name="Asha"), UserFactory(name="Ravi")
    test = PracticeTestFactory(question_count=1)
    asha_client, ravi_client = sign_in(asha), sign_in(ravi)
    asha_dashboard, asha_rank = asha_client.get(DASHBOARD), asha_client.get(rank_url(test))

    # When the second sends the first's tags
    ravi_dashboard = ravi_client.get(DASHBOARD, HTTP_IF_NONE_MATCH=asha_dashboard["ETag"])
    ravi_rank = ravi_client.get(rank_url(test), HTTP_IF_NONE_MATCH=asha_rank["ETag"])

    # Then each gets their own data, under their own tag
    assert (ravi_dashboard.status_code, ravi_dashboard.json()["user"]["name"]) == (200, "Ravi")
    assert ravi_dashboard["ETag"] != asha_dashboard["ETag"]
    assert (ravi_rank.status_code, ravi_rank["ETag"] != asha_rank["ETag"]) == (200, True)


def test_a_linked_parent_gets_304_and_an_unlinked_one_404_even_with_the_tag(api_client):
    child, parent, stranger = UserFactory(), ParentFactory(), ParentFactory()
    ParentLinkFactory(parent=parent, student=child)
    url = f"/api/v1/parent/children/{child.pk}"
    api_client.force_authenticate(parent)
    etag = api_client.get(url)["ETag"]

    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    api_client.force_authenticate(stranger)
    assert api_client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_anonymous_callers_get_401_not_a_304(api_client):
    test = PracticeTestFactory(question_count=1)
    assert api_client.get(DASHBOARD, HTTP_IF_NONE_MATCH="*").status_code == 401
    assert api_client.get(rank_url(test), HTTP_IF_NONE_MATCH="*").status_code == 401


def test_the_rank_version_moves_when_a_live_mocks_results_open():
    # A live mock's board opens at a time, not with a write: the open state is part of the version.
    test = PracticeTestFactory(question_count=1, scheduled_start=timezone.now() - timedelta(minutes=5))
    during = selectors.rank_version(test=test)
    test.scheduled_start = timezone.now() - timedelta(days=1)

    assert during.endswith(".closed")
    assert selectors.rank_version(test=test) == during.removesuffix(".closed") + ".open"


# --- budgets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("learners", [1, 50])
def test_rank_costs_the_same_for_1_and_50_learners_and_nothing_on_304(
    api_client, django_assert_max_num_queries, django_assert_num_queries, redis_round_trips, learners
):
    # Given a test board with `learners` learners on it, built in Redis
    test = PracticeTestFactory(question_count=1)
    for number in range(learners):
        user_id = UserFactory().pk
        caches.leaderboard_record(
            test_id=test.pk, attempt_id=number, user_id=user_id, score=4, topic_scores={}, week="2026-W48"
        )
    me = UserFactory()
    api_client.force_authenticate(me)
    api_client.get(rank_url(test))  # builds the board from PostgreSQL once

    # When I read my rank, then again with its ETag
    redis_round_trips.reset()
    with django_assert_max_num_queries(0):
        first = api_client.get(rank_url(test))
    ok_trips = redis_round_trips.count
    redis_round_trips.reset()
    with django_assert_num_queries(0):
        again = api_client.get(rank_url(test), HTTP_IF_NONE_MATCH=first["ETag"])

    # Then: no SQL either way; the 304 makes two Redis reads of its own (the test, the results version),
    # the 200 one more (the board in one pipeline), whatever the board's size
    assert (first.status_code, again.status_code) == (200, 304)
    assert first.json()["total"] == learners
    assert ok_trips == redis_round_trips.count + 1, redis_round_trips.commands
    assert redis_round_trips.count == 3, redis_round_trips.commands  # and the throttle


@pytest.mark.parametrize("enrollments", [1, 50])
def test_dashboard_costs_the_same_for_1_and_50_enrollments(api_client, django_assert_max_num_queries, enrollments):
    learner = UserFactory()
    EnrollmentFactory.create_batch(enrollments, user=learner, status=Enrollment.Status.ACTIVE)
    api_client.force_authenticate(learner)

    with django_assert_max_num_queries(3):  # the build: enrollments, attempts, notes
        built = api_client.get(DASHBOARD)
    with django_assert_max_num_queries(0):  # stored under its version
        hit = api_client.get(DASHBOARD)

    assert built.json() == hit.json()
    assert built["ETag"] == hit["ETag"]
    assert built.json()["active_enrollment_count"] == enrollments


PAGE_STATE = "/api/v1/me/page-state"


@pytest.mark.parametrize("rows", [1, 50])
def test_page_state_costs_the_same_for_1_and_50_rows_and_a_hit_no_sql_and_one_redis_read(
    sign_in, django_assert_max_num_queries, django_assert_num_queries, redis_round_trips, rows
):
    # Given a learner with `rows` live enrollments and attempts running on `rows` tests
    learner = UserFactory()
    enrollments = EnrollmentFactory.create_batch(rows, user=learner, status=Enrollment.Status.ACTIVE)
    attempts = [services.attempt_start(test=PracticeTestFactory(question_count=1), user=learner) for _ in range(rows)]
    client = sign_in(learner)

    # When they read their page state (built), again (stored), and again with its ETag
    with django_assert_max_num_queries(4):  # the session's user comes from Redis; the build is two queries
        built = client.get(PAGE_STATE)
    redis_round_trips.reset()
    with django_assert_num_queries(0):
        hit = client.get(PAGE_STATE)
    hit_trips = list(redis_round_trips.commands)
    redis_round_trips.reset()
    with django_assert_num_queries(0):
        again = client.get(PAGE_STATE, HTTP_IF_NONE_MATCH=built["ETag"])

    # Then the data is theirs, a hit and a 304 cost no SQL and one Redis read of the endpoint's own (the
    # version, the content version and the data in one MGET); the rest is what every API request costs,
    # as for the dashboard: the user copy, the throttle and, with a cookie, the session
    assert (built.status_code, hit.status_code, again.status_code) == (200, 200, 304)
    assert (
        built.json()
        == hit.json()
        == {
            "enrolled": {enrollment.course.slug: enrollment.pk for enrollment in enrollments},
            "running": {attempt.test.slug: attempt.pk for attempt in attempts},
        }
    )
    assert hit["ETag"] == built["ETag"]
    for commands in (hit_trips, redis_round_trips.commands):
        assert len([command for command in commands if ":dashboard-version:" in command]) == 1, commands  # its MGET
        assert len(commands) == {"jwt": 3, "session": 4}[sign_in.kind], commands


def test_page_state_shows_my_own_enrollment_and_start_at_once(sign_in, django_capture_on_commit_callbacks):
    # Given a learner holding their page state's ETag
    learner = UserFactory()
    client = sign_in(learner)
    before = client.get(PAGE_STATE)
    course, test = CourseFactory(), PracticeTestFactory(question_count=1)

    # When they enroll and start a test (the API's POSTs, their after-commit work run)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/v1/enrollments", json.dumps({"course": course.slug}), content_type=JSON)
    enrolled = client.get(PAGE_STATE, HTTP_IF_NONE_MATCH=before["ETag"])
    with django_capture_on_commit_callbacks(execute=True):
        attempt = client.post(f"/api/v1/tests/{test.slug}/attempts").json()
    started = client.get(PAGE_STATE, HTTP_IF_NONE_MATCH=enrolled["ETag"])

    # Then each shows in the next conditional read, under a new tag
    assert before.json() == {"enrolled": {}, "running": {}}
    assert enrolled.status_code == 200
    assert list(enrolled.json()["enrolled"]) == [course.slug]
    assert started.status_code == 200
    assert started.json()["running"] == {test.slug: attempt["id"]}


@pytest.mark.parametrize("header", ["é-tag", "x" * 1001, ""])
def test_an_if_none_match_that_is_no_etag_list_is_a_400_naming_it(api_client, header):
    api_client.force_authenticate(UserFactory())

    response = api_client.get(DASHBOARD, HTTP_IF_NONE_MATCH=header)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "If-None-Match": ["At most 1,000 visible ASCII characters and spaces: the ETag(s) you were given."]
    }
