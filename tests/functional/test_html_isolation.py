"""HTML pages are parsed in the confined sandbox like every other document:
trafilatura and lxml are preloaded by the zygote and work under Landlock and
seccomp, and the checked decoder accepts what the worker sends back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from processing.extraction.isolation import IsolatedPipeline
from processing.extraction.limits import MIB, IsolationLimits, Limits
from tests.builders.sites import BOILERPLATE_FOOTER, PARAGRAPHS, article


@pytest.fixture
def pool() -> Iterator[IsolatedPipeline]:
    pipeline = IsolatedPipeline(IsolationLimits(memory_bytes=768 * MIB, cpu_seconds=20, workers=1))
    pipeline.warm()
    yield pipeline
    pipeline.close()


def test_an_html_page_is_extracted_inside_the_sandbox(pool: IsolatedPipeline) -> None:
    result = pool(article("Sandboxed page", links=["/next"]), "page.html", Limits())
    assert result.document.content_type == "text/html"
    assert PARAGRAPHS["en"][1] in result.text
    assert BOILERPLATE_FOOTER not in result.text
    assert result.metadata.title == "Sandboxed page"
    assert "/next" in [link.url for link in result.links]
