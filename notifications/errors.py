"""Errors of the notifications API and jobs (beside the URL policy's, in
:mod:`kernel.egress.addresses`).

AppError (kernel.errors)
├── UnsupportedEventTypeError    ``unsupported_event_type`` (HTTP 422)
├── TargetNotAllowedError        ``target_not_allowed``: every refusal of where a
│                                webhook URL leads, alike (HTTP 422)
└── DeliveryStateError           the delivery or its target forbids the request (409)
    ├── DeliveryInProgressError  ``delivery_in_progress``
    └── SubscriptionDisabledError  ``subscription_disabled``
QuotaExceededError (kernel.errors)
└── SubscriptionQuotaError       ``quota_exceeded``: the owner has WEBHOOK_MAX_SUBSCRIPTIONS
LeaseHeldError (kernel.errors)
└── AttemptInProgressError       ``attempt_in_progress``: another copy of the job
                                 holds the attempt; the queue retries after its lease
"""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError, LeaseHeldError, QuotaExceededError


class UnsupportedEventTypeError(AppError):
    """A subscription asked for an event type the app does not send (HTTP 422)."""

    code: ClassVar[str] = "unsupported_event_type"


#: The one message for every refused webhook target, at registration and delivery.
TARGET_NOT_ALLOWED = (
    "the URL does not lead to an endpoint webhooks may reach: a public https address"
    " on an allowed port, other than this app"
)


class TargetNotAllowedError(AppError):
    """The URL leads somewhere webhooks may not go (which, is not said)."""

    code: ClassVar[str] = "target_not_allowed"


class SubscriptionQuotaError(QuotaExceededError):
    """The owner may register no more subscriptions."""


class DeliveryStateError(AppError):
    """The delivery or its target is in a state that forbids the request (HTTP 409)."""

    code: ClassVar[str] = "conflict"


class DeliveryInProgressError(DeliveryStateError):
    """Only delivered or dead-lettered notices can be replayed."""

    code: ClassVar[str] = "delivery_in_progress"


class SubscriptionDisabledError(DeliveryStateError):
    """The subscription is disabled: nothing is sent to it."""

    code: ClassVar[str] = "subscription_disabled"


class AttemptInProgressError(LeaseHeldError):
    """Another copy of this job holds the attempt; try again after its lease."""

    code: ClassVar[str] = "attempt_in_progress"
