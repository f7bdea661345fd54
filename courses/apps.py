from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CoursesConfig(AppConfig):
    name = "courses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from courses.caches import _attempt_forget_on_change
        from courses.models import TestAttempt

        for signal in (post_save, post_delete):
            signal.connect(
                _attempt_forget_on_change, sender=TestAttempt, dispatch_uid=f"courses.attempt_forget.{signal}"
            )
