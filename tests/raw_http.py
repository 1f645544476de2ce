"""Raw HTTP/1.1 over a socket, for requests no HTTP client library will send (over-long lines,
malformed request lines, lone surrogates, chunked bodies of a chosen size) and for reading the
answer exactly as the server wrote it.

    answer = exchange(port, b"BLAH\\r\\n\\r\\n")
    answer.status, answer.headers["content-type"], answer.json()
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from schema_check import assert_valid


@dataclass
class RawAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body and not any(name.lower() == "transfer-encoding" for name in headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(total: int, first: bytes = b"{", piece: int = 1 << 20) -> Iterable[bytes]:
    """A chunked body of `total` bytes (`first`, then spaces), and its last chunk."""
    sent = 0
    while sent < total:
        size = min(piece, total - sent)
        data = (first + b" " * (size - len(first))) if sent == 0 else b" " * size
        yield b"%x\r\n" % size + data + b"\r\n"
        sent += size
    yield b"0\r\n\r\n"


def exchange(port: int, *parts: bytes | Iterable[bytes], timeout_s: float = 30.0) -> RawAnswer:
    """Send `parts` (bytes, or iterables of bytes sent one after another) and read the answer.

    A server may answer and close before the whole request was sent (a body over its limit):
    sending stops then, and the answer already sent is read.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as conn:
        try:
            for part in parts:
                for data in [part] if isinstance(part, bytes) else part:
                    conn.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        received = b""
        try:
            while chunk := conn.recv(65536):
                received += chunk
                if _complete(received):
                    break
        except ConnectionResetError:
            pass
    return parse_answer(received)


def _complete(received: bytes) -> bool:
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def parse_answer(received: bytes) -> RawAnswer:
    head, separator, body = received.partition(b"\r\n\r\n")
    if not separator:
        raise AssertionError(f"no complete HTTP answer: {received[:200]!r}")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawAnswer(int(status_line.split()[1]), headers, body)


def assert_outcome(answer: RawAnswer, status: int) -> dict[str, Any]:
    """`answer` is `status` with the service's error shape: a JSON OperationOutcome whose first
    issue is an error with a code and diagnostics, never an HTML page."""
    assert answer.status == status, (answer.status, answer.body[:300])
    assert answer.headers.get("content-type", "").startswith("application/json"), answer.headers
    outcome = assert_valid(answer.json(), "OperationOutcome")
    issue = outcome["issue"][0]
    assert issue["severity"] == "error" and isinstance(issue["code"], str), issue
    assert isinstance(issue["diagnostics"], str) and issue["diagnostics"], issue
    assert b"<html" not in answer.body.lower()
    return dict(outcome)
