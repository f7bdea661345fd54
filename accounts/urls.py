from django.urls import path  # noqa: F401

from accounts import apis

app_name = "accounts"

# Pages.
urlpatterns: list = []

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("auth/token", apis.TokenObtainApi.as_view(), name="token"),
    path("auth/token/refresh", apis.TokenRefreshApi.as_view(), name="token-refresh"),
    path("auth/logout", apis.LogoutApi.as_view(), name="logout"),
    path("me", apis.MeApi.as_view(), name="me"),
]
