"""seed_demo's NEET (UG) mocks: the 2025 pattern (180 questions, 180 minutes) and Botany 45 + Zoology 45."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from courses import caches, services
from courses.models import PracticeTest, TestSection
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    call_command("seed_demo", size="small", stdout=StringIO())


@pytest.mark.parametrize(
    ("slug", "minutes", "sections"),
    [
        (
            "neet-ug-full-length-mock-1",
            180,
            [("Botany I", 45), ("Zoology I", 45), ("Botany II", 45), ("Zoology II", 45)],
        ),
        ("neet-ug-biology-full-mock-1", 90, [("Botany", 45), ("Zoology", 45)]),
    ],
)
def test_neet_full_mocks_have_sections_of_45_distinct_questions(seeded, slug, minutes, sections):
    test = PracticeTest.objects.get(slug=slug)
    paper = caches.paper_get(test)

    assert (test.duration_minutes, test.marks_correct, test.marks_wrong, test.marks_unanswered) == (minutes, 4, -1, 0)
    assert [(s["name"], len(s["question_ids"]), s["attempt_any"]) for s in paper["sections"]] == [
        (name, count, None) for name, count in sections
    ]
    ids = [q["id"] for q in paper["questions"]]
    assert len(ids) == len(set(ids)) == sum(count for _, count in sections)
    assert test.shuffle


def test_a_seeded_full_mock_can_be_taken_and_scored_by_section(seeded):
    test = PracticeTest.objects.get(slug="neet-ug-biology-full-mock-1")
    attempt = services.attempt_start(test=test, user=UserFactory())

    result = services.attempt_submit(attempt=attempt)

    assert result.score == 0
    assert set(result.section_breakdown) == {"Botany", "Zoology"}
    assert result.section_breakdown["Zoology"]["unanswered"] == 45


def test_a_second_seed_adds_no_sections(seeded):
    before = TestSection.objects.count()
    call_command("seed_demo", size="small", stdout=StringIO())
    assert TestSection.objects.count() == before == 6
