"""The Celery app: queues communications, analytics, payments and default.

Reliability (docs/architecture.md, "Celery"): acks_late + reject_on_worker_lost so a killed worker's task is redelivered,
prefetch 1 so a worker holds only what it runs; tasks retry with backoff and jitter.
"""

import os

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cerebrum.settings.base")

app = Celery("cerebrum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("communications", "analytics", "payments", "default")]
app.autodiscover_tasks()


# Read-your-writes for tasks (cerebrum/db_router.py): a task published by a context that wrote reads the
# primary, so it sees the rows whose commit enqueued it even while a replica has not replayed them yet.
@before_task_publish.connect(dispatch_uid="cerebrum.task_pin_carry")
def _task_pin_carry(headers=None, **kwargs) -> None:
    from cerebrum.db_router import task_pin_header

    if headers is not None:
        headers.update(task_pin_header())


@task_prerun.connect(dispatch_uid="cerebrum.task_pin_apply")
def _task_pin_apply(task=None, **kwargs) -> None:
    from cerebrum.db_router import TASK_PIN_HEADER, task_pin_from_header

    request = task.request
    until = getattr(request, TASK_PIN_HEADER, None) or (request.headers or {}).get(TASK_PIN_HEADER)
    request.cerebrum_pin_token = task_pin_from_header(until)


@task_postrun.connect(dispatch_uid="cerebrum.task_pin_release")
def _task_pin_release(task=None, **kwargs) -> None:
    from cerebrum.db_router import task_pin_reset

    task_pin_reset(getattr(task.request, "cerebrum_pin_token", None))
