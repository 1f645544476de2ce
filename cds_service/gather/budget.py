"""What one hook call may take from FHIR servers in all: resources and bytes, counted as they come.

Every fetch of a call (all prefetch keys, every page, concurrently) draws on one budget, so the
cap holds while fetching, page by page: a search stops when its next page would not fit,
instead of everything being fetched and held first and cut afterwards. The Patient read is
needed to answer at all: its bytes are counted but never refused (its own size cap,
``fhir_max_response_bytes``, still holds).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from cds_service.config import Settings


class BudgetSpent(Exception):
    """The call's fetch budget ran out; ``reason`` is short, PHI-free and names the setting."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class FetchBudget:
    """Resources and bytes one hook call may still fetch (thread-safe)."""

    resource_cap: int
    byte_cap: int
    resources_left: int
    bytes_left: int
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def for_call(cls, settings: Settings, prefetched_resources: int) -> FetchBudget:
        """The budget left once the client's own prefetch is counted."""
        return cls(
            resource_cap=settings.max_prefetch_resources,
            byte_cap=settings.fhir_max_fetch_bytes,
            resources_left=max(0, settings.max_prefetch_resources - prefetched_resources),
            bytes_left=settings.fhir_max_fetch_bytes,
        )

    def take_bytes(self, count: int, *, required: bool = False) -> None:
        """Count `count` bytes that arrived; raise :class:`BudgetSpent` once past the cap
        (unless `required`)."""
        with self._lock:
            self.bytes_left -= count
            spent = self.bytes_left < 0
        if spent and not required:
            raise BudgetSpent(
                f"the data fetched reached {self.byte_cap} bytes in all (CDS_FHIR_MAX_FETCH_BYTES)"
            )

    def take_resources(self, wanted: int) -> int:
        """Take up to `wanted` resources from what is left; returns how many were granted."""
        with self._lock:
            granted = max(0, min(wanted, self.resources_left))
            self.resources_left -= granted
        return granted

    def resources_note(self, resource_type: str) -> str:
        return (
            f"{resource_type} data past {self.resource_cap} resources in all was not used "
            "(CDS_MAX_PREFETCH_RESOURCES)"
        )
