"""Accounts over REST: register, profile, phone OTP and a parent's children, through HTTP end to end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import AuthLog, PhoneOTP, User
from accounts.services import otp_hash
from tests.factories import (
    EnrollmentFactory,
    ParentFactory,
    ParentLinkFactory,
    StaffFactory,
    TestAttemptFactory,
    UserFactory,
)

REGISTER = "/api/v1/auth/register"
ME = "/api/v1/me"
PASSWORD = "Correct-Horse-42"


def register_body(**overrides) -> dict:
    return {"name": "Asha Verma", "email": "asha@example.com", "password": PASSWORD, **overrides}


# --- register -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_register_creates_a_student_and_signs_them_in(api_client):
    # given a new learner's details
    body = register_body(phone="98123 45678", profile={"grade": "12", "target_year": timezone.now().year + 1})
    # when they register
    response = api_client.post(REGISTER, body, format="json")
    # then a STUDENT exists with a normalized phone and the tokens are theirs
    assert response.status_code == 201
    user = User.objects.get(email="asha@example.com")
    assert (user.role, user.phone, user.is_staff, user.phone_verified) == ("STUDENT", "+919812345678", False, False)
    assert response.json()["user"]["id"] == user.pk
    assert response.json()["user"]["profile"]["grade"] == "12"
    assert AccessToken(response.json()["access"])["user_id"] == str(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"role": "ADMIN"}, "role"),
        ({"is_staff": True}, "is_staff"),
        ({"email_verified": True}, "email_verified"),
        ({"password": "123"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"email": None}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"name": ""}, "name"),
        ({"profile": {"grade": "9"}}, "profile.grade"),
    ],
)
def test_register_refusals_name_the_field_and_create_nothing(api_client, overrides, field):
    response = api_client.post(REGISTER, register_body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_register_with_a_taken_email_is_400(api_client):
    UserFactory(email="asha@example.com")
    response = api_client.post(REGISTER, register_body(), format="json")
    assert response.status_code == 400
    assert "email" in response.json()["error"]["fields"]
    assert User.objects.count() == 1


# --- token obtain logs ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_success_and_failure_are_logged(api_client):
    user = UserFactory()
    api_client.post("/api/v1/auth/token", {"username": user.email, "password": "s3cret-Pass!"}, format="json")
    api_client.post("/api/v1/auth/token", {"username": user.email, "password": "wrong"}, format="json")
    events = list(AuthLog.objects.order_by("id").values_list("event", "user_id", "identifier"))
    assert events == [("LOGIN_SUCCESS", user.pk, user.email), ("LOGIN_FAILURE", None, user.email)]


# --- me -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_me_reads_the_profile_in_two_queries_or_fewer_when_cached(api_client, django_assert_max_num_queries):
    user = UserFactory()
    api_client.force_authenticate(user)
    api_client.get(ME)  # warms the profile cache
    with django_assert_max_num_queries(1):
        response = api_client.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": user.pk,
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "role": "STUDENT",
        "email_verified": False,
        "phone_verified": False,
        "profile": {"grade": "12", "target_year": 2027, "city": "Kota"},
    }


@pytest.mark.django_db
def test_me_update_changes_name_and_profile_and_the_next_read_shows_it(api_client, django_capture_on_commit_callbacks):
    # given a learner whose profile is cached
    user = UserFactory()
    api_client.force_authenticate(user)
    api_client.get(ME)
    # when they change it (the cache is dropped once the write commits)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.patch(ME, {"name": "New Name", "city": "Jaipur", "grade": "DROPPER"}, format="json")
    # then the response and the next read show the change
    assert response.status_code == 200
    assert api_client.get(ME).json()["name"] == "New Name"
    assert api_client.get(ME).json()["profile"]["city"] == "Jaipur"
    user.refresh_from_db()
    assert (user.name, user.profile["grade"]) == ("New Name", "DROPPER")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field_value",
    [
        ("role", "ADMIN"),
        ("is_staff", True),
        ("is_superuser", True),
        ("phone_verified", True),
        ("email", "new@example.com"),
        ("status", "ACTIVE"),
        ("score", 999),
        ("user", 1),
        ("id", 999),
    ],
)
def test_me_update_refuses_server_owned_fields_and_changes_nothing(api_client, field_value):
    # given a student
    user = UserFactory()
    api_client.force_authenticate(user)
    field, value = field_value
    # when they try to write a field only the server owns, alongside a legitimate change
    response = api_client.patch(ME, {field: value, "name": "Changed"}, format="json")
    # then the whole request is refused and nothing is written
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    user.refresh_from_db()
    assert (user.role, user.is_staff, user.is_superuser, user.phone_verified) == ("STUDENT", False, False, False)
    assert user.name != "Changed"


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [({"grade": "9"}, "grade"), ({"target_year": 1990}, "target_year")])
def test_me_update_refuses_bad_values(api_client, body, field):
    api_client.force_authenticate(UserFactory())
    response = api_client.patch(ME, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "patch"])
def test_me_needs_a_signed_in_user(api_client, method):
    assert getattr(api_client, method)(ME, {}, format="json").status_code == 401


# --- OTP --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_otp_request_stores_a_hashed_code_for_the_normalized_phone(api_client):
    user = UserFactory(phone=None)
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/me/otp/request", {"phone": "98765 43210"}, format="json")
    assert response.status_code == 202
    assert response.json()["phone"] == "+919876543210"
    otp = PhoneOTP.objects.get(user=user)
    assert otp.phone == "+919876543210"
    assert len(otp.code_hash) == 64


@pytest.mark.django_db
@pytest.mark.parametrize("phone", ["12", "+1 415 555 0100", ""])
def test_otp_request_refuses_a_bad_phone(api_client, phone):
    api_client.force_authenticate(UserFactory())
    response = api_client.post("/api/v1/me/otp/request", {"phone": phone}, format="json")
    assert response.status_code == 400
    assert "phone" in response.json()["error"]["fields"]
    assert PhoneOTP.objects.count() == 0


def _otp_waiting(user: User, phone: str = "+919876543210", code: str = "246810") -> PhoneOTP:
    return PhoneOTP.objects.create(
        user=user, phone=phone, code_hash=otp_hash(phone, code), expires_at=timezone.now() + timedelta(minutes=5)
    )


@pytest.mark.django_db
def test_otp_verify_with_the_right_code_verifies_the_phone(api_client):
    user = UserFactory(phone=None)
    _otp_waiting(user)
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/me/otp/verify", {"code": "246810"}, format="json")
    assert response.status_code == 200
    assert (response.json()["phone"], response.json()["phone_verified"]) == ("+919876543210", True)


@pytest.mark.django_db
def test_otp_verify_with_a_wrong_code_is_400_and_counts_the_try(api_client):
    user = UserFactory(phone=None)
    otp = _otp_waiting(user)
    api_client.force_authenticate(user)
    response = api_client.post("/api/v1/me/otp/verify", {"code": "000000"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "otp_wrong"
    otp.refresh_from_db()
    assert otp.attempts == 1
    user.refresh_from_db()
    assert user.phone_verified is False


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/me/otp/request", "/api/v1/me/otp/verify"])
def test_otp_endpoints_need_a_signed_in_user(api_client, url):
    assert api_client.post(url, {}, format="json").status_code == 401


# --- parent -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_parent_lists_only_their_linked_children(api_client):
    link = ParentLinkFactory(relation="MOTHER")
    ParentLinkFactory()  # another family
    api_client.force_authenticate(link.parent)
    response = api_client.get("/api/v1/parent/children")
    assert response.status_code == 200
    assert [(row["id"], row["relation"]) for row in response.json()["results"]] == [(link.student_id, "MOTHER")]


@pytest.mark.django_db
def test_parent_children_list_queries_do_not_grow_with_children(api_client, django_assert_max_num_queries):
    parent = ParentFactory()
    for _ in range(50):
        ParentLinkFactory(parent=parent)
    api_client.force_authenticate(parent)
    with django_assert_max_num_queries(2):
        response = api_client.get("/api/v1/parent/children?page_size=100")
    assert len(response.json()["results"]) == 50


@pytest.mark.django_db
def test_parent_sees_a_linked_childs_progress(api_client):
    link = ParentLinkFactory()
    api_client.force_authenticate(link.parent)
    response = api_client.get(f"/api/v1/parent/children/{link.student_id}")
    assert response.status_code == 200
    assert response.json()["student"] == {"id": link.student_id, "name": link.student.name}
    assert response.json()["active_enrollment_count"] == 0


@pytest.mark.django_db
def test_a_childs_progress_gives_times_in_ist_like_the_dashboard(api_client):
    # given a child with an enrollment and a finished test
    link = ParentLinkFactory()
    EnrollmentFactory(user=link.student)
    TestAttemptFactory(user=link.student)

    # when the parent and the child read them through the API
    api_client.force_authenticate(link.parent)
    progress = api_client.get(f"/api/v1/parent/children/{link.student_id}").json()
    api_client.force_authenticate(link.student)
    dashboard = api_client.get("/api/v1/dashboard").json()

    # then every time is IST (docs/api.md), in both, and the rows are the same
    times = [progress["enrollments"][0]["created_at"], progress["recent_results"][0]["submitted_at"]]
    times += [dashboard["enrollments"][0]["created_at"], dashboard["test_history"][0]["submitted_at"]]
    assert all(time.endswith("+05:30") for time in times), times
    assert progress["recent_results"] == dashboard["test_history"][:1]


@pytest.mark.django_db
@pytest.mark.parametrize("viewer", ["other_parent", "student", "staff"])
def test_anyone_but_the_linked_parent_gets_404_for_a_child(api_client, viewer):
    link = ParentLinkFactory()
    users = {"other_parent": ParentFactory, "student": lambda: link.student, "staff": StaffFactory}
    api_client.force_authenticate(users[viewer]())
    assert api_client.get(f"/api/v1/parent/children/{link.student_id}").status_code == 404
