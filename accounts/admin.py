"""Staff admin for people: users (email or phone login), parent links, leads, auth logs, OTPs."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm as DjangoAdminPasswordChangeForm
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm

from accounts import selectors, services, tokens
from accounts.identity import email_normalize, identity_normalize, phone_normalize
from accounts.models import AuthLog, FreeUser, ParentLink, PhoneOTP, User
from cerebrum.admin_tools import BigTableAdmin

PERSON_FIELDS = ("email", "phone", "name", "role")


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = PERSON_FIELDS

    def clean_email(self) -> str | None:
        return email_normalize(self.cleaned_data.get("email"))

    def clean_phone(self) -> str | None:
        return _phone_clean(self.cleaned_data.get("phone"))


class AdminPasswordChangeForm(DjangoAdminPasswordChangeForm):
    """The admin's "change password": every refresh token of the learner ends with the old password."""

    def save(self, commit: bool = True) -> User:
        user = super().save(commit=commit)
        if commit:
            tokens.user_tokens_revoke(user=user)
        return user


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = (
            *PERSON_FIELDS,
            "password",
            "email_verified",
            "phone_verified",
            "profile",
            "first_touch",
            "last_touch",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )

    def clean_email(self) -> str | None:
        return email_normalize(self.cleaned_data.get("email"))

    def clean_phone(self) -> str | None:
        return _phone_clean(self.cleaned_data.get("phone"))


def _phone_clean(phone: str | None) -> str | None:
    """Staff may type 098123 45678; it is stored as +919812345678 (accounts.identity)."""
    if not phone:
        return None
    try:
        return phone_normalize(phone)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from error


class ParentLinkInline(admin.TabularInline):
    model = ParentLink
    fk_name = "student"
    extra = 0
    autocomplete_fields = ["parent"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("name", "email", "phone", "role", "email_verified", "phone_verified", "is_staff", "created_at")
    list_filter = ("role", "email_verified", "phone_verified", "is_staff", "is_active")
    # Prefix searches (^) use the btree indexes on email and phone; name is a plain contains.
    search_fields = ("^email", "^phone", "name")
    ordering = ("-created_at",)
    readonly_fields = ("last_login", "last_active_at", "created_at")
    fieldsets = (
        (None, {"fields": (*PERSON_FIELDS, "password")}),
        ("Verification", {"fields": ("email_verified", "phone_verified")}),
        ("Profile and attribution", {"fields": ("profile", "first_touch", "last_touch")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "last_active_at", "created_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": (*PERSON_FIELDS, "password1", "password2")}),)
    inlines = [ParentLinkInline]
    show_full_result_count = False
    change_password_form = AdminPasswordChangeForm

    def get_search_results(self, request, queryset, search_term):
        # "98123 45678" or "Asha@X.com" find the account stored as +919812345678 / asha@x.com.
        return super().get_search_results(request, queryset, identity_normalize(search_term) or search_term)

    def save_model(self, request, obj: User, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_deactivate(user=obj)  # no refresh token of a switched-off account keeps working


@admin.register(ParentLink)
class ParentLinkAdmin(admin.ModelAdmin):
    list_display = ("parent", "student", "relation", "created_at")
    list_select_related = ("parent", "student")
    list_filter = ("relation",)
    search_fields = ("^parent__email", "^parent__phone", "^student__email", "^student__phone")
    autocomplete_fields = ("parent", "student")


class LeadPerPhoneFilter(admin.SimpleListFilter):
    """Each browser session has its own lead row (a typed phone is a claim); staff count people by phone."""

    title = "rows"
    parameter_name = "rows"

    def lookups(self, request, model_admin):
        return [("all", "Every session's lead")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Latest per phone",
        }
        yield from list(super().choices(changelist))[1:]

    def queryset(self, request, queryset):
        return queryset if self.value() == "all" else selectors.lead_rows_latest_per_phone(queryset)


@admin.register(FreeUser)
class FreeUserAdmin(BigTableAdmin):
    list_display = ("name", "phone", "email", "grade", "utm_source", "utm_campaign", "user", "created_at")
    list_select_related = ("user",)
    list_filter = (LeadPerPhoneFilter, "grade")
    search_fields = ("^phone", "^utm_campaign")
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, identity_normalize(search_term) or search_term)


@admin.register(AuthLog)
class AuthLogAdmin(BigTableAdmin):
    """Read-only: the log is evidence, written only by accounts.services.auth_log_record."""

    list_display = ("created_at", "event", "identifier", "user", "ip_address")
    list_select_related = ("user",)
    list_filter = ("event",)
    search_fields = ("=user__email", "=user__phone")
    readonly_fields = ("user", "identifier", "event", "ip_address", "user_agent", "created_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PhoneOTPForm(forms.ModelForm):
    class Meta:
        model = PhoneOTP
        fields = ("user", "phone", "attempts", "expires_at", "consumed_at")


@admin.register(PhoneOTP)
class PhoneOTPAdmin(BigTableAdmin):
    """Support can see whether a code was sent and used; the code itself is only ever a hash."""

    form = PhoneOTPForm
    list_display = ("phone", "user", "attempts", "expires_at", "consumed_at", "created_at")
    list_select_related = ("user",)
    search_fields = ("=phone",)
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at",)

    def has_add_permission(self, request) -> bool:
        return False
