"""A loopback server's body sent slowly: one byte at a time, as a trickling server does."""

from __future__ import annotations

import time
from typing import BinaryIO


def write_slowly(stream: BinaryIO, body: bytes, interval_s: float) -> bool:
    """Write `body` a byte every `interval_s` seconds; False when the client hung up first."""
    try:
        for index in range(len(body)):
            stream.write(body[index : index + 1])
            stream.flush()
            time.sleep(interval_s)
    except (BrokenPipeError, ConnectionResetError):
        return False  # the client gave up: the point of trickling
    return True
