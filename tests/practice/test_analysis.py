"""Post-test analysis against the hand-computed 10-learner fixture (tests/practice/conftest.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from practice import analysis

pytestmark = pytest.mark.django_db


@pytest.fixture
def mine(ten_learner_test):
    return analysis.attempt_analysis(attempt=ten_learner_test["attempts"][10])


def test_summary_marks_accuracy_negative_marks_and_time(mine):
    assert mine["summary"] == {
        "score": 10,
        "questions": 5,
        "correct": 3,
        "wrong": 2,
        "unanswered": 0,
        "accuracy_percent": 60.0,
        "negative_marks": 2,
        "seconds": 240,
    }


def test_by_section_chapter_and_topic(mine):
    sections = {row["name"]: row for row in mine["by_section"]}
    assert sections["Botany"] | {} == {
        "name": "Botany", "questions": 3, "correct": 2, "wrong": 1, "unanswered": 0,
        "accuracy_percent": 66.67, "negative_marks": 1, "seconds": 140,
    }  # fmt: skip
    assert (sections["Zoology"]["accuracy_percent"], sections["Zoology"]["seconds"]) == (50.0, 100)
    topics = {
        row["name"]: (row["correct"], row["wrong"], row["accuracy_percent"], row["seconds"]) for row in mine["by_topic"]
    }
    assert topics == {
        "Cell cycle": (1, 1, 50.0, 120),
        "Photosynthesis": (1, 0, 100.0, 20),
        "Genetics": (1, 1, 50.0, 100),
    }
    chapters = {row["name"]: row["seconds"] for row in mine["by_chapter"]}
    assert chapters == {"Cell": 120, "Plants": 20, "Inheritance": 100}


def test_time_per_question_against_the_average_of_all_takers(mine):
    rows = [
        (q["number"], q["outcome"], q["your_seconds"], q["average_seconds"], q["share_correct"])
        for q in mine["questions"]
    ]
    assert rows == [
        (1, "correct", 30, 41.0, 0.7),
        (2, "wrong", 90, 47.0, 0.6),
        (3, "correct", 20, 40.0, 0.6),
        (4, "wrong", 60, 36.0, 0.3),
        (5, "correct", 40, 25.0, 0.3),
    ]
    assert [q["number"] for q in mine["longest"]] == [2, 4, 5, 1, 3]


def test_wrong_where_most_were_right_and_the_reverse(mine):
    assert [q["number"] for q in mine["wrong_most_got_right"]] == [2]
    assert [q["number"] for q in mine["right_most_got_wrong"]] == [5]


def test_you_against_topper_and_average(mine):
    you, topper, average = (mine["comparison"][who] for who in ("you", "topper", "average"))
    assert (you["score"], you["attempted"], you["accuracy_percent"], you["seconds"]) == (10, 5, 60.0, 240)
    assert (topper["score"], topper["attempted"], topper["accuracy_percent"], topper["seconds"]) == (20, 5, 100.0, 50)
    assert [(s["name"], s["score"], s["seconds"]) for s in topper["sections"]] == [
        ("Botany", 12, 30),
        ("Zoology", 8, 20),
    ]
    # Means over 10 takers: score 84/10, right 25/10, wrong 16/10, seconds 1890/10.
    assert (average["score"], average["attempted"], average["accuracy_percent"], average["seconds"]) == (
        8.4, 4.1, 60.98, 189.0
    )  # fmt: skip
    assert [(s["name"], s["score"], s["seconds"]) for s in average["sections"]] == [
        ("Botany", 6.8, 128.0),
        ("Zoology", 1.6, 61.0),
    ]


def test_rank_percentile_and_estimated_band(mine):
    standing = mine["standing"]
    # Ahead: 20, 15, 15, 12; level on 10 with learner 3 (same marks, same wrong/right ratio): shared rank 5.
    assert (standing["rank"], standing["takers"], standing["percentile"]) == (5, 10, "60.0000000")
    band = standing["predicted_neet_rank"]
    assert (band["is_estimate"], band["year"], band["rank_best"], band["rank_worst"]) == (
        True,
        2025,
        660_000,
        1_100_000,
    )


def test_topper_and_tied_learners(ten_learner_test):
    attempts = ten_learner_test["attempts"]
    topper = analysis.attempt_analysis(attempt=attempts[1])["standing"]
    assert (topper["rank"], topper["percentile"]) == (1, "100.0000000")
    assert [analysis.attempt_analysis(attempt=attempts[n])["standing"]["rank"] for n in (2, 6, 9)] == [2, 2, 10]


def test_a_new_submit_changes_the_cached_aggregates(ten_learner_test, django_capture_on_commit_callbacks):
    from tests.factories import UserFactory
    from tests.practice.conftest import take

    attempts = ten_learner_test["attempts"]
    assert analysis.attempt_analysis(attempt=attempts[10])["standing"]["takers"] == 10
    with django_capture_on_commit_callbacks(execute=True):  # the submit's after-commit bumps the version
        take(ten_learner_test["test"], UserFactory(), "AAAAA", [5] * 5)
    again = analysis.attempt_analysis(attempt=attempts[10])
    assert again["standing"]["takers"] == 11
    assert again["questions"][0]["share_correct"] == round(8 / 11, 4)


@pytest.mark.parametrize("extra_takers", [0, 40])
def test_analysis_page_query_budget(client, ten_learner_test, django_assert_max_num_queries, extra_takers):
    from tests.factories import UserFactory
    from tests.practice.conftest import take

    for _ in range(extra_takers):
        take(ten_learner_test["test"], UserFactory(), "AAB-A", [7] * 5)
    attempt = ten_learner_test["attempts"][10]
    client.force_login(ten_learner_test["learners"][10])
    url = reverse("practice:analysis", args=[attempt.pk])
    assert client.get(url).status_code == 200  # builds the test's aggregates once
    with django_assert_max_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    assert b'id="standing"' in response.content
    assert b"<svg" in response.content


def test_a_rescore_after_a_key_change_rebuilds_the_aggregates(ten_learner_test, django_capture_on_commit_callbacks):
    from cerebrum.cache import l1_clear
    from courses.rekey import question_rekey

    attempts = ten_learner_test["attempts"]
    assert analysis.attempt_analysis(attempt=attempts[10])["questions"][1]["share_correct"] == 0.6
    # Staff correct q2's key to B (the admin's key change): every finished attempt is re-scored.
    with django_capture_on_commit_callbacks(execute=True):
        question_rekey(question=ten_learner_test["questions"][1], correct_option="B", reason="Wrong key")
    l1_clear()  # this process's 30 s copy of the key (other processes: courses.rekey's second pass)
    attempts[10].refresh_from_db()
    again = analysis.attempt_analysis(attempt=attempts[10])
    assert again["questions"][1]["outcome"] == "correct"
    assert again["questions"][1]["share_correct"] == 0.3  # learners 5, 9 and 10 chose B: not the cached 0.6


def test_staff_see_the_rank_bands_in_the_admin(client, rank_bands):
    from tests.factories import StaffFactory

    client.force_login(StaffFactory())
    response = client.get("/admin/practice/rankband/")
    assert response.status_code == 200
    assert response.context["cl"].result_count == 11  # the demo rows of migration 0002


def test_analysis_page_in_hindi_has_its_table_headings_translated(client, ten_learner_test):
    # {% translate "Accuracy (%)" %} is looked up as "Accuracy (%%)": it stayed English on the Hindi page.
    attempt = ten_learner_test["attempts"][10]
    client.force_login(ten_learner_test["learners"][10])
    client.cookies["django_language"] = "hi"

    body = client.get(reverse("practice:analysis", args=[attempt.pk])).content.decode()

    assert '<th scope="col">सटीकता (%)</th>' in body
    assert 'data-label="सटीकता (%)"' in body
    assert "Accuracy" not in body
