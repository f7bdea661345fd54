from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Staff reports: the daily rollups and the staff dashboards under /staff/analytics/.

    The top layer of the dependency order (docs/architecture.md): it reads every app's tables; no app
    imports it. It has no models of its own: the rollups are stored in analytics' `DailyMetric`.
    """

    name = "reports"
    default_auto_field = "django.db.models.BigAutoField"
