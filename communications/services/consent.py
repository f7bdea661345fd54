"""Consent writes: channel and marketing choices, opt-outs (unsubscribe links, WhatsApp STOP, Meta's
stop-promotions), the suppression list (hard bounces, complaints). Every send reads them again
(`outbox.message_deliver`), so a change applies to messages already queued.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from cerebrum.errors import DomainError
from communications.models import Channel, ChannelPreference, Suppression
from communications.selectors import normalized_address
from communications.services import outbox
from communications.validators import recipient_error


@transaction.atomic
def channel_preference_set(
    *, user, channel: str, opted_in: bool | None = None, marketing_opted_in: bool | None = None, source: str = ""
) -> ChannelPreference:
    """Change a user's choice for one channel (None leaves that part as it is).

    `opted_in` accepts or refuses the channel; `marketing_opted_in` accepts or refuses marketing on it.
    Read again by every send, so a change applies to messages already queued.
    """
    if channel not in Channel.values:
        raise DomainError("Unknown channel.", fields={"channel": [f"Choose one of {', '.join(Channel.values)}."]})
    preference, _ = ChannelPreference.objects.select_for_update().get_or_create(user=user, channel=channel)
    fields = ["updated_at"]
    if opted_in is not None:
        preference.opted_in = opted_in
        fields.append("opted_in")
    if marketing_opted_in is not None and marketing_opted_in != preference.marketing_opted_in:
        preference.marketing_opted_in = marketing_opted_in
        preference.marketing_source = (source or "preferences")[:40]
        fields += ["marketing_opted_in", "marketing_source"]
    preference.full_clean(validate_constraints=False)
    preference.save(update_fields=fields)
    return preference


@transaction.atomic
def marketing_opt_out(*, channel: str, user=None, address: str = "", source: str, confirm: bool = False) -> int:
    """Record a marketing opt-out on `channel` for `user`, or for every user with `address` there.

    Safe to repeat: only a change counts, and only a change is confirmed (`confirm`, once, on the
    same channel, as a transactional message). An address that belongs to no user gets a
    MARKETING suppression instead. Returns how many users or addresses changed.
    """
    users = [user] if user is not None else list(_users_with_address(channel, address))
    changed = 0
    for person in users:
        preference, _ = ChannelPreference.objects.select_for_update().get_or_create(user=person, channel=channel)
        if not preference.marketing_opted_in:
            continue
        preference = channel_preference_set(user=person, channel=channel, marketing_opted_in=False, source=source)
        changed += 1
        if confirm:
            _confirm_opt_out(channel, f"{person.pk}:{int(preference.updated_at.timestamp())}", user=person)
    if not users and address:
        created = suppression_add(
            channel=channel, address=address, reason=_OPT_OUT_REASON.get(channel, Suppression.Reason.UNSUBSCRIBE)
        )
        changed += int(created)
        # A number we could never message (not an Indian mobile) is recorded but not answered.
        if created and confirm and not recipient_error(channel, address):
            _confirm_opt_out(channel, normalized_address(channel, address), recipient=address)
    return changed


@transaction.atomic
def marketing_opt_in(*, channel: str, address: str, source: str) -> int:
    """Undo a marketing opt-out on `channel` for the users with `address` there (a WhatsApp START)."""
    changed = 0
    for person in _users_with_address(channel, address):
        preference = ChannelPreference.objects.filter(user=person, channel=channel, marketing_opted_in=False).first()
        if preference:
            channel_preference_set(user=person, channel=channel, marketing_opted_in=True, source=source)
            changed += 1
    Suppression.objects.filter(
        channel=channel, address=normalized_address(channel, address), scope=Suppression.Scope.MARKETING
    ).delete()
    return changed


@transaction.atomic
def whatsapp_choices_record(*, choices: list[dict]) -> int:
    """Apply the STOP / START replies and Meta's stop-promotions notices of one webhook call."""
    changed = 0
    for choice in choices:
        if choice["action"] == "stop":
            changed += marketing_opt_out(
                channel=Channel.WHATSAPP, address=choice["phone"], source=choice["source"], confirm=True
            )
        else:
            changed += marketing_opt_in(channel=Channel.WHATSAPP, address=choice["phone"], source=choice["source"])
    return changed


@transaction.atomic
def email_bounces_record(*, events: list[dict]) -> int:
    """A provider's bounce/complaint notices: a hard bounce suppresses the address for everything,
    a complaint for marketing; soft bounces are left to the retries. Returns how many were new."""
    added = 0
    for event in events:
        reason = _BOUNCE_REASONS.get(event["kind"])
        if reason:
            added += suppression_add(
                channel=Channel.EMAIL, address=event["email"], reason=reason, detail=event.get("detail", "")
            )
    return added


_BOUNCE_REASONS = {"hard_bounce": Suppression.Reason.HARD_BOUNCE, "complaint": Suppression.Reason.COMPLAINT}


@transaction.atomic
def suppression_add(*, channel: str, address: str, reason: str, detail: str = "") -> bool:
    """Put an address on the suppression list; True when it was not there. Hard bounces stop every
    message to it, complaints and unsubscribes only marketing. Idempotent."""
    scope = Suppression.Scope.ALL if reason == Suppression.Reason.HARD_BOUNCE else Suppression.Scope.MARKETING
    suppression, created = Suppression.objects.select_for_update().get_or_create(
        channel=channel,
        address=normalized_address(channel, address),
        defaults={"scope": scope, "reason": reason, "detail": detail[:500]},
    )
    if not created and scope == Suppression.Scope.ALL and suppression.scope != scope:
        suppression.scope, suppression.reason, suppression.detail = scope, reason, detail[:500]
        suppression.save(update_fields=["scope", "reason", "detail", "updated_at"])
    return created


_OPT_OUT_REASON = {Channel.WHATSAPP: Suppression.Reason.WHATSAPP_STOP, Channel.EMAIL: Suppression.Reason.UNSUBSCRIBE}


def _users_with_address(channel: str, address: str):
    if not address:
        return get_user_model().objects.none()
    if channel == Channel.EMAIL:
        return get_user_model().objects.filter(email__iexact=address.strip()).order_by("pk")
    return get_user_model().objects.filter(phone=address.strip()).order_by("pk")


def _confirm_opt_out(channel: str, key: str, *, user=None, recipient: str | None = None) -> None:
    outbox.message_enqueue(
        template="marketing_optout_confirmed",
        context={"channel": Channel(channel).label},
        idempotency_key=f"marketing_optout_confirmed:{channel}:{key}",
        user=user,
        recipient=recipient,
        channels=[channel],
    )
