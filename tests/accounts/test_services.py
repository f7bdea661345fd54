"""accounts.services: registration, profile, leads, auth log, parent links."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from accounts import selectors, services
from accounts.models import AuthLog, FreeUser, ParentLink, User
from analytics.models import AnalyticsEvent
from analytics.services import buffer_flush
from cerebrum.errors import DomainError
from communications.models import CommunicationLog
from courses.models import TestAttempt as Attempt
from tests.factories import FreeUserFactory, ParentFactory, PracticeTestFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "Mitochondria-42"
UTM = {"first": {"utm_source": "instagram", "utm_campaign": "neet27"}, "last": {"utm_source": "google"}}


def _attempt(*, free_user=None, user=None, number=1) -> Attempt:
    return Attempt.objects.create(
        test=PracticeTestFactory(question_count=1),
        free_user=free_user,
        user=user,
        attempt_number=number,
        expires_at=timezone.now() + timedelta(minutes=30),
    )


def test_register_with_email_normalizes_and_records_everything(django_capture_on_commit_callbacks):
    # Given a visitor who landed from an Instagram campaign
    # When they sign up with a mixed-case email
    with django_capture_on_commit_callbacks(execute=True):
        user = services.user_register(password=PASSWORD, name="  Asha Verma ", email=" Asha@Example.COM ", utm=UTM)
    buffer_flush()

    # Then the account is stored normalized, with both touches, and a welcome message and SIGNUP event exist
    user.refresh_from_db()
    assert (user.email, user.phone, user.name, user.role) == ("asha@example.com", None, "Asha Verma", "STUDENT")
    assert user.check_password(PASSWORD)
    assert user.first_touch["utm_campaign"] == "neet27"
    assert user.last_touch["utm_source"] == "google"
    assert (user.phone_verified, user.email_verified, user.is_staff) == (False, False, False)
    assert CommunicationLog.objects.filter(user=user, template="welcome").count() == 1
    event = AnalyticsEvent.objects.get(user=user, event_type="SIGNUP")
    assert event.utm_campaign == "neet27"


@pytest.mark.parametrize("raw", ["9812345678", "+91 98123 45678", "09812345678", "919812345678"])
def test_register_with_phone_stores_e164(raw):
    user = services.user_register(password=PASSWORD, name="Ravi", phone=raw)

    assert User.objects.get(pk=user.pk).phone == "+919812345678"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"email": None, "phone": None}, "email"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "+14155552671"}, "phone"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "12345678901"}, "password"),
        ({"email": "a@example.com", "name": "  "}, "name"),
        ({"email": "a@example.com", "profile": {"grade": "13"}}, "grade"),
        ({"email": "a@example.com", "role": "ADMIN"}, "role"),
    ],
)
def test_register_refuses_bad_input_with_a_field_error_and_writes_nothing(kwargs, field):
    arguments = {"password": PASSWORD, "name": "Asha", **kwargs}

    with pytest.raises(DomainError) as raised:
        services.user_register(**arguments)

    assert field in raised.value.fields
    assert User.objects.count() == 0
    assert CommunicationLog.objects.count() == 0


@pytest.mark.parametrize(
    ("field", "value", "typed"),
    [("email", "taken@example.com", "TAKEN@example.com"), ("phone", "+919812345678", "98123 45678")],
)
def test_register_duplicate_is_a_field_error(field, value, typed):
    UserFactory(**{field: value})

    with pytest.raises(DomainError) as raised:
        services.user_register(password=PASSWORD, name="Asha", **{field: typed})

    assert "already exists" in raised.value.fields[field][0]
    assert User.objects.count() == 1


def test_register_moves_the_free_users_attempts_to_the_new_account():
    # Given a lead who took two free tests
    lead = FreeUserFactory()
    first, second = _attempt(free_user=lead), _attempt(free_user=lead)

    # When they sign up carrying the lead in their session
    user = services.user_register(password=PASSWORD, name="Asha", email="asha@example.com", free_user=lead)

    # Then both attempts belong to the user and the lead points at the account
    assert set(Attempt.objects.filter(user=user).values_list("pk", flat=True)) == {first.pk, second.pk}
    assert Attempt.objects.filter(free_user=lead).count() == 0
    assert FreeUser.objects.get(pk=lead.pk).user == user


def test_register_never_takes_an_already_linked_leads_attempts():
    owner = UserFactory()
    lead = FreeUserFactory(user=owner)
    attempt = _attempt(free_user=lead)

    user = services.user_register(password=PASSWORD, name="Asha", email="asha@example.com", free_user=lead)

    attempt.refresh_from_db()
    assert (attempt.free_user_id, attempt.user_id) == (lead.pk, None)
    assert FreeUser.objects.get(pk=lead.pk).user == owner
    assert user.attempts.count() == 0


def test_profile_update_validates_and_invalidates_the_cache(django_capture_on_commit_callbacks):
    user = UserFactory(profile={"grade": "11", "target_year": timezone.now().year + 1, "city": "Kota"})
    assert selectors.user_profile_get(user_id=user.pk)["profile"]["city"] == "Kota"  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        services.user_profile_update(user=user, grade="12", city="  Jaipur ", name="New Name")

    user.refresh_from_db()
    assert user.profile == {"grade": "12", "target_year": timezone.now().year + 1, "city": "Jaipur"}
    assert user.name == "New Name"
    assert selectors.user_profile_get(user_id=user.pk)["profile"] == user.profile


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"grade": "PhD"}, "grade"),
        ({"target_year": "soon"}, "target_year"),
        ({"target_year": 1999}, "target_year"),
        ({"city": "x" * 81}, "city"),
        ({"name": ""}, "name"),
    ],
)
def test_profile_update_refuses_bad_values_and_changes_nothing(kwargs, field):
    user = UserFactory(name="Asha", profile={"grade": "11"})

    with pytest.raises(DomainError) as raised:
        services.user_profile_update(user=user, **kwargs)

    assert field in raised.value.fields
    stored = User.objects.get(pk=user.pk)
    assert (stored.name, stored.profile) == ("Asha", {"grade": "11"})


def test_free_user_capture_updates_only_the_sessions_own_lead():
    first = services.free_user_capture(name="Asha", phone="9812345678", grade="11", utm=UTM)

    again = services.free_user_capture(
        name="Asha V",
        phone="+91 98123 45678",
        email="A@x.com",
        utm={"utm_source": "yt"},
        session_free_user_id=first.pk,
    )

    assert again.pk == first.pk
    again.refresh_from_db()
    assert (again.name, again.email, again.grade, again.utm_campaign) == ("Asha V", "a@x.com", "11", "neet27")
    assert again.last_touch["utm_source"] == "yt"
    assert FreeUser.objects.count() == 1


def test_free_user_capture_with_someone_elses_phone_starts_a_new_lead_and_leaves_theirs_alone():
    # Issue 14 item 2: a phone number typed into a form is a claim, not an identity.
    victim = services.free_user_capture(name="Asha", phone="9876502222", grade="11", utm=UTM)

    other = services.free_user_capture(name="Attacker", phone="98765 02222", session_free_user_id=None)

    assert other.pk != victim.pk
    victim.refresh_from_db()
    assert (victim.name, victim.grade) == ("Asha", "11")
    assert FreeUser.objects.filter(phone="+919876502222").count() == 2


def test_free_user_capture_never_reuses_another_sessions_lead_even_by_id():
    victim = services.free_user_capture(name="Asha", phone="9876502222")
    signed_up = services.free_user_capture(name="Ravi", phone="9876503333")
    FreeUser.objects.filter(pk=signed_up.pk).update(user=UserFactory())

    # a session whose lead was adopted at sign-up gets a new lead, never the adopted row
    fresh = services.free_user_capture(name="Ravi", phone="9876503333", session_free_user_id=signed_up.pk)

    assert fresh.pk not in (victim.pk, signed_up.pk)


def test_free_user_capture_starts_a_new_lead_when_the_old_one_signed_up():
    services.free_user_capture(name="Asha", phone="9812345678")
    FreeUser.objects.update(user=UserFactory())

    services.free_user_capture(name="Asha", phone="9812345678")

    assert FreeUser.objects.count() == 2


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"phone": "123"}, "phone"), ({"grade": "13"}, "grade"), ({"name": ""}, "name")]
)
def test_free_user_capture_refuses_bad_input(kwargs, field):
    arguments = {"name": "Asha", "phone": "9812345678", **kwargs}

    with pytest.raises(DomainError) as raised:
        services.free_user_capture(**arguments)

    assert field in raised.value.fields
    assert FreeUser.objects.count() == 0


def test_auth_log_record_keeps_ip_agent_and_identifier():
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="Phone" * 100)
    user = UserFactory()

    row = services.auth_log_record(request=request, event=AuthLog.Event.LOGIN_FAILURE, user=user, identifier="x@y.in")

    row.refresh_from_db()
    assert (row.event, row.user, row.identifier, row.ip_address) == ("LOGIN_FAILURE", user, "x@y.in", "203.0.113.9")
    assert len(row.user_agent) == 300


def test_parent_link_create_is_idempotent():
    parent, student = ParentFactory(), UserFactory()

    first = services.parent_link_create(parent=parent, student=student, relation="MOTHER")
    second = services.parent_link_create(parent=parent, student=student, relation="FATHER")

    assert first.pk == second.pk
    assert ParentLink.objects.get().relation == "MOTHER"


@pytest.mark.parametrize(
    ("parent_role", "student_role", "field"), [("STUDENT", "STUDENT", "parent"), ("PARENT", "PARENT", "student")]
)
def test_parent_link_create_refuses_wrong_roles(parent_role, student_role, field):
    parent, student = UserFactory(role=parent_role), UserFactory(role=student_role)

    with pytest.raises(DomainError) as raised:
        services.parent_link_create(parent=parent, student=student, relation="MOTHER")

    assert field in raised.value.fields
    assert ParentLink.objects.count() == 0


def test_profile_update_reports_every_bad_field_at_once():
    user = UserFactory(name="Asha", profile={})

    with pytest.raises(DomainError) as raised:
        services.user_profile_update(user=user, name="", grade="PhD", city="x" * 81)

    assert set(raised.value.fields) == {"name", "grade", "city"}


def test_profile_update_keeps_a_field_saved_meanwhile_by_another_tab():
    user = UserFactory(profile={"grade": "11"})
    User.objects.filter(pk=user.pk).update(profile={"grade": "11", "city": "Kota"})

    updated = services.user_profile_update(user=user, grade="12")

    assert updated.profile == {"grade": "12", "city": "Kota"}
    assert User.objects.get(pk=user.pk).profile == {"grade": "12", "city": "Kota"}


def test_register_reports_every_bad_field_at_once():
    with pytest.raises(DomainError) as raised:
        services.user_register(password="short", name="", phone="12345", profile={"grade": "13"})

    assert set(raised.value.fields) == {"password", "name", "phone", "grade"}


@pytest.mark.django_db(transaction=True)
def test_simultaneous_sign_ups_with_one_email_make_one_account():
    barrier = threading.Barrier(4)

    def sign_up(index: int):
        barrier.wait()
        try:
            return services.user_register(password=PASSWORD, name=f"Asha {index}", email="asha@example.com")
        except DomainError as error:
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(sign_up, range(4)))

    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(refused) == 3
    assert all("already exists" in outcome.fields["email"][0] for outcome in refused)
    assert User.objects.filter(email="asha@example.com").count() == 1
    assert CommunicationLog.objects.filter(template="welcome").count() == 1
