"""Why a request's caller is refused (both are permanent: the caller must change)."""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError


class UnauthenticatedError(AppError):
    """``unauthenticated`` (401): no bearer token, or one the app cannot trust."""

    code: ClassVar[str] = "unauthenticated"


class ForbiddenError(AppError):
    """``forbidden`` (403): a valid token without the app role the route needs."""

    code: ClassVar[str] = "forbidden"
