"""A learner in Chromium, through the shipped nginx with its page cache on: the course and test pages are
nginx's shared copies, yet the enroll and start forms post with the learner's own CSRF token (SSI), and
page_state.js shows "You are enrolled", "Continue your attempt" and a leaderboard's "my rank" and row from the
learner's own JSON. Without JavaScript the same pages still work: "Start test" continues the running attempt."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from courses import caches, services
from courses.models import Enrollment, TestAttempt
from tests.factories import CourseFactory, PracticeTestFactory, UserFactory
from tests.nginx_serving import nginx_in_front

pytestmark = [
    pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed"),
    pytest.mark.django_db(transaction=True),
]
PASSWORD = "Chloroplast-2027"


@pytest.fixture
def nginx_url(tmp_path, live_server, settings):
    static = str(Path(__file__).resolve().parents[2] / "static")  # page_state.js as nginx serves it
    with nginx_in_front(tmp_path, live_server, settings, host="localhost", STATIC_ROOT=static) as url:
        yield url


def signed_in_page(browser, base_url: str, email: str, *, javascript: bool = True):
    context = browser.new_context(
        base_url=base_url, java_script_enabled=javascript, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/accounts/login/")
    page.get_by_label("Email or mobile number").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/dashboard/")
    return page


def test_a_learner_enrolls_and_starts_from_shared_pages_and_sees_their_own_state(browser, nginx_url):
    # Given a course and a test whose pages another learner has just loaded through nginx (so they are shared)
    course = CourseFactory(name="NEET Achiever 2027")
    test = PracticeTestFactory(title="Cell Biology Sprint", question_count=2)
    UserFactory(email="ravi@example.com", password=PASSWORD)
    UserFactory(email="asha@example.com", password=PASSWORD)
    ravi = signed_in_page(browser, nginx_url, "ravi@example.com")
    for path in (f"/courses/{course.slug}/", f"/tests/{test.slug}/"):
        ravi.goto(path)

    # When Asha opens them (nginx's copies), enrolls, and starts the test
    asha = signed_in_page(browser, nginx_url, "asha@example.com")
    course_page = asha.goto(f"/courses/{course.slug}/")
    asha.get_by_role("button", name="Enroll now").click()
    asha.wait_for_url("**/me/enrollments/*/")
    test_page = asha.goto(f"/tests/{test.slug}/")
    asha.get_by_role("button", name="Start test").click()
    asha.wait_for_url("**/attempts/*/")

    # Then both pages were nginx's HITs, her own token worked, and her pages now show her own state
    assert (course_page.headers["x-proxy-cache"], test_page.headers["x-proxy-cache"]) == ("HIT", "HIT")
    enrollment = Enrollment.objects.get(user__email="asha@example.com")
    attempt = TestAttempt.objects.get(user__email="asha@example.com")
    asha.goto(f"/courses/{course.slug}/")
    expect(asha.get_by_role("link", name="You are enrolled in NEET Achiever 2027")).to_have_attribute(
        "href", f"/me/enrollments/{enrollment.pk}/"
    )
    expect(asha.get_by_role("button", name="Enroll now")).to_be_hidden()
    asha.goto(f"/tests/{test.slug}/")
    expect(asha.get_by_role("link", name="Continue your attempt")).to_have_attribute("href", f"/attempts/{attempt.pk}/")
    expect(asha.get_by_role("button", name="Start test")).to_be_hidden()
    # and Ravi's, from the same copies, do not
    ravi.goto(f"/tests/{test.slug}/")
    expect(ravi.get_by_role("button", name="Start test")).to_be_visible()
    expect(ravi.get_by_role("link", name="Continue your attempt")).to_be_hidden()


def test_without_javascript_start_test_on_the_shared_page_continues_the_running_attempt(browser, nginx_url):
    # Given a learner with an attempt running, without JavaScript
    test = PracticeTestFactory(title="Cell Biology Sprint", question_count=2)
    UserFactory(email="asha@example.com", password=PASSWORD)
    asha = signed_in_page(browser, nginx_url, "asha@example.com", javascript=False)
    asha.goto(f"/tests/{test.slug}/")
    asha.get_by_role("button", name="Start test").click()
    asha.wait_for_url("**/attempts/*/")
    first = asha.url

    # When they come back to the shared test page and press "Start test" again
    asha.goto(f"/tests/{test.slug}/")
    asha.get_by_role("button", name="Start test").click()
    asha.wait_for_url("**/attempts/*/")

    # Then they are back in the same attempt
    assert asha.url == first
    assert TestAttempt.objects.filter(user__email="asha@example.com").count() == 1


def test_each_tied_learner_sees_their_own_row_marked_on_the_shared_leaderboard(browser, nginx_url):
    # Given Ana on 8 and Ben and Cy tied on 3 (rank 1, 2, 2)
    test = PracticeTestFactory(title="Cell Biology Sprint", question_count=2)
    for name, options in (("Ana", "AA"), ("Ben", "AB"), ("Cy", "BA")):
        learner = UserFactory(name=name, email=f"{name.lower()}@example.com", password=PASSWORD)
        attempt = services.attempt_start(test=test, user=learner)
        for question, option in zip(caches.paper_get(test)["questions"], options, strict=True):
            services.attempt_answer(attempt=attempt, question_id=question["id"], option=option)
        services.attempt_submit(attempt=attempt)

    for name in ("Ben", "Cy"):
        # When each tied learner opens the board (one shared copy)
        page = signed_in_page(browser, nginx_url, f"{name.lower()}@example.com")
        page.goto(f"/tests/{test.slug}/leaderboard/")

        # Then "my rank" says 2 and the row marked as theirs is their own, not the first row ranked 2
        expect(page.locator("#my-rank")).to_contain_text("Your rank: 2 of 3")
        expect(page.locator("tr.me")).to_have_count(1)
        expect(page.locator("tr.me td").nth(1)).to_have_text(name)
