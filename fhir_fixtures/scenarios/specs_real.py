"""Scenarios: JDM histories coded the way EHR vendors code them (docs/therapy-history.md).

One ``in-real-<pattern>`` and one ``out-real-<pattern>`` per pattern. Each chart is the seed or the
refractory girl (charts.py) with one part of her record re-coded as a vendor sends it; the
description says which vendor's public documentation shows that shape (the sources are listed in
fhir_fixtures/builders/vendors.py and fhir_fixtures/scenarios/README.head.md). The expectations are
the clinical docs' (docs/clinical/decision-model.md, dosing.md, safety.md, codes.md): a pattern
read correctly gives the same cards as the plainly coded chart; what cannot be read is named.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.builders import vendors as v
from fhir_fixtures.builders.codes import Code
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, refractory, seed
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Scenario, steps

Json = dict[str, Any]
Step = Callable[[Chart], object]
RX = b.RXNORM
DQ = "data-quality"

# --- codes as the vendors send them (each in its value set, with the value set's source) -------
PRIVIGEN_NDC = Code(v.NDC, "44206-436-05")  # ivig.json: the DailyMed label's package NDC
PRIVIGEN_SBD = Code(RX, "1809518")  # ivig.json: Privigen 10 % Injection (SBD)
GAMMAKED_SBD = Code(RX, "1809437")  # ivig.json: Gammaked 10 % Injection, IV only when said so
CUTAQUIG_BN = Code(RX, "2167148")  # immune-globulin-other.json: subcutaneous IgG
GAMASTAN_SBD = Code(RX, "1809038")  # immune-globulin-other.json: intramuscular IgG
HBIG = Code(RX, "1658124")  # immune-globulin-other.json: hepatitis B immune globulin Injection
OTREXUP_SBD = Code(RX, "1441404")  # methotrexate.json: methotrexate 25 MG/ML [Otrexup]
MTX_TABLET_SCD = Code(RX, "105585", "methotrexate 2.5 MG Oral Tablet")  # methotrexate.json
ORAPRED_ODT_SBD = Code(RX, "647126")  # glucocorticoid-oral.json: [Orapred] ODT
A_METHAPRED_BN = Code(RX, "203857")  # methylprednisolone-iv.json: A-MethaPred
EBETREX_AMP = Code(v.DMD, "19954411000001108")  # methotrexate.json: Ebetrex 15mg/1.5ml PFS (AMP)
# no value set of the service holds these: an IV drug it does not classify
INFLIXIMAB = Code(RX, "191831", "infliximab")
ALBUMIN = Code(RX, "1362", "albumin human")


def cc(*codes: Code, text: str | None = None) -> Json:
    """A CodeableConcept exactly as given: codings without display when the code has none."""
    return b.concept(*codes, text=text)


def _recode(resource_type: str, prefix: str, concept: Json) -> Step:
    """Every `resource_type` whose local name starts with `prefix` now names `concept`."""

    def step(c: Chart) -> None:
        start = c.id(prefix)
        found = [
            r
            for r in c.resources
            if r["resourceType"] == resource_type and str(r["id"]).startswith(start)
        ]
        if not found:
            raise KeyError(f"{c.scenario}: no {resource_type} {prefix}*")
        for resource in found:
            key = "code" if resource_type in ("Condition", "Observation") else None
            resource[key or "medicationCodeableConcept"] = concept

    return step


def _ig_course(
    local: str, concept: Json, *, last_days_ago: int, route: Code | None = b.ROUTE_IV
) -> Step:
    """Two daily infusions of 26 g of an immune globulin product, the last `last_days_ago` ago."""

    def step(c: Chart) -> None:
        for n in range(2):
            c.add(
                b.medication_administration(
                    c.id(f"{local}-d{n + 1}"),
                    c.pid,
                    concept,
                    effective=at(days_ago=last_days_ago + 1 - n),
                    dosage=b.administration_dosage(
                        route=None if route is None else cc(route),
                        dose=b.quantity(26, "g"),
                    ),
                )
            )

    return step


def _on_ivig(last_days_ago: int, concept: Json, *, route: Code | None = b.ROUTE_IV) -> Step:
    """Refractory JDM (methotrexate for 40 weeks, labs a week ago) + one course of `concept`."""

    def step(c: Chart) -> None:
        refractory(c, mtx_days=280, labs_days_ago=7)
        _ig_course("ivig-1", concept, last_days_ago=last_days_ago, route=route)(c)

    return step


def _with(step: Step, *more: Step) -> Step:
    return steps(step, *more)  # type: ignore[arg-type]


def _ivig_order(concept: Json, *, status: str, authored_days_ago: float) -> Step:
    """An IVIG order: 26 g IV daily for 2 days, from the day after it was written."""

    def step(c: Chart) -> None:
        start = at(days_ago=authored_days_ago - 1)
        end = at(days_ago=authored_days_ago - 2)
        c.add(
            b.medication_request(
                c.id("ivig-order"),
                c.pid,
                concept,
                authored=at(days_ago=authored_days_ago),
                status=status,
                dosage=[
                    b.dosage(
                        timing=b.timing(1, 1, "d", bounds=b.period(start, end)),
                        route=cc(b.ROUTE_IV),
                        dose=b.quantity(26, "g"),
                    )
                ],
            )
        )

    return step


def _jdm_coded(concept: Json, *, birth: str | None = None, onset: str | None = None) -> Step:
    def step(c: Chart) -> None:
        jdm = c.get("jdm")
        jdm["code"] = concept
        if birth is not None:
            c.get("pat")["birthDate"] = birth
        if onset is not None:
            jdm["onsetDateTime"] = onset

    return step


def _encounter_diagnosis(*, abated_days_ago: int | None = None) -> Step:
    """The JDM diagnosis as an encounter diagnosis with no clinicalStatus (US Core allows it)."""

    def step(c: Chart) -> None:
        jdm = c.get("jdm")
        del jdm["clinicalStatus"]
        jdm["category"] = [b.concept(Code(b.CONDITION_CATEGORY, "encounter-diagnosis"))]
        if abated_days_ago is not None:
            jdm["abatementDateTime"] = at(days_ago=abated_days_ago)

    return step


def _observation(local: str, code: Json, *, days_ago: float, category: str, **value: Any) -> Step:
    def step(c: Chart) -> None:
        resource = b.observation(
            c.id(local), c.pid, code, effective=at(days_ago=days_ago), category=category
        )
        resource.update(value)
        c.add(resource)

    return step


def _free_text_problem(local: str, text: str, *, days_ago: float) -> Step:
    """A problem recorded with words only (no code), as a clinician types it."""

    def step(c: Chart) -> None:
        c.add(
            b.condition(
                c.id(local),
                c.pid,
                b.concept(text=text),
                clinical_status="active",
                verification_status="confirmed",
                category=[b.concept(fb.PROBLEM_LIST_ITEM)],
                onset=at(days_ago=days_ago),
                recorded=at(days_ago=days_ago),
            )
        )

    return step


def _score_row(local: str, name: str, value: int, *, days_ago: float, code: str) -> Step:
    """A strength score filed as an Epic flowsheet row: local code, category survey."""
    concept = cc(v.local(v.EPIC_FLOWSHEET, code, name), text=name)
    return _observation(
        local,
        concept,
        days_ago=days_ago,
        category="survey",
        valueQuantity={"value": value},
    )


def _relabel(local: str, code: Json, *, value: Any = None, unit: str | None = None) -> Step:
    """The Observation `local` coded as `code` (and its value in `unit`)."""

    def step(c: Chart) -> None:
        resource = c.get(local)
        resource["code"] = code
        if value is not None:
            resource["valueQuantity"] = b.quantity(value, unit)
        if "referenceRange" in resource and unit is not None:
            for bound in resource["referenceRange"]:
                for side in ("low", "high"):
                    if side in bound:
                        bound[side] = bound[side] | {"unit": unit, "code": unit}

    return step


def _vitals_panel(local: str, kg: float, *, days_ago: float) -> Step:
    """Weight as a component of the vital-signs panel (LOINC 85353-1), no value of its own."""

    def step(c: Chart) -> None:
        panel = b.observation(
            c.id(local),
            c.pid,
            cc(Code(b.LOINC, "85353-1", "Vital signs panel")),
            effective=at(days_ago=days_ago),
            category="vital-signs",
        )
        panel["component"] = [
            {"code": cc(b.WEIGHT), "valueQuantity": b.quantity(kg, "kg")},
            {"code": cc(b.HEART_RATE), "valueQuantity": b.quantity(96, "/min")},
        ]
        c.add(panel)

    return step


def _weight_coded(local: str, code: Json, value: Any, unit: str, *, days_ago: float) -> Step:
    def step(c: Chart) -> None:
        c.add(
            b.observation(
                c.id(local),
                c.pid,
                code,
                effective=at(days_ago=days_ago),
                category="vital-signs",
                value_quantity=b.quantity(value, unit),
            )
        )

    return step


def _mtx_order_only(dose_and_rate: list[Json], medication: Json, *, intent: str = "order") -> Step:
    """Methotrexate known only from its weekly order (no administrations), 14 weeks ago."""

    def step(c: Chart) -> None:
        c.drop_type("MedicationAdministration", "mtx-")
        order = c.get("mtx-order")
        order["medicationCodeableConcept"] = medication
        order["intent"] = intent
        order["dosageInstruction"][0]["doseAndRate"] = dose_and_rate
        if intent == "plan":
            order["reportedBoolean"] = True
            order["category"] = [
                cc(
                    Code(
                        "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                        "community",
                    )
                )
            ]

    return step


def _dose(value: float, unit: str) -> Json:
    return {"doseQuantity": b.quantity(value, unit)}


def _foreign_weight(
    kg: float, subject: Callable[[Chart], str], *, prefetch_only: bool = False
) -> Step:
    """A weight from yesterday about the patient `subject` names; a reference a FHIR server
    cannot resolve (an urn:uuid naming no entry) makes it prefetch-only."""

    def step(c: Chart) -> None:
        c.weight("w-new", kg, days_ago=1)
        c.get("w-new")["subject"] = {"reference": subject(c)}
        if prefetch_only:
            c.prefetch_only.add("w-new")

    return step


def _other_version(local: str, kg: float, *, sent_version: str, current_version: str) -> Step:
    """The prefetch holds two versions of one weight; the server keeps only the current one."""

    def step(c: Chart) -> None:
        current = c.get(local)
        current["meta"] = {"versionId": current_version}
        older = {**current, "meta": {"versionId": sent_version}}
        older["valueQuantity"] = {**current["valueQuantity"], "value": kg}
        c.prefetch_versions.append(older)

    return step


def _weight_value(local: str, value: Any, *, prefetch_only: bool = False) -> Step:
    def step(c: Chart) -> None:
        c.get(local)["valueQuantity"]["value"] = value
        if prefetch_only:
            c.prefetch_only.add(local)

    return step


def _pulse_date_absent(local: str, *, last_updated: bool = True) -> Step:
    """An R4 MedicationAdministration whose required date is a data-absent-reason extension."""

    def step(c: Chart) -> None:
        pulse = c.get(local)
        recorded = pulse.pop("effectiveDateTime")
        pulse["_effectiveDateTime"] = {
            "extension": [
                {
                    "url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                    "valueCode": "unknown",
                }
            ]
        }
        if last_updated:
            pulse["meta"] = {"lastUpdated": recorded}
        c.prefetch_only.add(local)

    return step


def _iv_drug(
    local: str, concept: Json, *, days_ago: float, route: Code | None = b.ROUTE_IV
) -> Step:
    def step(c: Chart) -> None:
        c.add(
            b.medication_administration(
                c.id(local),
                c.pid,
                concept,
                effective=at(days_ago=days_ago),
                dosage=b.administration_dosage(
                    route=None if route is None else cc(route), dose=b.quantity(100, "mg")
                ),
            )
        )

    return step


def _patient_in_bundle(c: Chart, request: Json) -> None:
    """HealthChain's client: the Patient key as a collection Bundle holding the Patient."""
    patient = request["prefetch"]["patient"]
    request["prefetch"]["patient"] = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": b.stable_urn(patient), "resource": patient}],
    }


def _observations_not_a_bundle(c: Chart, request: Json) -> None:
    """A client that answers the Observation search with one bare Observation, not a Bundle."""
    request["prefetch"]["observations"] = c.get("w-now")


def _urn_uuid_subjects(c: Chart, request: Json) -> None:
    """Synthea's shape: the Patient travels as a collection Bundle entry with an urn:uuid
    fullUrl, and every other resource names it by that urn:uuid."""
    _patient_in_bundle(c, request)
    patient_urn = request["prefetch"]["patient"]["entry"][0]["fullUrl"]
    for key, value in request["prefetch"].items():
        if key == "patient":
            continue
        for entry in value.get("entry", []):
            resource = entry["resource"]
            for element in ("subject", "patient"):
                if resource.get(element, {}).get("reference") == f"Patient/{c.pid}":
                    resource[element] = {"reference": patient_urn}


def _current_order_in_ml(c: Chart) -> None:
    """The current prednisolone order written in mL of a solution whose strength is not given."""
    order = c.get("pred-2")
    order["medicationCodeableConcept"] = cc(b.PREDNISOLONE, text="prednisolone oral solution")
    order["dosageInstruction"][0]["doseAndRate"] = [_dose(8, "mL")]


def _contraceptive_and_old_order(c: Chart) -> None:
    """Noise: a combined oral contraceptive dosed in tablets, and a prednisolone order stopped
    four years ago whose dose was written in mL."""
    pill = b.medication_request(
        c.id("coc"),
        c.pid,
        cc(Code(RX, "748962", "ethinyl estradiol 0.03 MG / levonorgestrel 0.15 MG Oral Tablet")),
        authored=at(days_ago=200),
        status="active",
        dosage=[b.dosage(timing=b.timing(1, 1, "d"), dose=b.quantity(1, "{tbl}"))],
    )
    old = b.medication_request(
        c.id("pred-2022"),
        c.pid,
        cc(b.PREDNISOLONE),
        authored=at(days_ago=1500),
        status="stopped",
        dosage=[
            b.dosage(
                timing=b.timing(1, 1, "d", bounds=b.period(at(days_ago=1500), at(days_ago=1460))),
                dose=b.quantity(5, "mL"),
            )
        ],
    )
    c.add(pill, old)


SEED_CARDS = [x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"]), x.dysphagia()]
NO_DRAFT_NAMES_WHY = [["no ivig draft order is offered", "withheld"]]


def _withheld(*evidence: str, name: list[str]) -> list[x.Card]:
    """ivig-start with its dose but no draft order, and the data-quality card naming the unread
    medicine (docs/clinical/decision-model.md, never silent)."""
    return [
        x.ivig_start(hard_stop=True, mentions=NO_DRAFT_NAMES_WHY),
        x.card(DQ, "info", evidence=list(evidence), mentions=[name]),
    ]


SCENARIOS = [
    # --- 1. drugs recognised at product level ---
    Scenario(
        "in-real-ivig-ndc-only",
        "Cerner/Oracle Health (fhir.cerner.com MedicationRequest/MedicationAdministration: NDC "
        "under http://hl7.org/fhir/sid/ndc): an IVIG course a week ago recorded by its package "
        "NDC only, no text. It is IVIG: no ivig-start, nothing due (labs a week ago): no cards.",
        _on_ivig(7, cc(PRIVIGEN_NDC)),
        [],
    ),
    Scenario(
        "out-real-ivig-ndc-only",
        "The same NDC-only course 27 weeks ago: outside the 8 weeks and the trial lapsed, still "
        "weak -> ivig-start with the draft order (52 g).",
        _on_ivig(189, cc(PRIVIGEN_NDC)),
        [x.ivig_start()],
    ),
    Scenario(
        "in-real-ivig-rxnorm-sbd-epic",
        "Epic (an ERX id under urn:oid:1.2.840.114350…698288 beside the RxNorm SBD, no text): "
        "Privigen 10 % a week ago is IVIG -> no cards.",
        _on_ivig(7, cc(v.local(v.EPIC_MEDICATION, "123456"), PRIVIGEN_SBD)),
        [],
    ),
    Scenario(
        "out-real-ivig-rxnorm-sbd-epic",
        "The same Epic-coded Privigen infusions entered in error: not given -> ivig-start with "
        "the draft order.",
        _with(
            _on_ivig(7, cc(v.local(v.EPIC_MEDICATION, "123456"), PRIVIGEN_SBD)),
            lambda c: [c.get(f"ivig-1-d{n}").update(status="entered-in-error") for n in (1, 2)],
        ),
        [x.ivig_start()],
        forbidden=("ivig-1-d1", "ivig-1-d2"),
    ),
    Scenario(
        "in-real-ivig-active-order",
        "Epic/Cerner: an active IVIG order (Gammaked 10 % SBD, IV, 26 g/day x 2 from tomorrow) "
        "is a course already ordered: no ivig-start and no second draft "
        "(decision-model.md §3: no IVIG order in force); nothing else is due -> no cards.",
        _with(
            refractory,
            _ivig_order(cc(GAMMAKED_SBD), status="active", authored_days_ago=0.5),
        ),
        [],
    ),
    Scenario(
        "out-real-ivig-active-order",
        "The same IVIG order, completed 200 days ago: no course in the last 8 weeks -> "
        "ivig-start with the draft.",
        _with(
            refractory,
            _ivig_order(cc(GAMMAKED_SBD), status="completed", authored_days_ago=200),
        ),
        [x.ivig_start()],
    ),
    Scenario(
        "in-real-brand-names",
        "Brands by RxNorm code only (methylprednisolone-iv.json, glucocorticoid-oral.json, "
        "methotrexate.json): A-MethaPred pulses, Orapred ODT and Otrexup for 14 weeks, still "
        "weak -> first-line therapy recognised: ivig-start (warning).",
        _with(
            refractory,
            _recode("MedicationAdministration", "mp-", cc(A_METHAPRED_BN)),
            _recode("MedicationRequest", "pred-", cc(ORAPRED_ODT_SBD)),
            _recode("MedicationAdministration", "mtx-", cc(OTREXUP_SBD)),
            _recode("MedicationRequest", "mtx-order", cc(OTREXUP_SBD)),
        ),
        [x.ivig_start(evidence_any_of=x.MTX_EVIDENCE)],
    ),
    Scenario(
        "out-real-brand-names",
        "The same brands with Otrexup for only 6 weeks: the first-line window, not IVIG.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            _recode("MedicationAdministration", "mp-", cc(A_METHAPRED_BN)),
            _recode("MedicationRequest", "pred-", cc(ORAPRED_ODT_SBD)),
            _recode("MedicationAdministration", "mtx-", cc(OTREXUP_SBD)),
            _recode("MedicationRequest", "mtx-order", cc(OTREXUP_SBD)),
        ),
        [x.first_line_window()],
    ),
    Scenario(
        "in-real-dmd-methotrexate-uk",
        "UK (NHS England UK Core: dm+d AMP under https://dmd.nhs.uk, SNOMED CT first): weekly "
        "Ebetrex 15 mg pre-filled syringes for 14 weeks and JDM coded SNOMED CT 1212005 only -> "
        "ivig-start (warning).",
        _with(
            refractory,
            _recode("MedicationAdministration", "mtx-", cc(EBETREX_AMP)),
            _recode("MedicationRequest", "mtx-order", cc(EBETREX_AMP)),
            _jdm_coded(cc(Code(b.SNOMED, "1212005"))),
        ),
        [x.ivig_start(evidence_any_of=x.MTX_EVIDENCE)],
    ),
    Scenario(
        "out-real-dmd-methotrexate-uk",
        "The same dm+d-coded methotrexate for 6 weeks: the first-line window.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            _recode("MedicationAdministration", "mtx-", cc(EBETREX_AMP)),
            _recode("MedicationRequest", "mtx-order", cc(EBETREX_AMP)),
            _jdm_coded(cc(Code(b.SNOMED, "1212005"))),
        ),
        [x.first_line_window()],
    ),
    # --- 2. code systems as EHRs send them ---
    Scenario(
        "in-real-icd10cm-oid-no-dot",
        "Epic (an EDG id under urn:oid:1.2.840.114350…728286 beside ICD-10-CM sent under its "
        "OID 2.16.840.1.113883.6.90 and without the dot, M3302; no text): JDM in scope -> the "
        "seed's cards.",
        _with(
            seed, _jdm_coded(cc(v.local(v.EPIC_DIAGNOSIS, "80301"), Code(v.ICD10_CM_OID, "M3302")))
        ),
        SEED_CARDS,
    ),
    Scenario(
        "out-real-icd10cm-oid-no-dot",
        "The same OID, no-dot coding of adult dermatomyositis (M3312) in a 34-year-old with "
        "onset at 30: out of scope, no cards.",
        _with(
            seed,
            _jdm_coded(cc(Code(v.ICD10_CM_OID, "M3312")), birth="1992-02-01", onset="2022-06-01"),
        ),
        [],
    ),
    Scenario(
        "in-real-who-icd10",
        "WHO ICD-10 (http://hl7.org/fhir/sid/icd-10, as European and UK secondary-care systems "
        "send it) M33.0 juvenile dermatomyositis, no text -> the seed's cards.",
        _with(seed, _jdm_coded(cc(Code(v.ICD10_WHO, "M33.0")))),
        SEED_CARDS,
    ),
    Scenario(
        "out-real-who-icd10",
        "WHO ICD-10 M33.2 (polymyositis) is not dermatomyositis: out of scope, no cards.",
        _with(seed, _jdm_coded(cc(Code(v.ICD10_WHO, "M33.2")))),
        [],
    ),
    Scenario(
        "in-real-loinc-oid-weight",
        "Epic-shaped weight: LOINC under its OID (urn:oid:2.16.840.1.113883.6.1) beside an Epic "
        "flowsheet id: the 26 kg weight is read -> seed dose 52 g.",
        _with(
            seed,
            _relabel(
                "w-now",
                cc(v.local(v.EPIC_FLOWSHEET, "14"), Code(v.LOINC_OID, "29463-7"), text="Weight"),
            ),
        ),
        SEED_CARDS,
    ),
    Scenario(
        "out-real-loinc-oid-weight",
        "A LOINC code under the OID that is no weight (8867-4, heart rate) and no other weight "
        "within 30 days: no dose, weight-needed.",
        _with(
            seed,
            lambda c: c.drop("w-old"),
            _relabel("w-now", cc(Code(v.LOINC_OID, "8867-4")), value=96, unit="/min"),
        ),
        [
            x.ivig_start("critical", dose=None, evidence=["dys"]),
            x.weight_needed(),
            x.dysphagia(),
        ],
    ),
    # --- 1. route and kind of immune globulin ---
    Scenario(
        "in-real-ig-subcutaneous",
        "Cutaquig (subcutaneous IgG, immune-globulin-other.json) given SC a week ago is not "
        "IVIG: ivig-start with the draft order, and the therapy so far names it as immune "
        "globulin not counted as IVIG.",
        _on_ivig(7, cc(CUTAQUIG_BN), route=b.ROUTE_SC),
        [x.ivig_start(mentions=[["immune globulin not counted as ivig"]])],
    ),
    Scenario(
        "out-real-ig-subcutaneous",
        "Gammaked (IVIG or SC product) given intravenously a week ago is IVIG: no cards.",
        _on_ivig(7, cc(GAMMAKED_SBD)),
        [],
    ),
    Scenario(
        "in-real-ig-intramuscular",
        "GamaSTAN given intramuscularly a week ago (as for hepatitis A exposure) is not IVIG: "
        "ivig-start with the draft order.",
        _on_ivig(7, cc(GAMASTAN_SBD), route=v.ROUTE_IM),
        [x.ivig_start()],
    ),
    Scenario(
        "out-real-ig-intramuscular",
        "Gammaked a week ago with no route recorded: it may have been IVIG, so the IVIG draft is "
        "withheld and the data-quality card names the immune globulin.",
        _on_ivig(7, cc(GAMMAKED_SBD), route=None),
        _withheld("ivig-1-d1", "ivig-1-d2", name=["immune globulin", "gammaked"]),
    ),
    Scenario(
        "in-real-hyperimmune-globulin",
        "Hepatitis B immune globulin (a hyperimmune globulin) IM 10 days ago is not IVIG: "
        "ivig-start with the draft.",
        _on_ivig(10, cc(HBIG), route=v.ROUTE_IM),
        [x.ivig_start()],
    ),
    Scenario(
        "out-real-hyperimmune-globulin",
        "Privigen (IVIG) 10 days ago: no cards.",
        _on_ivig(10, cc(PRIVIGEN_SBD)),
        [],
    ),
    # --- 5. shapes ---
    Scenario(
        "in-real-intent-plan",
        "Cerner/Oracle Health home medication (fhir.cerner.com MedicationRequest: documented "
        "home medications; US Core's intent plan example in fhir_fixtures/real/): weekly "
        "methotrexate 15 mg known only as intent = plan for 14 weeks -> ivig-start.",
        _with(refractory, _mtx_order_only([_dose(15, "mg")], cc(b.METHOTREXATE), intent="plan")),
        [x.ivig_start(evidence=["mtx-order"])],
    ),
    Scenario(
        "out-real-intent-plan",
        "The same methotrexate only as intent = proposal (a suggestion nobody ordered): no "
        "methotrexate on record: not an adequate trial, so no ivig-start; the first-line window "
        "card says no methotrexate is on record (decision-model.md §2).",
        _with(
            refractory, _mtx_order_only([_dose(15, "mg")], cc(b.METHOTREXATE), intent="proposal")
        ),
        [x.card("first-line-window", "info", mentions=[["no methotrexate"], ["not started"]])],
        forbidden=("mtx-order",),
    ),
    Scenario(
        "in-real-condition-no-clinical-status",
        "Cerner/US Core encounter diagnosis: the JDM Condition has no clinicalStatus and no "
        "abatement -> counted as active (seed cards) and said on the data-quality card.",
        _with(seed, _encounter_diagnosis()),
        [*SEED_CARDS, x.card(DQ, "info", evidence=["jdm"])],
    ),
    Scenario(
        "out-real-condition-no-clinical-status",
        "The same encounter diagnosis with an abatement date 10 days ago: not active, out of "
        "scope, no cards.",
        _with(seed, _encounter_diagnosis(abated_days_ago=10)),
        [],
    ),
    Scenario(
        "in-real-dysphagia-observation",
        "Dysphagia recorded as a coded Observation (SNOMED CT 40739000, category exam) 3 days "
        "ago, methotrexate for 6 weeks: red flag -> ivig-start critical and "
        "dysphagia-aspiration.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            _observation("dys-obs", cc(b.DYSPHAGIA), days_ago=3, category="exam"),
        ),
        [x.ivig_start("critical", evidence=["dys-obs"]), x.dysphagia("dys-obs")],
    ),
    Scenario(
        "out-real-dysphagia-observation",
        "The same Observation recorded as absent (valueBoolean false): no red flag -> the "
        "first-line window.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            _observation(
                "dys-obs", cc(b.DYSPHAGIA), days_ago=3, category="exam", valueBoolean=False
            ),
        ),
        [x.first_line_window()],
        forbidden=("dys-obs",),
    ),
    Scenario(
        "in-real-dysphagia-free-text",
        "A problem typed as words only, the seed's own: 'Trouble swallowing, coughing with "
        "drinks' -> red flag, the card quotes the text: ivig-start critical and "
        "dysphagia-aspiration.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            _free_text_problem("dys-text", "Trouble swallowing, coughing with drinks", days_ago=4),
        ),
        [
            x.ivig_start("critical", evidence=["dys-text"]),
            x.card(
                "dysphagia-aspiration",
                "critical",
                evidence=["dys-text"],
                mentions=[*x.DYSPHAGIA_TEXT, ["trouble swallowing"]],
            ),
        ],
    ),
    Scenario(
        "out-real-dysphagia-free-text",
        "Negated words ('Denies trouble swallowing') are not a red flag: the first-line window.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            _free_text_problem("dys-text", "Denies trouble swallowing", days_ago=4),
        ),
        [
            x.first_line_window(),
            # a denied red flag is named, quoted (decision-model.md, never silent)
            x.card(DQ, "info", evidence=["dys-text"], mentions=[["denies trouble swallowing"]]),
        ],
    ),
    Scenario(
        "in-real-local-cmas",
        "Epic flowsheet row (urn:oid:1.2.840.114350…707679, category survey; docs/prefetch.md): "
        "'CMAS total score' 12 three days ago, read on both paths -> red flag (< 15): "
        "ivig-start critical after 6 weeks of methotrexate.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            lambda c: c.drop("cmas"),
            _score_row("cmas-local", "CMAS total score", 12, days_ago=3, code="3040101"),
        ),
        [x.ivig_start("critical", evidence=["cmas-local"])],
    ),
    Scenario(
        "out-real-local-cmas",
        "An item row of the same flowsheet ('CMAS head elevation' 1) is not a total: no red "
        "flag, the first-line window.",
        _with(
            lambda c: refractory(c, mtx_days=42),
            lambda c: c.drop("cmas"),
            _score_row("cmas-item", "CMAS head elevation", 1, days_ago=3, code="3040102"),
        ),
        [x.first_line_window()],
        forbidden=("cmas-item",),
    ),
    Scenario(
        "in-real-creatinine-umol",
        "Creatinine in umol/L under LOINC 14682-9 (with an Epic lab component id beside it), 75 "
        "above its range 27-62, no eGFR: renal warning, 5-day split.",
        _with(
            refractory,
            lambda c: c.drop("egfr"),
            _relabel(
                "creat",
                cc(v.local(v.EPIC_LAB_COMPONENT, "1526"), Code(b.LOINC, "14682-9")),
                value=75,
                unit="umol/L",
            ),
        ),
        [
            x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY),
            x.card("ivig-safety-renal", "warning", evidence=["creat"]),
        ],
    ),
    Scenario(
        "out-real-creatinine-umol",
        "The same 14682-9 creatinine at 40 umol/L (in range), no eGFR: no renal card.",
        _with(
            refractory,
            lambda c: c.drop("egfr"),
            _relabel(
                "creat",
                cc(v.local(v.EPIC_LAB_COMPONENT, "1526"), Code(b.LOINC, "14682-9")),
                value=40,
                unit="umol/L",
            ),
        ),
        [x.ivig_start(absent_checks=["renal", "renal-severe"])],
    ),
    Scenario(
        "in-real-weight-in-ounces",
        "Weight in [oz_av] (917.1 oz = 26.0 kg, as US vitals flowsheets may store it) -> 52 g.",
        _with(
            refractory,
            lambda c: c.get("w-now").update(valueQuantity=b.quantity(917.1, "[oz_av]")),
        ),
        [
            x.ivig_start(
                dose=x.DOSE_26_KG
                | {"weightKg": {"value": "26", "tolerance": "0.05"}}
                | {"uncappedTotalG": {"value": "52", "tolerance": "0.1"}}
                | {"courseTotalG": {"value": "52", "tolerance": "0.1"}}
                | {"perDayG": {"value": "26", "tolerance": "0.05"}}
                | {"fiveDayPerDayG": {"value": "10.4", "tolerance": "0.05"}}
                | {"volumeMl": {"value": "520", "tolerance": "1"}},
            )
        ],
    ),
    Scenario(
        "out-real-weight-in-ounces",
        "The same [oz_av] weight 45 days old: stale, no dose, weight-needed.",
        _with(
            refractory,
            lambda c: c.get("w-now").update(
                valueQuantity=b.quantity(917.1, "[oz_av]"), effectiveDateTime=at(days_ago=45)
            ),
        ),
        [x.ivig_start(dose=None), x.weight_needed("w-now")],
    ),
    Scenario(
        "in-real-weight-in-vitals-panel",
        "Weight only as a component of a vital-signs panel (85353-1) 2 days ago, 26 kg -> 52 g "
        "(FHIR R4 vitals panel example in fhir_fixtures/real/).",
        _with(seed, lambda c: c.drop("w-now", "w-old"), _vitals_panel("vitals", 26, days_ago=2)),
        [
            x.ivig_start("critical", dose=x.DOSE_26_KG, weight="vitals", evidence=["dys"]),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "out-real-weight-in-vitals-panel",
        "The same panel 45 days old and no other weight: stale, no dose, weight-needed.",
        _with(seed, lambda c: c.drop("w-now", "w-old"), _vitals_panel("vitals", 26, days_ago=45)),
        [
            x.ivig_start("critical", dose=None, evidence=["dys"]),
            x.weight_needed("vitals"),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "in-real-estimated-weight",
        "Cerner-style estimated weight (LOINC 8335-2 beside 29463-7) 2 days ago is the only "
        "weight: used, and the card says it is estimated -> 52 g.",
        _with(
            refractory,
            lambda c: c.drop("w-now"),
            _weight_coded(
                "w-est",
                cc(Code(b.LOINC, "8335-2", "Body weight Estimated"), b.WEIGHT),
                26,
                "kg",
                days_ago=2,
            ),
        ),
        [x.ivig_start(weight="w-est", mentions=[["estimated"]])],
    ),
    Scenario(
        "out-real-estimated-weight",
        "An estimated 30 kg yesterday beside a measured 26 kg 5 days ago: the measured weight "
        "doses (52 g, not 60 g).",
        _with(
            refractory,
            _weight_coded(
                "w-est",
                cc(Code(b.LOINC, "8335-2", "Body weight Estimated"), b.WEIGHT),
                30,
                "kg",
                days_ago=1,
            ),
        ),
        [x.ivig_start() | {"notMentions": ["60 g"]}],
    ),
    Scenario(
        "in-real-heights-8308-9",
        "Height coded LOINC 8308-9 (standing) only: rituximab by BSA on escalate-after-ivig "
        "(130 cm, 30 kg -> 780 mg).",
        _with(
            lambda c: refractory(c, mtx_days=280),
            lambda c: [
                c.ivig_course(f"ivig-{n}", last_days_ago=d, grams_per_day=30)
                for n, d in enumerate((100, 72, 44), start=1)
            ],
            lambda c: c.get("w-now")["valueQuantity"].update(value=30),
            _relabel("height", cc(Code(b.LOINC, "8308-9"))),
        ),
        [
            x.escalate(
                {
                    "agent": "rituximab",
                    "heightCm": "130",
                    "weightKg": "30",
                    "bsaM2": {"value": "1.04", "tolerance": "0.01"},
                    "perInfusionMg": {"value": "780", "tolerance": "1"},
                },
                evidence=["w-now", "height"],
            )
        ],
    ),
    Scenario(
        "out-real-heights-8308-9",
        "Height filed under an Epic flowsheet id only (no LOINC): no BSA, so escalate-after-ivig "
        "names rituximab 750 mg/m2 without an mg figure.",
        _with(
            lambda c: refractory(c, mtx_days=280),
            lambda c: [
                c.ivig_course(f"ivig-{n}", last_days_ago=d, grams_per_day=30)
                for n, d in enumerate((100, 72, 44), start=1)
            ],
            lambda c: c.get("w-now")["valueQuantity"].update(value=30),
            _relabel("height", cc(v.local(v.EPIC_FLOWSHEET, "11"))),
        ),
        [
            x.card(
                "escalate-after-ivig",
                "warning",
                doseAbsent=True,
                mentionsInOrder=x.ESCALATE_ORDER,
            )
        ],
    ),
    Scenario(
        "in-real-dose-and-rate-epic",
        "Epic orders carry several doseAndRate entries: 0.6 mL first, 15 mg second. The weekly "
        "methotrexate order (no administrations) is read as 15 mg -> ivig-start.",
        _with(
            refractory,
            _mtx_order_only([_dose(0.6, "mL"), _dose(15, "mg")], cc(b.METHOTREXATE)),
        ),
        [x.ivig_start(evidence=["mtx-order"], mentions=[["15 mg"]])],
    ),
    Scenario(
        "in-real-tablets-via-strength",
        "Methotrexate 2.5 MG Oral Tablet (RxNorm SCD), 6 tablets weekly: 15 mg by the strength "
        "in the product name -> ivig-start, the timeline says 15 mg.",
        _with(refractory, _mtx_order_only([_dose(6, "{tbl}")], cc(MTX_TABLET_SCD))),
        [x.ivig_start(evidence=["mtx-order"], mentions=[["15 mg"]])],
    ),
    Scenario(
        "out-real-tablets-via-strength",
        "6 tablets of 'methotrexate' with no strength anywhere: methotrexate is still on record "
        "(ivig-start) but no mg figure is guessed.",
        _with(
            refractory,
            _mtx_order_only([_dose(6, "{tbl}")], cc(b.METHOTREXATE, text="methotrexate")),
        ),
        [
            x.ivig_start(evidence=["mtx-order"]) | {"notMentions": ["15 mg"]},
            x.card(DQ, "info", evidence=["mtx-order"], mentions=[["no strength"]]),
        ],
    ),
    Scenario(
        "out-real-dose-and-rate-epic",
        "The order's only entry in mL (no mass, no strength): methotrexate still on record, no "
        "mg figure invented -> ivig-start.",
        _with(refractory, _mtx_order_only([_dose(0.6, "mL")], cc(b.METHOTREXATE))),
        [
            x.ivig_start(evidence=["mtx-order"]) | {"notMentions": ["15 mg"]},
            x.card(DQ, "info", evidence=["mtx-order"], mentions=[["no strength"]]),
        ],
    ),
    # --- 5. identity and values ---
    Scenario(
        "in-real-urn-uuid-references",
        "Synthea's shape: the Patient sent as a collection Bundle entry with an urn:uuid fullUrl "
        "and every resource naming the patient by that urn:uuid -> the seed's cards (the fetch "
        "path reads the same chart with plain references).",
        seed,
        SEED_CARDS,
        extra={"request": _urn_uuid_subjects},
    ),
    Scenario(
        "out-real-urn-uuid-references",
        "A 28 kg weight from yesterday whose subject is an urn:uuid naming no entry: not this "
        "patient's, not used -> 52 g, not 56 g (prefetch only: a server refuses the reference).",
        _with(
            seed,
            _foreign_weight(
                28, lambda c: "urn:uuid:6a1b2c3d-0000-4000-8000-000000000000", prefetch_only=True
            ),
        ),
        [
            x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"])
            | {"notMentions": ["56 g"]},
            x.dysphagia(),
        ],
        forbidden=("w-new",),
        # named without a link: a record of another patient is never cited as evidence
        extra={"prefetch_cards": [*SEED_CARDS, x.card(DQ, "info", mentions=[["bundle address"]])]},
    ),
    Scenario(
        "in-real-other-server-patient",
        "A weight of 28 kg yesterday whose subject is http://other-server/fhir/Patient/<same "
        "id>: another server's patient, not used -> 52 g.",
        _with(seed, _foreign_weight(28, lambda c: f"http://other-server/fhir/Patient/{c.pid}")),
        [
            x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"])
            | {"notMentions": ["56 g"]},
            x.dysphagia(),
            # named without a link: another patient's record is never cited
            x.card(DQ, "info", mentions=[["another fhir server"]]),
        ],
        forbidden=("w-new",),
    ),
    Scenario(
        "out-real-other-server-patient",
        "The same 28 kg weight naming Patient/<id> on this server: used -> 56 g (28 g/day x 2).",
        _with(seed, _foreign_weight(28, lambda c: f"Patient/{c.pid}")),
        [
            x.ivig_start(
                "critical",
                dose=x.DOSE_26_KG
                | {
                    "weightKg": "28",
                    "uncappedTotalG": "56",
                    "courseTotalG": "56",
                    "perDayG": "28",
                    "fiveDayPerDayG": "11.2",
                    "volumeMl": "560",
                },
                weight="w-new",
                evidence=["dys"],
            ),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "in-real-conflicting-versions",
        "The prefetch holds versions 1 (24 kg) and 2 (26 kg) of one weight: version 2 is used "
        "(52 g) and, in the prefetch, the disagreement is named (the server keeps version 2 "
        "only).",
        _with(seed, _other_version("w-now", 24, sent_version="1", current_version="2")),
        SEED_CARDS,
        extra={
            "prefetch_cards": [
                *SEED_CARDS,
                x.card(DQ, "info", evidence=["w-now"], mentions=[["two versions"]]),
            ]
        },
    ),
    Scenario(
        "out-real-conflicting-versions",
        "The same weight sent twice unchanged: no conflict, no data-quality card, 52 g.",
        _with(seed, _other_version("w-now", 26, sent_version="2", current_version="2")),
        SEED_CARDS,
    ),
    Scenario(
        "in-real-implausible-weight",
        "A weight of 1e60 kg yesterday: refused with a note, never a 500; the 26 kg weight of 5 "
        "days ago doses (52 g).",
        _with(seed, lambda c: c.weight("w-bad", 1e60, days_ago=1)),
        [*SEED_CARDS, x.card(DQ, "info", evidence=["w-bad"])],
        forbidden=("w-bad",),
    ),
    Scenario(
        "out-real-implausible-weight",
        "A plausible 26.5 kg yesterday is used: 53 g (26.5 g/day x 2), no data-quality card.",
        _with(seed, lambda c: c.weight("w-new", 26.5, days_ago=1)),
        [
            x.ivig_start(
                "critical",
                dose=x.DOSE_26_KG
                | {
                    "weightKg": "26.5",
                    "uncappedTotalG": "53",
                    "courseTotalG": "53",
                    "perDayG": "26.5",
                    "fiveDayPerDayG": "10.6",
                    "volumeMl": "530",
                },
                weight="w-new",
                evidence=["dys"],
            ),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "in-real-implausible-weight-4000-digits",
        "A weight of 4,000 digits yesterday (prefetch only: a server refuses it): refused with a "
        "note, no 500; 52 g from the 26 kg weight.",
        _with(
            seed,
            lambda c: c.weight("w-bad", 26, days_ago=1),
            _weight_value("w-bad", int("9" * 4000), prefetch_only=True),
        ),
        SEED_CARDS,
        forbidden=("w-bad",),
        extra={"prefetch_cards": [*SEED_CARDS, x.card(DQ, "info", evidence=["w-bad"])]},
    ),
    Scenario(
        "in-real-weight-as-string",
        'A weight sent as the JSON string "40" yesterday (invalid FHIR, which the test server '
        "stores as sent): not used for dosing, named; 52 g from the 26 kg weight.",
        _with(
            seed,
            lambda c: c.weight("w-bad", 26, days_ago=1),
            _weight_value("w-bad", "40"),
        ),
        [*SEED_CARDS, x.card(DQ, "info", evidence=["w-bad"])],
        forbidden=("w-bad",),
    ),
    Scenario(
        "out-real-weight-as-string",
        "The same weight as the number 26 yesterday: used, 52 g, nothing to name.",
        _with(seed, lambda c: c.weight("w-bad", 26, days_ago=1)),
        [
            x.ivig_start("critical", dose=x.DOSE_26_KG, weight="w-bad", evidence=["dys"]),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "in-real-administration-date-absent",
        "R4 MedicationAdministration whose date is a data-absent-reason extension (prefetch "
        "only: the R4B models and servers refuse it): the third pulse still counts (dated by its "
        "lastUpdated, 3 pulses on the timeline) and is named -> the seed's cards.",
        _with(seed, _pulse_date_absent("mp-3")),
        SEED_CARDS,
        extra={
            "prefetch_cards": [
                x.ivig_start(
                    "critical",
                    dose=x.DOSE_26_KG,
                    evidence=["dys", "mp-3"],
                    mentions=[["3 pulses"], [{"date": "2026-02-11"}]],
                ),
                x.dysphagia(),
                x.card(DQ, "info", evidence=["mp-3"], mentions=[["not recorded"]]),
            ]
        },
    ),
    Scenario(
        "out-real-administration-date-absent",
        "The same pulse without any date at all (no lastUpdated either): not counted, named.",
        _with(seed, _pulse_date_absent("mp-3", last_updated=False)),
        SEED_CARDS,
        forbidden=("mp-3",),
        extra={
            "prefetch_cards": [
                x.ivig_start(
                    "critical", dose=x.DOSE_26_KG, evidence=["dys"], mentions=[["2 pulses"]]
                ),
                x.dysphagia(),
                x.card(DQ, "info", evidence=["mp-3"]),
            ]
        },
    ),
    # --- 3. never silent ---
    Scenario(
        "in-real-unread-iv-medication",
        "An IV infusion 10 days ago of a drug no value set holds (infliximab): the IVIG draft is "
        "withheld and the data-quality card names it.",
        _with(refractory, _iv_drug("iv-other", cc(INFLIXIMAB), days_ago=10)),
        _withheld("iv-other", name=["infliximab"]),
    ),
    Scenario(
        "out-real-unread-iv-medication",
        "The same infliximab infusion 9+ weeks (70 days) ago: it cannot make the draft wrong -> "
        "ivig-start with the draft order.",
        _with(refractory, _iv_drug("iv-other", cc(INFLIXIMAB), days_ago=70)),
        [x.ivig_start()],
    ),
    Scenario(
        "in-real-unknown-immune-globulin",
        "An infusion named only 'IMMUNE GLOBULIN PRODUCT (NON-FORMULARY)' 3 weeks ago, with an "
        "unknown local code and no route: the IVIG draft is withheld and the record named.",
        _with(
            refractory,
            _iv_drug(
                "ig-unknown",
                cc(
                    v.local(v.CERNER_SYNONYM, "2768154"),
                    text="IMMUNE GLOBULIN PRODUCT (NON-FORMULARY)",
                ),
                days_ago=21,
                route=None,
            ),
        ),
        _withheld("ig-unknown", name=["immune globulin"]),
    ),
    Scenario(
        "out-real-unknown-immune-globulin",
        "An oral drug no value set holds (albumin taken by mouth, 10 days ago) cannot make the "
        "draft wrong: ivig-start with the draft order.",
        _with(refractory, _iv_drug("oral-other", cc(ALBUMIN), days_ago=10, route=b.ROUTE_ORAL)),
        [x.ivig_start()],
    ),
    # --- 6. lenient with clients ---
    Scenario(
        "in-real-prefetch-patient-as-bundle",
        "HealthChain's client sends the Patient key as a collection Bundle holding the Patient: "
        "not a 400; the Patient is taken out of it -> the seed's cards.",
        seed,
        SEED_CARDS,
        extra={"request": _patient_in_bundle},
    ),
    Scenario(
        "out-real-prefetch-patient-as-bundle",
        "A client answers the Observation search with one bare Observation, not a Bundle: not "
        "a 400; the key is treated as not sent. On the fetch path the service reads the server "
        "(the seed's cards); with the prefetch alone the weights are missing, so no dose, "
        "weight-needed, and the data-quality card says what was not used.",
        seed,
        SEED_CARDS,
        extra={
            "request": _observations_not_a_bundle,
            "prefetch_cards": [
                x.ivig_start("critical", dose=None, evidence=["dys"]),
                x.weight_needed(),
                x.dysphagia(),
                x.card(DQ, "info", mentions=[["was not a bundle"]]),
            ],
        },
    ),
    # --- 7. only what matters ---
    Scenario(
        "in-real-rounded-figures",
        "A weight of 34.53899282938331 kg (as some systems export it): read to 0.1 kg as "
        "docs/clinical/dosing.md 'Rounding' says, 34.5 kg -> 69 g (34.5 g/day x 2); the recorded "
        "figure is shown beside it, never used in the arithmetic.",
        _with(seed, lambda c: c.drop("w-old"), _weight_value("w-now", 34.53899282938331)),
        [
            x.ivig_start(
                "critical",
                dose=x.DOSE_26_KG
                | {
                    "weightKg": "34.5",
                    "uncappedTotalG": "69",
                    "courseTotalG": "69",
                    "perDayG": "34.5",
                    "fiveDayPerDayG": "13.8",
                    "volumeMl": "690",
                },
                evidence=["dys"],
            )
            | {"notMentions": ["× 34.53", "69.07", "34.539 g"]},
            x.dysphagia(),
        ],
    ),
    Scenario(
        "in-real-dq-noise",
        "A contraceptive dosed in tablets (not mg) and a prednisolone order stopped four years "
        "ago with its dose in mL change nothing: no data-quality card, the seed's cards.",
        _with(seed, _contraceptive_and_old_order),
        SEED_CARDS,
    ),
    Scenario(
        "out-real-rounded-figures",
        "A weight recorded as 34.5 kg: nothing to round, the card shows no second figure -> 69 g.",
        _with(seed, lambda c: c.drop("w-old"), _weight_value("w-now", 34.5)),
        [
            x.ivig_start(
                "critical",
                dose=x.DOSE_26_KG
                | {
                    "weightKg": "34.5",
                    "uncappedTotalG": "69",
                    "courseTotalG": "69",
                    "perDayG": "34.5",
                    "fiveDayPerDayG": "13.8",
                    "volumeMl": "690",
                },
                evidence=["dys"],
            )
            | {"notMentions": ["recorded as"]},
            x.dysphagia(),
        ],
    ),
    Scenario(
        "out-real-dq-noise",
        "The current prednisolone order written as 8 mL of a solution of unknown strength: the "
        "steroid course cannot be read in mg, which could change the taper advice -> named on "
        "the data-quality card (the seed's cards otherwise).",
        _with(seed, _current_order_in_ml),
        [*SEED_CARDS, x.card(DQ, "info", evidence=["pred-2"], mentions=[["ml"]])],
    ),
]
