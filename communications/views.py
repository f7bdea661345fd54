"""Pages and webhooks: preferences, one-click unsubscribe, the WhatsApp webhook (receipts, STOP), bounces."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import FormView

from communications.forms import BounceWebhookForm, ChannelPreferencesForm
from communications.models import Channel
from communications.selectors import (
    channel_preferences_for_user,
    marketing_preferences_for_user,
    opt_outs_from_webhook,
    receipts_from_webhook,
)
from communications.services import (
    channel_preference_set,
    delivery_receipts_record,
    email_bounces_record,
    marketing_opt_out,
    whatsapp_choices_record,
)
from communications.unsubscribe import unsubscribe_target


class PreferencesView(LoginRequiredMixin, FormView):
    """Learners and parents choose which channels Cerebrum may use to reach them."""

    template_name = "communications/preferences.html"
    form_class = ChannelPreferencesForm
    success_url = reverse_lazy("communications:preferences")

    def get_initial(self) -> dict:
        marketing = marketing_preferences_for_user(user=self.request.user)
        initial = channel_preferences_for_user(user=self.request.user)
        initial.update({f"{channel}_MARKETING": marketing[channel] for channel in marketing})
        return initial

    def form_valid(self, form: ChannelPreferencesForm) -> HttpResponse:
        with transaction.atomic():
            for channel, (opted_in, marketing) in form.choices().items():
                channel_preference_set(
                    user=self.request.user, channel=channel, opted_in=opted_in, marketing_opted_in=marketing
                )
        messages.success(self.request, _("Your message preferences are saved."))
        return super().form_valid(form)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def whatsapp_webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _verification_challenge(request)
    if not signature_valid(request.body, request.headers.get("X-Hub-Signature-256", "")):
        return HttpResponseForbidden("invalid signature")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest("body is not JSON")
    delivery_receipts_record(receipts=receipts_from_webhook(payload))
    choices = opt_outs_from_webhook(payload)
    if choices:
        whatsapp_choices_record(choices=choices)
    return HttpResponse("ok")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """The link in marketing mail, signed so it works without signing in; unsubscribing twice is fine.

    GET shows a confirmation page (mail scanners follow links; a GET changes nothing). A POST with the
    RFC 8058 body `List-Unsubscribe=One-Click` (sent by the mail provider, without cookies or a CSRF
    token) unsubscribes at once; any other POST is the confirmation form and must pass CSRF.
    """
    target = unsubscribe_target(token)
    if target is None or target.channel not in Channel.values:
        return render(request, "communications/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click":
        _unsubscribe(target)
        return HttpResponse("unsubscribed", content_type="text/plain")
    return csrf_protect(_unsubscribe_page)(request, target)


def _unsubscribe_page(request: HttpRequest, target) -> HttpResponse:
    done = request.method == "POST"
    if done:
        _unsubscribe(target)
    return render(request, "communications/unsubscribe.html", {"done": done, "channel": Channel(target.channel).label})


def _unsubscribe(target) -> None:
    user = get_user_model().objects.filter(pk=target.user_id).first() if target.user_id else None
    if target.user_id and user is None:
        return  # the account is gone, and with it every message to it
    marketing_opt_out(channel=target.channel, user=user, address=target.address, source="unsubscribe link")


@csrf_exempt
@require_POST
def email_bounce_webhook(request: HttpRequest) -> HttpResponse:
    """Bounces and complaints from the mail provider, signed like the WhatsApp webhook:
    `X-Cerebrum-Signature: sha256=<HMAC-SHA256(raw body, COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET)>`.
    Body: {"events": [{"type": "bounce"|"complaint", "bounce_type": "hard"|"soft", "email": ..., "detail": ...}]}.
    """
    secret = settings.COMMUNICATIONS_BOUNCE_WEBHOOK_SECRET
    if not secret or not _hmac_valid(secret, request.body, request.headers.get("X-Cerebrum-Signature", "")):
        return HttpResponseForbidden("invalid signature")
    try:
        payload = json.loads(request.body)
    except ValueError:
        return HttpResponseBadRequest("body is not JSON")
    form = BounceWebhookForm(payload)
    if not form.is_valid():
        return JsonResponse({"error": {"code": "invalid", "fields": form.errors}}, status=400)
    return JsonResponse({"suppressed": email_bounces_record(events=form.events())})


def signature_valid(body: bytes, header: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + HMAC-SHA256 of the raw body with the app secret."""
    return _hmac_valid(settings.WHATSAPP_APP_SECRET, body, header)


def _hmac_valid(secret: str, body: bytes, header: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), f"sha256={expected}".encode())


def _verification_challenge(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    if mode == "subscribe" and hmac.compare_digest(token.encode(), settings.WHATSAPP_VERIFY_TOKEN.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponseForbidden("verification failed")
