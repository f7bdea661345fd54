"""Publishing a Celery task after a write has committed, without turning a broker outage into a 500.

A request that committed its write must be answered as such (issue 20's broker drill): when the broker
cannot be reached, the publish raises kombu's OperationalError after the transaction is gone. Each caller
says what happens then:
- ``if_unreachable="run_here"``: the task runs in this process now (``Task.apply``), slower but nothing
  lost — for work with no relay behind it (a password-reset mail, joining a device's events);
- ``if_unreachable="leave"``: nothing here, because a periodic relay publishes it again (the outbox).
"""

from __future__ import annotations

import logging
from typing import Literal

from kombu.exceptions import OperationalError as KombuOperationalError

logger = logging.getLogger(__name__)


def task_publish(
    task,
    *args,
    if_unreachable: Literal["run_here", "leave"],
    countdown: float | None = None,
    **kwargs,
) -> bool:
    """Publish ``task(*args, **kwargs)`` (``countdown`` in seconds); True when the broker took it.

    With the broker unreachable: run it here (its countdown is not waited for) or leave it, as the
    caller chose; either way False, and a warning is logged. Exceptions of a task run here are kept in
    its result, not raised, like a worker's.
    """
    try:
        task.apply_async(args, kwargs, countdown=countdown)
        return True
    except KombuOperationalError:
        logger.warning("broker unreachable: %s %s", task.name, "run here" if if_unreachable == "run_here" else "left")
    if if_unreachable == "run_here":
        task.apply(args, kwargs)
    return False
