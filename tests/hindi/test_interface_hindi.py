"""The interface in Hindi (issue 18 item 5): the committed catalog, the language cookie, and the page
caches keeping one copy per language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.urls import reverse

from cerebrum.i18n import LOCALE_DIR, compiled_catalog

pytestmark = pytest.mark.django_db

PO = LOCALE_DIR / "hi" / "LC_MESSAGES" / "django.po"
ROOT = Path(__file__).resolve().parents[2]
LEARNER_TEMPLATES = [
    "templates/base.html",
    "templates/home.html",
    *(
        f"templates/courses/{name}.html"
        for name in (
            "catalog",
            "course_detail",
            "notes",
            "test_list",
            "test_detail",
            "_medium_choice",
            "attempt_base",
            "attempt",
            "attempt_confirm",
            "attempt_summary",
            "attempt_result",
            "dashboard",
            "_trend",
            "enrollment_list",
            "_course_card",
            "enrollment_detail",
            "leaderboard",
            "note_detail",
        )
    ),
    *(f"templates/{name}.html" for name in ("400", "403", "403_csrf", "404", "500", "error")),
    "templates/communications/preferences.html",
    "templates/communications/unsubscribe.html",
    *(
        f"templates/registration/password_reset_{name}.html"
        for name in ("form", "done", "confirm", "complete", "phone")
    ),
    "templates/accounts/verify_phone.html",
    "templates/accounts/locked_out.html",
    "templates/payments/checkout.html",
    "templates/payments/result.html",
    "templates/registration/login.html",
    "templates/accounts/signup.html",
    "templates/accounts/profile.html",
    "templates/accounts/parent_children.html",
    "templates/accounts/parent_child.html",
    *(
        f"templates/practice/{name}.html"
        for name in (
            "analysis",
            "notebook",
            "revision",
            "_revision_today",
            "_due_and_streak",
            "_question",
            "_totals_table",
        )
    ),
]


def _translated_ids(catalog) -> set[str]:
    """msgids with a Hindi translation (a plural message by its singular, with every form filled)."""
    ids = set()
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and all(strings):
            ids.add(message.id[0] if isinstance(message.id, tuple) else message.id)
    return ids


def _template_msgids(text: str) -> set[str]:
    """The msgids a template asks for: translate's string, and blocktranslate's (singular) text.

    As Django looks them up: a literal % doubled ("Accuracy (%)" is asked for as "Accuracy (%%)").
    """
    wanted = {m.replace("%", "%%") for m in re.findall(r'{% translate "([^"]+)"', text)}
    blocks = re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate", text)
    return wanted | {re.sub(r"{{ (\w+) }}", r"%(\1)s", m.split("{% plural %}")[0].replace("%", "%%")) for m in blocks}


def test_committed_mo_is_the_compiled_po():
    # `make messages` was run after the last edit of the .po
    assert PO.with_suffix(".mo").read_bytes() == compiled_catalog(PO)


def test_every_translated_template_string_has_a_hindi_translation():
    with PO.open("rb") as source:
        catalog = read_po(source)
    translated = _translated_ids(catalog)
    wanted = set()
    for name in LEARNER_TEMPLATES:
        wanted |= _template_msgids((ROOT / name).read_text())
    assert wanted, "no translatable strings found"
    assert sorted(wanted - translated) == []


def test_every_model_label_a_learner_sees_has_a_hindi_translation():
    # Labels are kept English in the data (the dashboard's cached dict serves the API too) and translated
    # where a page shows them: {% translate e.status_display %}, {% translate course.get_type_display %}.
    from django.utils import translation

    from accounts.models import Grade, ParentLink
    from courses.models import Course, Enrollment
    from payments.models import Payment

    labels = [
        label for choices in (Enrollment.Status, Course.Type, Grade, ParentLink.Relation) for label in choices.labels
    ]
    anomalies = [label for value, label in Payment.Anomaly.choices if value]
    with translation.override("hi"):
        missing = [label for label in [*labels, *anomalies] if translation.gettext(label) == label]
        # a payment's status has its own context: "Attempted" is also a question's (हल किए)
        missing += [label for label in Payment.Status.labels if translation.pgettext("payment status", label) == label]
    assert missing == []


def test_every_dashboard_activity_text_has_a_hindi_translation():
    from django.utils import translation

    from courses.selectors import ACTIVITY_TEXTS

    with translation.override("hi"):
        missing = [text for texts in ACTIVITY_TEXTS.values() for text in texts if translation.gettext(text) == text]
    assert missing == []


def test_home_in_english_by_default_and_in_hindi_with_the_cookie(client):
    english = client.get("/")
    assert 'lang="en-in"' in english.content.decode()
    assert "Crack NEET Biology with Cerebrum" in english.content.decode()
    client.cookies["django_language"] = "hi"
    hindi = client.get("/")
    body = hindi.content.decode()
    assert '<html lang="hi">' in body
    assert "सेरेब्रम के साथ NEET जीवविज्ञान में सफल हों" in body
    assert "अभ्यास टेस्ट" in body or "मुफ़्त अभ्यास टेस्ट" in body
    assert hindi["Content-Language"] == "hi"
    # Accept-Language alone never switches (one cached copy per cookie value, not per header spelling)
    client.cookies.pop("django_language")
    assert "Crack NEET Biology" in client.get("/", HTTP_ACCEPT_LANGUAGE="hi-IN,hi;q=0.9").content.decode()


def test_public_page_cache_keeps_a_copy_per_language(client):
    assert client.get("/tests/")["X-Cache"] == "MISS"
    assert client.get("/tests/")["X-Cache"] == "HIT"
    client.cookies["django_language"] = "hi"
    first_hindi = client.get("/tests/")
    assert first_hindi["X-Cache"] == "MISS"  # not the English copy
    assert "अभ्यास टेस्ट" in first_hindi.content.decode()
    again = client.get("/tests/")
    assert again["X-Cache"] == "HIT"
    assert "अभ्यास टेस्ट" in again.content.decode()
    assert "Cookie" in again["Vary"]
    client.cookies["django_language"] = "fr"  # unknown: English, the English copy
    english = client.get("/tests/")
    assert english["X-Cache"] == "HIT"
    assert "Practice tests" in english.content.decode()


def test_member_page_cache_keeps_a_copy_per_language(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert "Practice tests" in client.get("/tests/").content.decode()
    client.cookies["django_language"] = "hi"
    hindi = client.get("/tests/")
    assert hindi["X-Cache"] == "MISS"
    assert "अभ्यास टेस्ट" in hindi.content.decode()
    assert "टेस्ट" in client.get("/tests/").content.decode()


@pytest.mark.parametrize(
    ("code", "next_url", "cookie", "location"),
    [
        ("hi", "/tests/?page=2", "hi", "/tests/?page=2"),
        ("en-in", "/notes", "en-in", "/notes"),
        ("hi", "https://evil.example/", "hi", "/"),  # no open redirect
        ("xx", "/tests/", None, "/tests/"),  # unknown language: nothing set
    ],
)
def test_language_switch_link(client, code, next_url, cookie, location):
    response = client.get(reverse("language_set", args=[code]), {"next": next_url})
    assert response.status_code == 302
    assert response["Location"] == location
    assert response["Cache-Control"] == "private, no-store"
    if cookie is None:
        assert "django_language" not in response.cookies
    else:
        assert response.cookies["django_language"].value == cookie


def test_switcher_link_is_on_learner_pages(client):
    body = client.get("/tests/").content.decode()
    assert f'href="{reverse("language_set", args=["hi"])}?next=/tests/"' in body
    client.cookies["django_language"] = "hi"
    body = client.get("/tests/").content.decode()
    assert f'href="{reverse("language_set", args=["en-in"])}?next=/tests/"' in body


def test_exam_palette_states_are_shown_in_the_interface_language():
    from django.utils import translation

    from courses.exam_screen import STATE_LABELS, state_labels

    with translation.override("hi"):
        hindi = state_labels()
    assert all(
        hindi[code] != english and re.search("[\u0900-\u097f]", hindi[code]) for code, english in STATE_LABELS.items()
    )
    with translation.override("en-in"):
        assert state_labels() == STATE_LABELS


def test_a_hindi_request_leaves_the_thread_in_english(client):
    from django.utils import translation

    client.cookies["django_language"] = "hi"
    assert "अभ्यास टेस्ट" in client.get("/tests/").content.decode()
    assert translation.get_language() == "en-in"


def test_learner_form_labels_help_and_errors_are_in_hindi(client):
    from tests.factories import PracticeTestFactory

    client.cookies["django_language"] = "hi"
    test = PracticeTestFactory(is_free=True)

    free_test = client.get(reverse("courses:test_detail", args=[test.slug])).content.decode()
    catalog = client.get(reverse("courses:catalog")).content.decode()
    signup = client.post(reverse("accounts:signup"), {"name": "", "password": ""}).content.decode()

    assert "प्रश्न · " in free_test
    assert "यह मुफ़्त टेस्ट दें" in free_test
    assert "अंकन: सही पर +4, गलत पर -1, अनुत्तरित पर 0" in free_test
    assert 'for="id_phone">मोबाइल नंबर' in free_test
    assert "भारतीय मोबाइल नंबर, जैसे 98123 45678।" in free_test
    assert '<option value="11">कक्षा 11</option>' in free_test
    assert "सभी कक्षाएँ" in catalog
    assert "ऑनलाइन लाइव" in catalog
    assert "<h1>अपना खाता बनाएँ</h1>" in signup
    assert 'for="id_name">नाम' in signup
    assert "ईमेल पता या मोबाइल नंबर दर्ज करें।" in signup  # ours
    assert "यह क्षेत्र अपेक्षित हैं" in signup  # Django's own Hindi catalog
    assert "Mobile number" not in signup


def test_learner_form_labels_stay_english_without_the_cookie(client):
    signup = client.get(reverse("accounts:signup")).content.decode()
    assert 'for="id_phone">Mobile number' in signup


def test_every_learner_email_and_subject_has_a_hindi_translation():
    from communications.catalog import CATALOG

    with PO.open("rb") as source:
        translated = _translated_ids(read_po(source))
    wanted = {re.sub(r"{{ (\w+) }}", r"%(\1)s", spec.subject) for spec in CATALOG.values()}
    for path in [*(ROOT / "templates/communications/email").glob("*.txt"), ROOT / "templates/emails/base.html"]:
        wanted |= _template_msgids(path.read_text())
    assert len(wanted) > 35
    assert sorted(wanted - translated) == []


def test_a_signed_in_learner_switches_by_post_and_a_get_writes_nothing(client):
    # Issue 16 item 4: GET never writes. The signed-in switcher is a form; its POST keeps the choice.
    from accounts.models import User
    from tests.factories import UserFactory

    user = UserFactory(profile={})
    client.force_login(user)
    url = reverse("language_set", args=["hi"])

    page = client.get("/tests/").content.decode()
    got = client.get(url, {"next": "/"})

    assert f'method="post" action="{url}?next=/tests/"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert got.cookies["django_language"].value == "hi"
    assert "language" not in User.objects.get(pk=user.pk).profile

    posted = client.post(f"{url}?next=/")

    assert (posted.status_code, posted["Location"]) == (302, "/")
    assert User.objects.get(pk=user.pk).profile["language"] == "hi"
