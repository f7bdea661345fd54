"""The client's address, from one trusted-proxy setting used by lockouts, throttles and logs alike.

`TRUSTED_PROXY_COUNT` says how many proxies of our own stand in front of gunicorn (0: clients connect
directly; 1: the shipped nginx, deploy/nginx.conf.template; 2: a load balancer in front of nginx).
Each of our proxies appends the address it saw to X-Forwarded-For, so the client is the entry that
many places from the right; anything further left was written by the client and is never trusted.
django-axes (AXES_CLIENT_IP_CALLABLE), DRF throttles (`cerebrum.api_tools`, and NUM_PROXIES for the
throttles DRF itself builds) and the auth log all read it through `client_ip`.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest, *args) -> str | None:
    """The address of the client that sent `request`, as our nearest trusted proxy saw it.

    Extra positional arguments are ignored (django-axes passes the request alone; DRF throttles
    call it as a method). Falls back to REMOTE_ADDR when no proxy is configured, when the header is
    missing, or when the trusted entry is not an IP address (a misconfigured proxy).
    """
    meta = getattr(request, "META", {})
    remote_addr = meta.get("REMOTE_ADDR")
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_addr
    hops = [hop.strip() for hop in forwarded.split(",")]
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr
