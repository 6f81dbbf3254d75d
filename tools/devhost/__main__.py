"""``python -m tools.devhost [--host H] [--port P] [--app module:attr]``: run the app
locally like ``func start``, with Event Grid played by the same process."""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import ipaddress
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from kernel.auth.settings import AUTH_AUDIENCE, AUTH_ISSUER, AUTH_MODE
from kernel.sealing import SECRETS_KEY, new_key_entry
from tools.devhost.config import ConfigError, HostOptions, load_local_settings
from tools.devhost.functions import FunctionAppLike
from tools.devhost.issuer import DEV_AUDIENCE, TOKEN_PATH, DevIssuer
from tools.devhost.lock import DataDirBusyError
from tools.devhost.logformat import FieldsFormatter
from tools.devhost.topic import TOPIC_PATH

log = logging.getLogger("tools.devhost")

DEFAULT_PORT = 7071


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.devhost", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port", type=int, default=None, help="port (default: local.settings.json Host, or 7071)"
    )
    parser.add_argument(
        "--app", default="function_app:app", help="the FunctionApp, as module:attribute"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow listening on a non-loopback address (the API is then open to the network)",
    )
    return parser.parse_args(argv)


def bind_is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


def bind_allowed(host: str, *, allow_remote: bool) -> bool:
    """Loopback always; any other address only with ``--allow-remote`` (warned)."""
    if bind_is_loopback(host):
        return True
    if not allow_remote:
        log.error(
            "refusing to listen on %s: the local host has no authentication; use a loopback"
            " address, or --allow-remote if you mean to open it to your network",
            host,
        )
        return False
    log.warning("listening on %s: anyone who can reach it can use the API", host)
    return True


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = logging.StreamHandler()
    console.setFormatter(FieldsFormatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), handlers=[console])
    # The SDKs log every request at INFO; the host logs its own, query strings left out.
    logging.getLogger("azure").setLevel(max(logging.WARNING, logging.getLogger().level))
    if not bind_allowed(args.host, allow_remote=args.allow_remote):
        return 2
    root = Path.cwd()
    sys.path.insert(0, str(root))
    try:
        host = build_host(args, root)
    except (ConfigError, ValueError) as exc:  # settings, host.json, subscriptions, routes
        log.error("%s", exc)
        return 2
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if stop_requested.is_set():
            os._exit(128 + signum)  # a second signal: do not wait for invocations
        log.info("shutting down (signal %d)", signum)
        stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        host.start()
    except (DataDirBusyError, OSError, ValueError) as exc:  # folder or port taken, bad config
        log.error("cannot start: %s", exc)
        return 1
    print_banner(host)
    while not stop_requested.wait(0.5):
        pass
    host.stop()
    return 0


def build_host(args: argparse.Namespace, root: Path) -> Any:
    """The DevHost for ``args``, with the app's environment prepared first
    (topic, secrets key, development issuer); ConfigError or ValueError for
    settings it cannot run with."""
    host_section = load_local_settings(root / "local.settings.json", os.environ)
    options = HostOptions.from_env()
    port = args.port if args.port is not None else int(host_section.get("LocalHttpPort", 0) or 0)
    port = port or (DEFAULT_PORT if args.port is None else _free_port(args.host))
    # A wildcard address is reachable by the app through loopback.
    local = "127.0.0.1" if args.host in {"0.0.0.0", "::", ""} else args.host  # noqa: S104
    base_url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    export_settings(options, base_url)
    options = dataclasses.replace(options, topic_key=os.environ["EVENTGRID_TOPIC_KEY"])
    data_dir = Path(os.environ.get("DATA_DIR") or ".data")
    export_secrets_key(data_dir)
    issuer = development_issuer(base_url, loopback=bind_is_loopback(args.host))

    # Imported only now: the app may read settings while it is imported.
    from notifications.settings import NotificationSettings
    from tools.devhost.host import DevHost

    app = load_app(args.app)
    warning = NotificationSettings.from_env().allow_list_warning()
    if warning:
        log.warning("%s", warning)
    return DevHost(
        app,
        data_dir=data_dir,
        host=args.host,
        port=port,
        options=options,
        app_root=root,
        issuer=issuer,
    )


def export_settings(options: HostOptions, base_url: str) -> None:
    """Point the app at this host's topic, with the configured or a fresh key."""
    endpoint = base_url + TOPIC_PATH
    previous = os.environ.get("EVENTGRID_TOPIC_ENDPOINT")
    if previous and previous != endpoint:
        log.warning("EVENTGRID_TOPIC_ENDPOINT replaced by the dev host's topic %s", endpoint)
    os.environ["EVENTGRID_TOPIC_ENDPOINT"] = endpoint
    os.environ["EVENTGRID_TOPIC_KEY"] = options.topic_key or secrets.token_urlsafe(32)
    os.environ.setdefault("PUBLIC_BASE_URL", base_url)


def export_secrets_key(data_dir: Path) -> None:
    """Give the app a ``SECRETS_KEY`` when none is set: one generated on the first
    run and kept (mode 0600) in the data folder, so the webhook secrets sealed
    under it stay readable on every later run."""
    if os.environ.get(SECRETS_KEY, "").strip():
        return
    path = data_dir / "secrets.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(new_key_entry("local1") + "\n")
        log.info("generated %s in %s", SECRETS_KEY, path)
    os.environ[SECRETS_KEY] = path.read_text().strip()


def development_issuer(base_url: str, *, loopback: bool) -> DevIssuer | None:
    """The development token issuer, when ``AUTH_MODE=jwt`` names no ``AUTH_ISSUER``:
    the app is pointed at it (issuer and audience), on this host's own origin."""
    if os.environ.get(AUTH_MODE, "").strip().lower() != "jwt":
        return None
    if os.environ.get(AUTH_ISSUER, "").strip():
        return None  # a real issuer (Entra ID, or a test's)
    if not loopback:
        raise ConfigError(
            f"{AUTH_MODE}=jwt without {AUTH_ISSUER}: the development issuer mints tokens"
            " for anyone who reaches it, so it runs on a loopback address only"
        )
    issuer = DevIssuer(base_url, audience=os.environ.get(AUTH_AUDIENCE, "").strip() or DEV_AUDIENCE)
    os.environ[AUTH_ISSUER] = issuer.issuer
    os.environ[AUTH_AUDIENCE] = issuer.audience
    log.info("development token issuer at %s (POST %s%s)", issuer.issuer, base_url, TOKEN_PATH)
    return issuer


def load_app(spec: str) -> FunctionAppLike:
    module_name, _, attribute = spec.partition(":")
    module = importlib.import_module(module_name)
    app: Any = getattr(module, attribute or "app")
    if not hasattr(app, "get_functions"):
        raise SystemExit(f"{spec} is not a FunctionApp")
    result: FunctionAppLike = app
    return result


def print_banner(host: Any) -> None:
    lines = ["", "Functions:", ""]
    lines += [f"        {line}" for line in host.route_lines()]
    for function in host.functions:
        if function.trigger_type != "httpTrigger":
            lines.append(f"        {function.name}: {function.trigger_type}")
    lines += [
        "",
        f"Event Grid topic: {host.topic_endpoint}",
        f"Event log:        {host.base_url}/devhost/events",
        f"Deliveries:       {host.base_url}/devhost/deliveries",
        f"Data:             {host.data_dir}",
        "",
    ]
    print("\n".join(lines), flush=True)


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
