from django.contrib.auth import views as auth_views
from django.urls import path  # noqa: F401

from accounts import apis, views

app_name = "accounts"

# Pages.
urlpatterns: list = [
    path("signup/", views.SignupView.as_view(), name="signup"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/phone/", views.PasswordResetPhoneView.as_view(), name="password_reset_phone"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("profile/", views.ProfileView.as_view(), name="profile"),
    path("profile/verify-phone/", views.VerifyPhoneView.as_view(), name="verify_phone"),
    path("parent/", views.ParentChildrenView.as_view(), name="parent_children"),
]

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("auth/token", apis.TokenObtainApi.as_view(), name="token"),
    path("auth/token/refresh", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="logout"),
    path("auth/register", apis.RegisterApi.as_view(), name="register"),
    path("auth/password/reset", apis.PasswordResetApi.as_view(), name="password-reset"),
    path("auth/password/reset/otp", apis.PasswordResetOtpRequestApi.as_view(), name="password-reset-otp"),
    path(
        "auth/password/reset/otp/confirm", apis.PasswordResetOtpConfirmApi.as_view(), name="password-reset-otp-confirm"
    ),
    path("me", apis.MeApi.as_view(), name="me"),
    path("me/otp/request", apis.OtpRequestApi.as_view(), name="otp-request"),
    path("me/otp/verify", apis.OtpVerifyApi.as_view(), name="otp-verify"),
    path("parent/children", apis.ParentChildListApi.as_view(), name="parent-children"),
]
