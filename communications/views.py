"""The WhatsApp Business status webhook: Meta's GET verification and signed POSTs of delivery receipts."""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.urls import reverse_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.generic import FormView

from communications.forms import ChannelPreferencesForm
from communications.selectors import channel_preferences_for_user, receipts_from_webhook
from communications.services import channel_preference_set, delivery_receipts_record


class PreferencesView(LoginRequiredMixin, FormView):
    """Learners and parents choose which channels Cerebrum may use to reach them."""

    template_name = "communications/preferences.html"
    form_class = ChannelPreferencesForm
    success_url = reverse_lazy("communications:preferences")

    def get_initial(self) -> dict:
        return channel_preferences_for_user(user=self.request.user)

    def form_valid(self, form: ChannelPreferencesForm) -> HttpResponse:
        with transaction.atomic():
            for channel, opted_in in form.cleaned_data.items():
                channel_preference_set(user=self.request.user, channel=channel, opted_in=opted_in)
        messages.success(self.request, "Your message preferences are saved.")
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
    return HttpResponse("ok")


def signature_valid(body: bytes, header: str) -> bool:
    """X-Hub-Signature-256 is "sha256=" + HMAC-SHA256 of the raw body with the app secret."""
    expected = hmac.new(settings.WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), f"sha256={expected}".encode())


def _verification_challenge(request: HttpRequest) -> HttpResponse:
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    if mode == "subscribe" and hmac.compare_digest(token.encode(), settings.WHATSAPP_VERIFY_TOKEN.encode()):
        return HttpResponse(request.GET.get("hub.challenge", ""), content_type="text/plain")
    return HttpResponseForbidden("verification failed")
