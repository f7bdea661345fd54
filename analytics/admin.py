"""Admin for analytics: campaign costs (staff enter them), read-only events and rollups, dead letters."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin

from analytics.models import AnalyticsEvent, AttributionTouch, Campaign, DailyMetric, DeadLetterEvent
from analytics.services import campaign_upsert
from cerebrum.admin_tools import BigTableAdmin
from cerebrum.money import format_inr


class CampaignForm(forms.ModelForm):
    cost_rupees = forms.DecimalField(
        min_value=Decimal(0), max_digits=14, decimal_places=2, help_text="Total spend in ₹ (stored in paise)."
    )

    class Meta:
        model = Campaign
        fields = ("utm_source", "utm_campaign", "name", "starts_on", "ends_on")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["cost_rupees"].initial = Decimal(self.instance.cost_paise) / 100

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("cost_rupees") is not None:
            self.instance.cost_paise = int(cleaned["cost_rupees"] * 100)
        return cleaned


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("utm_source", "utm_campaign", "name", "cost_display", "starts_on", "ends_on", "updated_at")
    search_fields = ("utm_campaign", "utm_source", "name")

    @admin.display(description="Cost")
    def cost_display(self, obj: Campaign) -> str:
        return format_inr(obj.cost_paise, always_paise=True)

    def save_model(self, request, obj: Campaign, form, change: bool) -> None:
        saved = campaign_upsert(
            utm_source=obj.utm_source,
            utm_campaign=obj.utm_campaign,
            cost_paise=obj.cost_paise,
            name=obj.name,
            starts_on=obj.starts_on,
            ends_on=obj.ends_on,
        )
        obj.pk = saved.pk


@admin.register(AnalyticsEvent)
class AnalyticsEventAdmin(BigTableAdmin):
    """Read-only: events are written by ingestion and removed by the retention task only."""

    list_display = ("created_at", "event_type", "event_name", "user_id", "anonymous_id", "utm_source", "utm_campaign")
    list_filter = ("event_type",)
    # Only the unique event_id is indexed for lookup; any other search would scan millions of rows.
    search_fields = ("=event_id",)
    ordering = ("-created_at",)
    readonly_fields = [field.name for field in AnalyticsEvent._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AttributionTouch)
class AttributionTouchAdmin(BigTableAdmin):
    """Read-only: the attributed visits (landings with utm_*) first and last touch are read from."""

    list_display = ("created_at", "utm_source", "utm_campaign", "user_id", "anonymous_id", "path")
    # Both lookups are indexed (the learner's touches; a device's touches not yet joined).
    search_fields = ("=user__id", "=anonymous_id")
    ordering = ("-created_at",)
    readonly_fields = [field.name for field in AttributionTouch._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DailyMetric)
class DailyMetricAdmin(admin.ModelAdmin):
    """Read-only: the rollup task owns these rows."""

    list_display = ("date", "metric", "dimension", "value", "updated_at")
    list_filter = ("metric",)
    search_fields = ("dimension",)
    ordering = ("-date", "metric", "dimension")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DeadLetterEvent)
class DeadLetterEventAdmin(admin.ModelAdmin):
    """Events the buffer flusher could not write, set aside so the rest was stored; staff read and delete."""

    list_display = ("created_at", "error", "payload")
    ordering = ("-created_at",)
    readonly_fields = ("created_at", "error", "payload")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
