"""NTA percentile and rank with the NEET (UG) 2025 tie-break order; the estimated rank band lookup."""

from __future__ import annotations

from decimal import Decimal

import pytest

from practice import ranking
from practice.analysis import rank_band_for
from practice.models import RankBand


def row(score, *, bio=(0, 0, 0), chem=(0, 0, 0), phys=(0, 0, 0)):
    """A taker: (marks, right, wrong) per subject; totals are their sums."""
    subjects = {
        name: {"score": s, "correct": c, "wrong": w}
        for name, (s, c, w) in {"biology": bio, "chemistry": chem, "physics": phys}.items()
    }
    return {
        "score": score,
        "correct": sum(v["correct"] for v in subjects.values()),
        "wrong": sum(v["wrong"] for v in subjects.values()),
        "subjects": subjects,
    }


@pytest.mark.parametrize(
    ("score", "scores", "expected"),
    [
        pytest.param(10, [10], "100.0000000", id="one-learner"),
        pytest.param(5, [5, 5, 5], "100.0000000", id="all-equal"),
        pytest.param(10, [20, 15, 15, 12, 10, 6, 1, 0, -5, 10], "60.0000000", id="ties-count-as-at-or-below"),
        pytest.param(-5, [20, 15, 15, 12, 10, 6, 1, 0, -5, 10], "10.0000000", id="last"),
        pytest.param(1, [1, 2, 3], "33.3333333", id="seven-decimals"),
        pytest.param(2, [1, 2, 3], "66.6666667", id="rounded-half-up"),
    ],
)
def test_percentile_is_ntas(score, scores, expected):
    assert str(ranking.percentile(score, scores)) == expected


def test_equal_marks_broken_by_biology_then_chemistry_then_physics():
    a = row(100, bio=(60, 15, 0), chem=(20, 5, 0), phys=(20, 5, 0))
    b = row(100, bio=(40, 10, 0), chem=(40, 10, 0), phys=(20, 5, 0))  # less Biology
    c = row(100, bio=(40, 10, 0), chem=(30, 8, 2), phys=(30, 8, 2))  # same Biology as b, less Chemistry
    d = row(100, bio=(40, 10, 0), chem=(30, 8, 2), phys=(30, 8, 2))  # identical to c
    assert ranking.ranks([d, c, b, a]) == [3, 3, 2, 1]


def test_then_fewer_wrong_per_right_overall_then_per_subject():
    # Same marks in every subject; the overall ratio decides: 2 wrong / 26 right beats 8 / 27.
    fewer = row(100, bio=(60, 15, 0), chem=(20, 6, 2), phys=(20, 5, 0))
    more = row(100, bio=(60, 16, 4), chem=(20, 6, 4), phys=(20, 5, 0))
    assert ranking.ranks([more, fewer]) == [2, 1]
    # Same overall ratio (2 / 20); the Biology ratio decides (0 / 10 beats 2 / 10).
    bio_clean = row(80, bio=(40, 10, 0), chem=(20, 5, 0), phys=(20, 5, 2))
    bio_wrong = row(80, bio=(40, 10, 2), chem=(20, 5, 0), phys=(20, 5, 0))
    assert ranking.ranks([bio_wrong, bio_clean]) == [2, 1]


def test_all_equal_share_rank_one_and_a_single_learner_is_first():
    same = [row(50, bio=(50, 13, 2)) for _ in range(4)]
    assert ranking.ranks(same) == [1, 1, 1, 1]
    assert ranking.ranks([row(-3)]) == [1]
    assert ranking.rank_of(row(7), []) == 1


def test_higher_marks_always_rank_first_whatever_the_tie_break():
    assert ranking.ranks([row(10, bio=(0, 5, 10)), row(11, bio=(11, 3, 1))]) == [2, 1]


def test_the_order_is_configurable(settings):
    chem_first = row(100, bio=(40, 10, 0), chem=(60, 15, 0))
    bio_first = row(100, bio=(60, 15, 0), chem=(40, 10, 0))
    assert ranking.ranks([chem_first, bio_first]) == [2, 1]
    settings.PRACTICE_TIE_BREAK = ["chemistry_marks", "biology_marks"]
    assert ranking.ranks([chem_first, bio_first]) == [1, 2]
    settings.PRACTICE_TIE_BREAK = ["shoe_size"]
    with pytest.raises(ValueError, match="shoe_size"):
        ranking.tie_break_order()


def test_subjects_from_neet_sections_and_a_biology_only_paper():
    sections = {
        "Physics": {"score": 20, "correct": 5, "wrong": 0},
        "Chemistry": {"score": 15, "correct": 4, "wrong": 1},
        "Botany": {"score": 30, "correct": 8, "wrong": 2},
        "Zoology": {"score": 35, "correct": 9, "wrong": 1},
    }
    totals = ranking.subject_totals(score=100, correct=26, wrong=4, section_breakdown=sections)
    assert totals["biology"] == {"score": 65, "correct": 17, "wrong": 3}
    assert totals["physics"]["score"] == 20
    biology_only = ranking.subject_totals(score=12, correct=3, wrong=0, section_breakdown={"Questions": {"score": 12}})
    assert biology_only["biology"] == {"score": 12, "correct": 3, "wrong": 0}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("percentile", "expected"),
    [
        ("99.995", (2025, 1, 220)),
        ("99.99", (2025, 1, 220)),  # on a boundary: the better band
        ("60", (2025, 660_000, 1_100_000)),
        ("0", (2025, 1_100_000, 2_200_000)),
    ],
)
def test_rank_band_lookup_from_the_demo_table(rank_bands, percentile, expected):
    band = rank_band_for(Decimal(percentile))
    assert (band["year"], band["rank_best"], band["rank_worst"]) == expected
    assert band["is_estimate"] is True


@pytest.mark.django_db
def test_rank_band_newest_year_wins_and_none_without_rows(rank_bands):
    RankBand.objects.create(
        year=2026, percentile_min=Decimal("50"), percentile_max=Decimal("70"), rank_best=600_000, rank_worst=1_000_000
    )
    assert rank_band_for(Decimal("60"))["year"] == 2026
    RankBand.objects.all().delete()
    assert rank_band_for(Decimal("60")) is None
