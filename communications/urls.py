from django.urls import path

from communications import apis, views

app_name = "communications"

# Pages.
urlpatterns: list = [
    path("whatsapp/webhook/", views.whatsapp_webhook, name="whatsapp-webhook"),
    path("preferences/", views.PreferencesView.as_view(), name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("email/bounces/", views.email_bounce_webhook, name="email-bounces"),
]

# REST API, mounted under /api/v1/.
api_urlpatterns: list = [
    path("communications/preferences", apis.PreferencesApi.as_view(), name="communication-preferences"),
]
