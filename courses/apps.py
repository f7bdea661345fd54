from django.apps import AppConfig


class CoursesConfig(AppConfig):
    name = "courses"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.services import lead_adopted_hooks
        from courses import caches, rekey, tasks
        from courses.services import free_user_attempts_adopt

        # The re-key publishes tasks whose module imports it (cerebrum/bindings.py).
        rekey.rekey_second_pass_task.bind(tasks.rekey_second_pass)
        rekey.item_analysis_compute_task.bind(tasks.item_analysis_compute)

        # A lead who signs up keeps their free-test attempts (accounts never imports courses).
        if free_user_attempts_adopt not in lead_adopted_hooks:
            lead_adopted_hooks.append(free_user_attempts_adopt)

        caches.connect_signals()
