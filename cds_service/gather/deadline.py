"""Deadlines on the monotonic clock: one for a whole hook call, an earlier one for its fetches.

A hook call gets ``request_deadline_s`` for everything: reading the body, gathering, reading the
record, evaluating. Fetching must leave time for the rest, so it ends ``evaluate_reserve_s``
before the call's deadline (or at half of it, when the reserve would take more than half)::

    call = CallDeadline(8.0)
    fetches = call.for_fetching(1.5)      # ends 6.5 s after the call started
    call.check("reading the record")      # raises DeadlinePassedError once 8 s have passed
"""

from __future__ import annotations

import time

from cds_service.errors import DeadlinePassedError


class Deadline:
    """A moment on the monotonic clock."""

    def __init__(self, seconds: float) -> None:
        self.expires_at = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.expires_at - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


class CallDeadline(Deadline):
    """The deadline of one hook call, started when the call arrives."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds

    def for_fetching(self, reserve_s: float) -> Deadline:
        """The deadline of the call's FHIR fetches: `reserve_s` earlier, at most half as long."""
        fetching = Deadline(0.0)
        fetching.expires_at = self.expires_at - min(max(reserve_s, 0.0), self.seconds / 2)
        return fetching

    def check(self, stage: str) -> None:
        """Raise :class:`DeadlinePassedError` naming `stage` once the deadline has passed."""
        if self.expired():
            raise DeadlinePassedError(
                f"the call did not finish within its deadline of {self.seconds:g} s "
                f"(CDS_REQUEST_DEADLINE_S): stopped while {stage}"
            )
