"""Rebuild the dashboards' daily rollups now, e.g. a backfill after an import or in the embedded default."""

from django.core.management.base import BaseCommand

from reports.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the analytics daily rollups for the last N IST days (one day per transaction)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=30)

    def handle(self, *args, days: int, **options) -> None:
        rows = rollups_rebuild(days=days)
        self.stdout.write(f"Rebuilt {days} days of analytics rollups ({rows} rows).")
