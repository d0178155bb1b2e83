"""Background work of the webhooks app, through the task library (``manage.py db_worker``)."""

from __future__ import annotations

import datetime as dt
import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    """Attempt one delivery (if it is due and not taken); returns its status afterwards."""
    from salescope.webhooks.services import attempt_delivery

    delivery = attempt_delivery(delivery_id=delivery_id)
    return delivery.status if delivery is not None else None


@task()
def send_due_webhooks() -> int:
    """Attempt every delivery that is due (safety net; see ``services.send_due``)."""
    from salescope.webhooks.services import send_due

    return send_due()


def enqueue_delivery(delivery_id: int, *, run_after: dt.datetime | None = None) -> None:
    """Queue :func:`deliver_webhook`, later when ``run_after`` is given.

    A backend that cannot run tasks later (the immediate one used by tests) leaves the retry
    to ``manage.py send_due_webhooks`` (the delivery keeps its ``next_attempt_at``).
    """
    if run_after is None:
        deliver_webhook.enqueue(delivery_id)
        return
    if not deliver_webhook.get_backend().supports_defer:
        logger.info(
            "Task backend cannot defer; delivery %s waits for send_due_webhooks", delivery_id
        )
        return
    deliver_webhook.using(run_after=run_after).enqueue(delivery_id)
