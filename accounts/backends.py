"""Log in with an email or a phone number."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q

from accounts.models import User


def normalize_identifier(identifier: str) -> str:
    identifier = (identifier or "").strip()
    return identifier.lower() if "@" in identifier else identifier.replace(" ", "")


class EmailOrPhoneBackend(ModelBackend):
    def authenticate(self, request, username: str | None = None, password: str | None = None, **kwargs):
        if not username or not password:
            return None
        identifier = normalize_identifier(username)
        user = User.objects.filter(Q(email=identifier) | Q(phone=identifier)).first()
        if user is None:
            User().set_password(password)  # same work either way: no user enumeration by timing
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
