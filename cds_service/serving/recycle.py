"""Workers that grew too large are replaced: one costly call must not keep its memory for good.

gunicorn replaces a worker after ``max_requests`` (plus jitter) requests. On top of that, after
each request the worker's resident memory is compared with ``worker_max_rss_mb``: above it, the
worker stops taking new connections, finishes what it holds and exits, and gunicorn forks a
fresh one from the warm master (``gunicorn_conf.post_request``).
"""

from __future__ import annotations

import os
from pathlib import Path

_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MIB = 1024 * 1024


def resident_bytes(pid: int | None = None) -> int | None:
    """Resident memory of a process (this one by default), from /proc; None where there is none."""
    try:
        fields = Path(f"/proc/{pid or 'self'}/statm").read_text().split()
    except OSError:
        return None
    return int(fields[1]) * _PAGE_BYTES


def over_ceiling(rss_bytes: int | None, ceiling_mb: int) -> bool:
    """True when a worker of `rss_bytes` should be replaced (a ceiling of 0 means none).

    >>> over_ceiling(500 * MIB, 400), over_ceiling(300 * MIB, 400), over_ceiling(500 * MIB, 0)
    (True, False, False)
    """
    return ceiling_mb > 0 and rss_bytes is not None and rss_bytes > ceiling_mb * MIB
