"""The shapes of the dicts accounts' selectors build, declared once (cerebrum.shapes): the profile cache's
key carries the profile's digest (cerebrum.cache.shaped), so a release that changes it reads none of the
previous release's cached profiles."""

from __future__ import annotations

from typing import TypedDict


class Profile(TypedDict):
    """`selectors.user_profile_get`: a learner's public profile (Redis, 30 minutes)."""

    id: int
    name: str
    email: str | None
    phone: str | None
    role: str
    profile: dict  # grade, target_year, city (and language)
    email_verified: bool
    phone_verified: bool
