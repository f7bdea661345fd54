from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from analytics import attribution, tasks

        attribution.visitor_events_join_task.bind(tasks.visitor_events_join)  # tasks.py imports attribution
