"""Page forms for accounts. They check shape only; the services decide what is valid and say why."""

from __future__ import annotations

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import services
from accounts.identity import identity_normalize
from accounts.models import Grade, User
from cerebrum.errors import DomainError

# Labels, help and errors in the interface language (locale/hi; docs/hindi.md); Django's own messages
# ("This field is required.") come from Django's Hindi catalog.
GRADE_CHOICES = [("", _("Choose…")), *((value, _(label)) for value, label in Grade.choices)]


def form_add_domain_error(form: forms.Form, error: DomainError) -> None:
    """Show a service's refusal beside the fields it names, and anything else at the top of the form."""
    for field, messages in error.fields.items():
        form.add_error(field if field in form.fields else None, messages or [error.message])
    if not error.fields:
        form.add_error(None, error.message)


class SignupForm(forms.Form):
    name = forms.CharField(max_length=150, label=_("Name"), widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        required=False,
        label=_("Email"),
        help_text=_("Email or phone: you need at least one."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        required=False,
        max_length=20,
        label=_("Mobile number"),
        help_text=_("Indian mobile, e.g. 98123 45678."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel"}),
    )
    password = forms.CharField(
        strip=False,
        label=_("Password"),
        help_text=_("At least 8 characters, not only numbers, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    grade = forms.ChoiceField(choices=GRADE_CHOICES, required=False, label=_("Class"))

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and "email" not in self.errors:
            self.add_error("email", _("Enter an email address or a mobile number."))
        if cleaned.get("password"):
            # Checked here too so every mistake shows at once, not one round trip per field.
            person = User(name=cleaned.get("name", ""), email=cleaned.get("email") or None)
            try:
                password_validation.validate_password(cleaned["password"], person)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class LoginForm(AuthenticationForm):
    """Email or mobile number in the `username` field (axes reads that field for lockouts)."""

    username = forms.CharField(
        label=_("Email or mobile number"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That email/mobile number and password do not match. Check both and try again."),
    }

    def clean_username(self) -> str:
        # Typing "098123 45678" finds the account stored as +919812345678 (accounts.identity).
        return identity_normalize(self.cleaned_data["username"])


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, label=_("Name"), widget=forms.TextInput(attrs={"autocomplete": "name"}))
    grade = forms.ChoiceField(choices=GRADE_CHOICES, required=False, label=_("Class"))
    target_year = forms.IntegerField(required=False, label=_("NEET target year"))
    city = forms.CharField(
        max_length=80, required=False, label=_("City"), widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        year = timezone.now().year
        self.fields["target_year"].widget.attrs.update(min=year, max=year + 5)


class OtpRequestForm(forms.Form):
    phone = forms.CharField(
        max_length=20,
        label=_("Mobile number"),
        help_text=_("We send a 6-digit code on WhatsApp."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel"}),
    )


class OtpVerifyForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label=_("6-digit code"),
        error_messages={"invalid": _("Enter the 6 digits from the message.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6}),
    )


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(max_length=254, label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"}))


class PasswordSetForm(SetPasswordForm):
    """Django's new-password form, saved through `user_password_set` so every refresh token ends too."""

    def save(self, commit: bool = True) -> User:
        return services.user_password_set(user=self.user, password=self.cleaned_data["new_password1"])


class PasswordResetPhoneForm(forms.Form):
    phone = forms.CharField(
        max_length=20,
        label=_("Mobile number"),
        help_text=_("The number of your account. We send a 6-digit code on WhatsApp."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "inputmode": "tel"}),
    )


class PasswordResetCodeForm(forms.Form):
    code = OtpVerifyForm.base_fields["code"]
    new_password1 = forms.CharField(
        label=_("New password"),
        strip=False,
        help_text=_("At least 8 characters, not only numbers, not a common password."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("new_password1") and cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", _("The two passwords differ."))
        return cleaned
