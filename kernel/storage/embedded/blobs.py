"""Blobs as plain files under ``{data_dir}/blobs``, their properties in SQLite."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

from kernel.errors import ConflictError, DependencyError, InvalidNameError, NotFoundError
from kernel.storage.embedded.database import DATABASE_NAME, Database, new_etag
from kernel.storage.ports import BlobInfo, BlobTooLargeError
from kernel.storage.validation import (
    check_container_name,
    check_metadata,
    split_blob_path,
)

BLOBS_DIR = "blobs"
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class EmbeddedBlobStore:
    """:class:`~kernel.storage.ports.BlobStore` on files under ``{data_dir}/blobs``."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = Path(data_dir).absolute()
        self._root = self._data_dir / BLOBS_DIR
        self._db = Database(self._data_dir / DATABASE_NAME)

    def close(self) -> None:
        self._db.close()

    def ping(self, timeout: float) -> None:
        self._db.ping()

    def put(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        overwrite: bool = True,
    ) -> BlobInfo:
        path = self._path(container, name)
        checked_metadata = check_metadata(metadata)
        content_type = content_type or DEFAULT_CONTENT_TYPE
        etag = new_etag()
        temp_dir = self._data_dir / "tmp"
        with _file_errors(name):
            temp_dir.mkdir(parents=True, exist_ok=True)
            descriptor, temp_name = tempfile.mkstemp(dir=temp_dir, prefix="blob-")
        temp = Path(temp_name)
        try:
            with _file_errors(name), os.fdopen(descriptor, "wb") as file:
                file.write(data)
            with self._db.transaction() as connection, _file_errors(name):
                _make_parent(path, name)
                if path.is_dir():
                    raise ConflictError(f"blob {name!r} would replace a folder of other blobs")
                if not overwrite and path.exists():
                    raise ConflictError(f"blob {name!r} already exists in {container!r}")
                temp.replace(path)
                stat = path.stat()
                connection.execute(
                    "INSERT OR REPLACE INTO blob_index VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        container,
                        name,
                        etag,
                        stat.st_ino,
                        stat.st_size,
                        stat.st_mtime_ns,
                        content_type,
                        json.dumps(checked_metadata),
                    ),
                )
        finally:
            with suppress(FileNotFoundError):
                temp.unlink()
        return BlobInfo(
            container=container,
            name=name,
            etag=etag,
            size=stat.st_size,
            content_type=content_type,
            last_modified=_mtime(stat),
            metadata=checked_metadata,
        )

    def get(self, container: str, name: str, *, max_bytes: int | None = None) -> bytes:
        path = self._path(container, name)
        try:
            if path.is_dir():
                raise FileNotFoundError(name)
            if max_bytes is None:
                return path.read_bytes()
            with path.open("rb") as blob:
                data = blob.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise BlobTooLargeError(f"blob {name!r} is larger than {max_bytes} bytes")
            return data
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"blob {name!r} not found in {container!r}") from None
        except OSError as exc:
            raise DependencyError(f"embedded store: cannot read blob {name!r}: {exc}") from exc

    def info(self, container: str, name: str) -> BlobInfo:
        path = self._path(container, name)
        try:
            stat = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(f"blob {name!r} not found in {container!r}") from None
        except OSError as exc:
            raise DependencyError(f"embedded store: cannot read blob {name!r}: {exc}") from exc
        if not path.is_file():
            raise NotFoundError(f"blob {name!r} not found in {container!r}")
        with self._db.reading() as connection:
            row = connection.execute(
                "SELECT * FROM blob_index WHERE container = ? AND name = ?", (container, name)
            ).fetchone()
        return _blob_info(container, name, stat, row)

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        check_container_name(container)
        start = self._root / container
        folder, _, _ = prefix.rpartition("/")
        if folder:
            try:
                start = start.joinpath(*split_blob_path(folder))
            except InvalidNameError:
                # put() refuses such names, so no blob can match.
                return iter(())
        found: dict[str, os.stat_result] = {}
        with _file_errors(prefix):
            for directory, subdirectories, files in os.walk(start):
                subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
                relative = Path(directory).relative_to(self._root / container).as_posix()
                for file_name in files:
                    name = file_name if relative == "." else f"{relative}/{file_name}"
                    if not name.startswith(prefix) or not _listable(name):
                        continue
                    with suppress(FileNotFoundError):
                        stat = Path(directory, file_name).stat()
                        if S_ISREG(stat.st_mode):
                            found[name] = stat
        with self._db.reading() as connection:
            rows = {
                row[1]: row
                for row in connection.execute(
                    "SELECT * FROM blob_index WHERE container = ? AND substr(name, 1, ?) = ?",
                    (container, len(prefix), prefix),
                )
            }
        infos = [_blob_info(container, name, found[name], rows.get(name)) for name in sorted(found)]
        return iter(infos)

    def delete(self, container: str, name: str) -> None:
        path = self._path(container, name)
        with self._db.transaction() as connection, _file_errors(name):
            if not path.is_dir():
                with suppress(FileNotFoundError, NotADirectoryError):
                    path.unlink()
            connection.execute(
                "DELETE FROM blob_index WHERE container = ? AND name = ?", (container, name)
            )
            _remove_empty_parents(path, self._root / container)

    def _path(self, container: str, name: str) -> Path:
        check_container_name(container)
        return self._root.joinpath(container, *split_blob_path(name))


def _listable(name: str) -> bool:
    try:
        split_blob_path(name)
    except InvalidNameError:
        return False
    return True


def _blob_info(
    container: str, name: str, stat: os.stat_result, row: tuple[Any, ...] | None
) -> BlobInfo:
    if row is not None and (row[3], row[4], row[5]) == (
        stat.st_ino,
        stat.st_size,
        stat.st_mtime_ns,
    ):
        etag, content_type, metadata = row[2], row[6], json.loads(row[7])
    else:
        # Dropped or changed by hand: an ETag from the file's identity stays
        # the same for as long as the file does.
        etag = f'"f{stat.st_ino:x}-{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        content_type, metadata = None, {}
    return BlobInfo(
        container=container,
        name=name,
        etag=etag,
        size=stat.st_size,
        content_type=content_type,
        last_modified=_mtime(stat),
        metadata=metadata,
    )


def _mtime(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime_ns / 1e9, tz=UTC)


def _make_parent(path: Path, name: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ConflictError(
            f"blob {name!r} needs a folder where another blob is stored as a file"
        ) from None


def _remove_empty_parents(path: Path, container_dir: Path) -> None:
    parent = path.parent
    while parent != container_dir and container_dir in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


@contextmanager
def _file_errors(name: str) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise InvalidNameError(f"blob name {name!r} is too long for this filesystem") from exc
        # Disk full, permissions, a file held open on Windows: environment
        # trouble that may pass, not a property of the request.
        raise DependencyError(f"embedded store: {exc.strerror or exc}") from exc
