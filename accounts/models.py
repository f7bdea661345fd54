from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q

from accounts.identity import email_normalize, indian_mobile_validator
from cerebrum.models import UTMFields


class Grade(models.TextChoices):
    CLASS_11 = "11", "Class 11"
    CLASS_12 = "12", "Class 12"
    DROPPER = "DROPPER", "Dropper"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **fields) -> User:
        email = email_normalize(email)
        user = self.model(email=email, **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str, **fields) -> User:
        fields.setdefault("role", User.Role.ADMIN)
        fields.update(is_staff=True, is_superuser=True)
        fields.setdefault("name", email.split("@")[0])
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        STUDENT = "STUDENT", "Student"
        PARENT = "PARENT", "Parent"
        TEACHER = "TEACHER", "Teacher"
        ADMIN = "ADMIN", "Admin"

    # Unique when present: NULL never collides, so a phone-only learner has no email and vice versa.
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    phone = models.CharField(
        max_length=16,
        unique=True,
        null=True,
        blank=True,
        validators=[indian_mobile_validator],
        help_text="E.164, e.g. +919812345678",
    )
    name = models.CharField(max_length=150)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)
    email_verified = models.BooleanField(default=False)
    phone_verified = models.BooleanField(default=False)
    profile = models.JSONField(default=dict, blank=True, help_text="grade, target_year, city")
    first_touch = models.JSONField(default=dict, blank=True, help_text="UTM of the first landing")
    last_touch = models.JSONField(default=dict, blank=True, help_text="UTM of the last landing before sign-up")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    last_active_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        db_table = "users"
        constraints = [
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False), name="users_email_or_phone"
            ),
        ]
        indexes = [
            models.Index(fields=["email", "role"], name="idx_users_email_role"),
            models.Index(fields=["phone", "phone_verified"], name="idx_users_phone_verified"),
            models.Index(fields=["-created_at"], name="idx_users_created_at_desc"),
            models.Index(
                fields=["role", "email_verified", "-created_at"],
                name="idx_users_comprehensive",
                condition=Q(role__in=["STUDENT", "PARENT"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email or self.phone}>"

    @property
    def is_parent(self) -> bool:
        return self.role == self.Role.PARENT

    @property
    def grade(self) -> str:
        return self.profile.get("grade", "")


class ParentLink(models.Model):
    class Relation(models.TextChoices):
        MOTHER = "MOTHER", "Mother"
        FATHER = "FATHER", "Father"
        GUARDIAN = "GUARDIAN", "Guardian"

    parent = models.ForeignKey(User, on_delete=models.CASCADE, related_name="child_links")
    student = models.ForeignKey(User, on_delete=models.CASCADE, related_name="parent_links")
    relation = models.CharField(max_length=10, choices=Relation.choices, default=Relation.GUARDIAN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "parent_links"
        constraints = [
            models.UniqueConstraint(fields=["parent", "student"], name="parent_link_unique"),
            models.CheckConstraint(condition=~Q(parent=models.F("student")), name="parent_link_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.parent_id} → {self.student_id} ({self.relation})"


class FreeUser(UTMFields):
    """A lead who used free resources before signing up; linked to the User once they do."""

    name = models.CharField(max_length=150)
    # What the visitor typed, normalized: a claim, not an identity. Each browser session has its own
    # row (accounts.services.free_user_capture); staff reports de-duplicate by this column.
    phone = models.CharField(max_length=16, validators=[indian_mobile_validator])
    email = models.EmailField(blank=True, default="")
    grade = models.CharField(max_length=10, choices=Grade.choices, blank=True, default="")
    first_touch = models.JSONField(default=dict, blank=True)
    last_touch = models.JSONField(default=dict, blank=True)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="free_profiles")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "free_users"
        indexes = [
            models.Index(fields=["phone"], name="idx_free_users_phone"),
            models.Index(fields=["utm_campaign", "created_at"], name="idx_free_users_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.phone})"


class AuthLog(models.Model):
    class Event(models.TextChoices):
        LOGIN_SUCCESS = "LOGIN_SUCCESS", "Login success"
        LOGIN_FAILURE = "LOGIN_FAILURE", "Login failure"
        LOGOUT = "LOGOUT", "Logout"

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="auth_logs")
    identifier = models.CharField(max_length=254, blank=True, default="", help_text="what was typed as login")
    event = models.CharField(max_length=20, choices=Event.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "auth_logs"
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_auth_logs_user_created")]

    def __str__(self) -> str:
        return f"{self.event} {self.identifier} @ {self.created_at:%Y-%m-%d %H:%M}"


class PhoneOTP(models.Model):
    """A one-time code for phone verification or a password reset by phone. Only its hash is stored."""

    class Purpose(models.TextChoices):
        VERIFY_PHONE = "VERIFY_PHONE", "Verify a phone number"
        PASSWORD_RESET = "PASSWORD_RESET", "Reset the password"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="phone_otps")
    phone = models.CharField(max_length=16)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.VERIFY_PHONE)
    code_hash = models.CharField(max_length=128)
    attempts = models.PositiveSmallIntegerField(default=0)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "phone_otps"
        indexes = [models.Index(fields=["user", "-created_at"], name="idx_phone_otps_user_created")]

    def __str__(self) -> str:
        return f"OTP for {self.phone} (expires {self.expires_at:%H:%M})"
