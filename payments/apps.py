from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from payments import checks, sandbox, services  # noqa: F401  checks registers the GST settings check

        services.sandbox_refund_settle.bind(sandbox.sandbox_refund_settle)
