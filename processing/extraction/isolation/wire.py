"""What crosses the sandbox boundary: length-prefixed frames of JSON and bytes.

Data only, never pickle: a compromised worker can send any bytes, and the
host must be able to read them without running code. Every frame has a size
cap checked before its bytes are read, so a worker cannot make the host
allocate without bound.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

_LENGTH = struct.Struct(">Q")
#: The largest JSON header either side sends (requests and replies are small).
MAX_HEADER_BYTES = 64 * 1024
#: How long the zygote waits for a child the pool saw end or killed.
STATUS_WAIT_SECONDS = 5.0
#: Exit code of a worker that could not confine itself (it processes nothing).
CONFINE_FAILED = 71
_CHUNK = 1024 * 1024


class WireError(Exception):
    """The peer closed the connection, broke the framing or sent too much."""


class Timeout(WireError):
    """The deadline passed before the frame was complete."""


class ProtocolError(WireError):
    """The peer sent something that is not a frame this protocol allows."""


def send_frame(sock: socket.socket, payload: bytes | memoryview, deadline: float) -> None:
    _send(sock, _LENGTH.pack(len(payload)), deadline)
    _send(sock, payload, deadline)


def send_json(sock: socket.socket, document: Any, deadline: float) -> None:
    send_frame(sock, json.dumps(document, separators=(",", ":")).encode(), deadline)


def recv_frame(sock: socket.socket, limit: int, deadline: float) -> bytes:
    """One frame of at most ``limit`` bytes; WireError if the peer announces more."""
    (length,) = _LENGTH.unpack(_recv_exactly(sock, _LENGTH.size, deadline))
    if length > limit:
        raise ProtocolError(f"the peer announced {length} bytes; at most {limit} are accepted")
    return _recv_exactly(sock, length, deadline)


def recv_json(sock: socket.socket, deadline: float) -> Any:
    raw = recv_frame(sock, MAX_HEADER_BYTES, deadline)
    try:
        return json.loads(raw)
    except ValueError:
        raise ProtocolError("the peer sent a header that is not JSON") from None


def _send(sock: socket.socket, data: bytes | memoryview, deadline: float) -> None:
    view = memoryview(data)
    while view:
        _wait(sock, deadline)
        try:
            sent = sock.send(view[:_CHUNK])
        except TimeoutError:
            raise Timeout("the deadline passed") from None
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise WireError("the peer closed the connection") from exc
        view = view[sent:]


def _recv_exactly(sock: socket.socket, count: int, deadline: float) -> bytes:
    buffer = bytearray(count)
    view = memoryview(buffer)
    while view:
        _wait(sock, deadline)
        try:
            received = sock.recv_into(view, min(len(view), _CHUNK))
        except TimeoutError:
            raise Timeout("the deadline passed") from None
        except ConnectionResetError as exc:
            raise WireError("the peer closed the connection") from exc
        if received == 0:
            raise WireError("the peer closed the connection")
        view = view[received:]
    return bytes(buffer)


def _wait(sock: socket.socket, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Timeout("the deadline passed")
    sock.settimeout(remaining)
