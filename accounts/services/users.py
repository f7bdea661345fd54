"""Accounts writes: sign-up, profile, leads, parent links, the auth log (pages, API, admin, tasks).

Role, is_staff and the verification flags are never taken from user input: sign-up creates
students (or parents when the caller decides so), and only the OTP services set `phone_verified`.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.identity import email_normalize, phone_normalize
from accounts.models import AuthLog, FreeUser, Grade, ParentLink, User
from analytics.attribution import visitor_id, visitor_join
from analytics.services import event_record
from cerebrum.client_ip import client_ip
from cerebrum.errors import DomainError
from cerebrum.models import UTM_KEYS
from communications.services import message_enqueue

SELF_SERVICE_ROLES = (User.Role.STUDENT, User.Role.PARENT)
TARGET_YEAR_SPAN = 6
CITY_MAX_LENGTH = 80
# Callables (free_user=, user=) run inside user_register once a lead has become the new account, registered
# by higher apps in their AppConfig.ready() (courses: the lead's attempts move to it); accounts imports none.
lead_adopted_hooks: list = []


# --- Registration ---------------------------------------------------------------------------


@transaction.atomic
def user_register(
    *,
    password: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    role: str = User.Role.STUDENT,
    profile: dict | None = None,
    utm: dict | None = None,
    free_user: FreeUser | None = None,
) -> User:
    """A new learner (or parent) account; a free user's earlier attempts move onto it."""
    if role not in SELF_SERVICE_ROLES:
        raise DomainError("This kind of account is created by staff.", fields={"role": ["Not allowed."]})
    errors: dict[str, list[str]] = {}
    touches = _touches(utm)
    user = User(
        email=email_normalize(email),
        phone=_collect(errors, phone_clean, phone, "phone") if phone else None,
        name=(name or "").strip(),
        role=role,
        profile=_collect(errors, profile_validate, profile or {}) or {},
        first_touch=touches["first"],
        last_touch=touches["last"],
    )
    _validate_new_user(user, password, errors)
    user.set_password(password)
    _save_new_user(user)
    if free_user is not None:
        _free_user_adopt(free_user=free_user, user=user)
    message_enqueue(template="welcome", context={"name": user.name}, idempotency_key=f"welcome:{user.pk}", user=user)
    event_record(event_type="SIGNUP", name="signup", user=user, properties={"role": role}, utm=touches["first"])
    return user


def _collect(errors: dict, clean, *args):
    """Run a cleaner; keep its field errors for one combined refusal instead of stopping at the first."""
    try:
        return clean(*args)
    except DomainError as error:
        errors.update(error.fields)
        return None


def _validate_new_user(user: User, password: str, errors: dict[str, list[str]]) -> None:
    if not user.email and not user.phone and "phone" not in errors:
        errors["email"] = ["Enter an email address or a phone number."]
    try:
        user.full_clean(exclude=["password", *errors], validate_constraints=False)
    except ValidationError as error:
        errors.update(_unique_messages(error.message_dict))
    try:
        password_validation.validate_password(password or "", user)
    except ValidationError as error:
        errors["password"] = list(error.messages)
    if errors:
        raise DomainError("Please correct the errors below.", fields=errors)


def _unique_messages(message_dict: dict) -> dict[str, list[str]]:
    friendly = {
        "email": "An account with this email already exists. Log in or reset your password.",
        "phone": "An account with this phone number already exists. Log in or reset your password.",
    }
    return {
        field: [friendly[field] if "already exists" in message and field in friendly else message for message in msgs]
        for field, msgs in message_dict.items()
    }


def _save_new_user(user: User) -> None:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        # Two sign-ups with the same email/phone raced past full_clean(): the loser gets a field error.
        field = "email" if user.email and User.objects.filter(email=user.email).exists() else "phone"
        raise DomainError(
            "Please correct the errors below.", fields={field: [f"An account with this {field} already exists."]}
        ) from error


def _free_user_adopt(*, free_user: FreeUser, user: User) -> None:
    """Link the lead to the new account; the hooks move what the lead owned in higher apps (attempts)."""
    locked = FreeUser.objects.select_for_update().filter(pk=free_user.pk, user__isnull=True).first()
    if locked is None:
        return  # already someone's account: never hand another person's attempts over
    locked.user = user
    locked.save(update_fields=["user"])
    for hook in lead_adopted_hooks:
        hook(free_user=locked, user=user)


# --- Profile --------------------------------------------------------------------------------


@transaction.atomic
def user_profile_update(
    *,
    user: User,
    name: str | None = None,
    grade: str | None = None,
    target_year: int | str | None = None,
    city: str | None = None,
) -> User:
    """Change what a learner may change about themselves; other fields are not reachable from here."""
    # A fresh locked row: two tabs saving at once must not undo each other's fields.
    locked = User.objects.select_for_update().get(pk=user.pk)
    changes = {"grade": grade, "target_year": target_year, "city": city}
    errors: dict[str, list[str]] = {}
    try:
        locked.profile = profile_validate({**locked.profile, **{k: v for k, v in changes.items() if v is not None}})
    except DomainError as error:
        errors.update(error.fields)
    if name is not None:
        locked.name = name.strip()
    try:
        locked.full_clean(exclude=["password", "profile"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise DomainError("Please correct the errors below.", fields=errors)
    locked.save(update_fields=["name", "profile"])  # the save drops the cached copies (accounts.backends)
    return locked


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """Keep the learner's interface language (a settings.LANGUAGES code) in `profile["language"]`: the
    messages sent to them (emails, cerebrum.i18n; docs/hindi.md) are written in it. Saved only when it
    changes; an unknown code is a DomainError."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    profile = profile_validate({**locked.profile, "language": language})
    if profile != locked.profile:
        locked.profile = profile
        locked.save(update_fields=["profile"])  # the save drops the cached copies (accounts.backends)
    user.profile = locked.profile
    return locked


def profile_validate(profile: dict) -> dict:
    """The cleaned profile (grade, target_year, city, language); unknown keys are dropped, bad values refused."""
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    cleaners = (
        ("grade", _grade_clean),
        ("target_year", _target_year_clean),
        ("city", _city_clean),
        ("language", _language_clean),
    )
    for key, clean in cleaners:
        try:
            value = clean(profile.get(key))
        except ValueError as error:
            errors[key] = [str(error)]
            continue
        if value not in (None, ""):
            cleaned[key] = value
    if errors:
        raise DomainError("Please correct the errors below.", fields=errors)
    return cleaned


def _grade_clean(value) -> str:
    grade = str(value or "").strip()
    if grade and grade not in Grade.values:
        raise ValueError(f"Choose one of: {', '.join(Grade.labels)}.")
    return grade


def _target_year_clean(value) -> int | None:
    if value in (None, ""):
        return None
    first_year = timezone.now().year
    last_year = first_year + TARGET_YEAR_SPAN - 1
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if not first_year <= year <= last_year:
        raise ValueError(f"Enter a year from {first_year} to {last_year}.")
    return year


def _language_clean(value) -> str:
    language = str(value or "").strip()
    codes = [code for code, _ in settings.LANGUAGES]
    if language and language not in codes:
        raise ValueError(f"Choose one of: {', '.join(codes)}.")
    return language


def _city_clean(value) -> str:
    city = str(value or "").strip()
    if len(city) > CITY_MAX_LENGTH:
        raise ValueError(f"Use at most {CITY_MAX_LENGTH} characters.")
    return city


# --- Free users (leads) ---------------------------------------------------------------------


@transaction.atomic
def free_user_capture(
    *,
    name: str,
    phone: str,
    email: str = "",
    grade: str = "",
    utm: dict | None = None,
    session_free_user_id: int | None = None,
) -> FreeUser:
    """The lead of this browser session: its own row updated, or a new row.

    A phone number typed into a form is a claim, not an identity (issue 14 item 2): only the lead the
    same session created (`session_free_user_id`, kept in the server-side session) is reused. Another
    browser typing the same number gets a lead of its own, so it can neither read, answer nor rename
    the first visitor's attempts, nor take them into its account at sign-up. Staff still count people
    once: reports and the admin de-duplicate leads by phone (`lead_rows_latest_per_phone`).
    """
    phone = phone_clean(phone, "phone")
    touches = _touches(utm)
    free_user = None
    if session_free_user_id:
        free_user = FreeUser.objects.select_for_update().filter(pk=session_free_user_id, user__isnull=True).first()
    if free_user is None:
        free_user = FreeUser(first_touch=touches["first"], **_utm_columns(touches["first"]))
    free_user.phone = phone
    free_user.name = (name or "").strip()
    free_user.email = email_normalize(email) or ""
    free_user.grade = grade or free_user.grade
    if touches["last"]:
        free_user.last_touch = touches["last"]
    try:
        free_user.full_clean(exclude=["user"])
    except ValidationError as error:
        raise DomainError("Please correct the errors below.", fields=error.message_dict) from error
    free_user.save()
    return free_user


# --- Auth log and parent links ----------------------------------------------------------------


def user_signed_in(*, request: HttpRequest, user: User, identifier: str) -> AuthLog:
    """After `django.contrib.auth.login` on the sign-in and sign-up pages: the auth log's success row, and
    this device's earlier anonymous visits and events join the learner (analytics.attribution)."""
    visitor_join(anonymous_id=visitor_id(request), user_id=user.pk)
    return auth_log_record(request=request, event=AuthLog.Event.LOGIN_SUCCESS, user=user, identifier=identifier)


def auth_log_record(*, request: HttpRequest, event: str, user: User | None = None, identifier: str = "") -> AuthLog:
    """Append one login/logout row; the table is evidence, so it is never updated."""
    return AuthLog.objects.create(
        user=user if user is not None and user.pk else None,
        identifier=(identifier or "")[:254],
        event=event,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


@transaction.atomic
def parent_link_create(*, parent: User, student: User, relation: str = ParentLink.Relation.GUARDIAN) -> ParentLink:
    """Link a parent account to a student; linking twice returns the existing link."""
    if parent.role != User.Role.PARENT:
        raise DomainError("Only a parent account can be linked.", fields={"parent": ["Not a parent account."]})
    if student.role != User.Role.STUDENT:
        raise DomainError("Only a student can be linked as a child.", fields={"student": ["Not a student."]})
    link = ParentLink(parent=parent, student=student, relation=relation)
    try:
        link.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        raise DomainError("Please correct the errors below.", fields=error.message_dict) from error
    link, _ = ParentLink.objects.get_or_create(parent=parent, student=student, defaults={"relation": relation})
    return link


# --- Normalizing ----------------------------------------------------------------------------


def phone_clean(phone: str, field: str) -> str:
    """The E.164 form of a typed Indian mobile, or a DomainError naming `field`."""
    try:
        return phone_normalize(phone)
    except ValueError as error:
        raise DomainError("Please correct the errors below.", fields={field: [str(error)]}) from error


def _touches(utm: dict | None) -> dict:
    """Accept {"first": {...}, "last": {...}} (attribution.utm_from_request) or one flat utm_* dict."""
    utm = utm or {}
    if "first" in utm or "last" in utm:
        first, last = utm.get("first") or {}, utm.get("last") or {}
    else:
        first = last = utm
    return {"first": _utm_clean(first), "last": _utm_clean(last)}


def _utm_clean(touch: dict) -> dict:
    cleaned = {key: str(touch.get(key) or "").strip()[:100] for key in UTM_KEYS}
    return cleaned if any(cleaned.values()) else {}


def _utm_columns(touch: dict) -> dict:
    return {key: touch.get(key, "") for key in UTM_KEYS}
