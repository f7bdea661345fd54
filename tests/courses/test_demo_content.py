"""The demo content (courses/demo/*.yaml) tags every question with the right NCERT topic (issue 16 item 6).

The check, on the rows seed_demo builds (no database needed):
- each chapter's notes have one "## <topic>" heading per topic of the chapter, in the order of the NCERT sections;
- each question's topic is one of those headings in its own chapter's notes;
- the question's key term (the answer of "Which of the following ...?", or X in "... correct about X?")
  appears in the prose under its topic's heading, not counting the "Key facts" list seed_demo derives from
  the tags. Every word of the term must appear (as a word starting with its first len - 2 letters, so
  "Mitochondrion" matches "mitochondria"). A learner told to revise the topic finds the term there.
The check fails on the old rotation (mitochondrion tagged "Cell theory", trisomy 21 "Mendel's laws"): see
test_the_check_catches_topics_handed_out_in_rotation.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from courses.management import demo_seed
from courses.management.demo_content import CHAPTERS

STOP_WORDS = {"a", "an", "and", "by", "for", "in", "its", "of", "s", "the", "to", "with"}
STATEMENT = re.compile(r"^Which of the following statements is correct about (?P<term>.+)\?$")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def mentions(prose: str, term: str) -> bool:
    """Every word of `term` (stop words aside) starts some word of `prose` (its first len - 2 letters, min 3)."""
    tokens = _words(prose)
    return all(
        any(token.startswith(word[: max(3, len(word) - 2)]) for token in tokens)
        for word in _words(term)
        if word not in STOP_WORDS
    )


def topic_sections(body: str) -> dict[str, str]:
    """{heading: prose} of a chapter note's "## " sections, without the derived "Key facts" list."""
    sections = {}
    for chunk in body.split("\n## ")[1:]:
        heading, _, text = chunk.partition("\n")
        sections[heading.strip()] = text.split("Key facts for NEET:")[0]
    return sections


def key_term(question) -> str:
    """The term a demo question is about: its answer's text, or the X of "... correct about X?"."""
    if match := STATEMENT.match(question.text):
        return match["term"]
    return question.options[question.correct_option]


@pytest.fixture(scope="module")
def notes() -> dict[str, dict[str, str]]:
    return {note.chapter: topic_sections(note.body) for note in demo_seed.note_rows()}


def misplaced(questions, notes) -> list[str]:
    problems = []
    for question in questions:
        sections = notes[question.chapter]
        if question.topic not in sections:
            problems.append(f"{question.chapter}: topic {question.topic!r} is not a heading of its notes")
        elif not mentions(sections[question.topic], key_term(question)):
            problems.append(f"{question.chapter}: {key_term(question)!r} is not in the notes of {question.topic!r}")
    return problems


def test_each_chapter_note_has_a_heading_per_topic_in_order(notes):
    for chapter in CHAPTERS:
        assert list(notes[chapter.name]) == [topic.name for topic in chapter.topics], chapter.name


def test_every_demo_question_is_tagged_with_the_topic_whose_notes_name_its_term(notes):
    questions = demo_seed.question_rows(0)

    assert len(questions) == 413
    assert misplaced(questions, notes) == []


@pytest.mark.parametrize(
    ("term", "topic"),
    [
        ("Mitochondrion", "Mitochondria and plastids"),
        ("Golgi apparatus", "Endomembrane system"),
        ("Lysosome", "Endomembrane system"),
        ("Down's syndrome", "Chromosomal disorders"),
        ("Haemophilia", "Mendelian disorders"),
        ("Pachytene", "Meiosis"),
        ("Taq polymerase", "Processes of recombinant DNA technology"),
    ],
)
def test_named_examples_carry_their_ncert_section(term, topic):
    about = [q for q in demo_seed.question_rows(0) if key_term(q) == term]

    assert len(about) == 2  # the term question and the statement question
    assert {q.topic for q in about} == {topic}


def test_bench_variants_keep_the_topic_of_the_question_they_derive_from(notes):
    # seed_demo --size large adds option-set variants of the base questions until there are 5,000.
    rows = demo_seed.question_rows(5_000)
    topics_by_term = defaultdict(set)
    for question in rows:
        topics_by_term[question.chapter, key_term(question)].add(question.topic)

    assert len(rows) == 5_000
    assert {key: len(topics) for key, topics in topics_by_term.items() if len(topics) > 1} == {}
    assert misplaced(rows, notes) == []


def test_the_check_catches_topics_handed_out_in_rotation(notes):
    # The old seed gave question i of a chapter topics[i % len(topics)]: mitochondrion -> "Cell theory".
    questions = demo_seed.question_rows(0)
    facts = {(c.name, f.term): (c, i) for c in CHAPTERS for i, f in enumerate(c.facts)}
    for question in questions:
        chapter, index = facts[question.chapter, key_term(question)]
        question.topic = chapter.topics[index % len(chapter.topics)].name

    problems = misplaced(questions, notes)

    assert "Cell: The Unit of Life: 'Mitochondrion' is not in the notes of 'Cell theory'" in problems
    assert len(problems) > len(questions) // 2


def test_every_topic_has_notes_of_its_own():
    # A section may have no questions yet, but a learner sent to it still finds notes.
    for chapter in CHAPTERS:
        for topic in chapter.topics:
            assert len(_words(topic.notes)) >= 8, (chapter.name, topic.name)
        assert {fact.topic for fact in chapter.facts} <= {topic.name for topic in chapter.topics}
