from django.apps import AppConfig


class CerebrumConfig(AppConfig):
    """The platform package as an app only so that its system checks register (cerebrum/checks.py)."""

    name = "cerebrum"
    verbose_name = "Cerebrum platform"

    def ready(self) -> None:
        from cerebrum import checks  # noqa: F401  (registers the checks)
