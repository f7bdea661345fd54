from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class CoursesConfig(AppConfig):
    name = "courses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.services import lead_adopted_hooks
        from courses import rekey, tasks
        from courses.caches import _attempt_forget_on_change
        from courses.models import TestAttempt
        from courses.services import free_user_attempts_adopt

        # The re-key publishes tasks whose module imports it (cerebrum/bindings.py).
        rekey.rekey_second_pass_task.bind(tasks.rekey_second_pass)
        rekey.item_analysis_compute_task.bind(tasks.item_analysis_compute)

        # A lead who signs up keeps their free-test attempts (accounts never imports courses).
        if free_user_attempts_adopt not in lead_adopted_hooks:
            lead_adopted_hooks.append(free_user_attempts_adopt)

        for signal in (post_save, post_delete):
            signal.connect(
                _attempt_forget_on_change, sender=TestAttempt, dispatch_uid=f"courses.attempt_forget.{signal}"
            )
