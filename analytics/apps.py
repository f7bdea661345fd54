from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from analytics import attribution, tasks
        from analytics.attribution import on_user_logged_in

        attribution.visitor_events_join_task.bind(tasks.visitor_events_join)  # tasks.py imports attribution

        # Every web sign-in and sign-up calls django.contrib.auth.login; this one receiver joins the
        # device's earlier visits to the learner (analytics may not import accounts to be called).
        user_logged_in.connect(on_user_logged_in, dispatch_uid="analytics.visitor_join")
