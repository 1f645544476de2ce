"""Order-time scenarios (docs/clinical/order-checks.md): a chart, draft orders, the cards due.

Each scenario is an ``order-sign`` call (``orders/<name>/request.json``: the chart's prefetch and
``context.draftOrders``), the chart as a transaction Bundle for the fetch path, and the cards the
clinical docs call for (``expected.json``), written by hand here: per card the order it is about,
its topic and indicator, every topic it found, words its summary must hold, the ``update``
suggestion's dose and schedule (or none), whether a ``delete`` is offered, and evidence facts;
where a scenario needs them, words the card must not hold (``notMentions``), words in the order
they must appear (``mentionsInOrder``), order sets it must or must not link (``links``,
``linksAbsent``) and records among its evidence (``evidence``, local names).

The seed child is 26 kg and 130 cm: BSA sqrt(26 x 130 / 3600) = 0.97 m2, so methotrexate
15-20 mg/m2 = 14.55-19.4 mg a week; the IVIG course 2 g/kg = 52 g (26 g/day x 2 days).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, refractory, seed
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Threshold

Json = dict[str, Any]
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
SNOMED = "http://snomed.info/sct"
ROUTES = {
    "iv": {"system": SNOMED, "code": "47625008", "display": "Intravenous route"},
    "sc": {"system": SNOMED, "code": "34206005", "display": "Subcutaneous route"},
    "oral": {"system": SNOMED, "code": "26643006", "display": "Oral route"},
}
DRUGS = {
    "mtx-tablet": ("579782", "Methotrexate 2.5 MG Oral Tablet [Rheumatrex]"),
    "mtx": ("6851", "methotrexate"),
    "ivig": ("5665", "immune globulin (IVIG) 10%"),
    "privigen": ("5665", "Privigen 10 % Injectable Solution"),
    "rituximab": ("121191", "rituximab"),
    "ivmp": ("6902", "methylprednisolone"),
    "pred": ("8638", "prednisolone"),
    "amoxicillin": ("723", "amoxicillin"),
}
DAILY = {"frequency": 1, "period": 1, "periodUnit": "d"}
WEEKLY = {"frequency": 1, "period": 1, "periodUnit": "wk"}


def draft(
    local: str,
    drug: str,
    dose: float | int | None,
    unit: str,
    *,
    repeat: Json | None = None,
    code: str | None = None,
    route: str | None = None,
    start_days_ago: float | None = None,
) -> Callable[[Chart], Json]:
    """A draft MedicationRequest as an EHR sends it in ``context.draftOrders``."""

    def build(chart: Chart) -> Json:
        rx, display = DRUGS[drug]
        timing: Json = {}
        if repeat is not None:
            timing["repeat"] = dict(repeat)
        if start_days_ago is not None:
            timing.setdefault("repeat", {})["boundsPeriod"] = {"start": at(days_ago=start_days_ago)}
        if code is not None:
            timing["code"] = {"coding": [{"system": GTS, "code": code}]}
        dosage: Json = {"timing": timing}
        if route is not None:
            dosage["route"] = {"coding": [ROUTES[route]]}
        if dose is not None:
            dosage["doseAndRate"] = [
                {"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}
            ]
        return {
            "resourceType": "MedicationRequest",
            "id": chart.id(local),
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {
                "coding": [{"system": RXNORM, "code": rx, "display": display}],
                "text": display,
            },
            "subject": {"reference": f"Patient/{chart.pid}"},
            "dosageInstruction": [dosage],
        }

    return build


def sized(kg: float, cm: float, birth: date) -> Callable[[Chart], Chart]:
    """The seed child made another size (and age): one weight, one height."""

    def build(chart: Chart) -> Chart:
        seed(chart)
        chart.drop("w-old")
        chart.get("w-now")["valueQuantity"]["value"] = kg
        chart.get("height")["valueQuantity"]["value"] = cm
        chart.get("pat")["birthDate"] = birth.isoformat()
        return chart

    return build


def with_ivig(days_ago: int) -> Callable[[Chart], Chart]:
    return lambda chart: seed(chart).ivig_course("ivig", last_days_ago=days_ago, grams_per_day=26)


def without_weight(chart: Chart) -> Chart:
    return seed(chart).drop("w-old", "w-now")


def not_jdm(chart: Chart) -> Chart:
    seed(chart)
    chart.resources[:] = [r for r in chart.resources if r.get("id") != chart.id("jdm")]
    return chart


def anaphylaxis(chart: Chart) -> Chart:
    return refractory(chart).add(
        fb.ig_allergy(
            chart.id("allergy"),
            chart.pid,
            criticality="high",
            manifestation="Anaphylaxis",
            severity="severe",
            recorded=at(days_ago=400),
        )
    )


@dataclass(frozen=True)
class OrderScenario:
    name: str
    proves: str
    build: Callable[[Chart], object]
    orders: tuple[Callable[[Chart], Json], ...]
    cards: list[Json]  # per card: order (local name), topic, indicator, ... (module doc)
    threshold: Threshold | None = None
    hook: str = "order-sign"
    selections: tuple[str, ...] = ()  # local names (order-select)
    extra: Json = field(default_factory=dict)


def card(
    order: str,
    topic: str,
    indicator: str,
    *,
    topics: list[str] | None = None,
    mentions: list[str] | None = None,
    update: Json | None = None,
    delete: bool = False,
    facts: Json | None = None,
    **optional: list[str],
) -> Json:
    """`optional`: notMentions, mentionsInOrder, links, linksAbsent, evidence (module doc)."""
    unknown = set(optional) - {"notMentions", "mentionsInOrder", "links", "linksAbsent", "evidence"}
    if unknown:
        raise TypeError(f"unknown card expectations {sorted(unknown)}")
    return {
        "order": order,
        "topic": topic,
        "indicator": indicator,
        "topics": sorted(topics or [topic]),
        "mentions": mentions or [],
        "update": update,
        "delete": delete,
        "facts": facts or {},
        **optional,
    }


def jdm_recorded_as(status: str, base: Callable[[Chart], Chart] = seed) -> Callable[[Chart], Chart]:
    """The chart `base` with its JDM Condition's verificationStatus `status`."""

    def build(chart: Chart) -> Chart:
        base(chart)
        code = b.Code(b.CONDITION_VERIFICATION, status)
        chart.get("jdm")["verificationStatus"] = b.concept(code)
        return chart

    return build


# decision-model.md §0: the line every card carries while JDM is not confirmed
UNCONFIRMED = "Diagnosis not confirmed"


MTX_MAX = Threshold(
    "methotrexate.maxMgPerM2PerWeek", "20 mg/m2 (+10 %)", "", "order-checks.md order-mtx-dose"
)

SCENARIOS: list[OrderScenario] = [
    # --- order-mtx-frequency ---
    OrderScenario(
        "in-order-mtx-frequency-sandbox-daily",
        "The CDS Hooks Sandbox's Rx Sign order: RxNorm 579782 tablet, 5 {pill} once a day -> "
        "critical weekly-methotrexate card (87.5 mg a week), update to once weekly keeping the "
        "dose (12.5 mg is in range), delete offered.",
        seed,
        (draft("mtx", "mtx-tablet", 5, "{pill}", repeat=DAILY),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                mentions=["DAILY", "ONCE WEEKLY", "87.5 mg a week"],
                update={"dose": [5, "{pill}"], "repeat": WEEKLY},
                delete=True,
                facts={"administrations_per_week": "7", "weekly_total_mg": "87.5"},
            )
        ],
    ),
    OrderScenario(
        "in-order-mtx-frequency-timing-code-bid",
        "Methotrexate 15 mg SC with timing.code BID -> critical (14 a week, 210 mg).",
        seed,
        (draft("mtx", "mtx", 15, "mg", code="BID", route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                mentions=["2 TIMES A DAY", "210 mg a week"],
                update={"dose": None, "repeat": WEEKLY},
                delete=True,
                facts={"administrations_per_week": "14"},
            )
        ],
    ),
    OrderScenario(
        "in-order-mtx-frequency-every-other-day-above-range",
        "Methotrexate 25 mg every other day (above 20 mg/m2 too) -> critical frequency card that "
        "also finds the dose; the update is weekly at 15 mg/m2 = 14 mg (rounded down).",
        seed,
        (draft("mtx", "mtx", 25, "mg", repeat={**DAILY, "period": 2}, route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                topics=["order-mtx-frequency", "order-mtx-dose"],
                mentions=["EVERY 2 DAYS", "87.5 mg a week"],
                update={"dose": [14, "mg"], "repeat": WEEKLY},
                delete=True,
            )
        ],
    ),
    OrderScenario(
        "in-order-mtx-frequency-twice-weekly",
        "Methotrexate 10 mg twice a week (frequency 2 per week) -> critical, 20 mg a week as "
        "ordered; the update keeps 10 mg once weekly.",
        seed,
        (draft("mtx", "mtx", 10, "mg", repeat={**WEEKLY, "frequency": 2}, route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                mentions=["2 TIMES A WEEK", "20 mg a week"],
                update={"dose": None, "repeat": WEEKLY},
                delete=True,
                facts={"administrations_per_week": "2"},
            )
        ],
    ),
    OrderScenario(
        "in-order-mtx-frequency-not-stated",
        "Methotrexate 15 mg SC with no frequency -> warning (frequency missing), update weekly.",
        seed,
        (draft("mtx", "mtx", 15, "mg", route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "warning",
                mentions=["no frequency", "ONCE WEEKLY"],
                update={"dose": None, "repeat": WEEKLY},
            )
        ],
    ),
    OrderScenario(
        "in-order-mtx-frequency-invalid-dosage",
        "A dosage the FHIR model refuses (frequency written as text): the drug is still "
        "methotrexate, so the order gets the frequency warning and says the dose was not read.",
        seed,
        (lambda chart: _invalid_frequency(draft("mtx", "mtx", 15, "mg", route="sc")(chart)),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "warning",
                topics=["order-mtx-frequency", "order-mtx-dose"],
                mentions=["no frequency", "could not be read"],
            )
        ],
    ),
    OrderScenario(
        "in-order-mtx-dose-tablets-without-strength",
        "Methotrexate 4 {tbl} weekly for a product whose strength is unknown: the frequency is "
        "right, the dose cannot be read -> warning that says so, no suggestion.",
        seed,
        (draft("mtx", "mtx", 4, "{tbl}", repeat=WEEKLY, route="oral"),),
        [card("mtx", "order-mtx-dose", "warning", mentions=["could not be read", "tbl"])],
    ),
    OrderScenario(
        "out-order-mtx-weekly-sc",
        "Methotrexate 15 mg SC once weekly for a 0.97 m2 child (15.5 mg/m2): no card.",
        seed,
        (draft("mtx", "mtx", 15, "mg", repeat=WEEKLY, route="sc"),),
        [],
    ),
    # --- order-mtx-dose ---
    OrderScenario(
        "in-order-mtx-dose-above-20-mg-m2",
        "Methotrexate 22 mg weekly = 22.7 mg/m2, above 20 mg/m2 + 10 % (21.34 mg) -> warning; "
        "update to 15 mg/m2 = 14 mg.",
        seed,
        (draft("mtx", "mtx", 22, "mg", repeat=WEEKLY, route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-dose",
                "warning",
                mentions=["22 mg a week", "14.6-19.4 mg a week"],
                update={"dose": [14, "mg"], "repeat": None},
                facts={"weekly_dose_mg": "22", "bsa_m2": "0.97"},
            )
        ],
    ),
    OrderScenario(
        "boundary-order-mtx-dose-20-mg-m2",
        "Methotrexate written as exactly 20 mg/m2 weekly (19.4 mg): at the maximum, no card.",
        seed,
        (draft("mtx", "mtx", 20, "mg/m2", repeat=WEEKLY, route="sc"),),
        [],
        Threshold(
            "methotrexate.maxMgPerM2PerWeek",
            "20 mg/m2",
            "does not fire (at the maximum is in range)",
            "order-checks.md: fires ABOVE 20 mg/m2 x BSA (+10 %)",
        ),
    ),
    OrderScenario(
        "boundary-order-mtx-dose-40-mg",
        "A 75 kg, 160 cm teenager (1.83 m2): methotrexate exactly 40 mg weekly, at the cap: "
        "no card.",
        sized(75, 160, date(2011, 1, 10)),
        (draft("mtx", "mtx", 40, "mg", repeat=WEEKLY, route="sc"),),
        [],
        Threshold(
            "methotrexate.capMgPerWeek",
            "40 mg",
            "does not fire (at the cap is allowed)",
            "order-checks.md: fires above 40 mg a week",
        ),
    ),
    OrderScenario(
        "in-order-mtx-dose-above-40-mg",
        "The same teenager: methotrexate 42.5 mg weekly, above the 40 mg cap -> warning; update to "
        "15 mg/m2 = 27 mg.",
        sized(75, 160, date(2011, 1, 10)),
        (draft("mtx", "mtx", 42.5, "mg", repeat=WEEKLY, route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-dose",
                "warning",
                mentions=["42.5 mg a week"],
                update={"dose": [27, "mg"], "repeat": None},
            )
        ],
    ),
    # --- order-ivig-dose ---
    OrderScenario(
        "in-order-ivig-dose-course-written-per-day",
        "IVIG 52 g/day x 2 days (the course written as a daily dose: 104 g) -> critical; update "
        "to the ivig-start course, 26 g/day x 2 days, same id.",
        seed,
        (draft("ivig", "ivig", 52, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [
            card(
                "ivig",
                "order-ivig-dose",
                "critical",
                mentions=["104 g", "52 g", "26 g/day x 2 days"],
                update={"dose": [26, "g"], "repeat": {**DAILY, "count": 2}},
                facts={"ordered_course_g": "104", "expected_course_g": "52"},
            )
        ],
    ),
    OrderScenario(
        "boundary-order-ivig-dose-110-percent",
        "IVIG 28.6 g/day x 2 = 57.2 g, exactly 110 % of the 52 g course (and 1.1 g/kg a day): no "
        "card.",
        seed,
        (draft("ivig", "ivig", 28.6, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [],
        Threshold(
            "toleranceFraction",
            "110 % of the course",
            "does not fire (within the tolerance)",
            "order-checks.md: critical ABOVE 110 % of the course",
        ),
    ),
    OrderScenario(
        "in-order-ivig-dose-above-110-percent",
        "IVIG 29 g/day x 2 = 58 g, above 110 % of 52 g -> critical.",
        seed,
        (draft("ivig", "ivig", 29, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [
            card(
                "ivig",
                "order-ivig-dose",
                "critical",
                mentions=["58 g"],
                update={"dose": [26, "g"], "repeat": {**DAILY, "count": 2}},
            )
        ],
    ),
    OrderScenario(
        "in-order-ivig-dose-below-course",
        "IVIG 0.4 g/kg x 2 days = 20.8 g, under 90 % of 52 g -> info 'below 2 g/kg per course', no "
        "suggestion (maintenance may be meant).",
        seed,
        (draft("ivig", "ivig", 0.4, "g/kg", repeat={**DAILY, "count": 2}, route="iv"),),
        [
            card(
                "ivig",
                "order-ivig-dose",
                "info",
                mentions=["below 2 g/kg per course", "20.8 g"],
            )
        ],
    ),
    OrderScenario(
        "out-order-ivig-ml-of-10-percent",
        "IVIG written as 260 mL of a 10 % product x 2 days (26 g/day): the course, no card.",
        seed,
        (draft("ivig", "privigen", 260, "mL", repeat={**DAILY, "count": 2}, route="iv"),),
        [],
    ),
    OrderScenario(
        "out-order-ivig-g-per-kg-boundsperiod",
        "IVIG 1 g/kg a day over a 2-day boundsPeriod (days counted inclusively): the course, no "
        "card.",
        seed,
        (
            lambda chart: _two_day_period(
                draft("ivig", "ivig", 1, "g/kg", repeat=dict(DAILY), route="iv")(chart)
            ),
        ),
        [],
    ),
    # --- order-ivig-interval ---
    OrderScenario(
        "in-order-ivig-interval-20-days",
        "An IVIG course last given 20 days ago and the course ordered again -> warning (courses "
        "are 4 weeks apart).",
        with_ivig(20),
        (draft("ivig", "ivig", 26, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [card("ivig", "order-ivig-interval", "warning", mentions=["20 days", "52 g"])],
    ),
    OrderScenario(
        "boundary-order-ivig-interval-21-days",
        "The last IVIG 21 days ago: no interval card.",
        with_ivig(21),
        (draft("ivig", "ivig", 26, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [],
        Threshold(
            "ivig.minIntervalDays",
            "21 days",
            "does not fire (21 days is not within the 21 days before)",
            "order-checks.md order-ivig-interval",
        ),
    ),
    # --- order-ivig-safety ---
    OrderScenario(
        "in-order-ivig-safety-anaphylaxis",
        "Anaphylaxis to immune globulin: the IVIG order gets a critical hard-stop card, the "
        "reason first, no update suggestion.",
        anaphylaxis,
        (draft("ivig", "ivig", 26, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [card("ivig", "order-ivig-safety", "critical", mentions=["STOP", "naphylaxis"])],
    ),
    # --- an unconfirmed diagnosis (decision-model.md §0): every order card says so ---
    OrderScenario(
        "in-order-mtx-frequency-provisional-jdm",
        "JDM recorded as provisional, methotrexate 15 mg SC twice a day: the critical "
        "weekly-methotrexate card says, right after its once-weekly warning, that the diagnosis "
        "is not confirmed and how to confirm it (MRI, antibodies, biopsy), links the "
        "re-evaluation order set and names the JDM Condition in its evidence; the frequency "
        "finding and its update are unchanged.",
        jdm_recorded_as("provisional"),
        (draft("mtx", "mtx", 15, "mg", code="BID", route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                mentions=[UNCONFIRMED, "provisional", "MRI", "biopsy", "210 mg a week"],
                mentionsInOrder=["ONCE WEEKLY", UNCONFIRMED],
                update={"dose": None, "repeat": WEEKLY},
                delete=True,
                links=["jdm-reevaluation"],
                evidence=["jdm"],
            )
        ],
    ),
    OrderScenario(
        "in-order-ivig-safety-differential-jdm",
        "JDM recorded as a differential diagnosis and anaphylaxis to immune globulin: the IVIG "
        "order's hard stop comes first, then the 'not confirmed' line, then the rest.",
        jdm_recorded_as("differential", anaphylaxis),
        (draft("ivig", "ivig", 26, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [
            card(
                "ivig",
                "order-ivig-safety",
                "critical",
                mentions=["STOP", "naphylaxis", "differential"],
                mentionsInOrder=["naphylaxis", UNCONFIRMED],
                links=["jdm-reevaluation"],
                evidence=["jdm"],
            )
        ],
    ),
    OrderScenario(
        "in-order-rituximab-adult-dose-unconfirmed-jdm",
        "JDM recorded as unconfirmed and rituximab 1000 mg (the adult fixed dose) for a 0.97 m2 "
        "child: a warning, so the 'not confirmed' line comes first, then the dose finding "
        "(update to 728 mg).",
        jdm_recorded_as("unconfirmed"),
        (draft("rtx", "rituximab", 1000, "mg", repeat={**WEEKLY, "count": 2}, route="iv"),),
        [
            card(
                "rtx",
                "order-rituximab-dose",
                "warning",
                mentions=["1000 mg", "728 mg", "adult fixed dose", "unconfirmed"],
                mentionsInOrder=[UNCONFIRMED, "adult fixed dose"],
                update={"dose": [728, "mg"], "repeat": None},
                links=["jdm-reevaluation"],
                evidence=["jdm"],
            )
        ],
    ),
    OrderScenario(
        "out-order-mtx-frequency-confirmed-jdm",
        "JDM recorded as confirmed, the same twice-daily methotrexate: the critical card carries "
        "no 'not confirmed' line and no re-evaluation link.",
        jdm_recorded_as("confirmed"),
        (draft("mtx", "mtx", 15, "mg", code="BID", route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                mentions=["2 TIMES A DAY", "210 mg a week"],
                notMentions=[UNCONFIRMED, "provisional", "re-evaluation"],
                update={"dose": None, "repeat": WEEKLY},
                delete=True,
                linksAbsent=["jdm-reevaluation"],
            )
        ],
    ),
    # --- order-rituximab-dose ---
    OrderScenario(
        "in-order-rituximab-adult-dose",
        "Rituximab 1000 mg (the adult fixed dose) for a 0.97 m2 child (728 mg) -> warning, the "
        "adult dose named, update to 728 mg.",
        seed,
        (draft("rtx", "rituximab", 1000, "mg", repeat={**WEEKLY, "count": 2}, route="iv"),),
        [
            card(
                "rtx",
                "order-rituximab-dose",
                "warning",
                mentions=["1000 mg", "728 mg", "adult fixed dose"],
                update={"dose": [728, "mg"], "repeat": None},
            )
        ],
    ),
    OrderScenario(
        "out-order-rituximab-paediatric",
        "Rituximab 750 mg/m2 written per m2 (728 mg): no card.",
        seed,
        (draft("rtx", "rituximab", 750, "mg/m2", repeat={**WEEKLY, "count": 2}, route="iv"),),
        [],
    ),
    # --- order-ivmp-dose ---
    OrderScenario(
        "in-order-ivmp-dose-1-g-at-26-kg",
        "IV methylprednisolone 1 g a day at 26 kg (38 mg/kg, above 30 mg/kg + 10 %) -> warning; "
        "update to 780 mg.",
        seed,
        (draft("ivmp", "ivmp", 1, "g", repeat={**DAILY, "count": 3}, route="iv"),),
        [
            card(
                "ivmp",
                "order-ivmp-dose",
                "warning",
                mentions=["1000 mg a day", "780 mg"],
                update={"dose": [780, "mg"], "repeat": {**DAILY, "count": 3}},
            )
        ],
    ),
    OrderScenario(
        "boundary-order-ivmp-dose-1-g-at-40-kg",
        "IV methylprednisolone exactly 1 g a day for a 40 kg child (25 mg/kg): at the cap, "
        "no card.",
        sized(40, 150, date(2013, 6, 1)),
        (draft("ivmp", "ivmp", 1, "g", repeat={**DAILY, "count": 3}, route="iv"),),
        [],
        Threshold(
            "methylprednisoloneIv.capMgPerDay",
            "1 g",
            "does not fire (at the cap is allowed)",
            "order-checks.md: fires above 1 g a day",
        ),
    ),
    # --- order-steroid-dose ---
    OrderScenario(
        "in-order-steroid-dose-80-mg",
        "Prednisolone 40 mg twice a day (80 mg a day) at 40 kg: 2 mg/kg uncapped -> warning; "
        "update to 60 mg once daily.",
        sized(40, 150, date(2013, 6, 1)),
        (draft("pred", "pred", 40, "mg", repeat={**DAILY, "frequency": 2}, route="oral"),),
        [
            card(
                "pred",
                "order-steroid-dose",
                "warning",
                mentions=["80 mg a day", "60 mg"],
                update={"dose": [60, "mg"], "repeat": DAILY},
            )
        ],
    ),
    OrderScenario(
        "boundary-order-steroid-dose-60-mg",
        "Prednisolone exactly 60 mg once a day at 40 kg (1.5 mg/kg): at the cap, no card.",
        sized(40, 150, date(2013, 6, 1)),
        (draft("pred", "pred", 60, "mg", repeat=DAILY, route="oral"),),
        [],
        Threshold(
            "prednisolone.capMgPerDay",
            "60 mg",
            "does not fire (at the cap is allowed)",
            "order-checks.md: fires above 60 mg a day",
        ),
    ),
    OrderScenario(
        "in-order-ivig-interval-dose-not-recorded",
        "The last IVIG, 10 days ago, was recorded without its dose: the interval card says the "
        "dose is not recorded.",
        lambda chart: _ivig_without_dose(chart),
        (draft("ivig", "ivig", 26, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [card("ivig", "order-ivig-interval", "warning", mentions=["10 days", "dose not recorded"])],
    ),
    OrderScenario(
        "in-order-weight-needed-mtx-no-height",
        "No height on record: methotrexate 45 mg weekly is checked against the 40 mg cap only "
        "(dose warning saying so, no suggestion) and the card asks for a height.",
        lambda chart: seed(chart).drop("height"),
        (draft("mtx", "mtx", 45, "mg", repeat=WEEKLY, route="sc"),),
        [
            card(
                "mtx",
                "order-mtx-dose",
                "warning",
                topics=["order-mtx-dose", "order-weight-needed"],
                mentions=["only the 40 mg cap was checked", "and a height"],
            )
        ],
    ),
    OrderScenario(
        "in-order-weight-needed-mtx-15-mg-no-height",
        "No height on record: methotrexate 15 mg weekly is under the 40 mg cap, but 20 mg/m2 "
        "cannot be checked -> warning weight-needed naming the missing height.",
        lambda chart: seed(chart).drop("height"),
        (draft("mtx", "mtx", 15, "mg", repeat=WEEKLY, route="sc"),),
        [
            card(
                "mtx",
                "order-weight-needed",
                "warning",
                mentions=["no height within", "and a height", "Methotrexate order: weekly dose"],
            )
        ],
    ),
    # --- order-weight-needed ---
    OrderScenario(
        "in-order-weight-needed-ivig-no-weight",
        "No weight on record: the IVIG order's dose cannot be checked -> warning weight-needed.",
        without_weight,
        (draft("ivig", "ivig", 26, "g", repeat={**DAILY, "count": 2}, route="iv"),),
        [card("ivig", "order-weight-needed", "warning", mentions=["IVIG", "weight"])],
    ),
    # --- out of scope ---
    OrderScenario(
        "out-order-not-jdm",
        "No JDM on the problem list: daily methotrexate is not this service's business, no card.",
        not_jdm,
        (draft("mtx", "mtx-tablet", 5, "{pill}", repeat=DAILY),),
        [],
    ),
    OrderScenario(
        "out-order-other-drug",
        "Amoxicillin three times a day for the JDM child: not a drug this service checks.",
        seed,
        (draft("amox", "amoxicillin", 250, "mg", repeat={**DAILY, "frequency": 3}),),
        [],
    ),
    OrderScenario(
        "in-order-select-only-selected",
        "order-select with two drafts: the daily methotrexate selected gets its card; the IVIG "
        "written per day is only context (not selected), so no card for it.",
        seed,
        (
            draft("mtx", "mtx-tablet", 5, "{pill}", repeat=DAILY),
            draft("ivig", "ivig", 52, "g", repeat={**DAILY, "count": 2}, route="iv"),
        ),
        [
            card(
                "mtx",
                "order-mtx-frequency",
                "critical",
                update={"dose": [5, "{pill}"], "repeat": WEEKLY},
                delete=True,
            )
        ],
        hook="order-select",
        selections=("mtx",),
    ),
]


def _two_day_period(order: Json) -> Json:
    repeat = order["dosageInstruction"][0]["timing"]["repeat"]
    repeat["boundsPeriod"] = {"start": "2026-03-16", "end": "2026-03-17"}
    return order


def _invalid_frequency(order: Json) -> Json:
    order["dosageInstruction"][0]["timing"] = {"repeat": {"frequency": "daily"}}
    return order


def _ivig_without_dose(chart: Chart) -> Chart:
    with_ivig(10)(chart)
    for resource in chart.resources:
        if resource["resourceType"] == "MedicationAdministration" and "-ivig-d" in resource["id"]:
            resource.pop("dosage", None)
    return chart
