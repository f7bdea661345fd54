from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import urls as accounts_urls
from analytics import urls as analytics_urls
from cerebrum import i18n, views
from communications import urls as communications_urls
from courses import urls as courses_urls
from payments import urls as payments_urls
from practice import urls as practice_urls
from reports import urls as reports_urls

api_v1 = [
    path("", include((accounts_urls.api_urlpatterns, "accounts_api"))),
    path("", include((courses_urls.api_urlpatterns, "courses_api"))),
    path("", include((payments_urls.api_urlpatterns, "payments_api"))),
    path("", include((practice_urls.api_urlpatterns, "practice_api"))),
    path("", include((analytics_urls.api_urlpatterns, "analytics_api"))),
    path("", include((communications_urls.api_urlpatterns, "communications_api"))),
]

urlpatterns = [
    path("health", views.health, name="health"),
    path("ready", views.ready, name="ready"),
    path("language/<str:code>/", i18n.language_set, name="language_set"),  # the interface language switcher
    path("", include("django_prometheus.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include(accounts_urls)),
    path("payments/", include(payments_urls)),
    path("communications/", include(communications_urls)),
    path("staff/analytics/", include(reports_urls)),
    path("", include(practice_urls)),
    path("", include(courses_urls)),
]

if settings.BENCH_MODE:  # the benchmark's bare-Django ceiling (bench/run.sh sets BENCH_MODE=1)
    from bench import views as bench_views

    urlpatterns.insert(0, path("bench/bare", bench_views.bare, name="bench-bare"))

handler400 = "cerebrum.api.handler400"
handler404 = "cerebrum.api.handler404"
handler500 = "cerebrum.api.handler500"
