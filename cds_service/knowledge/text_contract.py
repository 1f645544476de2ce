"""What the card builder fills into the wording of ``cards/card-texts.json``.

The loader holds every template to this contract at startup: a ``{name}`` a topic, phrase or
safety check does not offer stops startup with the file and field named, so a misspelt
placeholder cannot reach a card as an empty string. Each topic also declares the summary variants
and indicator cases its rule chooses between; the file must define exactly those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cds_service.knowledge.concepts import MeasurementConcept


@dataclass(frozen=True)
class TopicContract:
    placeholders: frozenset[str]  # names the card builder fills for this topic
    variants: tuple[str, ...] = ("default",)  # summary variants the rule picks from
    cases: tuple[str, ...] = ("default",)  # indicator cases the rule picks from
    notes: tuple[str, ...] = ()  # keyed paragraphs the rule may add to the recommendation


SAFETY_WARNING = TopicContract(frozenset({"finding", "fluid_volume"}))
# an order's dose against the regimen: the figures as ordered and expected, or not readable
ORDER_DOSE = TopicContract(
    frozenset({"ordered", "expected", "finding"}),
    variants=("default", "unread"),
    cases=("default", "unread"),
)
ORDER_IVIG_CASES = ("over", "perDay", "under", "noDays", "unread")

TOPICS: Mapping[str, TopicContract] = MappingProxyType(
    {
        "methotrexate-schedule": TopicContract(
            frozenset(
                {
                    "dose",
                    "recorded",
                    "schedule_upper",
                    "start",
                    "until",
                    "once_weekly",
                    "schedules",
                    "given_count",
                    "given_first",
                    "given_last",
                }
            ),
            variants=("default", "past", "given"),
        ),
        "ivig-start": TopicContract(
            frozenset(
                {
                    "course_total_g",
                    "per_day_g",
                    "days",
                    "flag_suffix",
                    "hard_stop",
                    "methotrexate_plan",
                }
            ),
            variants=("dose", "noDose", "hardStop"),
            cases=("default", "redFlag", "hardStop"),
            notes=(
                "draftWithheld",
                "draftBySpecialist",
                "methotrexateStopped",
                "methotrexateNotWeekly",
                "pregnancy",
            ),
        ),
        "ivig-course-due": TopicContract(
            frozenset(
                {
                    "next_course",
                    "weeks_since",
                    "courses_given",
                    "last_course_date",
                    "course_total_g",
                    "per_day_g",
                    "days",
                    "hard_stop",
                }
            ),
            variants=("dose", "noDose", "hardStop"),
            cases=("default", "hardStop"),
            notes=("draftWithheld", "draftBySpecialist"),
        ),
        "severe-organ-disease": TopicContract(
            frozenset(
                {
                    "organs",
                    "organ_list",
                    "cyclophosphamide_dose",
                    "ivig_adjunct",
                    "cyclophosphamide_tried",
                    "anti_mda5",
                }
            ),
            notes=("pregnancy", "contraception"),
        ),
        "ivig-contraindicated": TopicContract(
            frozenset({"contraindication", "specialists"}),
            notes=("methotrexateNotWeekly", "pregnancy", "contraception"),
        ),
        "weight-needed": TopicContract(frozenset({"weight_problem", "weight_detail"})),
        "first-line-window": TopicContract(
            frozenset({"twelve_week_date", "mtx_weeks", "methotrexate_plan"}),
            notes=("noMethotrexate", "methotrexateStopped", "methotrexateNotWeekly", "pregnancy"),
        ),
        "dysphagia-aspiration": TopicContract(frozenset({"vfss_status"})),
        "ivig-safety-iga-deficiency": SAFETY_WARNING,
        "ivig-safety-anti-iga": SAFETY_WARNING,
        "ivig-safety-renal": SAFETY_WARNING,
        "ivig-safety-thrombosis": SAFETY_WARNING,
        "ivig-safety-cardiac-fluid": SAFETY_WARNING,
        "ivig-monitoring-due": TopicContract(frozenset({"missing"})),
        "escalate-after-ivig": TopicContract(
            frozenset(
                {
                    "courses",
                    "rituximab_option",
                    "organ_involvement",
                    "cyclosporine_tried",
                    "cyclophosphamide_tried",
                    "others_tried",
                }
            ),
            variants=("default", "pregnancy"),
            notes=("beforeRituximab", "rituximabGiven", "pregnancy", "contraception"),
        ),
        "extramuscular-screen": TopicContract(
            frozenset({"missing", "mda5_date"}),
            variants=("default", "notActive", "antiMda5"),
            notes=("antiMda5",),
        ),
        "steroid-taper": TopicContract(frozenset({"taper_finding"})),
        "data-quality": TopicContract(frozenset({"count", "intro"}), variants=("default", "stale")),
        # the order-time checks (docs/clinical/order-checks.md; cds_service/orders/)
        "order-mtx-frequency": TopicContract(
            frozenset({"schedule_upper", "weekly_total", "finding", "once_weekly"}),
            variants=("default", "noMass", "missing"),
            cases=("default", "missing"),
        ),
        "order-mtx-dose": ORDER_DOSE,
        "order-ivig-dose": TopicContract(
            frozenset(
                {
                    "ordered",
                    "ordered_per_day",
                    "expected_course_g",
                    "expected_per_day_g",
                    "days",
                    "finding",
                }
            ),
            variants=ORDER_IVIG_CASES,
            cases=ORDER_IVIG_CASES,
        ),
        "order-ivig-interval": TopicContract(frozenset({"days_since", "last_date", "last_dose"})),
        "order-ivig-safety": TopicContract(
            frozenset({"reasons", "finding"}),
            variants=("hardStop", "warning"),
            cases=("hardStop", "warning"),
        ),
        "order-rituximab-dose": TopicContract(
            ORDER_DOSE.placeholders,
            variants=ORDER_DOSE.variants,
            cases=("default", "far", "unread"),
            notes=("adult",),
        ),
        "order-ivmp-dose": ORDER_DOSE,
        "order-steroid-dose": TopicContract(
            ORDER_DOSE.placeholders | {"drug"},
            variants=ORDER_DOSE.variants,
            cases=ORDER_DOSE.cases,
        ),
        "order-weight-needed": TopicContract(
            frozenset({"drug", "weight_problem", "weight_detail", "height_too", "checks"})
        ),
    }
)
ORDER_TOPICS: tuple[str, ...] = tuple(topic for topic in TOPICS if topic.startswith("order-"))

# Placeholders of the Markdown the rules' records supply as already-formatted Markdown.
MARKDOWN_PLACEHOLDERS = frozenset(
    {
        "rituximab_option",
        "cyclophosphamide_dose",
        "ivig_adjunct",
        "cyclosporine_tried",
        "cyclophosphamide_tried",
        "others_tried",
        "once_weekly",
        "schedules",
        "anti_mda5",
    }
)

SAFETY_CHECK_PLACEHOLDERS = frozenset({"detail"})

# the kinds of record the data-quality card names in words (the rules read each of them)
RECORD_KINDS = (
    "Patient",
    "Condition",
    "Observation",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationStatement",
    "Medication",
    "Procedure",
    "Immunization",
    "AllergyIntolerance",
    "ServiceRequest",
    "Bundle",
)

PHRASES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "suggestion.ivigDraft": frozenset({"per_day", "days", "total"}),
        "suggestion.ivigBaseline": frozenset(),
        "suggestion.rituximabBaseline": frozenset(),
        "suggestion.vfss": frozenset(),
        "suggestion.organScreen": frozenset(),
        "sign.score": frozenset({"label", "value", "date", "limit"}),
        "sign.threshold": frozenset({"comparison", "value"}),
        "sign.problem": frozenset({"label", "date"}),
        "sign.freeText": frozenset({"label", "quote", "date"}),
        "why.active": frozenset({"signs"}),
        "why.redFlag": frozenset({"flags"}),
        "why.methotrexate": frozenset({"weeks"}),
        "why.methotrexateStopped": frozenset({"weeks", "date"}),
        "why.methotrexateGiven": frozenset({"count", "first", "last", "most", "doses"}),
        "why.methotrexateGivenDose": frozenset({"dose", "date"}),
        "why.steroidDependent": frozenset(),
        "why.finding": frozenset({"sign"}),
        "detail.why": frozenset(),
        "detail.dose": frozenset(),
        "detail.safety": frozenset(),
        "detail.sources": frozenset({"keys"}),
        "timeline.heading": frozenset(),
        "timeline.pulses": frozenset({"count", "doses", "dates"}),
        "timeline.pulses.none": frozenset(),
        "timeline.methotrexate": frozenset({"dose", "start", "weeks", "given"}),
        "timeline.methotrexate.stopped": frozenset({"dose", "start", "weeks", "given", "last"}),
        "timeline.methotrexate.none": frozenset(),
        "timeline.methotrexate.given": frozenset({"count"}),
        "timeline.methotrexate.noneGiven": frozenset(),
        "timeline.methotrexate.givenOne": frozenset(),
        "timeline.methotrexate.notWeekly": frozenset(
            {"dose", "schedule", "start", "weeks", "given"}
        ),
        "methotrexate.onceWeekly": frozenset(),
        "methotrexateSchedule.ordered": frozenset(),
        "methotrexateSchedule.reported": frozenset(),
        "methotrexateSchedule.line": frozenset(
            {"dose", "schedule", "per_week", "recorded", "start", "until"}
        ),
        "methotrexateSchedule.until": frozenset({"date"}),
        "methotrexateSchedule.given": frozenset({"dose", "count", "first", "last"}),
        "timeline.methotrexate.givenNotWeekly": frozenset(
            {"dose", "start", "weeks", "given", "count", "first", "last"}
        ),
        "timeline.perKgDay": frozenset({"value"}),
        "timeline.glucocorticoid.step": frozenset({"mg", "per_kg", "date"}),
        "timeline.glucocorticoid": frozenset({"steps"}),
        "timeline.glucocorticoid.stopped": frozenset({"steps"}),
        "timeline.glucocorticoid.none": frozenset(),
        "timeline.ivig": frozenset({"count", "courses"}),
        "timeline.ivig.course": frozenset({"date", "total"}),
        "timeline.ivig.none": frozenset(),
        "timeline.secondLine": frozenset({"agents"}),
        "timeline.agent": frozenset({"agent", "dose", "count", "dates"}),
        "timeline.agentOrdered": frozenset({"agent", "dose", "date"}),
        "timeline.ivig.notCounted": frozenset({"courses", "limit"}),
        "timeline.trend": frozenset({"trends"}),
        "timeline.results": frozenset({"results"}),
        "timeline.preliminary": frozenset(),
        "ivigStart.redFlagSuffix": frozenset(),
        "checked.results": frozenset({"results"}),
        "checked.value": frozenset({"label", "value", "date"}),
        "weight.value": frozenset({"value", "date"}),
        "weight.problem.missing": frozenset(),
        "weight.problem.stale": frozenset({"age_days"}),
        "weight.problem.implausible": frozenset(),
        "weight.problem.changed": frozenset(),
        "weight.problem.future": frozenset(),
        "weight.detail.missing": frozenset(),
        "weight.detail.future": frozenset({"weight"}),
        "weight.detail.implausible": frozenset({"weight"}),
        "weight.detail.stale": frozenset({"weight", "age_days"}),
        "weight.detail.changed": frozenset({"weight", "percent", "previous", "days_between"}),
        "firstLine.notStarted": frozenset(),
        "dysphagia.studyDone": frozenset({"date"}),
        "dysphagia.noStudy": frozenset(),
        "safety.fluidVolume": frozenset({"volume_ml", "course_total_g"}),
        "safety.fluidNoWeight": frozenset(),
        "escalate.rituximabDose": frozenset({"mg"}),
        "escalate.noRituximabDose": frozenset(),
        "escalate.organPresent": frozenset({"organs"}),
        "escalate.rituximabChild": frozenset({"rituximab_dose"}),
        "escalate.rituximabAdult": frozenset({"rituximab_dose"}),
        "severe.organ": frozenset({"label", "date"}),
        "severe.cyclophosphamideDose": frozenset({"low", "high", "bsa"}),
        "severe.noCyclophosphamideDose": frozenset(),
        "severe.ivigCardiac": frozenset(),
        "severe.cyclophosphamideTried": frozenset({"history"}),
        "severe.antiMda5Unknown": frozenset(),
        "severe.antiMda5Positive": frozenset({"date"}),
        "escalate.cyclosporineTried": frozenset({"history"}),
        "escalate.cyclophosphamideTried": frozenset({"history"}),
        "escalate.othersTried": frozenset({"agents"}),
        "tried.agent": frozenset({"agent", "history"}),
        "tried.given": frozenset({"count", "date"}),
        "tried.total": frozenset({"total"}),
        "tried.reported": frozenset({"date"}),
        "tried.ordered": frozenset({"date"}),
        "escalate.rituximabPregnancy": frozenset(),
        "methotrexatePlan.continue": frozenset({"alongside"}),
        "methotrexatePlan.pregnancy": frozenset(),
        "methotrexatePlan.notWeekly": frozenset({"alongside"}),
        "methotrexatePlan.stopped": frozenset(),
        "methotrexatePlan.alongsideIvig": frozenset(),
        "dose.rituximabAdultSchedule": frozenset(),
        "contraindicated.anaphylaxis-to-ig": frozenset(),
        "contraindicated.renal-severe": frozenset(),
        "contraindicated.anti-iga-reaction": frozenset(),
        "taper.belowFloor": frozenset({"current", "percent", "start", "months"}),
        "taper.drop": frozenset({"highest", "current", "date"}),
        "dataQuality.line": frozenset({"what", "when", "reason", "about"}),
        "dataQuality.date": frozenset({"date"}),
        "dataQuality.couldChange": frozenset({"affects"}),
        "dataQuality.otherPatient": frozenset(),
        "dataQuality.unknownContent": frozenset(),
        "dataQuality.unreadMedication": frozenset(),
        "dataQuality.unreadAllergy": frozenset(),
        **{f"dataQuality.record.{kind}": frozenset() for kind in RECORD_KINDS},
        "dataQuality.gather": frozenset({"text"}),
        "dataQuality.intro": frozenset(),
        "dataQuality.introStale": frozenset(),
        "dataQuality.stale": frozenset({"what", "date", "results"}),
        "check.iga.problemList": frozenset(),
        "check.antiIga.present": frozenset({"date"}),
        "check.iga.belowRange": frozenset(
            {"value", "date", "low", "comparison", "threshold", "unit"}
        ),
        "check.iga.belowThreshold": frozenset({"value", "date", "comparison", "threshold", "unit"}),
        "check.renal.problem": frozenset({"display"}),
        "check.renal.schwartz": frozenset(
            {"value", "date", "comparison", "threshold", "height", "creatinine"}
        ),
        "check.renal.creatinineAlone": frozenset({"value", "date"}),
        "check.renal.egfrLow": frozenset({"value", "date", "comparison", "threshold"}),
        "check.renal.creatinineHigh": frozenset({"value", "date", "high"}),
        "check.renal.creatinineRise": frozenset(
            {"baseline", "baseline_date", "value", "date", "comparison", "ratio"}
        ),
        "check.hemolysis.unknown": frozenset(),
        "check.hemolysis.group": frozenset({"group"}),
        "check.liveVaccine.item": frozenset({"vaccine", "date"}),
        "check.liveVaccine.repeat": frozenset({"vaccine", "date"}),
        "check.liveVaccine.immunosuppressed": frozenset({"vaccine", "date", "agents"}),
        "check.immunosuppressed.glucocorticoid-oral": frozenset(),
        "check.immunosuppressed.methotrexate": frozenset(),
        "detail.hardStop": frozenset({"reasons"}),
        "detail.unconfirmed": frozenset({"status"}),
        "arithmetic.noIvigDose": frozenset(),
        "arithmetic.noRituximabDose": frozenset(),
        "rituximab.adultRegimen": frozenset(),
        "arithmetic.rounding": frozenset(),
        "arithmetic.productLabel": frozenset(),
        "arithmetic.estimatedWeight": frozenset(),
        "order.schedule.perDay": frozenset({"count"}),
        "order.schedule.daily": frozenset(),
        "order.schedule.everyDays": frozenset({"days"}),
        "order.schedule.perWeek": frozenset({"count"}),
        "order.asOrdered": frozenset({"dose", "schedule", "total"}),
        "order.unreadDose": frozenset({"problem"}),
        "order.noBsa": frozenset({"cap"}),
        "order.expected": frozenset({"arithmetic"}),
        "order.lastDose.unknown": frozenset(),
        "order.heightToo": frozenset(),
        "order.heightMissing": frozenset(),
        "order.schedule.weekly": frozenset(),
        "order.suggest.update": frozenset({"change"}),
        "order.suggest.delete": frozenset(),
    }
)

# the key results the therapy timeline shows, in this order
KEY_RESULTS: tuple[MeasurementConcept, ...] = (
    "weight",
    "height",
    "cmas",
    "mmt8",
    "ck",
    "aldolase",
    "ldh",
    "ast",
    "alt",
    "esr",
    "crp",
    "iga",
    "creatinine",
    "egfr",
    "hemoglobin",
)
# concepts the cards name, so card-texts.json must give each a label
# second-line agents the timeline names when the record holds them
SECOND_LINE_AGENTS = (
    "rituximab",
    "cyclosporine",
    "cyclophosphamide",
    "mycophenolate",
    "tacrolimus",
    "jak-inhibitor",
    "hydroxychloroquine",
)
# the therapy so far names these besides the first-line therapy and IVIG: the second-line agents,
# and immune globulin that is not IVIG (SC, IM, hyperimmune), which is never an IVIG course but
# was given
TIMELINE_AGENTS = (*SECOND_LINE_AGENTS, "immune-globulin-other")
LABELLED_CONCEPTS = (*KEY_RESULTS, "blood-group", *TIMELINE_AGENTS)
