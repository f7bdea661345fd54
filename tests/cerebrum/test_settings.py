"""The embedded default and the production shape resolve from the environment; bad values name themselves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cerebrum.test_production_secrets import STRONG as PRODUCTION_SECRETS

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'cache': s.CACHES['default']['BACKEND'], "
    "'eager': s.CELERY_TASK_ALWAYS_EAGER, 'cacheops': s.CACHEOPS_ENABLED, 'email': s.EMAIL_BACKEND, "
    "'pool': 'pool' in s.DATABASES['default'].get('OPTIONS', {})}))"
)
# DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser fixture for this process only, never for a deployment.
CLEAN_KEYS = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "DATABASE_REPLICA_URLS",
    "EMAIL_BACKEND",
)


def run_with_env(extra: dict[str, str], settings_module: str = "cerebrum.settings.base", code: str = PROBE):
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_KEYS}
    env.update(extra, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_embedded_default_with_nothing_set():
    result = run_with_env({})

    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.sqlite3"' in result.stdout
    assert '"cache": "django.core.cache.backends.locmem.LocMemCache"' in result.stdout
    assert '"eager": true' in result.stdout
    assert '"cacheops": false' in result.stdout
    assert '"email": "django.core.mail.backends.console.EmailBackend"' in result.stdout


def test_production_shape_from_environment():
    result = run_with_env(
        {
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/cerebrum",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/4",
        }
    )

    assert result.returncode == 0, result.stderr
    assert '"engine": "cerebrum.postgresql"' in result.stdout
    assert '"cache": "django_redis.cache.RedisCache"' in result.stdout
    assert '"eager": false' in result.stdout
    assert '"cacheops": true' in result.stdout
    assert '"pool": true' in result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "nonsense"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("DATABASE_REPLICA_URLS", "mysql-ish://x"),
        ("DB_POOL_MAX", "many"),
    ],
)
def test_malformed_variable_stops_startup_naming_it(variable, value):
    result = run_with_env({variable: value})

    assert result.returncode != 0
    assert variable in result.stderr


def test_test_settings_refuse_sqlite():
    result = run_with_env({"REDIS_URL": "redis://127.0.0.1:6379/3"}, settings_module="cerebrum.settings.test")

    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_production_settings_pass_deploy_check():
    env = {
        **PRODUCTION_SECRETS,
        "DJANGO_ALLOWED_HOSTS": "cerebrum.academy",
        "SITE_URL": "https://cerebrum.academy",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/cerebrum",
        "REDIS_URL": "redis://127.0.0.1:6379/3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in CLEAN_KEYS},
            **env,
            "DJANGO_SETTINGS_MODULE": "cerebrum.settings.production",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_suite_runs_on_postgresql_and_redis(settings):
    assert settings.DATABASES["default"]["ENGINE"] == "cerebrum.postgresql"
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"


def test_every_periodic_task_names_a_registered_task(settings):
    from cerebrum.celery import app

    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert scheduled - set(app.tasks) == set()
    assert scheduled == {
        "communications.outbox_relay",
        "communications.scheduled_test_reminders_enqueue",
        "communications.parent_digests_enqueue",
        "communications.inactivity_nudges_enqueue",
        "analytics.buffer_flush",
        "analytics.rollups_rebuild",
        "analytics.events_purge",
        "courses.attempts_expire_overdue",
        "courses.papers_prewarm",
        "courses.item_analysis_closed_mocks",
        "courses.item_analysis_nightly",
        "payments.reconcile",
        "accounts.otp_purge",
        "accounts.last_active_flush",
    }
