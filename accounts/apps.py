from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts import caches, tasks
        from accounts.services import passwords
        from accounts.views import language_remember
        from cerebrum.i18n import language_chosen_hooks

        caches.connect_signals()
        # The services publish tasks whose module imports them (cerebrum/bindings.py).
        passwords.password_reset_send_task.bind(tasks.password_reset_send)
        passwords.password_reset_otp_send_task.bind(tasks.password_reset_otp_send)
        if language_remember not in language_chosen_hooks:
            language_chosen_hooks.append(language_remember)
