"""A dict cached by a release with another shape is never read by the next one (docs/caching.md).

Each test stores a dict the way a previous release whose shape lacked a key did, under the key that
release used (the owner's key prefix carries the shape's digest: `cerebrum.cache.shaped`), then asks for
the page or API that reads it: 200 with the right data. Before, such a dict was read, and the reader's
missing key was a 500 for every learner until the TTL ended (the paper: 6 hours).
"""

from __future__ import annotations

import contextlib
import types
from typing import NotRequired, TypedDict, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts import caches as accounts_caches
from accounts import selectors as account_selectors
from accounts.shapes import Profile
from analytics import caches as analytics_caches
from cerebrum import http_cache
from cerebrum.cache import l1_clear, shaped
from courses import caches, services
from courses import selectors as course_selectors
from courses.models import Question
from courses.shapes import AnswerKey, Dashboard, Paper, PaperQuestion
from practice import analysis, revision
from practice import caches as practice_caches
from practice.models import ReviewCard
from practice.shapes import RevisionSummary, Taker, TestResults
from tests.factories import PracticeTestFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def previous_release(monkeypatch, module, attribute: str, prefix: str, shape):
    """Within the block the owner keys its dicts as a release with `shape` did. (raising=False: code
    that keys no dict by its shape keyed the previous release's dicts as it keys its own.)"""
    with monkeypatch.context() as patch:
        patch.setattr(module, attribute, shaped(prefix, shape), raising=False)
        yield
    l1_clear()  # a deploy starts new processes: their in-process copies are empty


# The previous releases' shapes (module level: the annotations are strings).
class PaperBeforeSections(TypedDict):
    test_id: int
    version: int
    questions: list[PaperQuestion]


class AnswerKeyEntryBeforeRename(TypedDict):
    answer: str  # renamed "correct" since
    explanation: str
    topic: str
    chapter: str


class TestResultsBeforeTopper(TypedDict):
    rows: list[Taker]
    questions: dict


class RevisionSummaryBeforeStreak(TypedDict):
    due_today: int


class ProfileBeforePhoneVerified(TypedDict):
    id: int
    name: str
    email: str | None
    phone: str | None
    role: str
    profile: dict
    email_verified: bool


class PageEntryBeforeCsrf(TypedDict):
    version: list
    body: bytes
    etag: str
    headers: list[tuple[str, str]]


class PerformanceSnapshotBeforeCounts(TypedDict):
    at: float
    requests: dict[str, float]


def _learner(api_client):
    learner = UserFactory()
    api_client.force_authenticate(learner)
    return learner


def test_a_paper_cached_without_sections_is_rebuilt_for_the_start_and_the_exam(api_client, monkeypatch):
    _learner(api_client)
    test = PracticeTestFactory(question_count=3, shuffle=True)
    paper = caches.paper_snapshot(test.pk, test.paper_version)["paper"]
    with previous_release(monkeypatch, caches, "PAPER_SHAPED", caches.PAPER, PaperBeforeSections):
        old = {key: value for key, value in paper.items() if key != "sections"}
        cache.set(caches.paper_key(test.pk, test.paper_version), old, caches.PAPER_TIMEOUT)

    started = api_client.post(f"/api/v1/tests/{test.slug}/attempts", format="json")
    attempt = api_client.get(f"/api/v1/attempts/{started.json()['id']}")

    assert started.status_code == 201, started.content
    assert attempt.status_code == 200
    assert sorted(q["id"] for q in attempt.json()["questions"]) == sorted(q["id"] for q in paper["questions"])
    assert caches.paper_get(test)["sections"] == paper["sections"]  # stored again in this release's shape


def test_an_answer_key_cached_before_a_rename_is_rebuilt_for_the_submit(api_client, monkeypatch):
    learner = _learner(api_client)
    test = PracticeTestFactory(question_count=2)
    key = caches.paper_snapshot(test.pk, test.paper_version)["answer_key"]
    with previous_release(
        monkeypatch, caches, "ANSWER_KEY_SHAPED", caches.ANSWER_KEY, dict[str, AnswerKeyEntryBeforeRename]
    ):
        old = {
            qid: {"answer": e["correct"], **{f: e[f] for f in ("explanation", "topic", "chapter")}}
            for qid, e in key.items()
        }
        cache.set(caches.answer_key_cache_key(test.pk, test.paper_version), old, caches.PAPER_TIMEOUT)
    attempt = services.attempt_start(test=test, user=learner)
    for qid, entry in key.items():
        services.attempt_answer(attempt=attempt, question_id=int(qid), option=entry["correct"])

    response = api_client.post(f"/api/v1/attempts/{attempt.pk}/submit", format="json")

    assert response.status_code == 200, response.content
    assert response.json()["score"] == 2 * test.marks_correct


def _finished_attempt(learner):
    test = PracticeTestFactory(question_count=2)
    attempt = services.attempt_start(test=test, user=learner)
    question_id = caches.paper_get(test)["questions"][0]["id"]
    services.attempt_answer(attempt=attempt, question_id=question_id, option="A")
    return services.attempt_submit(attempt=attempt)


def test_test_results_cached_without_the_topper_are_rebuilt_for_the_analysis(api_client):
    learner = _learner(api_client)
    attempt = _finished_attempt(learner)
    fresh = analysis._aggregates_build(attempt.test_id)
    version = caches.test_results_version(attempt.test_id)
    old_key = caches.test_results_key(attempt.test_id, version, TestResultsBeforeTopper)
    cache.set(old_key, {"rows": fresh["rows"], "questions": fresh["questions"]}, caches.TEST_RESULTS_TIMEOUT)

    response = api_client.get(f"/api/v1/attempts/{attempt.pk}/analysis")

    assert response.status_code == 200, response.content
    assert response.json()["standing"]["takers"] == 1
    assert response.json()["comparison"]["topper"]["score"] == attempt.score


def test_a_revision_summary_cached_without_the_streak_is_rebuilt_for_the_revision_api(api_client, monkeypatch):
    learner = _learner(api_client)
    revision.cards_add(user_id=learner.pk, question_ids=[_question_id()], source=ReviewCard.Source.BOOKMARK)
    with previous_release(
        monkeypatch,
        practice_caches,
        "REVISION_SUMMARY_SHAPED",
        practice_caches.REVISION_SUMMARY,
        RevisionSummaryBeforeStreak,
    ):
        # Stored as that release stored it: through the owner, under the version current then.
        practice_caches.revision_summary_get_or_build(learner.pk, lambda: {"due_today": 7})

    response = api_client.get("/api/v1/me/revision")

    assert response.status_code == 200, response.content
    assert (response.json()["due_today"], response.json()["streak_days"]) == (1, 0)


def _question_id() -> int:
    test = PracticeTestFactory(question_count=1)
    return caches.paper_get(test)["questions"][0]["id"]


def test_a_profile_cached_without_phone_verified_is_rebuilt_for_me(api_client, monkeypatch):
    learner = _learner(api_client)
    with previous_release(
        monkeypatch, accounts_caches, "PROFILE_SHAPED", accounts_caches.PROFILE, ProfileBeforePhoneVerified
    ):
        accounts_caches.profile_get_or_build(
            learner.pk,
            lambda: {
                "id": learner.pk,
                "name": "Old Name",
                "email": learner.email,
                "phone": learner.phone,
                "role": learner.role,
                "profile": {},
                "email_verified": False,
            },
        )

    response = api_client.get("/api/v1/me")

    assert response.status_code == 200, response.content
    assert (response.json()["name"], response.json()["phone_verified"]) == (learner.name, False)


def test_a_member_page_cached_without_the_csrf_field_is_rendered_again(monkeypatch):
    client = Client()
    client.force_login(UserFactory())
    client.get("/")  # the once-per-5-minutes last-active write
    with previous_release(monkeypatch, http_cache, "MEMBER_PAGE_SHAPED", http_cache.MEMBER_PAGE, PageEntryBeforeCsrf):
        assert client.get(reverse("courses:catalog"))["X-Cache"] == "MISS"  # stored as that release stored it
        (key,) = cache.keys(f"{http_cache.MEMBER_PAGE}:*{reverse('courses:catalog')}*")
        entry = cache.get(key)
        cache.set(key, {name: value for name, value in entry.items() if name != "csrf"}, 300)

    response = client.get(reverse("courses:catalog"))

    assert response.status_code == 200
    assert response["X-Cache"] == "MISS"
    assert 'name="csrfmiddlewaretoken"' in response.content.decode()


def test_a_performance_snapshot_cached_without_counts_is_replaced(client, monkeypatch):
    client.force_login(StaffFactory())
    previous = analytics_caches.PERFORMANCE_PREVIOUS
    with previous_release(
        monkeypatch, analytics_caches, "PERFORMANCE_PREVIOUS_SHAPED", previous, PerformanceSnapshotBeforeCounts
    ):
        analytics_caches.performance_previous_swap({"at": 1.0, "requests": {}})

    response = client.get("/staff/analytics/performance/")

    assert response.status_code == 200
    assert response.context["routes"]


def _shape_errors(value, shape, path: str = "") -> list[str]:
    """Where `value` has other keys than `shape` declares (nested too): the digest in a key names the
    shape, so a builder that strays from it would bring back the very KeyError the digest prevents."""
    origin, args = get_origin(shape), get_args(shape)
    if is_typeddict(shape):
        hints = get_type_hints(shape)
        optional = {
            key for key, hint in get_type_hints(shape, include_extras=True).items() if get_origin(hint) is NotRequired
        }
        errors = [f"{path}.{key}: missing" for key in set(hints) - optional - set(value)]
        errors += [f"{path}.{key}: not in {shape.__name__}" for key in set(value) - set(hints)]
        return errors + [
            e for key in set(value) & set(hints) for e in _shape_errors(value[key], hints[key], f"{path}.{key}")
        ]
    if origin is list and args:
        return [e for i, item in enumerate(value) for e in _shape_errors(item, args[0], f"{path}[{i}]")]
    if origin is dict and args:
        return [e for key, item in value.items() for e in _shape_errors(item, args[1], f"{path}[{key}]")]
    if origin in (Union, types.UnionType) and value is not None:
        (inner,) = [arg for arg in args if arg is not type(None)]
        return _shape_errors(value, inner, path)
    return []


def test_every_cached_dict_is_built_in_its_declared_shape(client, api_client):
    learner = UserFactory()
    attempt = _finished_attempt(learner)
    test = PracticeTestFactory(question_count=1)
    Question.objects.filter(pk__in=test.paper_items.values("question_id")).update(text_hi="कोशिका चक्र")
    client.force_login(learner)
    client.get("/")
    client.get(reverse("courses:catalog"))
    (page_key,) = cache.keys(f"{http_cache.MEMBER_PAGE_SHAPED}:*{reverse('courses:catalog')}*")

    built = [
        (caches.paper_snapshot(test.pk, test.paper_version)["paper"], Paper),
        (caches.paper_snapshot(attempt.test_id, attempt.paper_version)["paper"], Paper),
        (caches.answer_key_get(test_id=attempt.test_id, version=attempt.paper_version), AnswerKey),
        (analysis.test_aggregates(test_id=attempt.test_id), TestResults),
        (revision.revision_summary(user=learner), RevisionSummary),
        (account_selectors.user_profile_get(user_id=learner.pk), Profile),
        (course_selectors.dashboard_for_user(user=learner), Dashboard),
        (cache.get(page_key), http_cache.PageEntry),
        ({"at": 1.0, "counts": {}}, analytics_caches.PerformanceSnapshot),
    ]

    assert "hi" in built[0][0]["questions"][0]  # the optional key is there, and checked
    assert [error for value, shape in built for error in _shape_errors(value, shape)] == []
