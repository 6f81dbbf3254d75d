"""Registering, reading, rotating and removing webhook subscriptions."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from kernel.clock import Clock
from kernel.egress.addresses import (
    AddressPolicy,
    InsecureSchemeError,
    InvalidUrlError,
    UrlRejectedError,
)
from kernel.egress.redaction import redact_url
from kernel.errors import ConflictError, NotFoundError
from kernel.events.catalog import (
    BATCH_COMPLETED,
    CRAWL_COMPLETED,
    DOCUMENT_COMPLETED,
    DOCUMENT_FAILED,
)
from kernel.identity import LOCAL_OWNER, Reach
from notifications.errors import (
    TARGET_NOT_ALLOWED,
    SubscriptionQuotaError,
    TargetNotAllowedError,
    UnsupportedEventTypeError,
)
from notifications.records import (
    Subscription,
    SubscriptionStatus,
    is_subscription_id,
    new_subscription_id,
)
from notifications.repository import SubscriptionRepository
from notifications.signing import new_secret

log = logging.getLogger(__name__)

DEFAULT_EVENT_TYPES = (DOCUMENT_COMPLETED, DOCUMENT_FAILED)
#: Crawl and batch notices are opt-in (``event_types``).
SUPPORTED_EVENT_TYPES = frozenset((*DEFAULT_EVENT_TYPES, CRAWL_COMPLETED, BATCH_COMPLETED))
#: How long the previous secret keeps signing after a rotation.
ROTATION_OVERLAP = timedelta(hours=24)


class SubscriptionService:
    def __init__(
        self,
        *,
        repository: SubscriptionRepository,
        policy: AddressPolicy,
        clock: Clock,
        max_subscriptions: int = 100,
    ) -> None:
        self._max_subscriptions = max_subscriptions
        self._repository = repository
        self._policy = policy
        self._clock = clock

    def register(
        self,
        url: str,
        event_types: Sequence[str] | None = None,
        description: str | None = None,
        *,
        owner: str = LOCAL_OWNER,
    ) -> Subscription:
        """Validate ``url`` against the SSRF policy and store an active
        subscription with a new secret.

        A malformed or plain-http URL is refused with its own reason; every
        refusal of where the URL leads (a private, reserved or unresolvable
        address, a port other than the allowed ones, the app itself) is one
        and the same :class:`TargetNotAllowedError`, so registration cannot be
        used to map networks or tell which names resolve.
        """
        types = tuple(dict.fromkeys(event_types)) if event_types else DEFAULT_EVENT_TYPES
        unknown = [t for t in types if t not in SUPPORTED_EVENT_TYPES]
        if unknown:
            supported = ", ".join(sorted(SUPPORTED_EVENT_TYPES))
            raise UnsupportedEventTypeError(
                f"unsupported event type {unknown[0]!r}; supported: {supported}"
            )
        existing = self._repository.page(
            after=None, limit=self._max_subscriptions, reach=Reach(owner=owner)
        )
        if len(existing) >= self._max_subscriptions:
            raise SubscriptionQuotaError(
                f"at most {self._max_subscriptions} webhook subscriptions per owner may exist"
            )
        try:
            self._policy.vet(url)
        except (InvalidUrlError, InsecureSchemeError):
            raise
        except UrlRejectedError:
            raise TargetNotAllowedError(TARGET_NOT_ALLOWED) from None
        now = self._clock()
        subscription = Subscription(
            id=new_subscription_id(now),
            url=url,
            event_types=types,
            description=description,
            status=SubscriptionStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            secret=new_secret(),
            owner=owner,
        )
        created = self._repository.create(subscription)
        log.info(
            "webhook.subscription_created",
            extra={"subscription_id": created.id, "url": redact_url(url)},
        )
        return created

    def get(self, subscription_id: str, reach: Reach | None = None) -> Subscription:
        """The subscription; NotFoundError for an unknown id and, when ``reach``
        is given, for one outside it, exactly as for an unknown one."""
        if not is_subscription_id(subscription_id):
            raise NotFoundError(f"no subscription {subscription_id!r}")
        subscription = self._repository.get(subscription_id)
        if reach is not None and not reach.admits(subscription.owner):
            raise NotFoundError(f"no subscription {subscription_id!r}")
        return subscription

    def page(
        self, *, after: str | None, limit: int, reach: Reach | None = None
    ) -> list[Subscription]:
        return self._repository.page(after=after, limit=limit, reach=reach)

    def delete(self, subscription_id: str, reach: Reach | None = None) -> None:
        """Remove the subscription; NotFoundError if there is none (or it is
        outside ``reach``). Pending deliveries to it are cancelled when their jobs run."""
        self.get(subscription_id, reach)
        self._repository.delete(subscription_id)
        log.info("webhook.subscription_deleted", extra={"subscription_id": subscription_id})

    def rotate_secret(self, subscription_id: str, reach: Reach | None = None) -> Subscription:
        """A new secret; the current one keeps signing for 24 hours beside it."""
        for _ in range(5):
            current = self.get(subscription_id, reach)
            now = self._clock()
            rotated = current.replace(
                secret=new_secret(),
                previous_secret=current.secret,
                previous_secret_expires_at=now + ROTATION_OVERLAP,
                updated_at=now,
            )
            try:
                saved = self._repository.save(rotated)
            except ConflictError:
                continue
            log.info("webhook.secret_rotated", extra={"subscription_id": subscription_id})
            return saved
        raise ConflictError("the subscription keeps changing; try again")

    def reseal(self) -> int:
        """Seal every stored signing secret under the current ``SECRETS_KEY``
        entry (after a key rotation); how many subscriptions changed."""
        changed = self._repository.reseal_all()
        log.info("webhook.secrets_resealed", extra={"subscriptions": changed})
        return changed
