"""For any record, each resource of the patient is used, named on the data-quality notes, or left
out by a rule written down in docs/clinical/decision-model.md §7 (never silent).

Records are drawn from the shapes real charts hold (known and unknown codes, free text, infusions
the service does not know, allergies, other patients, broken resources, dates inside and outside
the look-backs). Each drawn resource knows what it must come to: either "used or named", or the
key of the written rule that may leave it out. The test never asks the service which rule it
applied: it checks the outcome against the resource's own facts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from history_helpers import NOW, PATIENT, administration, condition, medication, patient, weight
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds_service.config import REPO_ROOT
from cds_service.history.model import TherapyHistory
from cds_service.history.to_json import history_to_json

DECISION_MODEL = REPO_ROOT / "docs" / "clinical" / "decision-model.md"
INFUSION_DAYS = 55  # within thresholds.json ivig_recent_weeks (8 weeks) of the clock, by date
RESULT_DAYS = 60  # history.json measurement_lookback_days: older results may be left unread
SNOMED, LOINC, ICD = (
    "http://snomed.info/sct",
    "http://loinc.org",
    "http://hl7.org/fhir/sid/icd-10-cm",
)
MUST_SHOW = "used or named"


@dataclass(frozen=True)
class Drawn:
    resource: dict[str, Any]
    outcome: str  # MUST_SHOW, or the key of the rule of §7 that may leave it out


def _day(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).date().isoformat()


def _observation(rid: str, code: dict[str, Any], days_ago: int, **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "subject": {"reference": f"Patient/{PATIENT}"},
        "effectiveDateTime": _day(days_ago),
        **value,
    }


def _allergy(rid: str, agent: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": rid,
        "patient": {"reference": f"Patient/{PATIENT}"},
        "code": {"text": agent},
        **extra,
    }


# each maker: (rid, days ago) -> what was drawn
Maker = Callable[[str, int], Drawn]


def _result(days: int) -> str:
    """Results within the look-back are read; older ones only when needed (a dose of their time
    needs its weight, or fewer than measurement_keep_latest are newer)."""
    return MUST_SHOW if days <= RESULT_DAYS else "older-than-look-back"


def _weight(rid: str, days: int) -> Drawn:
    return Drawn(weight(rid, 20 + days % 10, at=_day(days)), _result(days))


def _weight_in_stones(rid: str, days: int) -> Drawn:
    return Drawn(weight(rid, 4, unit="[stone_av]", at=_day(days)), _result(days))


def _weight_as_text(rid: str, days: int) -> Drawn:
    return Drawn(weight(rid, "26", at=_day(days)), _result(days))


def _jdm(rid: str, days: int) -> Drawn:
    return Drawn(condition(rid, ICD, "M33.00", onsetDateTime=_day(days)), MUST_SHOW)


def _unknown_condition(rid: str, days: int) -> Drawn:
    return Drawn(condition(rid, SNOMED, "444814009", onsetDateTime=_day(days)), "unknown-code")


def _condition_with_red_flag_note(rid: str, days: int) -> Drawn:
    said = [{"text": "Trouble swallowing since the last visit.", "time": _day(days)}]
    return Drawn(condition(rid, SNOMED, "444814009", note=said), MUST_SHOW)


def _denied_red_flag(rid: str, days: int) -> Drawn:
    review = {"text": "Review of systems"}
    return Drawn(_observation(rid, review, days, valueString="No hoarse voice."), MUST_SHOW)


def _unknown_lab(rid: str, days: int) -> Drawn:
    code = {"coding": [{"system": LOINC, "code": "2345-7", "display": "Glucose"}]}
    return Drawn(_observation(rid, code, days, valueQuantity={"value": 5}), "unknown-code")


def _absent_finding(rid: str, days: int) -> Drawn:
    code = {"coding": [{"system": SNOMED, "code": "40739000"}]}
    return Drawn(_observation(rid, code, days, valueBoolean=False), "finding-absent")


def _present_finding(rid: str, days: int) -> Drawn:
    code = {"coding": [{"system": SNOMED, "code": "40739000"}]}
    return Drawn(_observation(rid, code, days, valueBoolean=True), _result(days))


def _unknown_infusion(rid: str, days: int) -> Drawn:
    given_iv = administration(rid, medication(text="Zylotrex 40 mg"), _day(days), 40, "mg")
    return Drawn(given_iv, MUST_SHOW if days <= INFUSION_DAYS else "unknown-medicine")


def _unknown_tablet(rid: str, days: int) -> Drawn:
    oral = administration(
        rid, medication(text="Zylotrex 40 mg tablet"), _day(days), 40, "mg", route="26643006"
    )
    return Drawn(oral, "unknown-medicine")


def _cancelled_infusion(rid: str, days: int) -> Drawn:
    never = administration(
        rid, medication(text="Zylotrex 40 mg"), _day(days), 40, "mg", status="not-done"
    )
    return Drawn(never, "never-given")


def _immune_globulin_no_route(rid: str, days: int) -> Drawn:
    given = administration(rid, medication(text="immune globulin"), _day(days), 20, "g", None)
    return Drawn(given, MUST_SHOW)


def _methylprednisolone_pulse(rid: str, days: int) -> Drawn:
    pulse = administration(
        rid, medication(text="methylprednisolone sodium succinate"), _day(days), 600, "mg"
    )
    return Drawn(pulse, MUST_SHOW)


def _severe_unknown_allergy(rid: str, days: int) -> Drawn:
    return Drawn(_allergy(rid, "Zylotrex", criticality="high"), MUST_SHOW)


def _food_allergy(rid: str, days: int) -> Drawn:
    return Drawn(
        _allergy(rid, "Peanut", criticality="high", category=["food"]), "allergy-not-severe"
    )


def _mild_unknown_allergy(rid: str, days: int) -> Drawn:
    mild = [{"severity": "mild", "manifestation": [{"text": "Rash"}]}]
    return Drawn(_allergy(rid, "Plaster", reaction=mild), "allergy-not-severe")


def _other_patient(rid: str, days: int) -> Drawn:
    return Drawn(weight(rid, 40, at=_day(days), subject="someone-else"), MUST_SHOW)


def _other_server(rid: str, days: int) -> Drawn:
    foreign = weight(rid, 41, at=_day(days))
    foreign["subject"] = {"reference": f"http://other-server/fhir/Patient/{PATIENT}"}
    return Drawn(foreign, MUST_SHOW)


def _entered_in_error(rid: str, days: int) -> Drawn:
    return Drawn(weight(rid, 45, at=_day(days), status="entered-in-error"), "entered-in-error")


def _encounter(rid: str, days: int) -> Drawn:
    visit = {
        "resourceType": "Encounter",
        "id": rid,
        "status": "finished",
        "subject": {"reference": f"Patient/{PATIENT}"},
    }
    return Drawn(visit, "type-not-read")


def _broken(rid: str, days: int) -> Drawn:
    bad = weight(rid, 26, at=_day(days))
    bad["status"] = ["final"]  # not a code: not valid FHIR
    return Drawn(bad, _result(days))


MAKERS: tuple[Maker, ...] = (
    _weight,
    _weight_in_stones,
    _weight_as_text,
    _jdm,
    _unknown_condition,
    _condition_with_red_flag_note,
    _denied_red_flag,
    _unknown_lab,
    _absent_finding,
    _present_finding,
    _unknown_infusion,
    _unknown_tablet,
    _cancelled_infusion,
    _immune_globulin_no_route,
    _methylprednisolone_pulse,
    _severe_unknown_allergy,
    _food_allergy,
    _mild_unknown_allergy,
    _other_patient,
    _other_server,
    _entered_in_error,
    _encounter,
    _broken,
)

charts = st.lists(
    st.tuples(st.sampled_from(MAKERS), st.integers(min_value=0, max_value=800)),
    min_size=1,
    max_size=25,
)


def _written_rules() -> set[str]:
    """The rule keys of the table in docs/clinical/decision-model.md §7."""
    section = DECISION_MODEL.read_text(encoding="utf-8").split("## §7", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.MULTILINE))


def _used(history: TherapyHistory) -> set[str]:
    """ "Type/id" of every record the history is built on (its data-quality notes apart)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "resource_type" in value and "resource_id" in value and "reason" not in value:
                found.add(f"{value['resource_type']}/{value['resource_id']}")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    plain = history_to_json(history)
    plain.pop("data_quality")
    walk(plain)
    return found


def test_every_rule_the_property_names_is_written_down() -> None:
    rules = _written_rules()
    drawn = {maker(f"r{i}", 10).outcome for i, maker in enumerate(MAKERS)}
    drawn |= {maker("r", 700).outcome for maker in MAKERS}
    assert drawn - {MUST_SHOW} <= rules, drawn - {MUST_SHOW} - rules


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chart=charts)
def test_each_resource_is_used_named_or_left_out_by_a_written_rule(
    build: Callable[..., TherapyHistory], chart: list[tuple[Maker, int]]
) -> None:
    drawn = [maker(f"r{index}", days) for index, (maker, days) in enumerate(chart)]
    history = build(patient(), *(d.resource for d in drawn))
    used = _used(history)
    named = {f"{n.resource_type}/{n.resource_id}" for n in history.data_quality}
    rules = _written_rules()
    for item in drawn:
        reference = f"{item.resource['resourceType']}/{item.resource['id']}"
        shown = reference in used or reference in named
        if item.outcome == MUST_SHOW:
            assert shown, f"{reference} ({item.resource}) was dropped silently"
        else:
            assert item.outcome in rules
