"""The demo data files in courses/demo/ (YAML), read once at import and checked, for seed_demo.

- chapters.yaml: the 38 NCERT Biology chapters (class 11: 22, class 12: 16) with their sections as topics,
  note prose per topic and the (term, topic, fact) rows the questions are made from;
- hindi.yaml: Hindi terms and facts for the chapters that have them (issue 18 item 5);
- catalogue.yaml: courses (fees in integer paise) and practice tests;
- people.yaml: demo logins, names and cities for generated learners, campaigns and analytics event types.

A file that breaks a rule the seed relies on (a fact tagged with a topic its chapter does not have, a test
naming an unknown chapter or subject) raises ValueError on import, naming the file and the row.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import yaml

DEMO_DIR = Path(__file__).resolve().parents[1] / "demo"
SUBJECTS = ("Botany", "Zoology")


class Topic(NamedTuple):
    name: str
    notes: str  # the prose under the topic's heading in the chapter notes


class Fact(NamedTuple):
    term: str
    topic: str
    fact: str  # completes "<term> ..." and "Which of the following ...?"


class Chapter(NamedTuple):
    grade: str  # "11" or "12"
    number: int  # NCERT chapter number
    name: str
    subject: str  # Botany or Zoology
    summary: tuple[str, ...]
    topics: tuple[Topic, ...]
    facts: tuple[Fact, ...]


def _load(name: str):
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load((DEMO_DIR / name).read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe loader)


def _chapter(row: dict) -> Chapter:
    chapter = Chapter(
        grade=row["class"],
        number=row["chapter"],
        name=row["name"],
        subject=row["subject"],
        summary=tuple(row["summary"]),
        topics=tuple(Topic(**topic) for topic in row["topics"]),
        facts=tuple(Fact(**fact) for fact in row["facts"]),
    )
    names = [topic.name for topic in chapter.topics]
    if chapter.subject not in SUBJECTS:
        raise ValueError(f"chapters.yaml, {chapter.name}: subject {chapter.subject!r} is not one of {SUBJECTS}")
    for fact in chapter.facts:
        if fact.topic not in names:
            raise ValueError(f"chapters.yaml, {chapter.name}: {fact.term!r} has topic {fact.topic!r}, not in {names}")
    return chapter


CHAPTERS: tuple[Chapter, ...] = tuple(_chapter(row) for row in _load("chapters.yaml"))
CHAPTER_NAMES = {chapter.name for chapter in CHAPTERS}

# chapter name -> English term -> (Hindi term, Hindi fact)
HINDI: dict[str, dict[str, tuple[str, str]]] = {
    chapter: {term: (row["term"], row["fact"]) for term, row in terms.items()}
    for chapter, terms in _load("hindi.yaml").items()
}

CATALOGUE: dict = _load("catalogue.yaml")
PEOPLE: dict = _load("people.yaml")


def _check_catalogue() -> None:
    for test in CATALOGUE["tests"]:
        unknown = set(test.get("chapters", [])) - CHAPTER_NAMES
        unknown |= {section["subject"] for section in test.get("sections", [])} - set(SUBJECTS)
        if unknown:
            raise ValueError(f"catalogue.yaml, test {test['slug']}: unknown chapters or subjects {sorted(unknown)}")
    if unknown := set(HINDI) - CHAPTER_NAMES:
        raise ValueError(f"hindi.yaml: unknown chapters {sorted(unknown)}")


_check_catalogue()
