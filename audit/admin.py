"""The audit trail in the admin: one read-only list per audited model (Audit trail › …), newest first,
with who acted (the user id and URL pghistory's context recorded) and the snapshot after the change.
Plain ModelAdmins, so the pages work on SQLite too (where the lists are empty)."""

from __future__ import annotations

from django.contrib import admin

from audit import models


class AuditAdmin(admin.ModelAdmin):
    list_display = ("pgh_created_at", "pgh_label", "pgh_obj_id", "acting_user_id", "acting_url")
    list_filter = ("pgh_label",)
    search_fields = ("=pgh_obj__id",)
    date_hierarchy = "pgh_created_at"
    list_select_related = ("pgh_context",)
    ordering = ("-pgh_created_at", "-pgh_id")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="acting user id")
    def acting_user_id(self, event) -> int | None:
        return (event.pgh_context.metadata or {}).get("user") if event.pgh_context else None

    @admin.display(description="via")
    def acting_url(self, event) -> str:
        return (event.pgh_context.metadata or {}).get("url", "") if event.pgh_context else ""


for event_model in (
    models.PaymentAudit,
    models.RefundAudit,
    models.EnrollmentAudit,
    models.QuestionAudit,
    models.AttemptScoreAudit,
):
    admin.site.register(event_model, AuditAdmin)
