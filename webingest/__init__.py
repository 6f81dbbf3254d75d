"""Web ingestion: scrape a URL, crawl a site politely, many files or URLs in one batch.

Pages become documents through the document workflow's upload path; every
fetch goes through the kernel's SSRF policy (:mod:`kernel.egress`).
"""
