"""Bad and hostile input: each case gives the result documented in docs/therapy-history.md."""

from __future__ import annotations

from decimal import Decimal

from history_helpers import (
    administration,
    condition,
    height,
    medication,
    observation,
    order,
    patient,
    weight,
)

from cds_service.history.parse import parse_resources
from fhir_fixtures.builders import HEART_RATE
from fhir_fixtures.builders import ICD10_CM as ICD


def test_other_patients_resources_are_left_out(build) -> None:  # type: ignore[no-untyped-def]
    history = build(patient(), weight("mine", 26), weight("theirs", 61, subject="p2"))
    assert [w.source.resource_id for w in history.series("weight")] == ["mine"]
    note = history.data_quality[0]
    assert (note.resource_id, note.category) == ("theirs", "other-patient")


def test_resource_naming_no_patient_is_left_out(build) -> None:  # type: ignore[no-untyped-def]
    orphan = weight("orphan", 30)
    del orphan["subject"]
    history = build(patient(), orphan)
    assert history.series("weight") == ()
    assert history.data_quality[0].reason == "names no patient it is about"


def test_other_patient_resource_is_never_validated_or_used(build) -> None:  # type: ignore[no-untyped-def]
    absolute = weight("abs", 27)
    absolute["subject"] = {"reference": "https://ehr.example/fhir/Patient/p1/_history/4"}
    history = build(
        patient(), absolute, weight("x", 50, subject="p10"), server="https://ehr.example/fhir/"
    )
    assert [w.source.resource_id for w in history.series("weight")] == ["abs"]


def test_same_id_on_another_server_is_another_patient(build) -> None:  # type: ignore[no-untyped-def]
    foreign = weight("foreign", 31)
    foreign["subject"] = {"reference": "http://other-server/fhir/Patient/p1"}
    history = build(patient(), weight("mine", 26), foreign, server="https://ehr.example/fhir")
    assert [w.source.resource_id for w in history.series("weight")] == ["mine"]
    note = history.data_quality[0]
    assert (note.category, note.reason) == (
        "other-patient",
        "names a patient on another FHIR server",
    )


def test_entered_in_error_weight_is_ignored_silently(build) -> None:  # type: ignore[no-untyped-def]
    history = build(weight("ok", 26, at="2026-03-01"), weight("bad", 45, status="entered-in-error"))
    assert [w.value for w in history.series("weight")] == [26]
    assert history.data_quality == ()


def test_weight_in_pounds_is_converted_exactly(build) -> None:  # type: ignore[no-untyped-def]
    history = build(weight("lb", 55, unit="[lb_av]"))
    measurement = history.latest_weight
    assert measurement is not None
    assert measurement.value == Decimal("24.94758035") and measurement.original == "55 lb"


def test_unknown_unit_is_a_note_not_a_guess(build) -> None:  # type: ignore[no-untyped-def]
    history = build(weight("st", 4, unit="[stone_av]"))
    assert history.latest_weight is None
    note = history.data_quality[0]
    assert (note.category, note.concept) == ("unit", "weight")
    assert "'stone'" in note.reason  # the unit as a clinician reads it


def test_observation_without_value_is_a_note(build) -> None:  # type: ignore[no-untyped-def]
    history = build(weight("empty", None))
    assert history.latest_weight is None
    assert history.data_quality[0].category == "no-value"


def test_unknown_code_is_counted_not_noted(build) -> None:  # type: ignore[no-untyped-def]
    history = build(observation("hr", HEART_RATE.system, HEART_RATE.code, 90, "/min"))
    assert history.measurements == {}
    assert dict(history.unmatched_counts) == {"Observation": 1}
    assert history.data_quality == ()


def test_malformed_resource_is_a_note_and_others_survive(build) -> None:  # type: ignore[no-untyped-def]
    broken = weight("broken", 26)
    broken["valueQuantity"]["value"] = "twenty six"
    history = build(patient(), broken, weight("fine", 27))
    assert [w.source.resource_id for w in history.series("weight")] == ["fine"]
    note = history.data_quality[0]
    assert (note.resource_id, note.category) == ("broken", "unparseable")
    assert "twenty" not in note.reason  # the value (possible PHI) is never quoted


def test_non_object_entries_do_not_fail(build) -> None:  # type: ignore[no-untyped-def]
    history = build(patient(), "junk", 42, {"resourceType": "Bundle", "entry": "nope"})  # type: ignore[arg-type]
    assert {n.category for n in history.data_quality} == {"unparseable"}


def test_mg_per_m2_without_height_is_not_converted(build) -> None:  # type: ignore[no-untyped-def]
    mtx = administration("m1", medication("6851"), "2026-03-12", 15, "mg/m2", route="34206005")
    history = build(weight("w", 26), mtx)
    event = history.doses("methotrexate")[0]
    assert event.amount_mg is None and "mg/m2" in (event.note or "")
    assert any(n.resource_id == "m1" and n.category == "unit" for n in history.data_quality)


def test_mg_per_m2_with_height_uses_mosteller(build) -> None:  # type: ignore[no-untyped-def]
    mtx = administration("m1", medication("6851"), "2026-03-12", 15, "mg/m2", route="34206005")
    history = build(weight("w", 26), height("h", 132), mtx)
    event = history.doses("methotrexate")[0]
    assert event.basis_bsa_m2 == Decimal("0.98") and event.amount_mg == Decimal("14.70")


def test_refuted_and_entered_in_error_conditions_are_ignored(build) -> None:  # type: ignore[no-untyped-def]
    history = build(
        condition("c1", ICD, "M33.02", verification="refuted"),
        condition("c2", ICD, "R13.12", verification="entered-in-error"),
        condition("c3", ICD, "R13.12", clinical="resolved"),
    )
    assert [(p.source.resource_id, p.active) for p in history.problems] == [("c3", False)]


def test_newest_version_wins(build) -> None:  # type: ignore[no-untyped-def]
    old = weight("w", 80, meta={"versionId": "1"})
    new = weight("w", 28, meta={"versionId": "2"})
    assert [w.value for w in build(new, old).series("weight")] == [28]


def test_searchset_outcome_entries_are_skipped() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "entry": [
            {"search": {"mode": "match"}, "resource": weight("w", 26)},
            {"search": {"mode": "outcome"}, "resource": {"resourceType": "OperationOutcome"}},
        ],
    }
    record = parse_resources([bundle], "p1")
    assert [r.resource_id for r in record.of_type("Observation")] == ["w"]


def test_topical_and_routeless_steroids_are_not_counted(build) -> None:  # type: ignore[no-untyped-def]
    drops = order(
        "eye", medication("8638", "prednisolone eye drops"), "2026-03-01", 1, "mg", route="54485002"
    )
    drops["dosageInstruction"][0]["route"]["text"] = "ophthalmic"
    routeless = administration("mp", medication("6902"), "2026-03-01", 500, "mg", route=None)
    history = build(weight("w", 26), drops, routeless)
    assert history.dose_events == () and history.methylprednisolone_pulses == ()
    assert {n.resource_id for n in history.data_quality} == {"eye", "mp"}


def test_naive_clock_is_refused(build) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    import pytest

    with pytest.raises(ValueError, match="timezone-aware"):
        build(weight("w", 26), now=datetime(2026, 3, 15, 10))


def test_validation_cache_never_serves_stale_or_foreign_content(build) -> None:  # type: ignore[no-untyped-def]
    assert build(weight("w", 26)).latest_weight.value == 26  # type: ignore[union-attr]
    assert build(weight("w", 27)).latest_weight.value == 27  # type: ignore[union-attr]
    mine = weight("w", 26)
    theirs = weight("w", 26, subject="p2")
    assert build(theirs).latest_weight is None
    assert build(mine).latest_weight.value == 26  # type: ignore[union-attr]


def test_validation_cache_is_bounded() -> None:
    from cds_service.history.validate import ModelCache

    cache = ModelCache(2)
    for key in ("a", "b", "c"):
        cache.put(key, key.upper())
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "B", "C")


def test_medication_without_id_is_kept_out_without_failing(build) -> None:  # type: ignore[no-untyped-def]
    mtx = administration(
        "m1", {"medicationReference": {"reference": "Medication/mtx"}}, "2026-03-12", 15, "mg"
    )
    anonymous = {"resourceType": "Medication", "code": {"text": "methotrexate"}}
    history = build(patient(), anonymous, mtx, weight("w", 26))
    assert history.doses("methotrexate") == ()  # nothing can refer to a Medication with no id
    (named,) = [n for n in history.data_quality if n.resource_id == "m1"]
    assert named.category == "unread-medication"  # given 3 days ago: it could be an infusion
    assert (
        named.reason == "a medicine whose drug is not in the record (its Medication was not sent)"
    )
    assert history.latest_weight is not None


def test_resource_type_that_is_not_a_string_is_skipped(build) -> None:  # type: ignore[no-untyped-def]
    odd = {"resourceType": ["Observation"], "id": "odd"}
    unhashable = {"resourceType": {"coding": []}, "id": "odd2"}
    history = build(patient(), odd, unhashable, weight("w", 26))
    assert [w.source.resource_id for w in history.series("weight")] == ["w"]


def test_nested_bundle_is_a_note_and_not_read() -> None:
    inner = {"resourceType": "Bundle", "id": "inner", "entry": [{"resource": weight("x", 90)}]}
    outer = {
        "resourceType": "Bundle",
        "entry": [{"resource": inner}, {"resource": weight("w", 26)}],
    }
    record = parse_resources([outer], "p1")
    assert [r.resource_id for r in record.of_type("Observation")] == ["w"]
    assert [(n.resource_type, n.resource_id, n.reason) for n in record.notes] == [
        ("Bundle", "inner", "nested Bundle")
    ]


def test_resource_nested_past_the_recursion_limit_is_a_note(build) -> None:  # type: ignore[no-untyped-def]
    deep = weight("deep", 26)
    nested: dict[str, object] = {"url": "x"}
    for _ in range(3000):  # past Python's recursion limit; the service caps JSON depth before this
        nested = {"url": "x", "extension": [nested]}
    deep["extension"] = [nested]
    history = build(patient(), deep, weight("fine", 27))
    assert [w.source.resource_id for w in history.series("weight")] == ["fine"]
    assert [(n.resource_id, n.category) for n in history.data_quality] == [("deep", "unparseable")]
