"""The Celery app: queues communications, analytics, payments and default.

Reliability (design.md): acks_late + reject_on_worker_lost so a killed worker's task is redelivered,
prefetch 1 so a worker holds only what it runs; tasks retry with backoff and jitter.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cerebrum.settings.base")

app = Celery("cerebrum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("communications", "analytics", "payments", "default")]
app.autodiscover_tasks()
