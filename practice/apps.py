from django.apps import AppConfig


class PracticeConfig(AppConfig):
    """Learner insight after a test: analysis, rank, bookmarks, the mistake notebook, the revision queue.

    Sits above `courses` in the dependency order: it reads attempts and questions, and registers
    itself on the submit service's after-submit hooks, the key change's after-rekey hooks and the
    dashboard page's cached parts (courses never imports it).
    """

    name = "practice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from courses.caches import dashboard_page_key_hooks
        from courses.rekey import after_rekey_hooks
        from courses.services import after_submit_hooks
        from practice.caches import revision_summary_keys
        from practice.services import mistakes_record, mistakes_rekey

        if mistakes_record not in after_submit_hooks:
            after_submit_hooks.append(mistakes_record)
        if mistakes_rekey not in after_rekey_hooks:
            after_rekey_hooks.append(mistakes_rekey)
        if revision_summary_keys not in dashboard_page_key_hooks:  # the dashboard's revision line
            dashboard_page_key_hooks.append(revision_summary_keys)
