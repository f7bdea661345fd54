"""Payments tasks: thin, idempotent, the logic lives in payments.reconcile (a service module)."""

from celery import shared_task

from payments.reconcile import payments_reconcile_stuck


@shared_task(name="payments.reconcile", acks_late=True)
def payments_reconcile() -> int:
    """Every 5 minutes (beat): heal open orders older than 15 minutes whose webhook never came."""
    return payments_reconcile_stuck()
