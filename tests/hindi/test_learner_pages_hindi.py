"""A learner with the Hindi cookie sees the dashboard, the enrollments, the tests, the catalog, a
parent's child page, password reset and checkout in Hindi (issue 18 item 5; the strings are in locale/hi, docs/hindi.md)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from courses.models import Enrollment
from tests import factories
from tests.factories import CourseFactory, EnrollmentFactory, ParentLinkFactory, PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def learner():
    user = UserFactory()
    EnrollmentFactory(user=user, course=CourseFactory(name="Biology Class 12"), status=Enrollment.Status.ACTIVE)
    EnrollmentFactory(user=user, course=CourseFactory(name="Crash Biology"), status=Enrollment.Status.PENDING)
    user.attempt = factories.TestAttemptFactory(
        user=user, test=PracticeTestFactory(title="Cell Mock", question_count=1)
    )
    return user


def _page(client, name: str) -> str:
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_dashboard_in_hindi(client, learner):
    client.force_login(learner)
    client.cookies["django_language"] = "hi"

    body = _page(client, "courses:dashboard")

    assert "1 सक्रिय नामांकन · 1 का भुगतान बाकी" in body
    assert ">सक्रिय</span>" in body
    assert ">भुगतान बाकी</span>" in body
    assert ">सभी नामांकन</a>" in body
    assert "आपके पिछले 1 टेस्ट में अंकों का रुझान" in body
    assert ">अंक (%)</text>" in body
    assert ">टेस्ट, सबसे पुराने से सबसे नए तक</text>" in body
    assert '<th scope="col">टेस्ट</th><th scope="col">अंक</th><th scope="col">कब</th>' in body
    assert "Biology Class 12 में नामांकन हुआ" in body
    assert "Cell Mock पूरा किया" in body
    for english in (
        "active enrollment",
        "awaiting payment",
        "All enrollments",
        "Score trend of",
        ">Active<",
        "Enrolled in",
    ):
        assert english not in body


def test_dashboard_stays_english_without_the_cookie(client, learner):
    client.force_login(learner)

    body = _page(client, "courses:dashboard")

    assert "1 active enrollment · 1 awaiting payment" in body
    assert ">Pending payment</span>" in body
    assert "Score trend of your last 1 test" in body
    assert "Finished Cell Mock" in body


def test_the_dashboard_data_keeps_english_labels_for_the_api(client, api_client, learner):
    # The page in Hindi first builds (and caches) the dashboard; the API still answers the English label.
    client.force_login(learner)
    client.cookies["django_language"] = "hi"
    assert "सक्रिय" in _page(client, "courses:dashboard")

    api_client.force_authenticate(learner)
    data = api_client.get("/api/v1/dashboard").json()

    assert {row["status_display"] for row in data["enrollments"]} == {"Active", "Pending payment"}
    assert "Enrolled in Crash Biology" in {row["text"] for row in data["recent_activity"]}


def test_enrollments_page_in_hindi(client, learner):
    client.force_login(learner)
    client.cookies["django_language"] = "hi"

    body = _page(client, "courses:enrollments")

    assert "<h1>मेरे नामांकन</h1>" in body
    assert '<th scope="col">कोर्स</th><th scope="col">स्थिति</th><th scope="col">कब से</th>' in body
    assert "<td>सक्रिय</td>" in body
    assert "<td>भुगतान बाकी</td>" in body
    assert "My enrollments" not in body


def test_tests_and_courses_pages_in_hindi(client):
    PracticeTestFactory(title="Free Cell Mock", is_free=True, duration_minutes=45)
    CourseFactory(name="Biology Online 12")
    client.cookies["django_language"] = "hi"

    tests = _page(client, "courses:tests")
    courses = _page(client, "courses:catalog")

    assert "45 मिनट · +4 / -1 अंकन" in tests
    assert "<strong>मुफ़्त</strong>" in tests
    assert "marking" not in tests
    assert "1 कोर्स" in courses
    assert "कक्षा 12 · ऑनलाइन लाइव" in courses
    assert "GST सहित" in courses
    assert "incl. GST" not in courses


def test_parent_child_page_in_hindi(client):
    link = ParentLinkFactory(student=UserFactory(name="Asha"), relation="MOTHER")
    ParentLinkFactory(parent=link.parent)  # with one child, the list goes straight to the child's page
    EnrollmentFactory(user=link.student, status=Enrollment.Status.PENDING)
    client.force_login(link.parent)
    client.cookies["django_language"] = "hi"

    children = _page(client, "accounts:parent_children")
    child = client.get(reverse("courses:parent_child", args=[link.student_id])).content.decode()

    assert "<h1>आपके बच्चे</h1>" in children
    assert "माता · कक्षा 12" in children
    assert "← आपके सभी बच्चे</a>" in child
    assert "<h1>Asha की प्रगति</h1>" in child
    assert "भुगतान बाकी" in child
    assert "Asha के लिए भुगतान करें" in child
    assert "All your children" not in child


def test_password_reset_pages_in_hindi(client):
    client.cookies["django_language"] = "hi"

    by_email = _page(client, "accounts:password_reset")
    by_phone = _page(client, "accounts:password_reset_phone")

    assert "<h1>अपना पासवर्ड बदलें</h1>" in by_email
    assert "WhatsApp पर आए कोड से बदलें" in by_email
    assert "कोड 5 मिनट तक और 5 कोशिशों तक काम करता है।" in by_phone
    assert "Reset your password" not in by_email + by_phone


def test_checkout_and_result_in_hindi(client):
    from payments.models import Payment

    enrollment = EnrollmentFactory(course__fees_paise=1_180_000)
    client.force_login(enrollment.user)
    client.cookies["django_language"] = "hi"
    url = reverse("payments:checkout", args=[enrollment.pk])

    summary = client.get(url).content.decode()
    client.post(url, {"coupon_code": "", "billing_state": ""})  # the sandbox gateway: no outside call
    payment = Payment.objects.get()
    payment.status = Payment.Status.FAILED
    payment.save(update_fields=["status"])
    result = client.get(reverse("payments:result", args=[payment.pk])).content.decode()

    assert "कुल देय राशि" in summary
    assert "भुगतान के लिए आगे बढ़ें" in summary
    assert "<h1>भुगतान विफल</h1>" in result
    assert 'data-testid="enrollment-status">भुगतान बाकी<' in result
    assert "फिर से कोशिश करें" in result
    assert "Total payable" not in summary


def test_not_found_and_chapter_notes_in_hindi(client):
    from tests.factories import ChapterNoteFactory

    note = ChapterNoteFactory(grade="11")
    client.cookies["django_language"] = "hi"

    missing = client.get("/no-such-page/")
    notes = client.get(reverse("courses:note_detail", args=[note.slug])).content.decode()

    assert missing.status_code == 404
    assert "<h1>हमें यह पेज नहीं मिला</h1>" in missing.content.decode()
    assert ">कक्षा 11</a>" in notes


def test_message_preferences_in_hindi(client, learner):
    client.force_login(learner)
    client.cookies["django_language"] = "hi"

    body = _page(client, "communications:preferences")

    assert "<h1>संदेश की पसंद</h1>" in body
    assert "पढ़ाई के रिमाइंडर और ऑफ़र WhatsApp पर" in body
    assert "21:00 से 09:00 IST के बीच कभी नहीं" in body
    assert "Study nudges" not in body


def test_a_flash_message_after_an_action_is_in_hindi(client, learner):
    client.force_login(learner)
    client.cookies["django_language"] = "hi"

    saved = client.post(reverse("communications:preferences"), {"EMAIL": "on"}, follow=True)

    assert "आपकी संदेश की पसंद सहेज ली गई है।" in saved.content.decode()


def test_result_page_in_hindi(client, learner):
    client.force_login(learner)
    client.cookies["django_language"] = "hi"

    body = client.get(reverse("courses:attempt_result", args=[learner.attempt.pk])).content.decode()

    assert "<h1>Cell Mock: आपका परिणाम</h1>" in body
    assert "गलत:" in body
    assert "हर एक पर +4" in body
    assert "आपका उत्तर:" in body
    assert "your result" not in body


def test_why_a_test_cannot_start_is_said_in_hindi(client, learner):
    test = PracticeTestFactory(question_count=1, max_attempts=1)
    factories.TestAttemptFactory(user=learner, test=test)
    client.force_login(learner)
    client.cookies["django_language"] = "hi"

    refused = client.post(reverse("courses:test_start", args=[test.slug]), follow=True).content.decode()

    assert "आप इस टेस्ट का अपना 1 प्रयास कर चुके हैं।" in refused
