"""A real local SMTP server (aiosmtpd) in the test process, counting what it receives by Message-ID."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections import Counter
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller


class SmtpSink:
    """Accepts every message (optionally slowly, or refusing recipients with a given SMTP reply)."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.rcpt_reply: str | None = None
        self.messages: list[dict] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = message_from_bytes(envelope.content)
        with self._lock:
            self.messages.append(
                {
                    "message_id": parsed["Message-ID"],
                    "to": envelope.rcpt_tos,
                    "subject": parsed["Subject"],
                    "parsed": parsed,
                }
            )
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter:
        with self._lock:
            return Counter(message["message_id"] for message in self.messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """Point this process's Django email at the sink (the worker gets the same through its env)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink.port
    return {
        "EMAIL_BACKEND": settings.EMAIL_BACKEND,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_sink.port),
    }
