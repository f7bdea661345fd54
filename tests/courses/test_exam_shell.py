"""The exam page's shell (courses/exam_screen.py): rendered once per paper version, medium and language,
shared by every learner of it, with each learner's own values filled in (docs/exam.md, "Cost")."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import override

from courses import selectors, services
from courses.exam_screen import TEMPLATE, _shell, exam_shell, page_context, screen_values
from courses.models import TestAttempt as Attempt
from courses.models import TestSection
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _script(page: str, element_id: str) -> dict:
    return json.loads(re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', page).group(1))


def _sectioned(questions: int = 6, **fields):
    test = PracticeTestFactory(question_count=questions, **fields)
    physics = TestSection.objects.create(test=test, name="Physics", position=1)
    botany = TestSection.objects.create(test=test, name="Botany", position=2, attempt_any=2)
    for index, item in enumerate(test.paper_items.order_by("position")):
        item.section = physics if index < questions // 2 else botany
        item.save(update_fields=["section"])
    return services.practice_test_bump_paper(test=test)


def test_two_learners_share_one_shell_and_each_page_carries_only_its_own_state():
    # Given two learners on one shuffled paper, in English and in Hindi medium; the first has answered one
    # question, the second nothing
    test = PracticeTestFactory(question_count=8, shuffle=True)
    first, second = UserFactory(), UserFactory()
    mine = services.attempt_start(test=test, user=first)
    theirs = services.attempt_start(test=test, user=second, medium="hi")
    answered = mine.question_order[0]
    services.attempt_answers_save(
        attempt=mine, answers=[{"question_id": answered, "option": "C", "marked_for_review": True, "seq": 7}]
    )

    # When each opens the exam page
    pages = [
        _signed_in(user).get(reverse("courses:attempt", args=[attempt.pk])).content.decode()
        for user, attempt in ((first, mine), (second, theirs))
    ]

    # Then one shell served both (built once), the shared paper JSON is the same bytes in both pages ...
    assert (_shell.cache_info().misses, _shell.cache_info().currsize) == (1, 1)
    assert _script(pages[0], "exam-paper") == _script(pages[1], "exam-paper")
    assert re.search(r'<script id="exam-paper".*?</script>', pages[0]).group(0) in pages[1]
    # ... while each learner's state, order and palette are their own
    states = [_script(page, "exam-data") for page in pages]
    assert [state["attempt_id"] for state in states] == [mine.pk, theirs.pk]
    assert [state["order"] for state in states] == [mine.question_order, theirs.question_order]
    assert mine.question_order != theirs.question_order
    assert [state["medium"] for state in states] == ["en", "hi"]
    assert states[0]["answers"] == {str(answered): {"option": "C", "marked_for_review": True, "seq": 7}}
    assert (states[1]["answers"], states[1]["visited"], states[1]["last_seq"]) == ({}, [], 0)
    palettes = [page.split('id="palette"')[1] for page in pages]
    assert [palette.count("s-answered_and_marked") for palette in palettes] == [2, 1]  # the legend's is one
    # ... and no page holds the answer key or an explanation
    for page in pages:
        assert "Mitochondria make ATP" not in page
        assert '"correct' not in page


def test_each_learners_page_has_their_own_csrf_token_form_urls_and_deadline():
    # Given two learners of one paper whose attempts end at different times
    test = PracticeTestFactory(question_count=3)
    learners = [UserFactory(), UserFactory()]
    attempts = [services.attempt_start(test=test, user=learner) for learner in learners]
    Attempt.objects.filter(pk=attempts[1].pk).update(expires_at=attempts[1].expires_at + timedelta(minutes=7))
    clients = [_signed_in(learner) for learner in learners]

    # When each opens the exam page (the second from the shell the first built)
    pages = [
        client.get(reverse("courses:attempt", args=[attempt.pk])).content.decode()
        for client, attempt in zip(clients, attempts, strict=True)
    ]

    # Then every form posts to their own attempt with a token of their own session, and the timer is theirs
    for client, attempt, page in zip(clients, attempts, pages, strict=True):
        tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        assert len(tokens) == 2
        assert {_unmask_cipher_token(token) for token in tokens} == {client.cookies["csrftoken"].value}
        actions = set(re.findall(r'<form method="\w+" action="([^"]+)"', page))
        assert actions == {f"/attempts/{attempt.pk}/answer/", f"/attempts/{attempt.pk}/submit/"}
        deadline = Attempt.objects.get(pk=attempt.pk).expires_at
        assert f'data-deadline="{deadline.isoformat()}"' in page
    assert clients[0].cookies["csrftoken"].value != clients[1].cookies["csrftoken"].value


def test_a_learners_message_shows_once_on_their_own_exam_page_only():
    # Given two learners of one paper, the first sending a plain form with an option that is not A-D
    test = PracticeTestFactory(question_count=2)
    learners = [UserFactory(), UserFactory()]
    attempts = [services.attempt_start(test=test, user=learner) for learner in learners]
    clients = [_signed_in(learner) for learner in learners]
    urls = [reverse("courses:attempt", args=[attempt.pk]) for attempt in attempts]
    refused = clients[0].post(
        reverse("courses:attempt_answer", args=[attempts[0].pk]),
        {"question_id": attempts[0].question_order[0], "option": "E", "action": "save_next"},
    )

    # When it lands on the exam page, the other learner opens theirs, and the first reloads
    shown = clients[0].get(refused["Location"]).content.decode()
    other = clients[1].get(urls[1]).content.decode()
    again = clients[0].get(urls[0]).content.decode()

    # Then the message is on that page once (escaped, in the exam's own list) and on no other
    assert (
        shown.count('<ul class="messages" role="status"><li class="error">Please choose A, B, C or D.</li></ul>') == 1
    )
    assert 'class="messages"' not in other
    assert 'class="messages"' not in again


def test_the_page_without_javascript_gets_the_learners_back_button_view_in_note_and_section_tabs():
    """Values the shell prints as they are (attempt.js redraws them, so only the page without it shows the
    server's): Back disabled on Q1, the "no Hindi version" note and lang="hi", each tab's first question and
    answered count (answered and answered-and-marked both count)."""
    # Given a sectioned paper (Q1-3 Physics, Q4-6 Botany) where only Q2 has Hindi, Q1 answered, Q5 answered and marked
    test = PracticeTestFactory(question_count=6)
    physics = TestSection.objects.create(test=test, name="Physics", position=1)
    botany = TestSection.objects.create(test=test, name="Botany", position=2)
    items = list(test.paper_items.order_by("position").select_related("question"))
    for index, item in enumerate(items):
        item.section = physics if index < 3 else botany
        item.save(update_fields=["section"])
    items[1].question.text_hi = "कौन-सा कोशिकांग?"
    items[1].question.save()
    test = services.practice_test_bump_paper(test=test)
    learner = UserFactory()
    attempt = services.attempt_start(test=test, user=learner)
    services.attempt_answers_save(
        attempt=attempt,
        answers=[
            {"question_id": items[0].question_id, "option": "B", "marked_for_review": False, "seq": 1},
            {"question_id": items[4].question_id, "option": "D", "marked_for_review": True, "seq": 2},
        ],
    )
    client = _signed_in(learner)
    url = reverse("courses:attempt", args=[attempt.pk])

    # When the learner opens Q1, Q2 and Q1 in Hindi without JavaScript
    first, second = client.get(url).content.decode(), client.get(url, {"q": 2, "view_in": "hi"}).content.decode()
    untranslated = client.get(url, {"q": 1, "view_in": "hi"}).content.decode()

    # Then Back is disabled on Q1 only, the tabs start at Q1 and Q4 with one answered question each ...
    assert 'class="btn-back" disabled>' in first
    assert 'class="btn-back">' in second
    for tab, (start, answered) in enumerate([(1, 1), (4, 1)]):
        assert re.search(rf'href="\?q={start}#question" class="section-tab" data-section="{tab}"', first)
        assert f'data-section-count="{tab}">{answered}/3</span>' in first
    # ... and the note shows only where Hindi was asked for and is missing; Hindi text is marked as Hindi
    assert 'id="view-in-note" hidden>' in first
    assert 'id="view-in-note" hidden>' in second
    assert '<legend id="question-text" lang="hi">कौन-सा कोशिकांग?</legend>' in second
    assert 'id="view-in-note">' in untranslated
    assert '<legend id="question-text">' in untranslated


def test_learners_in_english_and_hindi_interfaces_each_get_their_own_words_from_the_shells():
    # Given two learners of one paper in one process: one with the English interface, one with the Hindi
    test = PracticeTestFactory(question_count=3)
    english, hindi = UserFactory(), UserFactory()
    pages = {}
    clients = {"en": _signed_in(english), "hi": _signed_in(hindi)}
    clients["hi"].cookies["django_language"] = "hi"
    urls = {
        "en": reverse("courses:attempt", args=[services.attempt_start(test=test, user=english).pk]),
        "hi": reverse("courses:attempt", args=[services.attempt_start(test=test, user=hindi).pk]),
    }

    # When they open the exam page in turn (the English learner first builds the shell, and again after)
    for language in ("en", "hi", "en"):
        pages[language] = clients[language].get(urls[language]).content.decode()

    # Then each page is in its learner's interface language, the shared paper JSON's words too
    assert '<html lang="hi">' in pages["hi"]
    assert 'aria-label="प्रश्न 2, नहीं देखा गया"' in pages["hi"]
    assert _script(pages["hi"], "exam-paper")["messages"]["saved"] == "सहेजा गया"
    assert 'aria-label="Question 2, Not visited"' in pages["en"]
    assert _script(pages["en"], "exam-paper")["messages"]["saved"] == "Saved"
    assert "प्रश्न" not in pages["en"]
    assert _shell.cache_info().currsize == 2  # one shell per interface language


def test_a_new_paper_version_is_not_served_the_old_shell():
    # Given a learner whose page built the shell of version 1
    test = PracticeTestFactory(question_count=2)
    running = services.attempt_start(test=test, user=(old_learner := UserFactory()))
    old_page = _signed_in(old_learner).get(reverse("courses:attempt", args=[running.pk])).content.decode()
    question = test.paper_items.order_by("position").first().question

    # When staff edit the first question (a new paper version) and another learner starts
    question.text = "Edited: which organelle makes ATP?"
    question.save()
    services.question_papers_bump(question_ids=[question.pk])
    test.refresh_from_db()
    fresh = services.attempt_start(test=test, user=(new_learner := UserFactory()))
    new_page = _signed_in(new_learner).get(reverse("courses:attempt", args=[fresh.pk])).content.decode()
    again = _signed_in(old_learner).get(reverse("courses:attempt", args=[running.pk])).content.decode()

    # Then the new version's page shows the edit (question and script), the running attempt keeps version 1's
    assert (running.paper_version, fresh.paper_version) == (1, 2)
    assert "Edited: which organelle makes ATP?" in new_page
    assert _script(new_page, "exam-paper")["paper"][0]["t"] == "Edited: which organelle makes ATP?"
    assert "Edited" not in old_page
    assert "Edited" not in again
    assert _shell.cache_info().currsize == 2


# Staff-authored text with markup, format fields and a script end: the shell escapes what the template
# prints, doubles the braces of its own parts and fills the learner's values (escaped by exam_screen and
# the view, not by the template) without reading them as fields.
HOSTILE = "{title}{0}}{{ %s </script><script>alert(1)</script><img src=x onerror=alert(2)> &"
HOSTILE_PARTS = ("<script>alert", "<img src=x", "\x00")  # none may reach the page as markup (or a marker)


@pytest.mark.parametrize("shuffle", [False, True])
def test_staff_markup_and_braces_are_text_on_every_view_of_the_page(shuffle):
    # Given a sectioned paper whose title, section names, questions, options and Hindi text hold markup and braces
    test = _sectioned(questions=4, shuffle=shuffle, title=f"Mock {HOSTILE}")
    TestSection.objects.filter(test=test).update(name=f"Physics {HOSTILE}")
    for item in test.paper_items.select_related("question"):
        question = item.question
        question.text, question.option_a = f"Q {HOSTILE}", f"A {HOSTILE}"
        question.text_hi, question.option_b_hi = f"प्रश्न {HOSTILE}", f"ख {HOSTILE}"
        question.save()
    test = services.practice_test_bump_paper(test=test)
    learner = UserFactory()
    attempt = services.attempt_start(test=test, user=learner, medium="hi")
    client = _signed_in(learner)
    url = reverse("courses:attempt", args=[attempt.pk])

    # When the learner opens it on every view, in both interface languages, with junk in the query too
    queries = [{}, {"q": 3}, {"view_in": "en"}, {"view": "paper"}, {"view_in": "<b>{title}"}, {"q": "{0}"}]
    for language in ("en", "hi"):
        client.cookies["django_language"] = language
        for query in queries:
            response = client.get(url, query)

            # Then every page is served, the markup is text, and the shared JSON carries the text as written
            assert response.status_code == 200, (language, query)
            page = response.content.decode()
            assert [part for part in HOSTILE_PARTS if part in page] == []
            assert "Mock {title}{0}}{{ %s &lt;/script&gt;" in page  # the title, once escaped
            assert "Physics {title}{0}}{{ %s &lt;/script&gt;" in page
            paper = _script(page, "exam-paper")
            assert paper["sections"][0]["name"] == f"Physics {HOSTILE}"
            assert {question["t"] for question in paper["paper"]} == {f"Q {HOSTILE}"}
            assert {question["h"]["t"] for question in paper["paper"]} == {f"प्रश्न {HOSTILE}"}
            if "view" not in query:
                assert "{title}{0}}{{ %s &lt;/script&gt;&lt;script&gt;alert(1)" in page.split('id="question-text"')[1]


@pytest.mark.parametrize("questions", [3, 180])
def test_the_exam_page_costs_one_query_whatever_the_papers_size(
    questions, django_assert_max_num_queries, django_assert_num_queries
):
    # Given a running attempt on a small paper and on a NEET-sized one (180 questions)
    test = PracticeTestFactory(question_count=questions, shuffle=True)
    learner = UserFactory()
    attempt = services.attempt_start(test=test, user=learner)
    client = _signed_in(learner)
    url = reverse("courses:attempt", args=[attempt.pk])

    # When the page is opened (building the shell once) and again
    with django_assert_max_num_queries(4):
        built = client.get(url, {"q": questions})
    with django_assert_num_queries(1):
        page = client.get(url, {"q": 2})

    # Then: one query per page (clock and answers), the shell's work done once; every question on the palette
    assert built.status_code == page.status_code == 200
    assert len(re.findall(r'class="pal s-\w+" data-q=', page.content.decode())) == questions
    assert _shell.cache_info().misses == 1


@pytest.mark.parametrize(
    ("number", "view_in", "language"),
    [(1, None, "en"), (4, None, "en"), (6, "hi", "en"), (3, "en", "hi")],
)
def test_the_filled_shell_is_the_template_rendered_for_that_learner(number, view_in, language):
    """A learner's value printed in a condition or a loop of attempt.html would be the marker's, the same for
    every learner: the filled shell must equal the template rendered with the real values."""
    # Given a sectioned, shuffled Hindi-medium attempt with answers in several states
    test = _sectioned(shuffle=True)
    attempt = services.attempt_start(test=test, user=UserFactory(), medium="hi")
    order = attempt.question_order
    services.attempt_answers_save(
        attempt=attempt,
        answers=[
            {"question_id": order[0], "option": "B", "marked_for_review": False, "seq": 1},
            {"question_id": order[3], "option": "", "marked_for_review": True, "seq": 2},
            {"question_id": order[5], "option": "D", "marked_for_review": True, "seq": 3},
        ],
    )
    attempt = Attempt.objects.select_related("test").get(pk=attempt.pk)

    with override(language):
        shell = exam_shell(test_id=test.pk, version=attempt.paper_version)
        values = screen_values(
            shell, selectors.attempt_progress(attempt=attempt), attempt=attempt, number=number, view_in=view_in
        )
        values |= {
            "title": "Mock &amp; more",
            "csrf_token": "token",
            "messages": "",
            "answer_url": "/a/",
            "submit_url": "/s/",
        }
        rendered = render_page(shell, values)

    # Then the two are the same page, and every slot of the shell got a value
    assert shell.fill(values) == rendered
    assert shell.slots <= values.keys()


def render_page(shell, values: dict) -> str:
    return render_to_string(TEMPLATE, page_context(shell.context, lambda slot: mark_safe(values[slot])))
