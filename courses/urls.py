from django.urls import path  # noqa: F401

app_name = "courses"

# Pages.
urlpatterns: list = []

# REST API, mounted under /api/v1/.
api_urlpatterns: list = []
