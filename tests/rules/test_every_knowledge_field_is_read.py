"""Every field of the knowledge files is read: edit it, and the output changes or startup refuses.

For each leaf of ``thresholds.json``, ``dosing.json``, ``decision.json``, ``history.json``,
``card-texts.json`` and ``sources.json`` (``description`` fields are documentation and are left
out), the test writes edited copies of the file into a copy of ``cards/`` and then either sees
:func:`load_knowledge` refuse the copy, or sees an output change: the hook response of a scenario
under ``fhir_fixtures/scenarios/``, a dose the ``jdm-cds dose`` command prints, or the
``jdm-cds check-knowledge`` summary. A field that can be edited with no effect is reported: it
drives nothing and should be removed (or a scenario is missing that exercises it).

Value sets and order sets are FHIR resources: their FHIR metadata is exempt; the fields the
project defines are edited once per kind (``test_valueset_fields_are_read``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rules_builders import (
    NOW,
    ago,
    dose,
    ivig_course,
    jdm_since,
    measure,
    problem,
    seed_history,
    with_measurements,
    with_problems,
    without,
)

from cds_service.card_builder.cards import build_cards
from cds_service.card_builder.dose_text import ivig_arithmetic_lines, rituximab_arithmetic_lines
from cds_service.commands.check_knowledge import code_listing, source_index, summary
from cds_service.dosing import bmi_inputs_for_dose, ivig_course_dose, rituximab_dose
from cds_service.history.model import (
    AllergyFact,
    CodedResult,
    DataQualityNote,
    DoseStatus,
    MatchKind,
    Measurement,
    MethotrexateSchedule,
    PatientFacts,
    SourceRef,
    TherapyHistory,
)
from cds_service.history.to_json import history_to_json
from cds_service.knowledge import loader
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.loader import Knowledge, load_knowledge
from cds_service.knowledge.terminology import Terminology
from cds_service.orders.evaluate import evaluate_orders
from cds_service.pipeline import evaluate, history_of
from cds_service.rules import evaluate_all
from cds_service.rules.context import build_context
from cds_service.rules.data_quality import DECISION_TYPES

REPO = Path(__file__).resolve().parents[2]
CARDS = REPO / "cards"
SCENARIOS = REPO / "fhir_fixtures" / "scenarios"
PROJECT_FILES = (
    "thresholds.json",
    "dosing.json",
    "decision.json",
    "history.json",
    "card-texts.json",
    "sources.json",
    "order-checks.json",
)
DOCUMENTATION_KEYS = frozenset({"description"})

Leaf = tuple[tuple[str | int, ...], Any]


def leaves(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[Leaf]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key not in DOCUMENTATION_KEYS:
                yield from leaves(value, (*path, key))
    elif isinstance(node, list) and node and all(isinstance(v, str) for v in node):
        yield path, node  # a list of keys or words: edited as a whole
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, (*path, index))
    else:
        yield path, node


def edits(path: tuple[str | int, ...], value: Any) -> list[Any]:
    """Edited values for one leaf, most telling first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, value * 2]
    if isinstance(value, list):
        return [value[:-1], [*value, "no-such-key"], value[1:]]
    text = str(value)
    try:
        number = Decimal(text)
    except ArithmeticError:
        return [text + " (edited)", "no-such-key"]
    return [str(v.normalize()) for v in (number * 2, number / 2, number + 1, number - 1)]


def set_at(document: Any, path: tuple[str | int, ...], value: Any) -> None:
    node = document
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


# --- outputs ---------------------------------------------------------------------------------


def _strip_uuids(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_uuids(v) for k, v in node.items() if k != "uuid"}
    if isinstance(node, list):
        return [_strip_uuids(v) for v in node]
    return node


def _measure(concept: str, value: str, unit: str) -> Measurement:
    at = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    return Measurement(
        concept=concept,  # type: ignore[arg-type]
        value=Decimal(value),
        unit=unit,
        at=at,
        status="final",
        reference_low=None,
        reference_high=None,
        original=f"{value} {unit}",
        source=SourceRef("Observation", f"{concept}-{value}"),
    )


def _doses(knowledge: Knowledge) -> list[Any]:
    """What `jdm-cds dose` prints for a few worked examples (vials, cap, DDW, splits, BSA)."""
    policy, texts = knowledge.dosing, knowledge.texts
    printed: list[Any] = []
    for weight, five_day, slow in (
        ("26", False, False),
        ("40", True, True),
        ("13.7", False, False),
    ):
        dose = ivig_course_dose(
            _measure("weight", weight, "kg"), policy, risk_5_day=five_day, risk_slow_rate=slow
        )
        printed += [ivig_arithmetic_lines(dose, texts), dose.evidence()]
    estimated = replace(_measure("weight", "26", "kg"), estimated=True)  # LOINC 8335-2
    dose = ivig_course_dose(estimated, policy, risk_5_day=False, risk_slow_rate=False)
    printed.append(ivig_arithmetic_lines(dose, texts))
    weight, height = _measure("weight", "52", "kg"), _measure("height", "140", "cm")
    centile, p50 = bmi_inputs_for_dose(
        weight=weight, height=height, birth_date=date(2016, 3, 1), sex="female", policy=policy
    )
    obese = ivig_course_dose(
        weight,
        policy,
        risk_5_day=False,
        risk_slow_rate=False,
        height=height,
        bmi_centile=centile,
        bmi_p50_kg_m2=p50,
    )
    printed += [ivig_arithmetic_lines(obese, texts), obese.evidence()]
    for kg, cm in (("30", "130"), ("60", "165")):
        rtx = rituximab_dose(
            policy, weight=_measure("weight", kg, "kg"), height=_measure("height", cm, "cm")
        )
        assert rtx is not None
        printed += [rituximab_arithmetic_lines(rtx, texts), rtx.evidence()]
    return printed


PROBE_NOW = datetime(2026, 3, 15, 10, 0, tzinfo=UTC)
PROBE_PATIENT = "probe"


def _at(days_ago: float) -> str:
    return (PROBE_NOW - timedelta(days=days_ago)).isoformat()


def _med(kind: str, rid: str, text: str, days_ago: float, dose: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": kind,
        "id": rid,
        "status": "completed" if kind == "MedicationAdministration" else "active",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": f"Patient/{PROBE_PATIENT}"},
    }
    if kind == "MedicationAdministration":
        resource["effectiveDateTime"] = _at(days_ago)
        resource["dosage"] = {"dose": dose, "route": {"text": "intravenous"}}
    else:
        resource |= {
            "intent": "order",
            "authoredOn": _at(days_ago),
            "dosageInstruction": [
                {
                    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                    "route": {"text": "oral"},
                    "doseAndRate": [{"doseQuantity": dose}],
                }
            ],
        }
    return resource


def probe_record() -> list[dict[str, Any]]:
    """A small chart that puts the history policy's numbers on a boundary: IVIG infusions 5 and
    12 days after a course starts, five CK results over a year, methotrexate last given 10 days
    ago, oral prednisone and methylprednisolone."""
    mg = {"value": 20, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
    grams = {"value": 26, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}
    record: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": PROBE_PATIENT, "birthDate": "2016-03-01"},
        *(
            _med("MedicationAdministration", f"ivig-{day}", "IVIG", 60 - day, grams)
            for day in (0, 1, 5, 12)
        ),
        *(
            _med("MedicationAdministration", f"mtx-{weeks}", "methotrexate", 10 + 7 * weeks, mg)
            for weeks in range(4)
        ),
        _med("MedicationRequest", "pred", "prednisone", 30, mg),
        _med("MedicationRequest", "medrol", "methylprednisolone oral tablet", 30, mg),
    ]
    record += _never_silent_probes()
    for index, days_ago in enumerate((100, 150, 200, 250, 300)):
        record.append(
            {
                "resourceType": "Observation",
                "id": f"ck-{index}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "2157-6"}]},
                "subject": {"reference": f"Patient/{PROBE_PATIENT}"},
                "effectiveDateTime": _at(days_ago),
                "valueQuantity": {"value": 900 + index, "unit": "U/L"},
            }
        )
    return record


def _observation(rid: str, days_ago: float, code: dict[str, Any], **value: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": code,
        "subject": {"reference": f"Patient/{PROBE_PATIENT}"},
        "effectiveDateTime": _at(days_ago),
        **value,
    }


def _never_silent_probes() -> list[dict[str, Any]]:
    """Records on the edges of history.json's reading rules: a coded finding 80 days old, each
    red flag named by the first phrase of its list, a denied one, findings recorded absent by
    code and by word, an unknown medicine named only as gamma globulin, IVIG without a route, and
    unclassified allergies (high criticality, severe reaction, environmental)."""
    dysphagia = {"coding": [{"system": "http://snomed.info/sct", "code": "40739000"}]}
    weakness = {"coding": [{"system": "http://snomed.info/sct", "code": "26544005"}]}
    remark = {"text": "Clinic remark"}
    no = {"coding": [{"system": "http://snomed.info/sct", "code": "373067005"}]}
    found = [
        _observation("finding-80", 80, weakness),
        _observation("absent-code", 5, dysphagia, valueCodeableConcept=no),
        _observation("absent-word", 5, dysphagia, valueString="No"),
        _observation("denied", 5, remark, valueString="No dysphagia."),
        *(
            _observation(f"said-{concept}", 5, remark, valueString=f"Now {phrase}.")
            for concept, phrase in (
                ("dysphagia", "dysphagia"),
                ("dysphonia", "dysphonia"),
                ("aspiration", "aspiration pneumonia"),
            )
        ),
    ]
    grams = {"value": 5, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}
    medicines = [
        _med("MedicationAdministration", "gamma", "Zylo gamma globulin", 5, grams),
        _med("MedicationAdministration", "ivig-no-route", "IVIG", 9, grams),
    ]
    for medicine in medicines:
        del medicine["dosage"]["route"]
    allergies = [
        {
            "resourceType": "AllergyIntolerance",
            "id": rid,
            "patient": {"reference": f"Patient/{PROBE_PATIENT}"},
            "code": {"text": "Zylotrex"},
            **extra,
        }
        for rid, extra in (
            ("allergy-high", {"criticality": "high"}),
            ("allergy-severe", {"reaction": [{"severity": "severe"}]}),
            ("allergy-dust", {"criticality": "high", "category": ["environment"]}),
        )
    ]
    return [*found, *medicines, *allergies]


def card_probes() -> list[tuple[TherapyHistory, tuple[str, ...]]]:
    """Hand-built histories for the card wording no scenario reaches: first-line therapy without
    methotrexate; every red flag, thrombosis risk and key result; a weight dated in the future
    beside a cardiac risk; a low IgA against its lab range; no renal result; IVIG failing with
    organ involvement; a record of every kind left out, and gathering notes; the key results on a
    main card with no pulses or oral course."""
    no_mtx = seed_history(methotrexate=None, problems=seed_history().problems[:2])
    flags = [
        problem(concept, f"c-{concept}", ago(30))
        for concept in (
            "dysphonia",
            "gi-vasculopathy",
            "skin-ulceration",
            "thrombophilia",
            "central-venous-catheter",
            "immobility",
            "renal-impairment",
            "myocarditis",
        )
    ]
    busy = with_problems(seed_history(), *flags)
    busy = replace(busy, dose_events=(*busy.dose_events, dose("estrogen", ago(10), "oc", "0.03")))
    busy = with_measurements(
        busy,
        *(measure(c, "5", ago(3), f"{c}-1") for c in ("aldolase", "ldh", "ast", "alt")),
        measure("hemoglobin", "11", ago(3), "hb-1"),
        measure("iga", "30", ago(2), "iga-2", low="40", high="230"),
        measure("weight", "27", NOW + timedelta(days=3), "w-future"),
    )
    # the busy probe takes the severe pathway (no main card, so no timeline): the key results,
    # one preliminary, and no pulses or oral course on record, on the seed's IVIG card
    oral_only = replace(
        seed_history(),
        methylprednisolone_pulses=(),
        glucocorticoid=None,
        dose_events=(*seed_history().dose_events, dose("glucocorticoid-oral", ago(10), "p", "30")),
    )
    results = with_measurements(
        oral_only,
        *(
            measure(c, "5", ago(3), f"{c}-r", status="preliminary" if c == "ast" else "final")
            for c in ("aldolase", "ldh", "ast", "alt")
        ),
        measure("hemoglobin", "11", ago(3), "hb-r"),
    )
    no_renal = without(seed_history(), "creatinine", "egfr")
    organ = with_problems(
        jdm_since(
            seed_history(
                ivig_courses=tuple(ivig_course(ago(weeks=w), f"iv{w}") for w in (5, 9, 13))
            ),
            ago(weeks=52),
        ),
        problem("ild", "c-ild", ago(20)),
    )
    left_out = tuple(
        DataQualityNote(
            "Observation", f"dq-{concept}", "unit 'x' cannot be converted", "unit", concept
        )
        for concept in (
            "weight",
            "height",
            "creatinine",
            "egfr",
            "iga",
            "blood-group",
            "cmas",
            "mmt8",
            "ck",
            "esr",
            "crp",
            "methylprednisolone-iv",
            "glucocorticoid-oral",
            "methotrexate",
            "ivig",
            "migraine",
        )
    )
    problems = (
        "jdm",
        "dermatomyositis",
        "muscle-weakness",
        "dysphagia",
        "dysphonia",
        "aspiration",
        "myocarditis",
        "ild",
        "gi-vasculopathy",
        "skin-ulceration",
        "iga-deficiency",
        "renal-impairment",
        "thrombosis",
        "thrombophilia",
        "central-venous-catheter",
        "immobility",
        "heart-failure",
        "live-vaccine",
        "immune-globulin",
    )
    left_out += tuple(
        DataQualityNote("Condition", f"dq-{concept}", "could not be read", "unparseable", concept)
        for concept in (*problems, "estrogen")
    )
    left_out += tuple(  # a record of each kind named without a concept, dated
        DataQualityNote(kind, f"dq-{kind}", "could not be read", "unparseable", None, ago(2))
        for kind in sorted(DECISION_TYPES)
    )
    left_out += (
        DataQualityNote(
            "MedicationRequest", "dq-old", "no route", "other", "methotrexate", ago(300)
        ),
        DataQualityNote(
            "MedicationAdministration", "dq-iv", "unknown", "unread-medication", None, ago(9)
        ),
        DataQualityNote("AllergyIntolerance", "dq-al", "severe", "unread-allergy", None, ago(90)),
    )
    noted = seed_history(data_quality=left_out)
    said = replace(
        problem("dysphagia", "c-said", ago(3)),
        matched_by=MatchKind.TEXT,
        quote="trouble swallowing, coughing with drinks",
    )
    free_text = with_problems(seed_history(problems=seed_history().problems[:2]), said)
    # a future weight beside a cardiac risk that is not organ-threatening (the busy
    # probe's myocarditis takes the severe pathway, which asks for no weight); a pregnant and a
    # non-pregnant teenage girl with organ-threatening disease and with a hard stop
    future = with_measurements(
        with_problems(seed_history(), problem("heart-failure", "c-hf", ago(30))),
        measure("weight", "27", NOW + timedelta(days=3), "w-future"),
    )
    teen = PatientFacts(
        "teen", date(2010, 1, 10), "female", False, 16, 2, SourceRef("Patient", "t")
    )
    anaphylaxis = AllergyFact(
        "immune-globulin", True, "anaphylaxis", SourceRef("AllergyIntolerance", "a")
    )
    stopped = replace(seed_history(patient=teen), allergies=(anaphylaxis,))
    severe = with_problems(seed_history(patient=teen), problem("ild", "c-ild-2", ago(5)))
    pregnant = problem("pregnancy", "c-preg", ago(40))
    window = seed_history(patient=teen, problems=seed_history().problems[:2])  # first-line window
    # methotrexate reported taken daily beside a hard stop: the schedule card's reported words and
    # the contraindication card's note
    assert stopped.methotrexate is not None
    daily = MethotrexateSchedule(
        ago(20),
        None,
        Decimal(7),
        Decimal(1),
        "15 mg",
        DoseStatus.REPORTED,
        SourceRef("MedicationStatement", "mtx-daily"),
    )
    reported_daily = replace(
        stopped, methotrexate=replace(stopped.methotrexate, other_schedules=(daily,))
    )
    judgement = [
        (reported_daily, ()),
        (with_problems(window, pregnant), ()),
        (stopped, ()),
        (severe, ()),
        (with_problems(stopped, pregnant), ()),
        (with_problems(severe, pregnant), ()),
    ]
    return [
        *judgement,
        (future, ()),
        (no_mtx, ()),
        (busy, ()),
        (results, ()),
        (no_renal, ()),
        (organ, ()),
        (noted, ("Observation search cut short after 20 pages",)),
        (free_text, ()),
        *ivig_trial_probes(),
        *timeline_probes(),
    ]


def timeline_probes() -> list[tuple[TherapyHistory, tuple[str, ...]]]:
    """Main cards whose therapy so far lacks a therapy (no IV pulses; no oral glucocorticoid), shows
    a preliminary result, or a single methotrexate dose given."""
    seed = seed_history()
    no_pulses = with_measurements(
        replace(seed, methylprednisolone_pulses=()),
        measure("ck", "900", ago(1), "ck-prelim", status="preliminary"),
    )
    oral = tuple(e for e in seed.dose_events if e.agent != "glucocorticoid-oral")
    no_oral = replace(seed, glucocorticoid=None, dose_events=oral)
    # every second-line agent given, and one only ordered (the "ordered from" words)
    agents = ("rituximab", "cyclosporine", "cyclophosphamide", "mycophenolate", "tacrolimus")
    given = tuple(dose(a, ago(60), f"{a}-1", "100") for a in agents)
    ordered = replace(dose("jak-inhibitor", ago(5), "jak-1", "5"), status=DoseStatus.ORDERED)
    tried = replace(
        seed,
        dose_events=(
            *seed.dose_events,
            *given,
            ordered,
            dose("hydroxychloroquine", ago(30), "hcq-1", "200", route="oral"),
        ),
    )
    # a single methotrexate administration on record (the singular words)
    assert seed.methotrexate is not None
    one_given = replace(seed, methotrexate=replace(seed.methotrexate, doses_given=1))
    return [(no_pulses, ()), (no_oral, ()), (tried, ()), (one_given, ())]


def ivig_trial_probes() -> list[tuple[TherapyHistory, tuple[str, ...]]]:
    """Where an IVIG trial stands: the next course overdue (with a dose, without a weight, with an
    unread infusion, with a hard stop, with anti-IgA antibodies), a lapsed trial, a course under
    the JDM dose, and three courses with CMAS or MMT-8 improving (docs/clinical/decision-model.md
    §4)."""
    overdue = seed_history(ivig_courses=(ivig_course(ago(weeks=9), "iv-9"),))
    unread = DataQualityNote(
        "MedicationAdministration", "dq-iv9", "unknown", "unread-medication", None, ago(9)
    )
    stop = with_measurements(without(overdue, "egfr"), measure("egfr", "20", ago(1), "egfr-20"))
    anti_iga = CodedResult(
        "anti-iga", "positive", "positive", ago(20), SourceRef("Observation", "a")
    )
    by_specialist = with_measurements(  # the product is immunology's choice: no draft
        without(replace(overdue, coded_results=(anti_iga,)), "iga"),
        measure("iga", "5", ago(3), "iga-5"),
    )
    small = replace(ivig_course(ago(weeks=6), "iv-small", total_g="15"), g_per_kg=Decimal("0.6"))
    three = tuple(ivig_course(ago(weeks=w), f"iv3-{w}") for w in (12, 8, 4))
    lapsed = ivig_course(ago(weeks=27), "iv-27")

    def scores(concept: str, values: tuple[str, ...]) -> TherapyHistory:
        history = without(seed_history(ivig_courses=three), "cmas", "mmt8")
        return with_measurements(
            history,
            *(
                measure(concept, v, ago(weeks=10 - 4 * i), f"{concept}-{i}")
                for i, v in enumerate(values)
            ),
        )

    return [
        (overdue, ()),
        (without(overdue, "weight"), ()),
        (replace(overdue, data_quality=(unread,)), ()),
        (stop, ()),
        (by_specialist, ()),
        (
            jdm_since(seed_history(ivig_courses=(lapsed,)), ago(weeks=52)),
            (),
        ),
        (seed_history(ivig_courses=(small,)), ()),
        (scores("cmas", ("18", "20", "22")), ()),
        (scores("mmt8", ("50", "53", "55")), ()),
    ]


def long_summaries(knowledge: Knowledge) -> list[str]:
    """Each topic's summary when the record's words are too long: the ``.short`` variants."""
    from cds_service.card_builder.cards import summary
    from cds_service.knowledge.text_contract import TOPICS
    from cds_service.rules.findings import Finding

    shown = []
    for topic, contract in TOPICS.items():
        values = dict.fromkeys(contract.placeholders, "a very long record phrase " * 6)
        for variant in contract.variants:
            finding = Finding(topic=topic, rule_id="probe", summary_variant=variant)
            shown.append(summary(finding, knowledge.topic(topic), values))
    return shown


def outputs(knowledge: Knowledge) -> Iterator[Any]:
    """Everything the knowledge shows, lazily, so a first difference stops the work."""
    yield summary(knowledge).split("\n", 1)[1]  # the first line names the folder
    yield source_index(knowledge)
    yield code_listing(knowledge)
    yield {set_id: order_set.as_fhir() for set_id, order_set in knowledge.order_sets.items()}
    yield from _doses(knowledge)
    probe = history_of(probe_record(), PROBE_PATIENT, knowledge, PROBE_NOW)
    yield history_to_json(probe)
    for history, notes in card_probes():
        context = build_context(history, knowledge, NOW, notes)
        findings = evaluate_all(context, knowledge, NOW)
        yield _strip_uuids(build_cards(findings, history, knowledge, NOW, "http://x.test", "p"))
    yield long_summaries(knowledge)
    yield from order_outputs(knowledge)
    for scenario in SCENARIO_NAMES:
        request = json.loads((SCENARIOS / scenario / "request.json").read_text("utf-8"))
        resources = [v for v in request["prefetch"].values() if v is not None]
        now = datetime.fromisoformat(
            json.loads((SCENARIOS / scenario / "expected.json").read_text("utf-8"))["now"]
        )
        result = evaluate(
            resources,
            request["context"]["patientId"],
            knowledge,
            now,
            public_base_url="http://jdm-cds.test",
        )
        yield _strip_uuids(result.cards)


ORDER_SCENARIOS = SCENARIOS / "orders"
# the order-time scenarios that fire a card (the others add nothing an edit could change)
ORDER_SCENARIO_NAMES = sorted(
    p.name
    for p in ORDER_SCENARIOS.iterdir()
    if (p / "expected.json").is_file()
    and json.loads((p / "expected.json").read_text("utf-8"))["cards"]
)


def order_outputs(knowledge: Knowledge) -> Iterator[Any]:
    """The order-select / order-sign cards of the order scenarios (cards/order-checks.json and
    the order-* topics of card-texts.json drive them)."""
    for scenario in ORDER_SCENARIO_NAMES:
        request = json.loads((ORDER_SCENARIOS / scenario / "request.json").read_text("utf-8"))
        expected = json.loads((ORDER_SCENARIOS / scenario / "expected.json").read_text("utf-8"))
        context = request["context"]
        bundle = [entry["resource"] for entry in context["draftOrders"]["entry"]]
        selected = set(context.get("selections") or [])
        drafts = [r for r in bundle if not selected or f"MedicationRequest/{r['id']}" in selected]
        result = evaluate_orders(
            [v for v in request["prefetch"].values() if v is not None],
            drafts,
            bundle,
            context["patientId"],
            knowledge,
            datetime.fromisoformat(expected["now"]),
        )
        yield _strip_uuids(result.cards)


SCENARIO_NAMES = sorted(
    p.name
    for p in SCENARIOS.iterdir()
    if (p / "request.json").is_file() and (p / "expected.json").is_file()
)


@pytest.fixture(scope="module")
def cards_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("knowledge") / "cards"
    shutil.copytree(CARDS, copy)
    return copy


@pytest.fixture(autouse=True)
def _value_sets_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every edit reloads the knowledge; the value sets (thousands of codes, most of the load
    time) are read again only when a value-set file or the schema changed, byte for byte."""
    cache: dict[tuple[Path, str], Terminology] = {}
    real = loader.load_terminology

    def read_once(folder: Path) -> Terminology:
        digest = hashlib.blake2b()
        for path in [*sorted(folder.glob("*.json")), *sorted(folder.parent.glob("schemas/*"))]:
            digest.update(path.name.encode() + path.read_bytes())
        key = (folder, digest.hexdigest())
        if key not in cache:
            cache[key] = real(folder)
        return cache[key]

    monkeypatch.setattr(loader, "load_terminology", read_once)


@pytest.fixture(scope="module")
def baseline(cards_copy: Path) -> list[Any]:
    return list(outputs(load_knowledge(cards_copy)))


def effect_of(cards: Path, baseline: list[Any]) -> str | None:
    """'refused', 'changed', or None when the edit changed nothing."""
    try:
        knowledge = load_knowledge(cards)
    except KnowledgeError:
        return "refused"
    for expected, found in zip(baseline, outputs(knowledge), strict=True):
        if found != expected:
            return "changed"
    return None


def unread_fields(
    cards: Path, name: str, baseline: list[Any], select: Callable[[Leaf], bool] = lambda _: True
) -> list[str]:
    path = cards / name
    original = path.read_text("utf-8")
    document = json.loads(original)
    unread = []
    try:
        for field, value in [leaf for leaf in leaves(document) if select(leaf)]:
            for edited in edits(field, value):
                changed = json.loads(original)
                set_at(changed, field, edited)
                path.write_text(json.dumps(changed), "utf-8")
                if effect_of(cards, baseline) is not None:
                    break
            else:
                unread.append(".".join(map(str, field)))
    finally:
        path.write_text(original, "utf-8")
    return unread


@pytest.mark.slow
# card-texts.json has some 500 leaves since the order topics came; each edit reloads the
# knowledge: about 3.5 minutes on a loaded 2-core machine, more than the default 300 s allows
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", PROJECT_FILES)
def test_every_field_is_read(name: str, cards_copy: Path, baseline: list[Any]) -> None:
    assert unread_fields(cards_copy, name, baseline) == []


def test_leaves_and_edits_cover_each_kind_of_value() -> None:
    document = {"a": {"b": "48", "c": ["x", "y"], "description": "doc"}, "d": [{"e": True}]}
    assert list(leaves(document)) == [
        (("a", "b"), "48"),
        (("a", "c"), ["x", "y"]),
        (("d", 0, "e"), True),
    ]
    assert edits(("a",), "48")[0] == "96"
    assert edits(("a",), True) == [False]
    assert edits(("a",), ["x", "y"])[0] == ["x"]
    assert edits(("a",), "words")[0] == "words (edited)"


def test_an_unread_field_is_reported(cards_copy: Path, baseline: list[Any]) -> None:
    """The detector itself: a field no code reads would be listed."""
    path = cards_copy / "thresholds.json"
    original = path.read_text("utf-8")
    document = json.loads(original)
    document["thresholds"]["cmas_weakness"]["description"] = "edited documentation"
    try:
        path.write_text(json.dumps(document), "utf-8")
        assert effect_of(cards_copy, baseline) is None
    finally:
        path.write_text(original, "utf-8")


# one value set and one order set stand for their kind: each field the project defines in them
FHIR_SAMPLES = {
    "valuesets/glucocorticoid-oral.json": (
        ("extension", 0, "valueCode"),  # concept-kind
        ("extension", 1, "valueString"),  # name-match
        ("useContext", 0, "valueCodeableConcept", "coding", 0, "code"),
        ("compose", "include", 0, "system"),
        ("compose", "include", 0, "concept", 1, "code"),
        ("compose", "include", 0, "concept", 1, "display"),
        ("compose", "include", 0, "concept", 1, "extension", 0, "valueCode"),  # code-status
        ("compose", "include", 0, "concept", 1, "extension", 1, "valueString"),  # code-source
        ("compose", "include", 0, "concept", 1, "extension", 2, "valueString"),  # ingredient
    ),
    "valuesets/ivig.json": (("extension", 24, "valueString"),),  # name-exclude "hepatitis"
    "order-sets/ivig-baseline.json": (
        ("action", 0, "title"),
        ("relatedArtifact", 0, "label"),
        ("contained", 0, "code", "coding", 0, "code"),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FHIR_SAMPLES))
def test_project_fields_of_value_sets_and_order_sets_are_read(
    name: str, cards_copy: Path, baseline: list[Any]
) -> None:
    wanted = set(FHIR_SAMPLES[name])
    assert unread_fields(cards_copy, name, baseline, lambda leaf: leaf[0] in wanted) == []
