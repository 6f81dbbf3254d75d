"""The embedded engine under concurrent writers and readers in separate processes:
no write is lost or refused, and a reader sees each document's chunks whole,
all from one version, never half of one and half of another."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

from search.embedded import EmbeddedSearchEngine
from search.records import EngineQuery, Filters, Mode

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 61
DOCUMENTS = 6

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from search.embedded import EmbeddedSearchEngine
    from search.records import Chunk

    data_dir = Path(sys.argv[1])
    first, rounds, documents = (int(value) for value in sys.argv[2:5])
    engine = EmbeddedSearchEngine(data_dir, dimensions=4)
    for version in range(rounds):
        count = 4 if version % 2 == 0 else 2
        for n in range(first, first + documents):
            document_id = f"{n:024x}"
            engine.replace_document(document_id, [
                Chunk("alice", document_id, k, f"alpha v{version} part {k}", 0, 10,
                      vector=(1.0, float(version), float(k), 0.5))
                for k in range(count)
            ])
    print("done")
    """
)


def test_concurrent_writers_and_a_reader_in_other_processes(tmp_path: Path) -> None:
    reader = EmbeddedSearchEngine(tmp_path, dimensions=4)
    reader.ensure_ready()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), str(first), str(ROUNDS), str(DOCUMENTS)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first in (0, DOCUMENTS)
    ]
    observed = 0
    deadline = time.monotonic() + 120
    while any(w.poll() is None for w in writers) and time.monotonic() < deadline:
        for n in range(2 * DOCUMENTS):
            document_id = f"{n:024x}"
            only = Filters(document_id=document_id)
            for mode, extra in (
                (Mode.TEXT, {"terms": ("alpha",)}),
                (Mode.VECTOR, {"vector": (1.0, 0.0, 0.0, 0.5)}),
            ):
                hits = reader.search(
                    EngineQuery("alice", mode, filters=only, top=50, **extra)  # type: ignore[arg-type]
                )
                versions = {hit.chunk.content.split()[1] for hit in hits}
                assert len(hits) in (0, 2, 4), (mode, [h.chunk.content for h in hits])
                assert len(versions) <= 1, versions
                if hits:
                    version = int(versions.pop()[1:])
                    assert len(hits) == (4 if version % 2 == 0 else 2)
                    observed += 1
    outputs = [w.communicate(timeout=60) for w in writers]
    assert [w.returncode for w in writers] == [0, 0], outputs
    assert observed > 20  # the reader ran while the writers wrote
    final = reader.search(EngineQuery("alice", Mode.TEXT, terms=("alpha",), top=50))
    last = ROUNDS - 1
    assert len(final) == 2 * DOCUMENTS * (4 if last % 2 == 0 else 2)
    assert {h.chunk.content.split()[1] for h in final} == {f"v{ROUNDS - 1}"}
    reader.close()
