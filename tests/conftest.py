"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.azurite import Azurite, AzuriteMissingError

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real-world corpus beside the checkout; tests using it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not present")
    return CORPUS


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    """One in-memory Azurite for the session (per xdist worker); tests keep to
    their own container, table and queue names. Tests that stop or restart
    storage use ``make_azurite`` instead, so they leave this one running."""
    server = Azurite(tmp_path_factory.mktemp("azurite"))
    _start_or_fail(server)
    yield server
    server.stop()


@pytest.fixture
def make_azurite(tmp_path: Path) -> Iterator[Callable[..., Azurite]]:
    """A factory of private Azurite servers, stopped after the test:
    ``make_azurite(persistent=True)`` keeps data on disk across restart()."""
    servers: list[Azurite] = []

    def make(*, persistent: bool = False) -> Azurite:
        server = Azurite(tmp_path / f"azurite-{len(servers)}", persistent=persistent)
        servers.append(server)
        _start_or_fail(server)
        return server

    yield make
    for server in servers:
        server.stop()


def _start_or_fail(server: Azurite) -> None:
    # Fail rather than skip: a missing emulator must not pass as a green run.
    try:
        server.start()
    except AzuriteMissingError as exc:
        pytest.fail(str(exc), pytrace=False)


# -- devhost (the local Functions + Event Grid host) --------------------------


@pytest.fixture
def devhost_options() -> object:
    """HostOptions with short polls and retries, timers off, a known topic key."""
    from tools.devhost.config import HostOptions

    return HostOptions(
        workers=2,
        retry_base_seconds=0.05,
        retry_max_seconds=0.2,
        blob_poll_seconds=0.05,
        queue_poll_seconds=0.05,
        queue_visibility_seconds=1,
        timers_enabled=False,
        topic_key="test-topic-key",
    )


@pytest.fixture
def start_devhost(tmp_path: Path, devhost_options: object) -> Iterator[Callable[..., object]]:
    """``start_devhost(app, **kwargs)``: a DevHost on a free port over the real
    embedded store in ``tmp_path/data`` (unless kwargs say otherwise), stopped
    after the test."""
    from tools.devhost.host import DevHost

    hosts: list[DevHost] = []

    def start(app: object, **kwargs: object) -> DevHost:
        kwargs.setdefault("data_dir", tmp_path / "data")
        kwargs.setdefault("options", devhost_options)
        kwargs.setdefault("app_root", tmp_path)
        host = DevHost(app, port=0, **kwargs)
        hosts.append(host)
        return host.start()

    yield start
    for host in reversed(hosts):
        host.stop()


@pytest.fixture
def wait_until() -> Callable[..., object]:
    """``wait_until(predicate, timeout=5.0)``: poll until it returns something
    truthy and return that; fail the test on timeout."""

    import time

    def wait(
        predicate: Callable[[], object], timeout: float = 5.0, interval: float = 0.02
    ) -> object:
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() > deadline:
                pytest.fail(f"condition not met within {timeout} s", pytrace=False)
            time.sleep(interval)

    return wait
