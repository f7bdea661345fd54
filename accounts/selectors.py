"""Reads for the accounts domain, and who may see whom (a parent sees only linked children)."""

from __future__ import annotations

from django.db.models import Exists, F, OuterRef, QuerySet

from accounts import caches
from accounts.models import FreeUser, User
from accounts.shapes import Profile
from cerebrum.db_router import primary_reads
from cerebrum.errors import NotFound

# Profile, role and names are cached (accounts.caches: TTLs, and any save of the user makes them stale).
PROFILE_FIELDS = tuple(Profile.__annotations__)


def user_profile_get(*, user_id: int) -> Profile:
    """The learner's public profile as a dict, from the cache when it is there."""
    profile = caches.profile_get_or_build(user_id, lambda: _profile_build(user_id))
    if profile is None:
        raise NotFound("No such user.")
    return profile


def user_names(*, user_ids: list[int]) -> dict[int, str]:
    """{id: name} for a leaderboard's rows: one Redis round trip, a query only for names not cached."""
    return caches.names_get_or_load(user_ids, _names_load)


def _names_load(user_ids: list[int]) -> dict[int, str]:
    with primary_reads():  # kept for a day: not a lagging replica's old name (cerebrum/db_router.py)
        return dict(User.objects.filter(pk__in=user_ids).values_list("id", "name"))


def user_role_get(*, user_id: int) -> str:
    role = caches.role_get_or_build(
        user_id, lambda: User.objects.filter(pk=user_id).values_list("role", flat=True).first() or ""
    )
    if not role:
        raise NotFound("No such user.")
    return role


def _profile_build(user_id: int) -> Profile | None:
    return User.objects.filter(pk=user_id, is_active=True).values(*PROFILE_FIELDS).first()


def children_for_parent(*, parent: User) -> QuerySet[User]:
    """The students linked to this parent, by name, each with `relation` (MOTHER/FATHER/GUARDIAN)."""
    # filter() and annotate() on the same relation share one join, so `relation` is this parent's link.
    return (
        User.objects.filter(parent_links__parent=parent, is_active=True)
        .annotate(relation=F("parent_links__relation"))
        .order_by("name", "pk")
    )


def child_get_for_parent(*, parent: User, student_id: int) -> User:
    """One linked child; any other id (another family's child, a missing one) is a 404, not a hint."""
    child = children_for_parent(parent=parent).filter(pk=student_id).first()
    if child is None:
        raise NotFound("No such student.")
    return child


def lead_rows_latest_per_phone(leads: QuerySet[FreeUser] | None = None) -> QuerySet[FreeUser]:
    """One lead row per phone number, the newest: staff reports count people, not browser sessions.

    Every browser session keeps its own lead row (a typed phone is a claim, `free_user_capture`), so
    the same number can have several; the phone index answers the NOT EXISTS per row.
    """
    leads = FreeUser.objects.all() if leads is None else leads
    newer = FreeUser.objects.filter(phone=OuterRef("phone"), pk__gt=OuterRef("pk"))
    return leads.filter(~Exists(newer))
