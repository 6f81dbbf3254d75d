"""ZIP safety for untrusted OOXML packages: limits checked before any part is parsed.

A ZIP says how big its parts will be before anything is inflated, so every
limit is checked from the central directory first: the entry count (scanned
from the raw directory records, before :mod:`zipfile` builds an object per
entry), the declared sizes and the compression ratios. Declared sizes can lie,
so parts are then read in bounded chunks that never exceed the smaller of the
declared size and the part limit.
"""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator

from processing.extraction.errors import (
    CorruptDocumentError,
    EncryptedDocumentError,
    LimitsExceededError,
)
from processing.extraction.limits import Limits

_EOCD = struct.Struct("<4s4H2LH")
_EOCD_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_LOCATOR_SIGNATURE = b"PK\x06\x07"
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_ZIP64_EOCD_SIGNATURE = b"PK\x06\x06"
_CENTRAL_HEADER = struct.Struct("<4s6H3L5H2L")
_CENTRAL_SIGNATURE = b"PK\x01\x02"
# The end record sits in the last 22 bytes plus an archive comment of at most 64 KiB.
_EOCD_WINDOW = _EOCD.size + 0xFFFF
_ENCRYPTED_FLAG = 0x1
#: Size of the chunks a part is inflated in.
CHUNK_BYTES = 64 * 1024
# What zipfile and its decompressors raise on a damaged member.
_READ_ERRORS: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    NotImplementedError,
)


def open_archive(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """Open ``data`` as a ZIP after checking its central directory against ``limits``.

    Raises :class:`LimitsExceededError` for too many entries, too many declared
    bytes or a compression ratio only a bomb has, and :class:`CorruptDocumentError`
    when the bytes are not a readable ZIP.
    """
    _check_entry_count(data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError) as exc:
        # NotImplementedError: an entry needs a newer "version to extract" than zipfile reads.
        raise CorruptDocumentError("the document is not a readable ZIP archive") from exc
    try:
        check_declared_sizes(archive.infolist(), len(data), limits)
    except LimitsExceededError:
        archive.close()
        raise
    return archive


def check_declared_sizes(infos: list[zipfile.ZipInfo], archive_bytes: int, limits: Limits) -> None:
    """Check entry count, declared sizes and ratios of ``infos`` against ``limits``."""
    if len(infos) > limits.max_zip_entries:
        raise LimitsExceededError(
            f"the archive has {len(infos)} entries; the limit is {limits.max_zip_entries}"
        )
    total = 0
    for info in infos:
        if info.file_size > limits.max_zip_part_bytes:
            raise LimitsExceededError(
                f"the part {info.filename!r} declares {info.file_size} bytes; "
                f"the limit is {limits.max_zip_part_bytes}"
            )
        # A compressed size larger than the archive is itself a lie; clamping
        # it keeps the ratio honest.
        compressed = max(1, min(info.compress_size, archive_bytes))
        ratio = info.file_size / compressed
        if info.file_size > limits.zip_ratio_floor_bytes and ratio > limits.max_zip_ratio:
            raise LimitsExceededError(
                f"the part {info.filename!r} inflates {ratio:.0f} times; "
                f"the limit is {limits.max_zip_ratio:g}"
            )
        total += info.file_size
    if total > limits.max_zip_uncompressed_bytes:
        raise LimitsExceededError(
            f"the archive declares {total} uncompressed bytes; "
            f"the limit is {limits.max_zip_uncompressed_bytes}"
        )
    # The real archive size, not the sum of declared compressed sizes, so that
    # inflated compressed sizes cannot dilute the ratio. Below the floor no
    # ratio is dangerous, and small packages of XML legitimately reach high ones.
    ratio = total / max(1, archive_bytes)
    if total > limits.zip_ratio_floor_bytes and ratio > limits.max_zip_ratio:
        raise LimitsExceededError(
            f"the archive inflates {ratio:.0f} times; the limit is {limits.max_zip_ratio:g}"
        )


def iter_part_chunks(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits
) -> Iterator[bytes]:
    """Yield the inflated bytes of one part in chunks of at most :data:`CHUNK_BYTES`.

    Never inflates more than the declared size, nor more than the part limit:
    zipfile stops at the declared size, so a member whose data runs past its
    header ends in a CRC mismatch (:class:`CorruptDocumentError`); the count
    here keeps that bound without relying on it (:class:`LimitsExceededError`).
    """
    if info.flag_bits & _ENCRYPTED_FLAG:
        raise EncryptedDocumentError("the document's parts are encrypted")
    budget = min(info.file_size, limits.max_zip_part_bytes)
    seen = 0
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(CHUNK_BYTES)
                if not chunk:
                    return
                seen += len(chunk)
                if seen > budget:
                    raise LimitsExceededError(
                        f"the part {info.filename!r} inflates past its declared "
                        f"{info.file_size} bytes"
                    )
                yield chunk
    except _READ_ERRORS as exc:
        raise CorruptDocumentError(f"the part {info.filename!r} cannot be inflated") from exc


def _check_entry_count(data: bytes, limits: Limits) -> None:
    """Count central-directory records, stopping past the limit.

    zipfile builds a Python object per record, tens of times the record's
    size, so a 100 MB directory of empty entries would cost gigabytes before
    the count could be checked on its result. Anything unexpected here is left
    for zipfile to reject.
    """
    located = _locate_central_directory(data)
    if located is None:
        return
    position, end = located
    count = 0
    while position < end:
        header = data[position : position + _CENTRAL_HEADER.size]
        if len(header) < _CENTRAL_HEADER.size or header[:4] != _CENTRAL_SIGNATURE:
            return
        fields = _CENTRAL_HEADER.unpack(header)
        name_length, extra_length, comment_length = fields[10], fields[11], fields[12]
        position += _CENTRAL_HEADER.size + name_length + extra_length + comment_length
        count += 1
        if count > limits.max_zip_entries:
            raise LimitsExceededError(f"the archive has more than {limits.max_zip_entries} entries")


def _locate_central_directory(data: bytes) -> tuple[int, int] | None:
    """``(start, end)`` of the central directory in ``data``, or ``None``.

    Located as zipfile does, from the end record backwards, so bytes prepended
    to the archive do not matter.
    """
    eocd_at = data.rfind(_EOCD_SIGNATURE, max(0, len(data) - _EOCD_WINDOW))
    if eocd_at < 0 or eocd_at + _EOCD.size > len(data):
        return None
    directory_size = _EOCD.unpack_from(data, eocd_at)[5]
    end = eocd_at
    locator_at = eocd_at - _ZIP64_LOCATOR.size
    if locator_at >= 0 and data[locator_at : locator_at + 4] == _ZIP64_LOCATOR_SIGNATURE:
        record_at = locator_at - _ZIP64_EOCD.size
        if record_at < 0 or data[record_at : record_at + 4] != _ZIP64_EOCD_SIGNATURE:
            return None
        directory_size = _ZIP64_EOCD.unpack_from(data, record_at)[8]
        end = record_at
    start = end - directory_size
    if start < 0:
        return None
    return start, end
