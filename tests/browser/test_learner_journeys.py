"""Browser journeys of a learner (headless Chromium against the live server; screenshots kept on failure).

(a) visitor → sign up → enroll → dashboard shows the pending enrollment
(b) student takes a practice test on the NTA screen, reloads mid-test, submits after the summary, sees score and leaderboard
(c) free user takes a free test, then signs up and finds the attempt in their history
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from courses.models import Enrollment
from courses.models import TestAttempt as Attempt
from tests.factories import CourseFactory, PracticeTestFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Chloroplast-2027"


def test_a_visitor_signs_up_enrolls_and_sees_pending_enrollment_on_dashboard(page):
    # Given a course in the catalog
    course = CourseFactory(name="NEET Dropper Batch 2027", class_level="DROPPER", fees_paise=5_900_000)

    # When a visitor finds it in the catalog, filtered to droppers
    page.goto("/courses/")
    page.get_by_label("Class").select_option("DROPPER")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="NEET Dropper Batch 2027").click()
    expect(page.get_by_text("₹59,000")).to_be_visible()

    # ... signs up from the course page and comes back to it
    page.get_by_role("link", name="Sign up to enroll").click()
    page.get_by_label("Name").fill("Meera Nair")
    page.get_by_label("Email").fill("meera@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page).to_have_url(re.compile(rf"/courses/{course.slug}/$"))

    # ... and enrolls
    page.get_by_role("button", name="Enroll now").click()

    # Then the enrollment is pending payment, and the dashboard says so
    expect(page.get_by_text("Pending payment")).to_be_visible()
    enrollment = Enrollment.objects.get(user__email="meera@example.com")
    assert enrollment.status == Enrollment.Status.PENDING
    page.goto("/dashboard/")
    expect(page.get_by_role("link", name="NEET Dropper Batch 2027")).to_be_visible()
    expect(page.get_by_text("1 awaiting payment")).to_be_visible()


def test_b_student_takes_test_reloads_mid_test_submits_and_sees_score_and_leaderboard(page):
    # Given a student and a free 3-question test (every correct option is A)
    UserFactory(name="Kiran Rao", email="kiran@example.com", password=PASSWORD)
    test = PracticeTestFactory(title="Cell Biology Sprint", question_count=3)
    page.goto("/accounts/login/?next=/tests/" + test.slug + "/")
    page.get_by_label("Email or mobile number").fill("kiran@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # When they start and answer Q1 on the NTA screen (Save & Next, no page load)
    page.get_by_role("button", name="Start test").click()
    expect(page.get_by_role("timer")).to_contain_text(re.compile(r"\d+:\d\d"))
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    expect(page.locator("#save-status")).to_have_text("Saved")

    # ... answer Q2 wrong and mark it for review
    page.get_by_label("B. Ribosome").check()
    page.get_by_role("button", name="Mark for Review & Next").click()
    expect(page.locator("#save-status")).to_have_text("Saved")

    # ... answer Q3, then think again and clear it
    page.get_by_label("C. Golgi body").check()
    page.get_by_role("button", name="Save & Next").click()
    expect(page.get_by_role("link", name="Question 3, Answered")).to_be_visible()
    page.get_by_role("button", name="Clear Response").click()
    expect(page.locator("#save-status")).to_have_text("Saved")
    expect(page.get_by_label("C. Golgi body")).not_to_be_checked()

    # ... and reload in the middle of the test
    page.reload()

    # Then their answers are still there
    expect(page.get_by_label("C. Golgi body")).not_to_be_checked()
    expect(page.get_by_role("link", name="Question 1, Answered", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Question 2, Answered and marked for review (will be scored)")).to_be_visible()
    page.get_by_role("link", name="Question 1, Answered", exact=True).click()
    expect(page.get_by_label("A. Mitochondrion")).to_be_checked()

    # When they submit, and confirm after NTA's summary
    page.get_by_role("button", name="Submit test").click()
    page.get_by_role("button", name="Yes, submit").click()

    # Then the NTA score is 4 − 1 + 0 = 3 of 12, with explanations and the leaderboard
    expect(page.locator("#score")).to_have_text("3")
    expect(page.get_by_text("Mitochondria make ATP").first).to_be_visible()
    page.get_by_role("link", name="See the leaderboard").click()
    expect(page.locator("#my-rank")).to_contain_text("Your rank: 1 of 1")
    expect(page.get_by_role("cell", name="Kiran Rao")).to_be_visible()
    assert Attempt.objects.get().score == 3


def test_c_free_user_takes_free_test_then_signs_up_and_sees_it_in_history(page):
    # Given a free test and a visitor
    test = PracticeTestFactory(title="Free NEET Mini Mock", question_count=2, is_free=True)

    # When they give their name and phone and take the test
    page.goto(f"/tests/{test.slug}/")
    page.get_by_label("Name").fill("Arjun Singh")
    page.get_by_label("Mobile number").fill("98765 43210")
    page.get_by_role("button", name="Start free test").click()
    page.get_by_label("A. Mitochondrion").check()
    page.get_by_role("button", name="Save & Next").click()
    expect(page.locator("#save-status")).to_have_text("Saved")
    page.get_by_role("button", name="Submit test").click()
    page.get_by_role("button", name="Yes, submit").click()
    expect(page.locator("#score")).to_have_text("4")

    # ... and then sign up from the result page
    page.get_by_role("link", name="Sign up to keep this result").click()
    page.get_by_label("Name").fill("Arjun Singh")
    page.get_by_label("Email").fill("arjun@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # Then the attempt is theirs and shows in the dashboard's test history
    page.goto("/dashboard/")
    expect(page.get_by_role("link", name="Free NEET Mini Mock")).to_be_visible()
    user = User.objects.get(email="arjun@example.com")
    assert Attempt.objects.get().user_id == user.pk
