"""What the three Azure stores share: connection strings and service URIs,
retry options, creating containers, tables and queues on first use (unless
infra provisioned them), and turning SDK exceptions into the ports' errors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from kernel.credentials import CredentialFactory
from kernel.errors import (
    AppError,
    ConflictError,
    DependencyError,
    InvalidValueError,
    NotFoundError,
    SettingsError,
)

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.exceptions import AzureError


T = TypeVar("T")

#: Azurite's (and the old storage emulator's) published account key.
DEVELOPMENT_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEVELOPMENT_ACCOUNT = "devstoreaccount1"
_DEVELOPMENT_PORTS = {"Blob": 10000, "Queue": 10001, "Table": 10002}


@dataclass(frozen=True, slots=True)
class ClientOptions:
    """Retries and timeouts for the SDK clients.

    The storage SDKs' own default backs off 15 s, 18 s, 24 s: longer than a
    function invocation should stall on one call. These defaults retry
    three times within about 15 s; tests set ``retry_total=0``.
    """

    retry_total: int = 3
    retry_backoff_seconds: float = 1.0
    connection_timeout: float = 10.0
    read_timeout: float = 30.0


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """The ``key=value`` pairs of a storage connection string, keys lowercased."""
    pairs: dict[str, str] = {}
    for part in connection_string.strip().strip(";").split(";"):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise SettingsError("the storage connection string is malformed")
        pairs[key.strip().lower()] = value.strip()
    return pairs


def expand_connection_string(connection_string: str) -> str:
    """``connection_string`` with ``UseDevelopmentStorage=true`` spelled out.

    The SDKs disagree on the shorthand: azure-data-tables accepts only the
    exact text ``UseDevelopmentStorage=true``, the storage SDKs only the
    value ``true`` in lower case, and neither honours
    ``DevelopmentStorageProxyUri``. Expanded, all three see the same
    Azurite endpoints.
    """
    pairs = parse_connection_string(connection_string)
    if pairs.get("usedevelopmentstorage", "").lower() != "true":
        return connection_string
    host = pairs.get("developmentstorageproxyuri", "http://127.0.0.1").rstrip("/")
    endpoints = ";".join(
        f"{service}Endpoint={host}:{port}/{DEVELOPMENT_ACCOUNT}"
        for service, port in _DEVELOPMENT_PORTS.items()
    )
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEVELOPMENT_ACCOUNT};"
        f"AccountKey={DEVELOPMENT_ACCOUNT_KEY};{endpoints}"
    )


class Connection:
    """Where one store's service is and how to authenticate to it."""

    def __init__(
        self,
        service: str,
        connection_string: str | None,
        account_url: str | None,
        credential: CredentialFactory | None,
    ) -> None:
        if (connection_string is None) == (account_url is None):
            raise SettingsError(f"{service} storage needs a connection string or a service URI")
        if account_url is not None and credential is None:
            raise SettingsError(f"{service} storage at {account_url} needs a credential")
        self.connection_string = (
            None if connection_string is None else expand_connection_string(connection_string)
        )
        self.account_url = account_url
        self._credential = credential

    def credential(self) -> TokenCredential:
        assert self._credential is not None
        return self._credential()

    def service_client(self, client_class: Any, what: str, **kwargs: Any) -> Any:
        """``client_class`` (a Blob, Queue or Table service client) for this connection."""
        with translated(f"connect to {what}"):
            if self.connection_string is not None:
                return client_class.from_connection_string(self.connection_string, **kwargs)
            assert self.account_url is not None
            return client_class(self.account_url, credential=self.credential(), **kwargs)


def storage_retry(options: ClientOptions, policy: Callable[..., Any]) -> dict[str, Any]:
    return {
        "retry_policy": policy(
            initial_backoff=options.retry_backoff_seconds,
            increment_base=3,
            retry_total=options.retry_total,
            random_jitter_range=1,
        ),
        "connection_timeout": options.connection_timeout,
        "read_timeout": options.read_timeout,
    }


class CreatedNames:
    """Names of containers, tables or queues this process has made sure exist.

    With ``create`` off (``STORAGE_PROVISIONED``: infra created every name the
    app uses) nothing is ever created: the identity then needs no right to
    create or delete containers, tables or queues, and a missing one is a
    deployment fault, reported as a :class:`~kernel.errors.DependencyError`
    rather than as a missing row or blob.
    """

    def __init__(
        self, create: Callable[[str], None], missing_code: str, *, enabled: bool = True
    ) -> None:
        self._create = create
        self._missing_code = missing_code
        self._enabled = enabled
        self._names: set[str] = set()
        self._lock = threading.Lock()

    def call(self, name: str, operation: Callable[[], T]) -> T:
        """Run ``operation`` after creating ``name`` if needed, and once more if
        the service says ``name`` has gone."""
        from azure.core.exceptions import ResourceNotFoundError

        self._ensure(name)
        try:
            return operation()
        except ResourceNotFoundError as exc:
            if error_code(exc) != self._missing_code:
                raise
            if not self._enabled:
                raise DependencyError(
                    f"{name!r} does not exist ({self._missing_code}); storage is "
                    "provisioned by the infrastructure, which should have created it"
                ) from exc
        with self._lock:
            self._names.discard(name)
        self._ensure(name)
        return operation()

    def _ensure(self, name: str) -> None:
        from azure.core.exceptions import ResourceExistsError

        if not self._enabled or name in self._names:
            return
        with suppress(ResourceExistsError):
            self._create(name)
        with self._lock:
            self._names.add(name)


def error_code(exc: Exception) -> str | None:
    code = getattr(exc, "error_code", None)
    if code is None:
        # Some azure-data-tables calls (create_entity) re-raise the raw
        # azure-core error, which has no error_code; the header still does.
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None) or {}
        code = headers.get("x-ms-error-code")
    return None if code is None else str(getattr(code, "value", code))


@contextmanager
def translated(action: str) -> Iterator[None]:
    """Turn SDK exceptions into the ports' errors."""
    from azure.core.exceptions import AzureError

    try:
        yield
    except AppError:
        raise
    except AzureError as exc:
        raise translate_error(exc, action) from exc
    except (TypeError, ValueError) as exc:
        # The SDKs check some arguments themselves; the validation module
        # should have caught them first.
        raise InvalidValueError(f"{action}: {exc}") from exc


def translate_error(exc: AzureError, action: str) -> AppError:
    """The port error for an Azure SDK exception."""
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ResourceExistsError,
        ResourceModifiedError,
        ResourceNotFoundError,
    )

    code = error_code(exc)
    status = getattr(exc, "status_code", None)
    message = f"{action}: {type(exc).__name__}"
    if status is not None or code is not None:
        message += f" ({status} {code})"
    # Connection refused or reset, timeouts, 408, 429, 5xx, credential failures.
    kind: type[AppError] = DependencyError
    if code is not None and code.endswith("BeingDeleted"):
        # A container, table or queue recreated within seconds of its
        # deletion: the service asks to try again later.
        kind = DependencyError
    elif isinstance(exc, ResourceNotFoundError):
        kind = NotFoundError
    elif isinstance(exc, ResourceExistsError | ResourceModifiedError):
        kind = ConflictError
    elif isinstance(exc, ClientAuthenticationError):
        # Missing role assignments take minutes to propagate after a deploy.
        kind = DependencyError
    elif isinstance(exc, HttpResponseError) and status == 404:
        kind = NotFoundError
    elif isinstance(exc, HttpResponseError) and status in (409, 412):
        kind = ConflictError
    elif isinstance(exc, HttpResponseError) and status in (400, 405, 411, 413, 414, 416):
        kind = InvalidValueError
    return kind(message)


def ping_service(list_first_page: Callable[..., Any], what: str, timeout: float) -> None:
    """Fetch the first page of a one-item service listing (containers, tables
    or queues) with no retries and ``timeout`` for connecting and reading:
    the cheapest request that proves the service answers and accepts the
    credential (readiness)."""
    with translated(f"reach {what}"):
        pages = list_first_page(
            results_per_page=1,
            retry_total=0,
            connection_timeout=timeout,
            read_timeout=timeout,
        ).by_page()
        for _ in pages:
            break
