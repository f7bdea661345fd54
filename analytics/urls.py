from django.urls import path

from analytics import apis

# REST API, mounted under /api/v1/ (namespace analytics_api). The staff dashboards are reports/urls.py.
api_urlpatterns: list = [
    path("events", apis.EventBatchApi.as_view(), name="events"),
]
