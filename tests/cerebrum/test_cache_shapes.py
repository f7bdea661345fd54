"""Invalidation behaves the same in production and in the embedded default (docs/caching.md).

The same journey (tests/cerebrum/cache_shapes.py: staff save a course, a question and a note in the
admin; a signed-in learner and a visitor read the next page) runs here on PostgreSQL + Redis + cacheops,
and in a subprocess on the embedded settings module: SQLite in memory, the local-memory cache,
cacheops off. Before, the embedded default showed such an edit only after the pages' TTL (issue 16).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cerebrum.cache_shapes import admin_edits_reach_learners

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_RUN = """
import django
from django.conf import settings
django.setup()
assert settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and not settings.CACHEOPS_ENABLED
assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
from django.db import connection
from django.test.utils import setup_test_environment
setup_test_environment()
connection.settings_dict["TEST"]["MIGRATE"] = False  # tables from the models: seconds, not a minute
connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
from tests.cerebrum.cache_shapes import admin_edits_reach_learners
admin_edits_reach_learners()
print("embedded: every admin edit was on the next page")
"""


@pytest.mark.django_db(transaction=True)  # the versions move when the admin's save commits
def test_admin_edits_reach_the_next_learner_page_in_production_shape():
    admin_edits_reach_learners()


def test_admin_edits_reach_the_next_learner_page_in_the_embedded_default(tmp_path):
    # The embedded settings as they are, with a fast hasher and plain static storage (no collectstatic).
    (tmp_path / "embedded_settings.py").write_text(
        "from cerebrum.settings.base import *  # noqa: F403\n"
        "PASSWORD_HASHERS = ['django.contrib.auth.hashers.MD5PasswordHasher']\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    keep = ("PATH", "HOME", "LANG", "TMPDIR", "VIRTUAL_ENV")
    env = {key: value for key, value in os.environ.items() if key in keep}
    env.update(
        DJANGO_SETTINGS_MODULE="embedded_settings",
        PYTHONPATH=f"{tmp_path}{os.pathsep}{ROOT}",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    done = subprocess.run(
        [sys.executable, "-c", EMBEDDED_RUN], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 0, done.stderr[-3000:]
    assert "every admin edit was on the next page" in done.stdout
