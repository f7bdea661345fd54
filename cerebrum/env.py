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
