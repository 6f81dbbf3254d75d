"""Webhook fan-out throughput: one completion event to N subscriptions.

Measures, on the embedded store (or the Azure adapters against a connection
string, e.g. Azurite's) and a real HTTP receiver on loopback,
how fast the notifier turns one event into N delivery jobs (claim insert +
enqueue per target), and how fast queue workers then deliver them (job read,
attempt claim, DNS/SSRF check, signed POST, attempt record, state update).

``python -m tools.bench.fanout [SUBSCRIPTIONS [CONNECTION_STRING]]`` prints the table.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.bench.tables import print_table

SUBSCRIPTIONS = 200
FANOUT_WORKERS = (1, 8)
DELIVERY_WORKERS = (1, 8)


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _Sink.lock:
            _Sink.count += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def bench_fanout(
    subscriptions: int = SUBSCRIPTIONS, *, connection_string: str | None = None
) -> list[dict[str, Any]]:
    """Run every (fan-out workers, delivery workers) pair; print and return the rows.
    With ``connection_string`` (Azurite, say) the Azure adapters are measured instead."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    server.daemon_threads = True
    server.request_queue_size = 256
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    ).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    rows = []
    try:
        for fanout_workers in FANOUT_WORKERS:
            for delivery_workers in DELIVERY_WORKERS:
                rows.append(
                    _run(url, subscriptions, fanout_workers, delivery_workers, connection_string)
                )
    finally:
        server.shutdown()
        server.server_close()
    store = "Azure Storage adapters" if connection_string else "embedded store"
    print(f"Webhook fan-out: 1 event -> {subscriptions} subscriptions ({store}, loopback receiver)")
    headers = [
        "fan-out thr",
        "fan-out s",
        "jobs/s",
        "delivery thr",
        "deliver s",
        "deliveries/s",
        "p50 ms",
        "p95 ms",
    ]
    table = [
        [
            r["fanout_workers"],
            r["fanout_s"],
            r["jobs_per_s"],
            r["delivery_workers"],
            r["deliver_s"],
            r["deliveries_per_s"],
            r["p50_ms"],
            r["p95_ms"],
        ]
        for r in rows
    ]
    print_table(headers, table)
    return rows


def _run(
    url: str,
    count: int,
    fanout_workers: int,
    delivery_workers: int,
    connection_string: str | None,
) -> dict[str, Any]:
    import ipaddress

    from kernel.platform import Platform
    from kernel.settings import PlatformSettings, StorageSettings
    from notifications.runtime import build_notifications
    from notifications.settings import NotificationSettings

    run = uuid.uuid4().hex[:8]  # fresh tables and queue: a shared account keeps old runs
    with tempfile.TemporaryDirectory() as folder:
        shared = Platform(
            PlatformSettings(
                storage=StorageSettings(data_dir=Path(folder), connection_string=connection_string)
            )
        )
        settings = NotificationSettings(
            webhook_allowed_cidrs=(ipaddress.ip_network("127.0.0.0/8"),),
            webhook_retry_schedule=(0.05,),
            webhook_queue=f"bench-{run}",
            webhook_subscriptions_table=f"benchsubs{run}",
            webhook_deliveries_table=f"benchdeliveries{run}",
        )
        services = build_notifications(settings, shared, fanout_workers=fanout_workers)
        try:
            for _ in range(count):
                services.subscriptions.register(url)
            event = {
                "specversion": "1.0",
                "id": f"bench-{fanout_workers}-{delivery_workers}",
                "source": "/docflow/documents",
                "type": "document.processing.completed",
                "subject": "documents/0123456789abcdef01234567",
                "time": "2026-03-14T12:00:00+00:00",
                "data": {"document_id": "0123456789abcdef01234567", "status": "completed"},
            }
            _Sink.count = 0
            started = time.perf_counter()
            result = services.fanout.fan_out(event)
            fanout_s = time.perf_counter() - started
            if result.enqueued != count:
                raise RuntimeError(f"enqueued {result.enqueued} of {count}")
            latencies = _deliver_all(services, delivery_workers)
            deliver_s = latencies.pop()
            if _Sink.count != count:
                raise RuntimeError(f"delivered {_Sink.count} of {count}")
        finally:
            shared.stores.close()
    ordered = sorted(latencies)
    return {
        "fanout_workers": fanout_workers,
        "fanout_s": fanout_s,
        "jobs_per_s": count / fanout_s,
        "delivery_workers": delivery_workers,
        "deliver_s": deliver_s,
        "deliveries_per_s": count / deliver_s,
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
    }


def _deliver_all(services: Any, workers: int) -> list[float]:
    """Drain the queue with ``workers`` threads, as the queue trigger would.
    Returns each job's duration, then the total elapsed time last."""
    queues = services.platform.stores.queues
    queue = services.settings.webhook_queue
    durations: list[float] = []
    lock = threading.Lock()

    def work() -> None:
        while True:
            messages = queues.receive(queue, max_messages=1, visibility_timeout=60)
            if not messages:
                return
            for message in messages:
                began = time.perf_counter()
                services.worker.handle(message.content)
                queues.delete(queue, message)
                with lock:
                    durations.append(time.perf_counter() - began)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [*durations, time.perf_counter() - started]


if __name__ == "__main__":
    bench_fanout(
        int(sys.argv[1]) if len(sys.argv) > 1 else SUBSCRIPTIONS,
        connection_string=sys.argv[2] if len(sys.argv) > 2 else None,
    )
