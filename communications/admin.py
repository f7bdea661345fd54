"""Staff admin: the outbox with its dead letters and a retry action, channel choices, the message catalog."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.urls import path

from cerebrum.admin_tools import BigTableAdmin
from cerebrum.errors import DomainError
from communications.catalog import CATALOG
from communications.models import ChannelPreference, CommunicationLog, Suppression
from communications.services import message_retry


@admin.register(CommunicationLog)
class CommunicationLogAdmin(BigTableAdmin):
    list_display = (
        "id",
        "created_at",
        "channel",
        "template",
        "category",
        "recipient",
        "status",
        "attempts",
        "sent_at",
        "user",
    )
    # The FAILED status filter is the dead-letter queue; SKIPPED shows what consent stopped, and why.
    list_filter = ("status", "channel", "category", "template")
    # Exact matches only: both columns are indexed, a LIKE '%…%' would scan the table.
    search_fields = ("=recipient", "=provider_message_id", "=idempotency_key")
    list_select_related = ("user",)
    ordering = ("-id",)
    actions = ("retry_failed",)
    change_list_template = "communications/admin/change_list.html"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Staff open a row read-only (view permission); the outbox changes only through services.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_retry_permission(self, request) -> bool:
        # Rows are read-only in the form, but retrying a dead letter is a change to the outbox.
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.action(description="Retry selected failed messages", permissions=["retry"])
    def retry_failed(self, request, queryset):
        retried, refused = 0, []
        for log in queryset.filter(status=CommunicationLog.Status.FAILED).order_by("pk"):
            try:
                message_retry(log=log)
                retried += 1
            except DomainError as exc:
                refused.append(f"#{log.pk}: {exc.message}")
        self.message_user(request, f"{retried} message(s) queued again.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not retried: " + "; ".join(refused), messages.WARNING)

    def get_urls(self):
        catalog = path(
            "templates/", self.admin_site.admin_view(self.catalog_view), name="communications_message_templates"
        )
        return [catalog, *super().get_urls()]

    def catalog_view(self, request):
        templates = [{"spec": spec, "source": _template_source(spec.body_path)} for spec in CATALOG.values()]
        context = {**self.admin_site.each_context(request), "title": "Message templates", "templates": templates}
        return TemplateResponse(request, "communications/admin/templates.html", context)


@admin.register(ChannelPreference)
class ChannelPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "channel", "opted_in", "marketing_opted_in", "marketing_source", "updated_at")
    list_filter = ("channel", "opted_in", "marketing_opted_in")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("=user__email", "=user__phone")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """The suppression list: hard bounces stop every message to an address, the others marketing only.
    Deleting a row lets the address be mailed again (e.g. after the learner fixed their mailbox)."""

    list_display = ("address", "channel", "scope", "reason", "created_at")
    list_filter = ("channel", "scope", "reason")
    search_fields = ("=address",)
    readonly_fields = ("channel", "address", "scope", "reason", "detail", "created_at", "updated_at")

    def has_add_permission(self, request) -> bool:
        return False


def _template_source(path_name: str) -> str:
    source = get_template(path_name).template.source
    return source.replace("{% autoescape off %}", "").replace("{% endautoescape %}", "").strip()
