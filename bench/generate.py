"""Synthetic JDM patient records of a chosen size, for the benchmark and load tests.

A record is a list of FHIR R4 resources (plain JSON) for one child with juvenile
dermatomyositis: the seed case (diagnosis about five months before ``now``, IV methylprednisolone
pulses, a tapering prednisolone course, weekly subcutaneous methotrexate, persistent weakness and
new dysphagia) on top of years of routine care: lab panels, vitals, growth, clinic strength
scores, orders and administrations of unrelated drugs, old conditions, immunizations. About a
third of the resources are "noise" a JDM service does not use (heart rate, sodium, paracetamol...),
as in a real chart.

Every date is relative to ``now``, so a record generated today is "recent". The same
(size, now, seed) always gives the same record. Every resource is valid FHIR R4B.

Output forms:
- :func:`hook_request`: a CDS Hooks ``patient-view`` request with FULL prefetch (every key the
  service's discovery document asks for, each a searchset Bundle);
- :func:`transaction_bundle`: a transaction Bundle (PUT by id) to load a FHIR server.

Command line (from the repository root)::

    python -m bench.generate --out build/bench --sizes 50,300,3000,10000 \
        [--now 2026-01-01T09:00:00+00:00]
    python -m bench.generate --warm-up   # rewrites cds_service/serving/warmup_record.json

The warm-up record (the pipeline's first run before serving, cds_service/serving/warmup.py) is
this generator's seed case at 120 resources, dated around its ``WARMUP_NOW``.
"""

from __future__ import annotations

import argparse
import json
import re
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.record import LAB_PANEL, NOISE_LABS, NOISE_MEDS, NOISE_VITALS, Record
from cds_service.serving.warmup import WARMUP_NOW, WARMUP_PATIENT
from fhir_fixtures import builders as b
from fhir_fixtures.builders import ROUTE_IV, ROUTE_ORAL, ROUTE_SC

SIZES: tuple[int, ...] = (50, 300, 3000, 10000)

# --- the clinical story -----------------------------------------------------------------------

DIAGNOSIS_DAYS_AGO = 150


def weight_kg(age_years: float) -> float:
    """A plausible girl's weight for age (rough, smooth; not a growth reference)."""
    if age_years < 1:
        return 3.4 + 6.6 * age_years
    return 10.0 + 2.4 * (age_years - 1)


def height_cm(age_years: float) -> float:
    if age_years < 1:
        return 50 + 25 * age_years
    return 75 + 6.2 * (age_years - 1)


def seed_case(record: Record) -> None:
    """The seed case: first-line therapy given, weakness persists, new dysphagia; no IVIG yet."""
    record.patient()
    record.condition([b.JDM], DIAGNOSIS_DAYS_AGO)
    record.condition([b.PROXIMAL_WEAKNESS.shown_as("Proximal muscle weakness")], DIAGNOSIS_DAYS_AGO)
    dysphagia = [b.DYSPHAGIA.shown_as("Dysphagia"), b.DYSPHAGIA_OROPHARYNGEAL.shown_as("Dysphagia")]
    record.condition(dysphagia, 20)
    record.condition([b.UPPER_RESPIRATORY_INFECTION], 700, active=False)
    record.condition([b.DERMATITIS], 1500, active=False)
    record.allergy()
    record.immunization(b.MMR_VACCINE.shown_as("MMR"), 365 * 8)
    record.immunization(b.DTAP, 365 * 5)
    record.procedure(b.ECG, DIAGNOSIS_DAYS_AGO - 5)
    kg = weight_kg(record.age_years(DIAGNOSIS_DAYS_AGO))
    mp = b.METHYLPREDNISOLONE
    mp_dose = (round(min(30 * kg, 1000)), "mg")
    order = record.medication_request(
        mp, DIAGNOSIS_DAYS_AGO, "30 mg/kg IV daily x3", mp_dose, ROUTE_IV, status="completed",
        end_days_ago=DIAGNOSIS_DAYS_AGO - 3,
    )  # fmt: skip
    for day in range(3):
        record.administration(mp, DIAGNOSIS_DAYS_AGO - day, mp_dose, ROUTE_IV, order)
    pred = b.PREDNISOLONE
    taper = [(DIAGNOSIS_DAYS_AGO - 3, 2.0), (DIAGNOSIS_DAYS_AGO - 33, 1.5), (60, 1.0), (25, 0.7)]
    for index, (start, mg_per_kg) in enumerate(taper):
        last = index == len(taper) - 1
        end = None if last else taper[index + 1][0]
        daily_mg = round(min(mg_per_kg * kg, 60))
        record.medication_request(
            pred, start, f"{daily_mg} mg orally once daily", (daily_mg, "mg"), ROUTE_ORAL,
            status="active" if last else "completed", end_days_ago=end,
        )  # fmt: skip
    mtx = b.METHOTREXATE
    mtx_order = record.medication_request(
        mtx, 30, "15 mg/m2 subcutaneously once weekly", (12.5, "mg"), ROUTE_SC,
        frequency=(1, 1, "wk"),
    )  # fmt: skip
    for week in range(4):
        record.administration(mtx, 30 - 7 * week, (12.5, "mg"), ROUTE_SC, mtx_order)
    record.medication_request(b.FOLIC_ACID, 30, "1 mg orally once daily", (1, "mg"), ROUTE_ORAL)
    for score, value in ((b.CMAS, 30.0), (b.MMT8, 58.0)):
        record.quantity_obs(score, value, "{score}", 7, "exam")
    record.quantity_obs(b.WEIGHT, weight_kg(record.age_years(7)), "kg", 7, "vital-signs")
    record.quantity_obs(b.HEIGHT, height_cm(record.age_years(7)), "cm", 7, "vital-signs")


def routine_visit(record: Record, days_ago: float) -> Iterator[None]:
    """One visit's resources, yielded one at a time so the caller can stop at an exact size."""
    rng = record.rng
    active = days_ago <= DIAGNOSIS_DAYS_AGO
    age = record.age_years(days_ago)
    weight = weight_kg(age) * rng.uniform(0.97, 1.03)
    record.quantity_obs(b.WEIGHT, weight, "kg", days_ago, "vital-signs")
    yield
    for code, unit, low, high in NOISE_VITALS:
        record.quantity_obs(code, rng.uniform(low, high), unit, days_ago, "vital-signs")
        yield
    if rng.random() < 0.3:
        record.quantity_obs(b.HEIGHT, height_cm(age), "cm", days_ago, "vital-signs")
        yield
    for _concept, code, unit, low, high, active_value in LAB_PANEL:
        value = active_value * rng.uniform(0.8, 1.2) if active else rng.uniform(low, high)
        record.quantity_obs(code, value, unit, days_ago)
        yield
    for code, unit, low, high in NOISE_LABS:
        record.quantity_obs(code, rng.uniform(low, high), unit, days_ago)
        yield
    if active:
        record.quantity_obs(b.CMAS, rng.uniform(25, 36), "{score}", days_ago, "exam")
        yield
    if rng.random() < 0.25:
        rx, _route = rng.choice(NOISE_MEDS)
        order = record.medication_request(
            rx, days_ago, "as needed", (250, "mg"), ROUTE_ORAL,
            status="completed", end_days_ago=max(days_ago - 5, 0),
        )  # fmt: skip
        yield
        record.administration(rx, days_ago, (250, "mg"), ROUTE_ORAL, order)
        yield


def generate_record(
    size: int, now: datetime, *, patient_id: str = "bench", seed: int = 7
) -> list[dict[str, Any]]:
    """Exactly `size` resources (at least the seed case's ~40) for one patient."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    record = Record(patient_id, now, seed)
    seed_case(record)
    # visits spread back from now; a bigger chart is a longer and denser history
    span_days = min(max(size * 0.9, 120.0), record.age_years(0) * 365.25 - 30)
    visit_resources = 20  # a routine visit yields about 20 resources
    visits = max(1, (size - len(record.resources)) // visit_resources + 1)
    step = span_days / visits
    days_ago = 3.0
    while len(record.resources) < size:
        for _ in routine_visit(record, days_ago):
            if len(record.resources) >= size:
                break
        days_ago += step
    return record.resources[:size]


# --- output forms -------------------------------------------------------------------------------

DEFAULT_PREFETCH: Mapping[str, str] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "medicationRequests": "MedicationRequest?patient={{context.patientId}}",
    "medicationAdministrations": "MedicationAdministration?patient={{context.patientId}}",
    "medicationStatements": "MedicationStatement?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "scoreObservations": (
        "Observation?patient={{context.patientId}}"
        "&category=survey,exam,functional-status,functional-mental-status"
    ),
    "procedures": "Procedure?patient={{context.patientId}}",
    "immunizations": "Immunization?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}


def _template_type(template: str) -> str:
    match = re.match(r"([A-Z][A-Za-z]+)[/?]", template)
    if match is None:
        raise ValueError(f"cannot tell the resource type of prefetch template {template!r}")
    return match.group(1)


def searchset(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return b.searchset(resources, b.stable_urn)


def _categories(template: str) -> frozenset[str] | None:
    """The codes of a template's ``category=`` filter (None when it has none)."""
    query = template.partition("?")[2]
    for name, _, value in (part.partition("=") for part in query.split("&")):
        if name == "category":
            return frozenset(value.split(","))
    return None


def _in_categories(resource: Mapping[str, Any], codes: frozenset[str]) -> bool:
    categories = resource.get("category") or []
    return any(c.get("code") in codes for cat in categories for c in cat.get("coding", []))


def full_prefetch(
    resources: Sequence[Mapping[str, Any]],
    templates: Mapping[str, str] = DEFAULT_PREFETCH,
    *,
    by_category: bool = True,
) -> dict[str, Any]:
    """Each template key filled with every resource of its type (a searchset; Patient as is).

    Filters by code in the templates are deliberately NOT applied: the benchmark sends the whole
    chart, as a client that ignores search parameters would, so the service's own filter is timed.
    A filter by category (the assessment-category key) is applied, so that key carries what a
    server returns for it and not every Observation a second time; ``by_category=False`` sends
    that worst case instead (``bench/run.py --every-key-unfiltered``).
    """
    prefetch: dict[str, Any] = {}
    for key, template in templates.items():
        resource_type = _template_type(template)
        matching = [r for r in resources if r["resourceType"] == resource_type]
        codes = _categories(template) if by_category else None
        if codes is not None:
            matching = [r for r in matching if _in_categories(r, codes)]
        if template.startswith(f"{resource_type}/"):
            prefetch[key] = matching[0] if matching else None
        else:
            prefetch[key] = searchset(matching)
    return prefetch


def hook_request(
    resources: Sequence[Mapping[str, Any]],
    patient_id: str,
    *,
    templates: Mapping[str, str] = DEFAULT_PREFETCH,
    fhir_server: str | None = None,
    with_prefetch: bool = True,
    by_category: bool = True,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/bench-user", "patientId": patient_id},
    }
    if fhir_server is not None:
        request["fhirServer"] = fhir_server
    if with_prefetch:
        request["prefetch"] = full_prefetch(resources, templates, by_category=by_category)
    return request


def bench_orders(patient_id: str) -> list[dict[str, Any]]:
    """Two draft orders for order-sign: methotrexate 2.5 mg tablets x 5 daily (the Sandbox's
    Rx Sign order) and IVIG 52 g a day for 2 days (the course written per day)."""
    rxnorm, ucum = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://unitsofmeasure.org"

    def order(local: str, code: str, name: str, dose: float, unit: str, count: int | None) -> Any:
        repeat: dict[str, Any] = {"frequency": 1, "period": 1, "periodUnit": "d"}
        if count is not None:
            repeat["count"] = count
        return {
            "resourceType": "MedicationRequest",
            "id": f"{patient_id}-{local}",
            "status": "draft",
            "intent": "order",
            "subject": {"reference": f"Patient/{patient_id}"},
            "medicationCodeableConcept": {
                "coding": [{"system": rxnorm, "code": code, "display": name}],
                "text": name,
            },
            "dosageInstruction": [
                {
                    "timing": {"repeat": repeat},
                    "route": {"text": "intravenous"} if local == "ivig" else {"text": "oral"},
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": dose,
                                "unit": unit,
                                "system": ucum,
                                "code": unit,
                            }
                        }
                    ],
                }
            ],
        }

    return [
        order("mtx", "579782", "Methotrexate 2.5 MG Oral Tablet [Rheumatrex]", 5, "{pill}", None),
        order("ivig", "5665", "immune globulin (IVIG) 10%", 52, "g", 2),
    ]


def transaction_bundle(resources: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return b.transaction(resources)


WARMUP_PATH = Path(__file__).resolve().parent.parent / "cds_service/serving/warmup_record.json"
WARMUP_SIZE = 120


def warmup_record_text() -> str:
    """The text of cds_service/serving/warmup_record.json: one searchset of the warm-up child."""
    record = searchset(generate_record(WARMUP_SIZE, WARMUP_NOW, patient_id=WARMUP_PATIENT))
    record["id"] = "jdm-cds-warmup"
    return json.dumps(record, separators=(",", ":"))


def _parse_now(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise SystemExit("--now needs an offset, e.g. 2026-01-01T09:00:00+00:00")
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the files")
    parser.add_argument("--warm-up", action="store_true", help=f"rewrite {WARMUP_PATH.name}")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--now", help="ISO date-time with offset (default: now, UTC)")
    args = parser.parse_args(argv)
    if args.warm_up:
        WARMUP_PATH.write_text(warmup_record_text(), encoding="utf-8")
        print(f"{WARMUP_SIZE} resources -> {WARMUP_PATH}")
        return 0
    if args.out is None:
        parser.error("--out is required (or --warm-up)")
    now = _parse_now(args.now)
    args.out.mkdir(parents=True, exist_ok=True)
    for size in (int(s) for s in args.sizes.split(",")):
        patient_id = f"bench-{size}"
        resources = generate_record(size, now, patient_id=patient_id)
        request = hook_request(resources, patient_id)
        (args.out / f"{size}.request.json").write_text(json.dumps(request))
        (args.out / f"{size}.bundle.json").write_text(json.dumps(transaction_bundle(resources)))
        print(f"{size}: {len(resources)} resources -> {args.out}/{size}.{{request,bundle}}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
