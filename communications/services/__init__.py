"""Every write to the communications domain (a package, as any module past ~400 lines).

`outbox`: writing and publishing messages, relaying lost ones, staff retries, quiet hours.
`delivery`: sending a row (the `message_send` task), retries, refusals, delivery receipts.
`consent`: the learner's channel and marketing choices, opt-outs, the suppression list.
Callers import from here.
"""

from communications.services.consent import (
    channel_preference_set,
    email_bounces_record,
    marketing_opt_in,
    marketing_opt_out,
    suppression_add,
    whatsapp_choices_record,
)
from communications.services.delivery import (
    delivery_receipt_record,
    delivery_receipts_record,
    message_deliver,
    retry_delay,
)
from communications.services.outbox import (
    IST,
    QUIET_END_HOUR,
    QUIET_START_HOUR,
    message_enqueue,
    message_enqueue_many,
    message_retry,
    outbox_relay,
    quiet_hours_release,
)

__all__ = [
    "IST",
    "QUIET_END_HOUR",
    "QUIET_START_HOUR",
    "channel_preference_set",
    "delivery_receipt_record",
    "delivery_receipts_record",
    "email_bounces_record",
    "marketing_opt_in",
    "marketing_opt_out",
    "message_deliver",
    "message_enqueue",
    "message_enqueue_many",
    "message_retry",
    "outbox_relay",
    "quiet_hours_release",
    "retry_delay",
    "suppression_add",
    "whatsapp_choices_record",
]
