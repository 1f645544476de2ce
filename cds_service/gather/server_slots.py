"""At most a few hook calls of one process fetch from one FHIR server at a time.

A hook call that fetches holds its request thread until its fetches end (at the latest at the
request deadline). Without a bound, about as many callers as the server has threads, all naming
one slow FHIR server, would hold every thread, and calls that fetch elsewhere, or send all their
data as prefetch, would queue behind them. So each process lets at most
``fhir_max_calls_per_server`` calls fetch from one server (scheme, host and port) at once; one
more is answered 412 at once (CDS Hooks: the data cannot be had now), never queued, so a slow
server can hold at most that many threads of each worker. The prefetch ladder takes the slot
around its fetches only (:func:`cds_service.gather.prefetch.gather`, ``fetch_slot``), so calls
that fetch nothing never take one. The fetches of one call run in that call's own thread pool,
on its own connections.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from cds_service.config import SettingsError
from cds_service.errors import FhirServerBusyError
from cds_service.gather import urls


class ServerSlots:
    """Counts, per FHIR server, the hook calls of this process fetching from it."""

    def __init__(self, per_server: int) -> None:
        if per_server < 1:
            raise SettingsError("CDS_FHIR_MAX_CALLS_PER_SERVER must be at least 1")
        self._per_server = per_server
        self._lock = threading.Lock()
        self._in_use: dict[tuple[str, str, int | None], int] = {}

    @contextmanager
    def hold(self, server: str | None) -> Iterator[None]:
        """A slot on `server` for the block, or FhirServerBusyError (412) when none is free.

        ``None`` (nothing to fetch) or a URL that is not one (the allowlist check refuses it
        later) takes no slot.
        """
        parsed = urls.server_url(server) if server is not None else None
        if parsed is None:
            yield
            return
        key = parsed.origin
        with self._lock:
            if self._in_use.get(key, 0) >= self._per_server:
                raise FhirServerBusyError(
                    f"fhirServer already has {self._per_server} calls of this service fetching "
                    "from it (CDS_FHIR_MAX_CALLS_PER_SERVER); try again shortly"
                )
            self._in_use[key] = self._in_use.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._in_use[key] -= 1
                if not self._in_use[key]:
                    del self._in_use[key]
