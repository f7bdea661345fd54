"""An admin edit reaches the learner's next page: one journey, run in both shapes (test_cache_shapes.py).

Plain Django test client, no pytest: the embedded run imports this in a subprocess on the embedded
settings (SQLite, local-memory cache, cacheops off), the production run in the suite (PostgreSQL, Redis,
cacheops). Each step warms the caches first (two reads), then a staff member saves the admin change form
as a browser would, then the very next read of a signed-in learner and of a visitor must show it.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.cerebrum.admin_forms import admin_form_data
from tests.factories import ChapterNoteFactory, CourseFactory, QuestionFactory, StaffFactory, UserFactory


def admin_edits_reach_learners() -> None:
    learner, visitor, staff = Client(), Client(), Client()
    learner.force_login(UserFactory())
    staff.force_login(StaffFactory())
    course = CourseFactory(name="NEET Biology Target")
    note = ChapterNoteFactory(grade="11", chapter="Cell: The Unit of Life", title="Cell notes")
    question = QuestionFactory(chapter=note.chapter, ncert_class="11", text="Which organelle makes ATP?")
    catalog, course_page = reverse("courses:catalog"), reverse("courses:course_detail", args=[course.slug])
    note_page = reverse("courses:note_detail", args=[note.slug])

    _step(staff, [learner, visitor], [catalog, course_page], "course", course.pk, "name", "NEET Biology Crash Course")
    _step(
        staff,
        [learner, visitor],
        [note_page],
        "question",
        question.pk,
        "text",
        "Which organelle is the powerhouse of a cell?",
    )
    _step(staff, [learner, visitor], [note_page], "chapternote", note.pk, "title", "Cell: structure and organelles")


def _step(staff: Client, readers: list[Client], urls: list[str], model: str, pk: int, field: str, value: str) -> None:
    for _ in range(2):  # warm every cache on the way: page caches, content rows, querysets
        for reader in readers:
            for url in urls:
                assert value not in _read(reader, url)
    change = reverse(f"admin:courses_{model}_change", args=[pk])
    saved = staff.post(change, admin_form_data(staff.get(change).content.decode(), **{field: value}))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    for reader in readers:
        for url in urls:
            assert value in _read(reader, url), f"{model}.{field} edited in the admin is not on {url} yet"


def _read(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()
