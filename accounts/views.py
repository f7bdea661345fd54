"""Account pages: sign up, log in/out, password reset, profile, phone verification, parent view.

Thin: forms check shape, services write, selectors read and decide access. Login events are written
here with `auth_log_record` (no auth signals in this codebase).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import FormView, TemplateView

from accounts import selectors, services
from accounts.forms import (
    LoginForm,
    OtpRequestForm,
    OtpVerifyForm,
    PasswordResetCodeForm,
    PasswordResetPhoneForm,
    PasswordResetRequestForm,
    PasswordSetForm,
    ProfileForm,
    SignupForm,
    form_add_domain_error,
)
from accounts.models import AuthLog, FreeUser, User
from analytics.attribution import utm_from_request
from cerebrum.errors import DomainError

LOGIN_BACKEND = "accounts.backends.EmailOrPhoneBackend"


def home_url() -> str:
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def safe_next(request: HttpRequest) -> str:
    """`next` from the form or query string when it stays on this site, else the dashboard."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if target and allowed else home_url()


# --- Sign up, log in, log out ---------------------------------------------------------------


class SignupView(FormView):
    template_name = "accounts/signup.html"
    form_class = SignupForm

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return HttpResponseRedirect(safe_next(request))
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: SignupForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            user = services.user_register(
                password=data["password"],
                name=data["name"],
                email=data["email"] or None,
                phone=data["phone"] or None,
                profile={"grade": data["grade"]},
                utm=utm_from_request(self.request),
                free_user=self._free_user(),
            )
        except DomainError as error:
            form_add_domain_error(form, error)
            return self.form_invalid(form)
        self.request.session.pop("free_user_id", None)
        login(self.request, user, backend=LOGIN_BACKEND)
        services.user_signed_in(request=self.request, user=user, identifier=user.email or user.phone)
        messages.success(self.request, _("Welcome to Cerebrum, %(name)s!") % {"name": user.name})
        return HttpResponseRedirect(safe_next(self.request))

    def get_context_data(self, **kwargs) -> dict:
        # Kept through a failed POST so the learner still lands where they were going.
        next_url = self.request.POST.get("next") or self.request.GET.get("next", "")
        return {**super().get_context_data(**kwargs), "next": next_url}

    def _free_user(self) -> FreeUser | None:
        free_user_id = self.request.session.get("free_user_id")
        return FreeUser.objects.filter(pk=free_user_id, user__isnull=True).first() if free_user_id else None


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: LoginForm) -> HttpResponse:
        response = super().form_valid(form)
        services.user_signed_in(request=self.request, user=form.get_user(), identifier=form.cleaned_data["username"])
        return response

    def form_invalid(self, form: LoginForm) -> HttpResponse:
        identifier = form.cleaned_data.get("username") or self.request.POST.get("username", "")
        services.auth_log_record(request=self.request, event=AuthLog.Event.LOGIN_FAILURE, identifier=identifier)
        return super().form_invalid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule): a link or an image cannot log a learner out."""

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            user = request.user
            services.auth_log_record(
                request=request, event=AuthLog.Event.LOGOUT, user=user, identifier=user.email or user.phone or ""
            )
        return super().post(request, *args, **kwargs)


# --- Password reset: a link by email through the outbox, or a code to the mobile number ----------


class PasswordResetView(FormView):
    """Ask for a reset link. Known and unknown addresses get the same redirect, and nothing is sent
    inside the request: the email is an outbox row sent by a task after commit."""

    template_name = "registration/password_reset_form.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetRequestForm) -> HttpResponse:
        services.password_reset_request(email=form.cleaned_data["email"])
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = PasswordSetForm
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetPhoneView(View):
    """For learners with a mobile number only: step 1 sends a code on WhatsApp, step 2 takes the code
    and the new password. Unknown numbers get the same "code sent" step, so the page reveals nothing."""

    template_name = "registration/password_reset_phone.html"
    session_key = "password_reset_phone"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(PasswordResetPhoneForm(), PasswordResetCodeForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("action") == "confirm":
            return self._confirm(PasswordResetCodeForm(request.POST))
        return self._send(PasswordResetPhoneForm(request.POST))

    def _send(self, form: PasswordResetPhoneForm) -> HttpResponse:
        if form.is_valid():
            try:
                services.password_reset_otp_request(phone=form.cleaned_data["phone"])
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                self.request.session[self.session_key] = form.cleaned_data["phone"]
                messages.info(self.request, PHONE_RESET_SENT)
                return self._render(form, PasswordResetCodeForm(), code_sent=True)
        return self._render(form, PasswordResetCodeForm(), status=400)

    def _confirm(self, form: PasswordResetCodeForm) -> HttpResponse:
        phone = self.request.session.get(self.session_key, "")
        if form.is_valid() and phone:
            try:
                services.password_reset_otp_confirm(
                    phone=phone, code=form.cleaned_data["code"], password=form.cleaned_data["new_password1"]
                )
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                self.request.session.pop(self.session_key, None)
                return redirect("accounts:password_reset_complete")
        elif not phone:
            form.add_error(None, "Enter your mobile number first.")
        return self._render(PasswordResetPhoneForm(initial={"phone": phone}), form, code_sent=bool(phone), status=400)

    def _render(self, phone_form, code_form, *, code_sent: bool = False, status: int = 200) -> HttpResponse:
        context = {"phone_form": phone_form, "code_form": code_form, "code_sent": code_sent}
        return render(self.request, self.template_name, context, status=status)


PHONE_RESET_SENT = gettext_lazy(
    "If an account uses this mobile number, a 6-digit code is on its way on WhatsApp (valid 5 minutes)."
)


# --- Profile and phone verification -----------------------------------------------------------


class ProfileView(LoginRequiredMixin, FormView):
    template_name = "accounts/profile.html"
    form_class = ProfileForm

    def get_initial(self) -> dict:
        user = self.request.user
        return {"name": user.name, **{key: user.profile.get(key, "") for key in ("grade", "target_year", "city")}}

    def form_valid(self, form: ProfileForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            services.user_profile_update(
                user=self.request.user,
                name=data["name"],
                grade=data["grade"],
                target_year=data["target_year"] if data["target_year"] is not None else "",
                city=data["city"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
            return self.form_invalid(form)
        messages.success(self.request, _("Profile saved."))
        return redirect("accounts:profile")


class VerifyPhoneView(LoginRequiredMixin, View):
    """Step 1 asks for the number and sends a code on WhatsApp; step 2 takes the code. Works without JS."""

    template_name = "accounts/verify_phone.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(OtpRequestForm(initial={"phone": request.user.phone or ""}), OtpVerifyForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        if request.POST.get("action") == "verify":
            return self._verify(OtpVerifyForm(request.POST))
        return self._send(OtpRequestForm(request.POST))

    def _send(self, form: OtpRequestForm) -> HttpResponse:
        if form.is_valid():
            try:
                otp = services.otp_request(user=self.request.user, phone=form.cleaned_data["phone"])
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(
                    self.request,
                    _("We sent a code on WhatsApp to %(phone)s. It works for 5 minutes.") % {"phone": otp.phone},
                )
                return self._render(form, OtpVerifyForm(), code_sent=True, status=200)
        return self._render(form, OtpVerifyForm(), status=400)

    def _verify(self, form: OtpVerifyForm) -> HttpResponse:
        if form.is_valid():
            try:
                services.otp_verify(user=self.request.user, code=form.cleaned_data["code"])
            except DomainError as error:
                form_add_domain_error(form, error)
            else:
                messages.success(self.request, _("Your mobile number is verified."))
                return redirect("accounts:profile")
        return self._render(
            OtpRequestForm(initial={"phone": self.request.user.phone or ""}), form, code_sent=True, status=400
        )

    def _render(self, request_form, verify_form, *, code_sent: bool = False, status: int = 200) -> HttpResponse:
        context = {"request_form": request_form, "verify_form": verify_form, "code_sent": code_sent}
        return render(self.request, self.template_name, context, status=status)


# --- Parent view --------------------------------------------------------------------------------


class ParentRequiredMixin(LoginRequiredMixin):
    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated and request.user.role != User.Role.PARENT:
            raise PermissionDenied("Only parent accounts can see this page.")
        return super().dispatch(request, *args, **kwargs)


class ParentChildrenView(ParentRequiredMixin, TemplateView):
    """A parent's home (the dashboard and sign-in land here): straight to the child's progress when one
    child is linked, a picker when several."""

    template_name = "accounts/parent_children.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.children = list(selectors.children_for_parent(parent=request.user))
        if len(self.children) == 1:
            return redirect("courses:parent_child", student_id=self.children[0].pk)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs) -> dict:
        return {**super().get_context_data(**kwargs), "children": self.children}


def language_remember(*, request: HttpRequest, code: str) -> None:
    """A signed-in learner's choice on the language switcher (cerebrum.i18n.language_set) is kept in their
    profile, so the emails sent to them later are in it too (docs/hindi.md)."""
    user = request.user
    if user.is_authenticated and (user.profile or {}).get("language") != code:
        services.user_language_set(user=user, language=code)
