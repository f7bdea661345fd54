from django.urls import path

from analytics import apis

app_name = "analytics"

# Pages, included at /staff/analytics/.
urlpatterns: list = []

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("events", apis.EventBatchApi.as_view(), name="events"),
]
