"""The content rows seed_demo inserts (notes, questions, courses, tests), built deterministically from
courses/demo/*.yaml so that a second run finds them all present. People and activity: demo/activity.py."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Iterator
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django.utils.text import slugify

from courses import caches
from courses.management.demo_content import CATALOGUE, CHAPTERS, Chapter, Fact
from courses.management.demo_hindi import hindi_fields
from courses.models import ChapterNote, Course, PracticeTest, Question, TestSection
from courses.scoring import OPTIONS

QUESTION_KEY = ("text", "option_a", "option_b", "option_c", "option_d")

# --- notes and questions ----------------------------------------------------------------------------


def note_rows() -> list[ChapterNote]:
    return [
        ChapterNote(
            grade=chapter.grade,
            chapter_number=chapter.number,
            chapter=chapter.name,
            title=f"{chapter.name}: NCERT notes",
            slug=f"ncert-class-{chapter.grade}-ch{chapter.number:02d}-{slugify(chapter.name)}",
            body=_note_body(chapter),
            is_published=True,
        )
        for chapter in CHAPTERS
    ]


def _note_body(chapter: Chapter) -> str:
    """The summary, then one "## <topic>" section per NCERT section: its prose and its key facts."""
    sections = []
    for topic in chapter.topics:
        facts = "".join(f"\n- **{fact.term}** {fact.fact}." for fact in chapter.facts if fact.topic == topic.name)
        sections.append(f"## {topic.name}\n\n{topic.notes}\n" + (f"\nKey facts for NEET:\n{facts}\n" if facts else ""))
    paragraphs = "\n\n".join(chapter.summary)
    return (
        f"# {chapter.name}\n\n*NCERT Biology, Class {chapter.grade}, Chapter {chapter.number}*\n\n"
        f"{paragraphs}\n\n" + "\n".join(sections)
    )


# The notes' format before each topic had its own section (issue 16): "## Topics" list, "## Key facts".
_OLD_NOTE_HEADING = "\n## Key facts for NEET\n"


def stale_notes(rows: list[ChapterNote]) -> list[ChapterNote]:
    """Seeded notes still in the old format, with the body from `rows` set (not saved)."""
    bodies = {row.slug: row.body for row in rows}
    stale = list(ChapterNote.objects.filter(slug__in=bodies, body__contains=_OLD_NOTE_HEADING).only("id", "slug"))
    for note in stale:
        note.body = bodies[note.slug]
    return stale


def stale_topics(rows: list[Question]) -> list[Question]:
    """Questions with a demo question's text and options but another topic, with its topic set (not saved).

    The demo data owns its questions' topics: a re-run puts back the topic chapters.yaml gives."""
    wanted = {tuple(getattr(row, field) for field in QUESTION_KEY): row.topic for row in rows}
    stale = []
    for question in Question.objects.only("id", "topic", *QUESTION_KEY).order_by("id"):
        topic = wanted.get(tuple(getattr(question, field) for field in QUESTION_KEY))
        if topic is not None and topic != question.topic:
            question.topic = topic
            stale.append(question)
    return stale


def question_rows(minimum: int) -> list[Question]:
    """The few hundred base questions, then option-set variants until there are `minimum` (for benchmarks)."""
    rows, texts = [], set()
    for question in _question_variants():
        key = tuple(getattr(question, field) for field in QUESTION_KEY)
        if key in texts:
            continue
        texts.add(key)
        rows.append(question)
        if len(rows) >= minimum and question.variant_rank > 0:
            break
    return rows


def _question_variants() -> Iterator[Question]:
    """Rank 0 is one question of each form per fact; higher ranks swap distractors and the answer's position."""
    for rank in itertools.count():
        produced = False
        for chapter in CHAPTERS:
            for index, fact in enumerate(chapter.facts):
                others = [other for other in chapter.facts if other.term != fact.term]
                combos = list(itertools.combinations(others, 3))
                combo, rotation = divmod(rank, 4)
                if combo >= len(combos):
                    continue
                produced = True
                distractors = list(combos[(combo + index) % len(combos)])
                position = (index + rotation) % 4
                yield _term_question(chapter, index, fact, distractors, position, rank)
                yield _statement_question(chapter, index, fact, distractors, (position + 1) % 4, rank)
        if not produced:
            return


def _term_question(chapter: Chapter, index: int, fact: Fact, distractors: list[Fact], position, rank) -> Question:
    terms = _place([other.term for other in distractors], fact.term, position)
    explanation = f"{fact.term} {fact.fact}. " + "; ".join(f"{o.term} {o.fact}" for o in distractors) + "."
    difficulty = Question.Difficulty.EASY if index % 3 == 0 else Question.Difficulty.MEDIUM
    text = f"Which of the following {fact.fact}?"
    question = _question(chapter, fact, text, terms, position, explanation, difficulty, rank)
    return _with_hindi(question, chapter, "term", fact.term, terms)


def _statement_question(chapter: Chapter, index: int, fact: Fact, distractors: list[Fact], position, rank):
    options = _place([_sentence(other.fact) for other in distractors], _sentence(fact.fact), position)
    others = ", ".join(other.term for other in distractors)
    explanation = f"{fact.term} {fact.fact}. The other statements describe {others}."
    difficulty = Question.Difficulty.HARD if index % 2 else Question.Difficulty.MEDIUM
    text = f"Which of the following statements is correct about {fact.term}?"
    question = _question(chapter, fact, text, options, position, explanation, difficulty, rank)
    terms = _place([other.term for other in distractors], fact.term, position)
    return _with_hindi(question, chapter, "statement", fact.term, terms)


def _with_hindi(question: Question, chapter, form: str, term: str, options_terms: list[str]) -> Question:
    """The Hindi version where courses/management/demo_hindi.py has the chapter's terms (English otherwise)."""
    for field, value in hindi_fields(chapter=chapter.name, form=form, term=term, options_terms=options_terms).items():
        setattr(question, field, value)
    question.hindi_review_refresh()  # the seed bulk-inserts: Question.save() does not run
    return question


def _question(chapter, fact, text, options, position, explanation, difficulty, rank) -> Question:
    """Every variant of a fact's question, bench ones included, has the fact's topic from chapters.yaml."""
    question = Question(
        ncert_class=chapter.grade,
        chapter=chapter.name,
        topic=fact.topic,
        difficulty=difficulty,
        text=text,
        option_a=options[0],
        option_b=options[1],
        option_c=options[2],
        option_d=options[3],
        correct_option=OPTIONS[position],
        explanation=explanation,
    )
    question.variant_rank = rank
    return question


def _place(distractors: list[str], answer: str, position: int) -> list[str]:
    options = list(distractors)
    options.insert(position, answer)
    return options


def _sentence(predicate: str) -> str:
    return f"It {predicate}."


# --- courses and tests ------------------------------------------------------------------------------

BASE_COURSES: list[dict] = CATALOGUE["courses"]
BENCH_COURSES = 10


def course_slugs() -> list[str]:
    return [row["slug"] for row in BASE_COURSES] + [f"bench-batch-{n:02d}" for n in range(1, BENCH_COURSES + 1)]


def course_rows(*, large: bool) -> list[Course]:
    today = timezone.localdate()
    rows = [
        Course(
            slug=row["slug"],
            name=row["name"],
            type=Course.Type[row["type"]],
            class_level=row["class_level"],
            fees_paise=row["fees_paise"],
            is_featured=row.get("featured", False),
            description=f"{row['name']}: complete NCERT Biology for NEET with live classes, notes and weekly tests.",
            syllabus="\n".join(c.name for c in CHAPTERS if row["class_level"] in ("DROPPER", c.grade)),
            start_date=today + timedelta(days=row["starts_in_days"]),
        )
        for row in BASE_COURSES
    ]
    if large:
        rows += [
            Course(
                slug=f"bench-batch-{number:02d}",
                name=f"NEET Biology Batch {number:02d}",
                type=Course.Type.ONLINE,
                class_level=("11", "12", "DROPPER")[number % 3],
                fees_paise=(29_999 + 5_000 * number) * 100,
                start_date=today + timedelta(days=number),
            )
            for number in range(1, BENCH_COURSES + 1)
        ]
    return rows


# NCERT Biology chapters as NEET coaching splits them into Botany and Zoology (chapters.yaml's `subject`).
SUBJECT_CHAPTERS = {subject: [c.name for c in CHAPTERS if c.subject == subject] for subject in ("Botany", "Zoology")}


def test_specs(bench_tests: int) -> list[dict]:
    """What each test is: its fields and where its questions come from (a chapter list, a sample or sections).

    catalogue.yaml's tests, with sections resolved to (name, chapter names, count), after one free chapter
    test per `free_chapter_tests` entry and before `bench_tests` generated mocks (seed_demo --size large).
    """
    by_number = {(chapter.grade, chapter.number): chapter for chapter in CHAPTERS}
    specs = [
        {
            "slug": f"chapter-test-{grade}-{number:02d}-{slugify(by_number[grade, number].name)}",
            "title": f"Chapter test: {by_number[grade, number].name}",
            "grade": grade,
            "duration_minutes": 15,
            "is_free": True,
            "chapters": [by_number[grade, number].name],
        }
        for grade, number in CATALOGUE["free_chapter_tests"]
    ]
    for test in CATALOGUE["tests"]:
        spec = dict(test)
        if "sections" in spec:
            spec["sections"] = [(s["name"], SUBJECT_CHAPTERS[s["subject"]], s["count"]) for s in test["sections"]]
        specs.append(spec)
    return specs + [_bench_spec(number) for number in range(1, bench_tests + 1)]


def _bench_spec(number: int) -> dict:
    return {
        "slug": f"bench-mock-{number:03d}",
        "title": f"NEET Biology Practice Mock {number:03d}",
        "duration_minutes": 60,
        "is_free": number % 2 == 0,
        "course": None if number % 2 == 0 else f"bench-batch-{(number % BENCH_COURSES) + 1:02d}",
        "sample": 50 + (number * 37) % 41,  # 50 to 90 questions
        # A mock covers a unit of six consecutive chapters, as coaching mocks do (and keeps results compact).
        "unit": [CHAPTERS[(number * 5 + offset) % len(CHAPTERS)].name for offset in range(6)],
    }


def section_rows(tests: Iterable[PracticeTest]) -> list[TestSection]:
    specs = {spec["slug"]: spec for spec in test_specs(0)}
    return [
        TestSection(test_id=test.pk, name=name, position=position)
        for test in tests
        for position, (name, _, _) in enumerate(specs.get(test.slug, {}).get("sections", []), start=1)
    ]


def test_slugs(bench_tests: int) -> list[str]:
    return [spec["slug"] for spec in test_specs(bench_tests)]


def test_rows(*, courses: dict[str, Course], now, bench_tests: int) -> list[PracticeTest]:
    # Exam mode opens at the next full quarter hour after one hour from now.
    start = (now + timedelta(hours=1, minutes=15)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    return [
        PracticeTest(
            slug=spec["slug"],
            title=spec["title"],
            description=f"{spec['title']}. NTA marking: +4 for a correct answer, -1 for a wrong one.",
            grade=spec.get("grade", ""),
            duration_minutes=spec["duration_minutes"],
            is_free=spec.get("is_free", False),
            course=courses.get(spec.get("course") or ""),
            scheduled_start=start if spec.get("scheduled") else None,
            shuffle=spec.get("shuffle", False),
        )
        for spec in test_specs(bench_tests)
    ]


class QuestionPool:
    """Picks each test's questions from what is in the table, the same way on every run."""

    def __init__(self, rows: Iterable[dict]):
        self.distinct_ids, self.by_chapter, self.variants_by_chapter = [], {}, {}
        seen = set()
        for row in rows:
            self.variants_by_chapter.setdefault(row["chapter"], []).append(row["id"])
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            self.distinct_ids.append(row["id"])
            self.by_chapter.setdefault(row["chapter"], []).append(row["id"])
        self.specs = {spec["slug"]: spec for spec in test_specs(10_000)}

    def sectioned_paper_for(self, slug: str) -> list[tuple[int, int]]:
        """[(section position, question id)] for a test with sections: distinct questions, none twice."""
        used: set[int] = set()
        paper = []
        rng = random.Random(slug)
        for position, (_, chapters, count) in enumerate(self.specs[slug]["sections"], start=1):
            source = [qid for chapter in chapters for qid in self.by_chapter.get(chapter, []) if qid not in used]
            picked = rng.sample(source, min(count, len(source)))
            used.update(picked)
            paper += [(position, qid) for qid in picked]
        return paper

    def paper_for(self, slug: str) -> list[int]:
        spec = self.specs[slug]
        if "sections" in spec:
            return [qid for _, qid in self.sectioned_paper_for(slug)]
        if "chapters" in spec:
            return [qid for chapter in spec["chapters"] for qid in self.by_chapter.get(chapter, [])]
        if "unit" in spec:
            source = [qid for chapter in spec["unit"] for qid in self.variants_by_chapter.get(chapter, [])]
        else:
            source = self.distinct_ids
        return random.Random(slug).sample(source, min(spec["sample"], len(source)))


# --- after the load ---------------------------------------------------------------------------------


def after_bulk_load() -> None:
    """Fresh planner statistics (the admin's estimated counts read them) and no stale cached querysets."""
    if connection.vendor == "postgresql":
        tables = ["users", "questions", "practice_tests", "practice_test_questions", "enrollments", "test_attempts"]
        tables += ["payments", "analytics_events", "chapter_notes", "courses"]
        with connection.cursor() as cursor:  # seed_demo has lifted the statement timeout
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
    caches.content_changed(Course, Question, PracticeTest, ChapterNote)
