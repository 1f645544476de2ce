"""Retention: which matched Observations are validated, against its plain definition.

`retained` sets aside, unparsed, the Observations whose date is surely before the look-back. That
shortcut must never change what is kept or deferred: these tests hold it to the definition (per
concept, every one within the look-back and the `keep_latest` newest; older weights and heights
deferred with their times) over times of every form, offsets up to a day, and the boundary.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from history_helpers import NOW
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.history.select import (
    BODY_CONCEPTS,
    DeferredObservation,
    Match,
    Retention,
    raw_time,
    retained,
)

RETENTION = Retention(
    now=NOW,
    lookback=timedelta(days=60),
    keep_latest=2,
    lookback_by_concept={"creatinine": timedelta(days=120)},
)
CONCEPT_SETS = [
    frozenset({"ck"}),
    frozenset({"creatinine"}),
    frozenset({"weight"}),
    frozenset({"height"}),
    frozenset({"ck", "creatinine"}),
    frozenset({"weight", "ck"}),
]
BOUNDARIES = [NOW - timedelta(days=60), NOW - timedelta(days=120)]


@st.composite
def effective_times(draw: st.DrawFn) -> dict[str, Any]:
    """An Observation's time element: near a boundary or years away, in any form FHIR allows,
    and some it does not."""
    base = draw(st.sampled_from([*BOUNDARIES, *BOUNDARIES, NOW, NOW - timedelta(days=2000)]))
    moment = base + timedelta(minutes=draw(st.integers(-4 * 24 * 60, 4 * 24 * 60)))
    minutes = draw(st.integers(-(23 * 60 + 59), 23 * 60 + 59))
    sign = "+" if minutes >= 0 else "-"
    offset = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    local = moment.astimezone(UTC) + timedelta(minutes=minutes)
    text = draw(
        st.sampled_from(
            [
                local.strftime("%Y-%m-%dT%H:%M:%S") + offset,
                moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                moment.strftime("%Y-%m-%dT%H:%M:%S"),  # no offset: read in the clock's zone
                moment.strftime("%Y-%m-%d"),
                moment.strftime("%Y-%m"),
                moment.strftime("%Y"),
                moment.strftime("%Y%m%dT%H%M%S"),
                moment.strftime("%G-W%V-%uT%H:%M"),  # a week date: not FHIR, read by Python
                moment.strftime("%Y-%jT%H:%M:%S"),  # an ordinal date: Python reads none
                moment.strftime("%Y-%m-%dT%H:%M:%S").replace("-0", "-x", 1),
                "not a time at all",
                "0000-00-00T00:00:00",
            ]
        )
    )
    element = draw(
        st.sampled_from(["effectiveDateTime", "effectiveInstant", "effectivePeriod", None])
    )
    if element is None:
        return {}
    if element == "effectivePeriod":
        return {"effectivePeriod": {"start": text}}
    return {element: text}


@st.composite
def matches(draw: st.DrawFn) -> list[Match]:
    found = []
    for number in range(draw(st.integers(0, 24))):
        resource_type = draw(st.sampled_from(["Observation"] * 5 + ["Condition"]))
        resource = {"resourceType": resource_type, "id": f"r{number}", **draw(effective_times())}
        found.append(Match(resource, draw(st.sampled_from(CONCEPT_SETS)), None, None, None))
    return found


def by_definition(
    found: list[Match], retention: Retention
) -> tuple[list[Match], list[DeferredObservation]]:
    """The definition, plainly: every time read, every concept sorted."""
    zone = retention.now.tzinfo or UTC
    times = {
        i: raw_time(m.resource, zone)
        for i, m in enumerate(found)
        if m.resource["resourceType"] == "Observation"
    }
    keep: set[int] = set()
    body: set[int] = set()
    for concept in {c for i in times for c in found[i].concepts}:
        since = retention.now - retention.lookback_by_concept.get(concept, retention.lookback)
        newest_first = sorted(
            (
                ((at.timestamp() if at else float("-inf")), i)
                for i, at in times.items()
                if concept in found[i].concepts
            ),
            reverse=True,
        )
        for position, (stamp, i) in enumerate(newest_first):
            if stamp >= since.timestamp() or position < retention.keep_latest:
                keep.add(i)
            if concept in BODY_CONCEPTS:
                body.add(i)
    kept = [m for i, m in enumerate(found) if i not in times or i in keep]
    deferred = sorted(
        (
            DeferredObservation(at, found[i].concepts, found[i])
            for i in body - keep
            if (at := times[i]) is not None
        ),
        key=lambda item: item.at,
    )
    return kept, deferred


def ids(found: list[Match]) -> list[str]:
    return [m.resource["id"] for m in found]


@settings(max_examples=600, deadline=None)
@given(matches())
def test_retained_keeps_and_defers_what_the_definition_does(found: list[Match]) -> None:
    kept, deferred = retained(found, RETENTION)
    expected_kept, expected_deferred = by_definition(found, RETENTION)
    assert ids(kept) == ids(expected_kept)
    assert [(d.at, d.match.resource["id"]) for d in deferred] == [
        (d.at, d.match.resource["id"]) for d in expected_deferred
    ]


def lab(rid: str, at: str) -> Match:
    return Match(
        {"resourceType": "Observation", "id": rid, "effectiveDateTime": at},
        frozenset({"ck"}),
        None,
        None,
        None,
    )


def test_old_results_count_when_too_few_are_recent() -> None:
    # one CK within 60 days: the newest older one makes up keep_latest, even years back
    found = [lab("2019", "2019-05-01"), lab("2021", "2021-05-01"), lab("now", "2026-03-01")]
    kept, _ = retained(found, RETENTION)
    assert ids(kept) == ["2021", "now"]


def test_an_offset_that_crosses_midnight_at_the_boundary_is_read_exactly() -> None:
    since = NOW - timedelta(days=60)  # 2026-01-14T10:00+13:00 = 2026-01-13T21:00Z
    inside = lab("inside", "2026-01-12T23:30:00-22:00")  # 2026-01-13T21:30Z: 30 minutes inside
    outside = lab("outside", "2026-01-13T20:30:00+00:00")  # 30 minutes before the look-back
    recent = [lab(f"r{n}", f"2026-03-0{n}") for n in range(1, 3)]
    kept, _ = retained([inside, outside, *recent], RETENTION)
    assert since.astimezone(UTC) == datetime(2026, 1, 13, 21, tzinfo=UTC)
    assert ids(kept) == ["inside", "r1", "r2"]
