"""How the notifications' errors become HTTP problems."""

from __future__ import annotations

from kernel.egress.addresses import UrlRejectedError
from kernel.http.problems import KERNEL_PROBLEMS
from notifications.errors import (
    DeliveryStateError,
    TargetNotAllowedError,
    UnsupportedEventTypeError,
)

PROBLEMS = KERNEL_PROBLEMS.extend(
    {
        UrlRejectedError: 422,
        TargetNotAllowedError: 422,
        UnsupportedEventTypeError: 422,
        DeliveryStateError: 409,
    }
)
