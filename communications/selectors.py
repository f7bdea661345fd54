"""Reads for the communications domain: consent (who may be sent what, where), suppressions, receipts."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q

from communications.models import Category, Channel, ChannelPreference, Suppression

# The channels a message goes on when the caller names none; a transactional message falls back to
# EMAIL when the learner accepts none of them.
DEFAULT_CHANNELS = (Channel.EMAIL, Channel.WHATSAPP)
# Where a transactional message goes when the learner accepts no channel: the first they have an
# address for (a learner who signed up with a phone only still gets their receipt).
TRANSACTIONAL_FALLBACK = (Channel.EMAIL, Channel.WHATSAPP)


@dataclass(frozen=True)
class Consent:
    """A user's current choices: channels refused outright, and channels refusing marketing."""

    opted_out: frozenset[str] = field(default_factory=frozenset)
    marketing_opted_out: frozenset[str] = field(default_factory=frozenset)

    def channels_for(self, *, category: str, requested: list[str], addresses: dict[str, str]) -> list[str]:
        """Of `requested`, the channels a message of `category` may use now (ones without an address dropped).

        Marketing: channels accepted and not refusing marketing. Transactional: channels accepted;
        when none is left, EMAIL, or WHATSAPP for a learner without an email address (a receipt must
        reach the learner somewhere).
        """
        usable = [channel for channel in requested if addresses.get(channel)]
        if category == Category.MARKETING:
            refused = self.opted_out | self.marketing_opted_out
            return [channel for channel in usable if channel not in refused]
        accepted = [channel for channel in usable if channel not in self.opted_out]
        if accepted:
            return accepted
        fallback = [channel for channel in TRANSACTIONAL_FALLBACK if addresses.get(channel)]
        return fallback[:1]


def consent_for_user(*, user_id: int) -> Consent:
    return consent_by_user(user_ids=[user_id]).get(user_id, Consent())


def consent_by_user(*, user_ids: list[int]) -> dict[int, Consent]:
    """Each user's Consent in one query; users without a refusal are absent (= Consent())."""
    rows = ChannelPreference.objects.filter(
        Q(opted_in=False) | Q(marketing_opted_in=False), user_id__in=user_ids
    ).values_list("user_id", "channel", "opted_in", "marketing_opted_in")
    out: dict[int, tuple[set, set]] = {}
    for user_id, channel, opted_in, marketing in rows:
        refused, no_marketing = out.setdefault(user_id, (set(), set()))
        if not opted_in:
            refused.add(channel)
        if not marketing:
            no_marketing.add(channel)
    return {uid: Consent(frozenset(refused), frozenset(no_mkt)) for uid, (refused, no_mkt) in out.items()}


def suppression_for(*, channel: str, address: str, category: str) -> Suppression | None:
    """The suppression that stops a `category` message to `address`, if any (hard bounces stop all)."""
    scopes = [Suppression.Scope.ALL]
    if category == Category.MARKETING:
        scopes.append(Suppression.Scope.MARKETING)
    return Suppression.objects.filter(
        channel=channel, address=normalized_address(channel, address), scope__in=scopes
    ).first()


def normalized_address(channel: str, address: str) -> str:
    return address.strip().lower() if channel == Channel.EMAIL else address.strip()


def channel_preferences_for_user(*, user) -> dict[str, bool]:
    """Every channel with the user's choice; a channel without a row is opted in."""
    chosen = dict(ChannelPreference.objects.filter(user=user).values_list("channel", "opted_in"))
    return {channel: chosen.get(channel, True) for channel in Channel.values}


def marketing_preferences_for_user(*, user) -> dict[str, bool]:
    """Every channel with whether marketing may use it (no row: yes)."""
    chosen = dict(ChannelPreference.objects.filter(user=user).values_list("channel", "marketing_opted_in"))
    return {channel: chosen.get(channel, True) for channel in Channel.values}


def receipts_from_webhook(payload) -> list[dict]:
    """The status updates in a WhatsApp webhook body, as keyword arguments for delivery_receipt_record."""
    receipts = []
    for value in _webhook_values(payload):
        for status in _dicts(value.get("statuses")):
            if status.get("id") and status.get("status"):
                receipts.append(
                    {
                        "provider_message_id": str(status["id"]),
                        "status": str(status["status"]),
                        "error": _receipt_error(status),
                        "error_code": _receipt_error_code(status),
                    }
                )
    return receipts


def _receipt_error_code(status: dict) -> int | None:
    errors = _dicts(status.get("errors"))
    code = errors[0].get("code") if errors else None
    return code if isinstance(code, int) else None


def _receipt_error(status: dict) -> str:
    errors = _dicts(status.get("errors"))
    if not errors:
        return ""
    return f"WhatsApp {errors[0].get('code')}: {errors[0].get('title', '')}"


# Inbound replies that opt a learner out of (or back in to) marketing; matched case-insensitively.
STOP_WORDS = {"STOP", "UNSUBSCRIBE"}
START_WORDS = {"START"}


def opt_outs_from_webhook(payload) -> list[dict]:
    """The marketing choices in a WhatsApp webhook body: {"phone": "+<wa_id>", "action": "stop"|"start",
    "source": ...} for a text reply of STOP/UNSUBSCRIBE (or START), and for Meta's user_preferences
    notice (category marketing_messages, value stop/resume)."""
    choices = []
    for value in _webhook_values(payload):
        for message in _dicts(value.get("messages")):
            text = message.get("text")
            phone = _e164(message.get("from"))
            if message.get("type") == "text" and isinstance(text, dict) and phone:
                word = str(text.get("body", "")).strip().upper()
                action = "stop" if word in STOP_WORDS else "start" if word in START_WORDS else ""
                if action:
                    choices.append({"phone": phone, "action": action, "source": f"WhatsApp {word}"})
        for preference in _dicts(value.get("user_preferences")):
            if preference.get("category") == "marketing_messages":
                action = {"stop": "stop", "resume": "start"}.get(str(preference.get("value", "")).lower())
                phone = _e164(preference.get("wa_id"))
                if action and phone:
                    choices.append({"phone": phone, "action": action, "source": "WhatsApp stop promotions"})
    return choices


def _dicts(items) -> list[dict]:
    """The objects of a webhook list; anything else in its place (or a non-list) is ignored."""
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _webhook_values(payload) -> list[dict]:
    values = []
    for entry in _dicts(payload.get("entry") if isinstance(payload, dict) else None):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, dict):
                values.append(value)
    return values


def _e164(wa_id) -> str:
    """'+<digits>' for a WhatsApp id (a phone number in international form, 8-15 digits), else ""."""
    digits = str(wa_id).lstrip("+") if isinstance(wa_id, str | int) and not isinstance(wa_id, bool) else ""
    return "+" + digits if digits.isascii() and digits.isdigit() and 8 <= len(digits) <= 15 else ""
