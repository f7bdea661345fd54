"""Reading settings from the environment, failing loudly with the variable's name."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_DATABASE_SCHEMES = {"postgres", "postgresql", "pgsql", "sqlite"}


def database_from_env(var: str, default: str) -> dict[str, Any]:
    return database_from_url(env.str(var, default=default), var)


def database_from_url(raw: str, var: str) -> dict[str, Any]:
    scheme = urlparse(raw).scheme
    if scheme not in _DATABASE_SCHEMES:
        raise ImproperlyConfigured(
            f"{var} is malformed: expected postgres://user@host:port/name or sqlite:///path, got {raw!r}"
        )
    try:
        config = environ.Env.db_url_config(raw)
    except Exception as exc:  # environ raises several types for bad URLs
        raise ImproperlyConfigured(f"{var} is malformed: {exc}") from exc
    if scheme != "sqlite" and not config.get("NAME"):
        raise ImproperlyConfigured(f"{var} is malformed: it names no database")
    return config


def redis_url_from_env(var: str) -> str:
    raw = env.str(var, default="")
    if raw and urlparse(raw).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"{var} is malformed: expected redis://host:port/db, got {raw!r}")
    return raw


def url_list_from_env(var: str) -> list[str]:
    return [url for url in env.list(var, default=[]) if url]


def int_from_env(var: str, default: int) -> int:
    try:
        return env.int(var, default=default)
    except (ValueError, ImproperlyConfigured) as exc:
        raise ImproperlyConfigured(f"{var} is malformed: expected an integer") from exc


# Secrets the embedded default runs on. They are public (in this file), so production refuses every one
# of them (cerebrum/settings/production.py) and `check --deploy` reports them (cerebrum/checks.py).
EMBEDDED_SECRETS: dict[str, str] = {
    "DJANGO_SECRET_KEY": "embedded-default-insecure-key-change-me-in-production",
    "WHATSAPP_APP_SECRET": "embedded-whatsapp-secret",
    "WHATSAPP_VERIFY_TOKEN": "embedded-verify-token",
    "SANDBOX_KEY_SECRET": "sandbox-key-secret",
    "SANDBOX_WEBHOOK_SECRET": "sandbox-webhook-secret",
}


def secret_from_env(var: str) -> str:
    """The variable's value, or its embedded default (only good for `make run` and tests)."""
    return env.str(var, default=EMBEDDED_SECRETS.get(var, ""))


def secret_problem(var: str, value: str) -> str | None:
    """Why `value` cannot be production's `var` (unset, or one of the public embedded values), else None."""
    if not value:
        return f"{var} must be set in production"
    if value in EMBEDDED_SECRETS.values() or value.startswith("embedded-default"):
        return f"{var} must be set in production: it equals a public embedded default"
    return None
