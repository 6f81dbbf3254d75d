"""Crawl throughput and main-content extraction throughput.

A generated site of ``PAGES`` article pages (each linking to ten others, so
most links are duplicates) is served on loopback; one crawl with the host
interval at 0 fetches all of it through the frontier queue on the embedded
store, with ``workers`` threads draining the queue. Extraction is measured on
the same pages, through the whole HTML extractor (lxml links + trafilatura).

``python -m tools.bench.crawl [PAGES]`` prints the tables.
"""

from __future__ import annotations

import ipaddress
import random
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from kernel.identity import Reach
from tools.bench.tables import print_table

PAGES = 500
WORKERS = (1, 4)
_WORDS = ("engine", "loom", "card", "store", "mill", "number", "operation", "pattern")


def page(index: int, pages: int) -> bytes:
    rng = random.Random(index)
    links = "".join(f'<li><a href="/p{rng.randrange(pages)}">p</a></li>' for _ in range(10))
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(_WORDS) for _ in range(80)) + ".</p>" for _ in range(6)
    )
    return (
        f"<!DOCTYPE html><html lang=en><head><title>Page {index}</title></head><body>"
        f'<nav><a href="/">Home</a> <a href="/p{(index + 1) % pages}">Next</a></nav>'
        f"<article><h1>Page {index}</h1>{paragraphs}</article><aside><ul>{links}</ul></aside>"
        "<footer>Copyright Example Ltd.</footer></body></html>"
    ).encode()


def _serve(pages: int) -> tuple[ThreadingHTTPServer, str]:
    bodies = {f"/p{i}": page(i, pages) for i in range(pages)}
    bodies["/"] = page(0, pages).replace(
        b"<ul>",
        b"<ul>" + b"".join(f'<li><a href="/p{i}">p</a></li>'.encode() for i in range(0, pages, 25)),
    )

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            body = body if body is not None else b"missing"
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def crawl_once(pages: int, workers: int) -> dict[str, Any]:
    from kernel.events.embedded import EmbeddedEventPublisher
    from kernel.platform import Platform
    from kernel.settings import PlatformSettings, StorageSettings
    from processing.runtime import build_services
    from processing.settings import ProcessingSettings
    from webingest.crawl import CrawlRequest
    from webingest.jobs import FrontierJob
    from webingest.runtime import build_webingest
    from webingest.settings import WebIngestSettings

    server, origin = _serve(pages)
    with tempfile.TemporaryDirectory() as data:
        shared = Platform(
            PlatformSettings(storage=StorageSettings(data_dir=Path(data))),
            publisher=EmbeddedEventPublisher(),
        )
        docs = build_services(ProcessingSettings(), shared)
        settings = WebIngestSettings(
            allowed_cidrs=(ipaddress.ip_network("127.0.0.1/32"),),
            host_interval_ms=0,
            scrape_robots=False,
        )
        web = build_webingest(
            settings, shared, uploads=docs.uploads, documents=docs.documents, max_bytes=10**8
        )
        request = CrawlRequest.from_json(
            {"url": origin + "/", "max_pages": pages + 1, "max_depth": 10},
            max_pages=pages + 1,
            max_depth=10,
        )
        started = time.perf_counter()
        crawl_id = web.crawls.start(request, owner="bench")["id"]
        queues = shared.stores.queues
        stop = threading.Event()

        def drain() -> None:
            while not stop.is_set():
                messages = queues.receive(settings.queue, max_messages=4, visibility_timeout=30)
                if not messages:
                    time.sleep(0.01)
                for message in messages:
                    web.crawler.handle(FrontierJob.from_message(message.content))
                    queues.delete(settings.queue, message)

        threads = [threading.Thread(target=drain, daemon=True) for _ in range(workers)]
        for thread in threads:
            thread.start()
        while web.crawls.get(crawl_id, reach=Reach(owner="bench"))["status"] == "running":
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        stop.set()
        for thread in threads:
            thread.join()
        counts = web.crawls.get(crawl_id, reach=Reach(owner="bench"))["counts"]
    server.shutdown()
    return {
        "workers": workers,
        "pages fetched": counts["fetched"],
        "duplicates skipped": counts["skipped_by_reason"].get("duplicate", 0),
        "seconds": round(elapsed, 2),
        "pages/s": round(counts["fetched"] / elapsed, 1),
    }


def bench_crawl(pages: int = PAGES) -> list[dict[str, Any]]:
    rows = [crawl_once(pages, workers) for workers in WORKERS]
    print(f"Crawl of a {pages}-page loopback site, host interval 0 (embedded store)")
    print_table(list(rows[0]), [list(row.values()) for row in rows])
    return rows


def bench_html_extraction(pages: int = 200) -> dict[str, Any]:
    from processing.extraction.extractors.html import extract_html
    from processing.extraction.limits import Deadline, Limits

    bodies = [page(i, pages) for i in range(pages)]
    extract_html(bodies[0], Limits(), Deadline.never())  # imports and warm-up
    started = time.perf_counter()
    for body in bodies:
        extract_html(body, Limits(), Deadline.never())
    elapsed = time.perf_counter() - started
    size = sum(len(b) for b in bodies) / 1024 / 1024
    row = {
        "pages": pages,
        "avg KB": round(size * 1024 / pages, 1),
        "pages/s": round(pages / elapsed, 1),
        "MB/s": round(size / elapsed, 2),
    }
    print("Main-content extraction (trafilatura + links), one core")
    print_table(list(row), [list(row.values())])
    return row


if __name__ == "__main__":
    bench_crawl(int(sys.argv[1]) if len(sys.argv) > 1 else PAGES)
    print()
    bench_html_extraction()
