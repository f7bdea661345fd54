from django.urls import path

from reports import views

# The staff pages keep the `analytics:` URL names they had before they moved here (templates, links).
app_name = "analytics"

# Staff pages, included at /staff/analytics/.
urlpatterns: list = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("campaigns/", views.CampaignsView.as_view(), name="campaigns"),
    path("engagement/", views.EngagementView.as_view(), name="engagement"),
    path("performance/", views.PerformanceView.as_view(), name="performance"),
    path("refresh/", views.RefreshView.as_view(), name="refresh"),
]
