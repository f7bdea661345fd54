"""Admin helpers for the big tables: paging that never counts the whole table, FK widgets without N+1.

Use on any ModelAdmin whose table grows with traffic (attempts, analytics events, communication logs,
payments)::

    @admin.register(AnalyticsEvent)
    class AnalyticsEventAdmin(BigTableAdmin):
        ...
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Below this many estimated rows an exact COUNT(*) is cheap and nicer to read.
EXACT_COUNT_BELOW = 10_000
# A filtered change list counts at most this many rows; beyond it the pager shows "10,000+" pages.
FILTERED_COUNT_CAP = 10_000


def estimated_row_count(model, using: str = "default") -> int | None:
    """PostgreSQL's planner estimate (pg_class.reltuples); None when unknown or not PostgreSQL."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    # reltuples is -1 until the table is first vacuumed or analyzed.
    return int(row[0]) if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """Counts cheaply: the planner estimate for a whole big table, a capped count for a filtered one."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not hasattr(queryset, "query"):
            return super().count
        if not queryset.query.where:
            estimate = estimated_row_count(queryset.model, queryset.db)
            if estimate is not None and estimate >= EXACT_COUNT_BELOW:
                return estimate
            return super().count
        # A subquery with LIMIT: PostgreSQL stops scanning at the cap.
        return queryset.order_by()[:FILTERED_COUNT_CAP].count()


class NoLookupRawIdWidget(ForeignKeyRawIdWidget):
    """A raw id input that does not fetch the related row to label it (one query per inline row otherwise).

    Pair it with a read-only column that shows the related object from `select_related`.
    """

    def label_and_url_for_value(self, value):
        return "", ""


class BigTableAdmin(admin.ModelAdmin):
    """A change list that never runs COUNT(*) over the whole table and never counts twice."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    list_per_page = 50
