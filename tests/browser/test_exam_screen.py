"""The NTA exam screen in Chromium (issue 15 §2): palette and legend, keys and Enter, the submit summary,
the timer after a reload, the offline queue, Back after a lost answer, an ended session, no JavaScript,
and 200 % zoom on a phone.

Each test drives a real page against the live server (real PostgreSQL and Redis) and waits on explicit
conditions (`expect`), never on sleeps.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect

from courses import caches, selectors, services
from courses.models import AttemptAnswer, TestSection
from courses.models import TestAttempt as Attempt
from tests.factories import PracticeTestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def learner(live_server):
    """A signed-in learner and the session cookie the live server knows them by."""
    user = UserFactory(name="Riya Sen")
    client = Client()
    client.force_login(user)
    return user, client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def open_exam(browser, live_server, learner):
    """open_exam(questions=4, **context options) → (page, attempt): a running attempt on a phone-sized page."""
    user, session = learner
    contexts = []

    def _open(
        questions: int = 4,
        minutes: int = 30,
        sections: tuple = (),
        shuffle: bool = False,
        title: str = "NEET Mini Mock",
        **options,
    ):
        test = PracticeTestFactory(title=title, question_count=questions, duration_minutes=minutes, shuffle=shuffle)
        if sections:  # ((name, question count), ...) in paper order
            items = iter(test.paper_items.order_by("position"))
            for position, (name, count) in enumerate(sections, start=1):
                section = TestSection.objects.create(test=test, name=name, position=position)
                for item in [next(items) for _ in range(count)]:
                    item.section = section
                    item.save(update_fields=["section"])
            test = services.practice_test_bump_paper(test=test)
        attempt = services.attempt_start(test=test, user=user)
        context = browser.new_context(base_url=live_server.url, viewport=options.pop("viewport", PHONE), **options)
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"/attempts/{attempt.pk}/")
        return page, attempt

    yield _open
    for context in contexts:
        context.close()


def _stored(attempt) -> dict[int, tuple[str, bool]]:
    return {row.question_id: (row.option, row.marked) for row in AttemptAnswer.objects.filter(attempt=attempt)}


def _paper_ids(attempt) -> list[int]:
    paper = caches.paper_get_by_id(test_id=attempt.test_id, version=attempt.paper_version)
    return [question["id"] for question in paper["questions"]]


def _saved(page):
    """Every queued answer acknowledged by the server (waits for it)."""
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.wait_for_function(
        "() => { const k = Object.keys(localStorage).find(k => k.endsWith(':queue'));"
        " return !k || JSON.parse(localStorage.getItem(k)).length === 0; }"
    )


def _queued(page) -> int:
    return page.evaluate(
        "() => { const k = Object.keys(localStorage).find(k => k.endsWith(':queue'));"
        " return k ? JSON.parse(localStorage.getItem(k)).length : 0; }"
    )


def _pal(page, number: int):
    return page.locator(f'.palette a.pal[data-n="{number}"]')


def test_palette_shows_the_five_states_by_shape_and_name_with_a_legend(open_exam):
    page, attempt = open_exam(questions=5)

    # When: Q1 saved, Q2 marked without an answer, Q3 answered and marked, Q4 opened and left by the palette
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    page.get_by_role("button", name="Mark for Review & Next").click()
    page.get_by_label("C. Golgi body").check()
    page.get_by_role("button", name="Mark for Review & Next").click()
    expect(page.locator("#question-number")).to_have_text("4")
    _pal(page, 1).click()
    _saved(page)

    # Then each palette button says its state in words (and carries its shape and mark), the current one is marked
    names = [_pal(page, n).get_attribute("aria-label") for n in range(1, 6)]
    assert names == [
        "Question 1, Answered",
        "Question 2, Marked for review",
        "Question 3, Answered and marked for review (will be scored)",
        "Question 4, Not answered",
        "Question 5, Not visited",
    ]
    expect(_pal(page, 1)).to_have_attribute("aria-current", "step")
    expect(page.locator(".palette a[aria-current]")).to_have_count(1)
    legend = page.locator(".legend li")
    expect(legend).to_have_text(
        [
            "1 Not visited",
            "1 Not answered",
            "1 Answered",
            "1 Marked for review",
            "1 Answered and marked for review (will be scored)",
        ]
    )
    ids = _paper_ids(attempt)
    assert _stored(attempt) == {ids[0]: ("A", False), ids[1]: ("", True), ids[2]: ("C", True), ids[3]: ("", False)}
    # ... and the section tab counts the answers (answered and marked is scored, so it counts)
    expect(page.locator('[data-section-count="0"]')).to_have_text("2/5")


def test_palette_fills_and_focus_ring_have_3_to_1_contrast(open_exam):
    page, _ = open_exam(questions=2)

    ratios = page.evaluate(
        """() => {
        const lum = (c) => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map(v => v / 255)
            .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
        const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
        const fill = (code) => getComputedStyle(document.querySelector('.legend .s-' + code)).backgroundColor;
        const white = 'rgb(255, 255, 255)';
        const border = getComputedStyle(document.querySelector('.legend .s-not_visited')).borderTopColor;
        const link = document.querySelector('.palette a.pal');
        return {
          not_visited_border: ratio(border, white),
          not_answered: ratio(fill('not_answered'), white),
          answered: ratio(fill('answered'), white),
          marked: ratio(fill('marked_for_review'), white),
          answered_vs_marked: ratio(fill('answered'), fill('marked_for_review')),
          not_answered_vs_marked: ratio(fill('not_answered'), fill('marked_for_review')),
          shapes_differ: getComputedStyle(document.querySelector('.legend .s-answered')).borderRadius
              !== getComputedStyle(document.querySelector('.legend .s-not_answered')).borderRadius,
        };
    }"""
    )
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the first palette button, focused from the keyboard
    ring = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
        return [s.outlineStyle, s.outlineWidth, s.outlineColor, document.activeElement.className]; }"""
    )

    assert min(value for key, value in ratios.items() if key != "shapes_differ") >= 3
    assert ratios["shapes_differ"]
    assert ring[0] == "solid"
    assert float(ring[1].rstrip("px")) >= 2
    assert "pal" in ring[3]
    assert ring[2] == "rgb(27, 31, 35)"  # 16.6:1 on white


def test_keys_choose_an_option_and_enter_saves_and_moves_on_without_scrolling_away(open_exam):
    page, attempt = open_exam(questions=3)
    ids = _paper_ids(attempt)

    # When the learner presses 2 then Enter on Q1, C then Enter on Q2
    page.keyboard.press("2")
    expect(page.get_by_label("B. Ribosome")).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator("#question-number")).to_have_text("2")
    page.keyboard.press("c")
    page.keyboard.press("Enter")
    expect(page.locator("#question-number")).to_have_text("3")
    _saved(page)

    # Then Enter saved each choice (it never clears) and the question stays in view
    assert _stored(attempt) == {ids[0]: ("B", False), ids[1]: ("C", False)}
    expect(page.locator("#question-heading")).to_be_in_viewport()
    expect(page.locator("#question-heading")).to_be_focused()
    assert page.url.endswith("?q=3#question")
    expect(page.get_by_label("A. Mitochondrion")).not_to_be_checked()


def test_a_shuffled_paper_shows_the_learners_order_and_letters_and_stores_the_canonical_one(open_exam):
    # Given a shuffled paper: the page carries it in the paper's order, attempt.js applies this learner's order
    page, attempt = open_exam(questions=6, shuffle=True)
    attempt = Attempt.objects.get(pk=attempt.pk)
    shown = selectors.attempt_state(attempt=attempt)["paper"]  # the server's numbering and letters
    assert [q["id"] for q in shown] != _paper_ids(attempt) or attempt.option_orders

    # When the learner goes to Q2 in place (the palette) and saves the option shown to them as B
    _pal(page, 2).click()
    expect(page.locator("#question-text")).to_have_text(shown[1]["text"])
    for letter, text in shown[1]["options"].items():
        expect(page.locator("#question-options label.option").nth("ABCD".index(letter))).to_contain_text(
            f"{letter}. {text}"
        )
    page.get_by_label(f"B. {shown[1]['options']['B']}").check()
    page.get_by_role("button", name="Save & Next").click()
    _saved(page)

    # Then the server stored the paper's own letter for it, and the palette numbers the learner's order
    assert _stored(attempt)[shown[1]["id"]] == (attempt.option_orders[str(shown[1]["id"])][1], False)
    assert [int(_pal(page, n).get_attribute("data-q")) for n in range(1, 7)] == [q["id"] for q in shown]
    expect(page.locator("#question-text")).to_have_text(shown[2]["text"])


def test_the_page_title_follows_the_question_when_the_tests_title_says_question_too(open_exam):
    # Given a test whose own title holds the words the page title uses for the question ("question 1")
    page, _ = open_exam(questions=3, title="Cell question 1 drill")
    expect(page).to_have_title("Cell question 1 drill · question 1 · Cerebrum NEET Biology")

    # When the learner moves on in place, twice
    page.get_by_role("button", name="Save & Next").click()
    expect(page.locator("#question-number")).to_have_text("2")
    page.get_by_role("button", name="Save & Next").click()
    expect(page.locator("#question-number")).to_have_text("3")

    # Then the question's number changes in the page title and the test's title stays as written
    expect(page).to_have_title("Cell question 1 drill · question 3 · Cerebrum NEET Biology")


def test_clear_response_and_back(open_exam):
    page, attempt = open_exam(questions=3)
    ids = _paper_ids(attempt)
    page.get_by_label("D. Lysosome").check()
    page.get_by_role("button", name="Save & Next").click()

    page.get_by_role("button", name="Back").click()
    expect(page.get_by_label("D. Lysosome")).to_be_checked()
    page.get_by_role("button", name="Clear Response").click()

    expect(page.get_by_label("D. Lysosome")).not_to_be_checked()
    expect(page.locator("#question-number")).to_have_text("1")
    _saved(page)
    assert _stored(attempt)[ids[0]] == ("", False)


def test_submit_shows_the_nta_summary_and_waits_for_yes(open_exam):
    page, attempt = open_exam(questions=4)
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    page.get_by_role("button", name="Mark for Review & Next").click()
    page.get_by_role("button", name="Save & Next").click()

    # When they press Submit test
    page.get_by_role("button", name="Submit test").click()

    # Then a dialog counts each state before anything is submitted
    dialog = page.get_by_role("dialog", name="Submit the test?")
    expect(dialog).to_be_visible()
    counts = {
        code: dialog.locator(f'[data-summary="{code}"]')
        for code in ("answered", "not_answered", "marked_for_review", "answered_and_marked", "not_visited")
    }
    expect(counts["answered"]).to_have_text("1")
    expect(counts["marked_for_review"]).to_have_text("1")
    expect(counts["not_answered"]).to_have_text("2")  # Q3 left blank, Q4 on screen now
    expect(counts["answered_and_marked"]).to_have_text("0")
    expect(counts["not_visited"]).to_have_text("0")
    dialog.get_by_role("button", name="No, go back").click()
    expect(dialog).to_be_hidden()
    assert Attempt.objects.get(pk=attempt.pk).status == Attempt.Status.IN_PROGRESS

    page.get_by_role("button", name="Submit test").click()
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.locator("#score")).to_have_text("4")


def test_the_submit_summary_counts_each_section(open_exam):
    page, _ = open_exam(questions=4, sections=(("Botany", 2), ("Zoology", 2)))
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    page.locator(".section-tab", has_text="Zoology").click()
    expect(page.locator("#question-number")).to_have_text("3")

    page.get_by_role("button", name="Submit test").click()

    dialog = page.get_by_role("dialog", name="Submit the test?")
    rows = dialog.locator(".summary-sections tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator('[data-section-summary="answered"]')).to_have_text("1")
    expect(rows.nth(0).locator('[data-section-summary="not_answered"]')).to_have_text("1")
    expect(rows.nth(1).locator('[data-section-summary="not_answered"]')).to_have_text("1")
    expect(rows.nth(1).locator('[data-section-summary="not_visited"]')).to_have_text("1")
    expect(page.locator('[data-section-count="0"]')).to_have_text("1/2")


def test_the_countdown_runs_from_the_servers_deadline_through_a_reload_and_warns(open_exam):
    page, attempt = open_exam(minutes=30)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() + timedelta(minutes=4, seconds=30))
    caches.attempts_forget([attempt.pk])

    page.reload()

    timer = page.locator("#timer")
    expect(timer).to_have_text(re.compile(r"^0:04:[0-3]\d$"))
    expect(page.get_by_role("alert")).to_have_text(re.compile("5 minutes left"))
    page.reload()
    expect(timer).to_have_text(re.compile(r"^0:04:[0-3]\d$"))  # not back to 0:30:00


def test_extra_time_granted_by_staff_shows_on_the_timer(open_exam):
    page, attempt = open_exam(minutes=30)
    staff = UserFactory(is_staff=True)

    services.attempt_grant_extra_time(attempt=attempt, seconds=600, reason="Power cut at the centre", granted_by=staff)
    page.reload()

    expect(page.locator("#timer")).to_have_text(re.compile(r"^0:39:[0-5]\d$"))


def test_time_up_submits_with_every_saved_answer(open_exam):
    page, attempt = open_exam(questions=2)
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    _saved(page)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() + timedelta(seconds=3))
    caches.attempts_forget([attempt.pk])

    page.reload()

    expect(page).to_have_url(re.compile(r"/result/$"), timeout=20_000)
    expect(page.locator("#score")).to_have_text("4")


def test_an_answer_after_time_ran_out_lands_on_the_scored_result(open_exam):
    # Given a page still open after the deadline and grace, before the expiry sweep
    page, attempt = open_exam(questions=2)
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    _saved(page)
    Attempt.objects.filter(pk=attempt.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    caches.attempts_forget([attempt.pk])

    # When one more answer is sent
    page.get_by_label("B. Ribosome").check()
    page.get_by_role("button", name="Save & Next").click()

    # Then the page goes to the result, scored with what was acknowledged in time
    expect(page).to_have_url(re.compile(r"/result/$"))
    expect(page.locator("#score")).to_have_text("4")


def test_time_on_each_question_is_sent_with_its_answer(open_exam):
    page, attempt = open_exam(questions=2)
    Attempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - timedelta(minutes=10))
    caches.attempts_forget([attempt.pk])
    page.clock.install()
    page.reload()

    page.clock.run_for(42_000)
    page.get_by_label("B. Ribosome").check()
    page.get_by_role("button", name="Save & Next").click()
    _saved(page)

    row = AttemptAnswer.objects.get(attempt=attempt, question_id=_paper_ids(attempt)[0])
    assert 42 <= row.time_spent_seconds <= 43


def test_offline_answers_wait_in_the_queue_and_all_are_stored_and_scored(open_exam):
    page, attempt = open_exam(questions=3)
    ids = _paper_ids(attempt)

    # When the connection drops and the learner keeps answering
    page.context.set_offline(True)
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    page.get_by_label("B. Ribosome").check()
    page.get_by_role("button", name="Mark for Review & Next").click()

    # Then the page says so, keeps both answers on the device and stays on the exam
    expect(page.locator("#net-banner")).to_contain_text("You are offline")
    expect(_pal(page, 2)).to_have_attribute("aria-label", re.compile("Answered and marked"))
    assert _queued(page) == 2
    assert _stored(attempt) == {}

    # When it comes back, everything is sent
    page.context.set_offline(False)
    expect(page.locator("#net-banner")).to_be_hidden()
    _saved(page)
    assert _stored(attempt) == {ids[0]: ("A", False), ids[1]: ("B", True)}
    page.get_by_role("button", name="Submit test").click()
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.locator("#score")).to_have_text(str(4 - 1))


def test_the_queue_survives_a_reload_and_is_sent_afterwards(open_exam):
    page, attempt = open_exam(questions=3)
    ids = _paper_ids(attempt)
    page.route("**/answer/", lambda route: route.abort("connectionfailed"))

    # When an answer cannot be sent and the learner reloads the page
    page.get_by_label("C. Golgi body").check()
    page.get_by_role("button", name="Save & Next").click()
    expect(page.locator("#net-banner")).to_contain_text("Connection lost")
    page.goto(page.url.split("?")[0] + "?q=1")

    # Then the reloaded page shows the queued answer, and sends it once the server can be reached
    expect(page.get_by_label("C. Golgi body")).to_be_checked()
    expect(_pal(page, 1)).to_have_attribute("aria-label", "Question 1, Answered")
    assert _stored(attempt) == {}
    page.unroute("**/answer/")
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    _saved(page)
    assert _stored(attempt) == {ids[0]: ("C", False)}


def test_after_going_back_an_unsaved_pick_does_not_look_ticked(open_exam):
    page, attempt = open_exam(questions=2)
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    _saved(page)
    page.get_by_role("button", name="Back").click()

    # When the learner changes the pick without saving, leaves the page and comes Back
    page.get_by_label("D. Lysosome").check()
    page.goto(f"/attempts/{attempt.pk}/submit/")
    page.go_back()

    # Then the page shows what was saved, not the lost pick
    expect(page.get_by_label("A. Mitochondrion")).to_be_checked()
    expect(page.get_by_label("D. Lysosome")).not_to_be_checked()

    # ... also when the page comes back from the back/forward cache with the pick still in its form
    page.get_by_label("B. Ribosome").check()
    page.get_by_role("button", name="Save & Next").click()  # saved after this page was loaded
    page.get_by_role("button", name="Back").click()
    _saved(page)
    page.get_by_label("D. Lysosome").check()
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pageshow', {persisted: true}))")
    expect(page.get_by_label("B. Ribosome")).to_be_checked()
    expect(page.get_by_label("D. Lysosome")).not_to_be_checked()
    expect(_pal(page, 1)).to_have_attribute("aria-label", "Question 1, Answered")


def test_an_ended_session_is_explained_and_the_answer_kept(open_exam):
    page, attempt = open_exam(questions=2)
    page.context.clear_cookies()

    page.get_by_label("B. Ribosome").check()
    page.get_by_role("button", name="Save & Next").click()

    expect(page.locator("#net-banner")).to_contain_text(re.compile("session has ended|out of date"))
    expect(page.locator("body")).not_to_contain_text("JSON")
    assert _queued(page) == 1
    assert _stored(attempt) == {}


def test_without_javascript_the_page_is_plain_forms(open_exam):
    page, attempt = open_exam(questions=3, java_script_enabled=False)
    ids = _paper_ids(attempt)

    # When the learner picks B and presses Enter, marks Q2 with C, and submits
    page.get_by_label("B. Ribosome").check()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=2#question$"))
    page.get_by_label("C. Golgi body").check()
    page.get_by_role("button", name="Mark for Review & Next").click()
    expect(page).to_have_url(re.compile(r"\?q=3#question$"))
    expect(_pal(page, 2)).to_have_attribute("aria-label", "Question 2, Answered and marked for review (will be scored)")
    page.get_by_role("button", name="Submit test").click()

    # Then a confirmation page counts the states, and "Yes, submit" scores it
    expect(page.get_by_role("heading", name="Submit the test?")).to_be_visible()
    expect(page.locator('td[data-count="answered"]')).to_have_text("1")
    expect(page.locator('td[data-count="answered_and_marked"]')).to_have_text("1")
    expect(page.locator('td[data-count="not_answered"]')).to_have_text("0")
    expect(page.locator('td[data-count="not_visited"]')).to_have_text("1")
    assert _stored(attempt) == {ids[0]: ("B", False), ids[1]: ("C", True)}
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.locator("#score")).to_have_text(str(-1 - 1))


def test_without_javascript_a_shuffled_paper_is_in_the_learners_order_and_letters(open_exam):
    # Given a shuffled paper and no JavaScript: the server puts this learner's question and letters in the shell
    page, attempt = open_exam(questions=4, shuffle=True, java_script_enabled=False)
    attempt = Attempt.objects.get(pk=attempt.pk)
    shown = selectors.attempt_state(attempt=attempt)["paper"]  # the learner's numbering and letters

    # When they open Q3 from the palette link, pick the option shown as B and press Save & Next
    _pal(page, 3).click()
    expect(page).to_have_url(re.compile(r"\?q=3#question$"))
    expect(page.locator("#question-text")).to_have_text(shown[2]["text"])
    for letter, text in shown[2]["options"].items():
        expect(page.locator("#question-options label.option").nth("ABCD".index(letter))).to_contain_text(
            f"{letter}. {text}"
        )
    page.get_by_label(f"B. {shown[2]['options']['B']}").check()
    page.get_by_role("button", name="Save & Next").click()

    # Then Q4 is shown, the stored letter is the paper's own for their B, and Back shows their B ticked
    expect(page).to_have_url(re.compile(r"\?q=4#question$"))
    expect(page.locator("#question-text")).to_have_text(shown[3]["text"])
    assert _stored(attempt) == {shown[2]["id"]: (attempt.option_orders[str(shown[2]["id"])][1], False)}
    page.get_by_role("button", name="Back").click()
    expect(page).to_have_url(re.compile(r"\?q=3#question$"))
    expect(page.get_by_label(f"B. {shown[2]['options']['B']}")).to_be_checked()
    expect(_pal(page, 3)).to_have_attribute("aria-label", "Question 3, Answered")


@pytest.mark.parametrize("where", ["question", "paper", "confirm", "result"])
def test_no_sideways_scroll_at_200_percent_zoom_on_a_phone(open_exam, where):
    # 200 % zoom on a 390 px phone: a 195 x 422 CSS-pixel viewport
    page, attempt = open_exam(
        questions=3,
        sections=(("Botany", 2), ("Zoology", 1)),
        viewport={"width": 195, "height": 422},
        device_scale_factor=4,
    )
    if where == "paper":
        page.goto(f"/attempts/{attempt.pk}/?view=paper")
    elif where == "confirm":
        page.goto(f"/attempts/{attempt.pk}/submit/")
    elif where == "result":
        page.get_by_label("A. Mitochondrion").check()
        page.get_by_role("button", name="Save & Next").click()
        _saved(page)
        services.attempt_submit(attempt=attempt)
        page.goto(f"/attempts/{attempt.pk}/result/")
        expect(page.get_by_role("heading", name="Topic breakdown")).to_be_visible()

    widths = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    too_wide = page.evaluate(
        "() => [...document.querySelectorAll('body *')]"
        ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    bar = page.locator(".exam-bar").bounding_box() if where != "result" else {"height": 0}

    assert widths[0] <= widths[1], too_wide
    assert bar["height"] <= 422 * 0.15  # the sticky bar stays small
