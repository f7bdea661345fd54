"""Reads for the communications domain."""

from __future__ import annotations

from communications.models import Channel, ChannelPreference


def opted_out_channels(*, user) -> set[str]:
    return set(ChannelPreference.objects.filter(user=user, opted_in=False).values_list("channel", flat=True))


def opted_out_channels_by_user(*, user_ids: list[int]) -> dict[int, set[str]]:
    opted_out: dict[int, set[str]] = {}
    rows = ChannelPreference.objects.filter(user_id__in=user_ids, opted_in=False).values_list("user_id", "channel")
    for user_id, channel in rows:
        opted_out.setdefault(user_id, set()).add(channel)
    return opted_out


def channel_preferences_for_user(*, user) -> dict[str, bool]:
    """Every channel with the user's choice; a channel without a row is opted in."""
    chosen = dict(ChannelPreference.objects.filter(user=user).values_list("channel", "opted_in"))
    return {channel: chosen.get(channel, True) for channel in Channel.values}


def receipts_from_webhook(payload) -> list[dict]:
    """The status updates in a WhatsApp webhook body, as keyword arguments for delivery_receipt_record."""
    receipts = []
    entries = payload.get("entry", []) if isinstance(payload, dict) else []
    for entry in entries:
        for change in entry.get("changes", []) if isinstance(entry, dict) else []:
            value = change.get("value", {}) if isinstance(change, dict) else {}
            for status in value.get("statuses", []) if isinstance(value, dict) else []:
                if isinstance(status, dict) and status.get("id") and status.get("status"):
                    receipts.append(
                        {
                            "provider_message_id": str(status["id"]),
                            "status": str(status["status"]),
                            "error": _receipt_error(status),
                        }
                    )
    return receipts


def _receipt_error(status: dict) -> str:
    errors = status.get("errors") or []
    if not errors or not isinstance(errors[0], dict):
        return ""
    return f"WhatsApp {errors[0].get('code')}: {errors[0].get('title', '')}"
