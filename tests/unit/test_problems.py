"""The problem registry: the most specific registered type wins, unknown errors
are left to the caller (a 500), and each capability's mapping is its own."""

from __future__ import annotations

from typing import ClassVar

from kernel.errors import AppError, ClaimLostError, ConflictError, NotFoundError, RequestError
from kernel.http.problems import KERNEL_PROBLEMS
from notifications.errors import DeliveryInProgressError, SubscriptionDisabledError
from notifications.problems import PROBLEMS as NOTIFICATION_PROBLEMS
from processing.errors import NotFinishedError
from processing.problems import PROBLEMS as PROCESSING_PROBLEMS


def test_kernel_errors_map_to_their_statuses() -> None:
    assert KERNEL_PROBLEMS.problem_for(RequestError("bad")).status == 400  # type: ignore[union-attr]
    assert KERNEL_PROBLEMS.problem_for(NotFoundError("no")).status == 404  # type: ignore[union-attr]
    conflict = KERNEL_PROBLEMS.problem_for(ConflictError("raced"))
    assert conflict is not None and (conflict.status, conflict.code) == (409, "conflict")


def test_a_transient_error_is_a_generic_503_whatever_its_subclass() -> None:
    problem = KERNEL_PROBLEMS.problem_for(ClaimLostError("lost to pid 4242"))
    assert problem is not None
    assert (problem.status, problem.code) == (503, "service_unavailable")
    assert "4242" not in problem.detail


def test_an_unregistered_app_error_is_unprocessable_and_anything_else_unknown() -> None:
    class Odd(AppError):
        code: ClassVar[str] = "odd"

    problem = KERNEL_PROBLEMS.problem_for(Odd("why"))
    assert problem is not None and (problem.status, problem.code) == (422, "odd")
    assert KERNEL_PROBLEMS.problem_for(KeyError("x")) is None


def test_delivery_state_errors_are_conflicts_with_their_own_codes() -> None:
    for error, code in (
        (DeliveryInProgressError("pending"), "delivery_in_progress"),
        (SubscriptionDisabledError("gone"), "subscription_disabled"),
    ):
        problem = NOTIFICATION_PROBLEMS.problem_for(error)
        assert problem is not None and (problem.status, problem.code) == (409, code)


def test_capability_registries_do_not_leak_into_each_other() -> None:
    assert PROCESSING_PROBLEMS.problem_for(NotFinishedError("queued")).status == 409  # type: ignore[union-attr]
    generic = NOTIFICATION_PROBLEMS.problem_for(NotFinishedError("queued"))
    assert generic is not None and generic.status == 422
