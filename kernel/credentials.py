"""The app's one Microsoft Entra credential, built on first use and shared.

Storage, Event Grid and (later) every other Azure client sign in as the
same identity through one credential object, so tokens are cached once per
process and ``azure.identity`` is imported only when a client first needs it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

#: Builds (once) and returns the shared credential: clients call it when they
#: first connect, so importing azure.identity and probing for managed identity
#: wait until an Azure service is actually used.
CredentialFactory = Callable[[], "TokenCredential"]


def managed_identity(client_id: str | None) -> CredentialFactory:
    """A factory for one shared credential: the user-assigned identity
    ``client_id`` if given, else DefaultAzureCredential (managed identity in
    Azure, developer sign-ins locally)."""
    lock = threading.Lock()
    made: list[TokenCredential] = []

    def credential() -> TokenCredential:
        with lock:
            if not made:
                if client_id:
                    from azure.identity import ManagedIdentityCredential

                    made.append(ManagedIdentityCredential(client_id=client_id))
                else:
                    from azure.identity import DefaultAzureCredential

                    made.append(DefaultAzureCredential())
            return made[0]

    return credential
