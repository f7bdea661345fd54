from django.urls import path

from analytics import apis, views

app_name = "analytics"

# Staff pages, included at /staff/analytics/.
urlpatterns: list = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("campaigns/", views.CampaignsView.as_view(), name="campaigns"),
    path("engagement/", views.EngagementView.as_view(), name="engagement"),
    path("performance/", views.PerformanceView.as_view(), name="performance"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
]

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("events", apis.EventBatchApi.as_view(), name="events"),
]
