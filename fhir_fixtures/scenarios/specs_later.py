"""Scenarios: IVIG recency, monitoring due, escalation after IVIG, extramuscular screen, steroid
taper, data quality and obesity (docs/clinical/decision-model.md §3-5, docs/clinical/dosing.md)."""

from __future__ import annotations

from datetime import date

from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios.charts import Chart, inactive, refractory
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps


def _courses(*last_days_ago: int, grams_per_day: float = 26) -> object:
    """IVIG courses of 2 daily infusions, each ending `last_days_ago` days ago."""

    def step(c: Chart) -> None:
        for n, days_ago in enumerate(last_days_ago, start=1):
            c.ivig_course(f"ivig-{n}", last_days_ago=days_ago, grams_per_day=grams_per_day)

    return step


def _body(kg: float, cm: float, birth: date) -> object:
    def step(c: Chart) -> None:
        c.get("pat")["birthDate"] = birth.isoformat()
        c.get("w-now")["valueQuantity"]["value"] = kg
        c.get("height")["valueQuantity"]["value"] = cm
        c.get("height")["effectiveDateTime"] = c.get("w-now")["effectiveDateTime"]

    return step


def _on_ivig(*last_days_ago: int, labs_days_ago: float = 7, kg: float = 26) -> object:
    """Refractory disease (MTX for 40 weeks) with IVIG courses ending at the given ages."""

    def step(c: Chart) -> None:
        refractory(c, mtx_days=280, labs_days_ago=labs_days_ago)
        _courses(*last_days_ago, grams_per_day=min(kg, 35))(c)  # 1 g/kg/day, 70 g cap

    return step


def _pred(*steps_: tuple[int, float]) -> object:
    def step(c: Chart) -> None:
        c.drop_type("MedicationRequest", "pred-")
        c.prednisolone(list(steps_))

    return step


def _unit_weight(local: str, value: float, unit: str, days_ago: float) -> object:
    return lambda c: c.weight(local, value, days_ago=days_ago, unit=unit)


def _screens_only(*kinds: str, days_ago: float = 33) -> object:
    def step(c: Chart) -> None:
        c.drop("ecg", "echo", "pft")
        if kinds:
            c.screens(days_ago=days_ago, kinds=kinds)

    return step


# docs/clinical/decision-model.md §4: due for CK/ESR/CRP and CMAS/MMT-8
MONITORING = x.card(
    "ivig-monitoring-due",
    "info",
    evidenceAnyOf=[["ivig-1-d1", "ivig-1-d2"]],
    mentions=[["ck", "creatine kinase"], ["cmas", "mmt"]],
)
# rituximab 750 mg/m2 (max 1 g) x 2, 7 days apart (docs/clinical/dosing.md).
# docs/clinical/dosing.md's own examples round BSA
# differently (130 cm/30 kg -> 1.04 m2 -> 780 mg; 165 cm/60 kg -> 1244 mg), hence the tolerances.
RITUXIMAB_30_KG = {
    "agent": "rituximab",
    "heightCm": "130",
    "weightKg": "30",
    "mgPerM2": "750",
    "capMg": "1000",
    "capped": False,
    "infusions": 2,
    "intervalDays": 7,
    "bsaM2": {"value": "1.04", "tolerance": "0.01"},
    "perInfusionMg": {"value": "780", "tolerance": "1"},
}
RITUXIMAB_60_KG = RITUXIMAB_30_KG | {
    "heightCm": "165",
    "weightKg": "60",
    "capped": True,
    "perInfusionMg": "1000",
    "bsaM2": {"value": "1.66", "tolerance": "0.01"},
    "uncappedMg": {"value": "1244", "tolerance": "1.5"},
}


def _escalate(dose: dict[str, object]) -> dict[str, object]:
    return x.escalate(
        dose, evidence=["w-now", "height"], evidenceAnyOf=[["ivig-1-d1", "ivig-1-d2"]]
    )


SCENARIOS = [
    # --- IVIG recency (ivig-start) and monitoring -------------------------------------------
    Scenario(
        "boundary-ivig-course-due-last-infusion-8-weeks-ago",
        "One course, its last infusion exactly 8 weeks (56 days) ago: still 'on IVIG', never a "
        "fresh start; the next monthly course is overdue (> 35 days since the course began) "
        "and the labs are 5 weeks old -> ivig-course-due and monitoring due.",
        _on_ivig(56, labs_days_ago=35),
        [x.course_due(), MONITORING],
        threshold=Threshold(
            "IVIG recency",
            "8 weeks",
            "within 8 weeks (the boundary day counts): monitoring due",
            "docs/clinical/decision-model.md §4: an IVIG course in the last 8 weeks means on "
            "IVIG, never ivig-start.",
        ),
    ),
    Scenario(
        "in-ivig-course-due-one-course-57-days-ago",
        "One course, its last infusion 57 days ago, still weak: the second course is overdue "
        "(ivig-course-due with the next course's dose and draft), not a fresh start: no "
        "baseline orders and no pre-IVIG serology.",
        _on_ivig(57),
        [x.course_due()],
    ),
    Scenario(
        "boundary-ivig-course-due-35-days",
        "One course begun exactly 35 days ago (4 weeks and a week's grace), labs last week: "
        "the next course is not yet overdue -> no cards.",
        _on_ivig(34),
        [],
        threshold=Threshold(
            "next course overdue",
            "35 days",
            "does not fire (35 days is not > 35)",
            "docs/clinical/decision-model.md §4.",
        ),
    ),
    Scenario(
        "boundary-ivig-course-due-36-days",
        "One course begun 36 days ago, still weak: the next course is overdue.",
        _on_ivig(35),
        [x.course_due()],
        threshold=Threshold(
            "next course overdue",
            "35 days",
            "fires (36 > 35)",
            "docs/clinical/decision-model.md §4.",
        ),
    ),
    Scenario(
        "boundary-ivig-course-due-trial-26-weeks",
        "One course begun 181 days ago (a day inside 26 weeks; the fixture clock's fixed UTC "
        "offset makes the exact instant fall an hour either side across daylight saving), still "
        "weak: the trial has not lapsed -> the next course is overdue, not a fresh start.",
        steps(lambda c: refractory(c, mtx_days=400), _courses(180)),
        [x.course_due()],
        threshold=Threshold(
            "IVIG trial lapsed",
            "26 weeks",
            "not lapsed (a day inside 26 weeks)",
            "docs/clinical/decision-model.md §4.",
        ),
    ),
    Scenario(
        "boundary-ivig-start-trial-lapsed",
        "One course begun 26 weeks and a day ago, still weak: the trial lapsed -> IVIG again is a "
        "fresh start (ivig-start with baseline orders).",
        steps(lambda c: refractory(c, mtx_days=400), _courses(182)),
        [x.ivig_start()],
        threshold=Threshold(
            "IVIG trial lapsed",
            "26 weeks",
            "lapsed (> 26 weeks)",
            "docs/clinical/decision-model.md §4.",
        ),
    ),
    Scenario(
        "out-ivig-start-ivig-3-weeks-ago",
        "A course 3 weeks ago with labs and CMAS last week: no ivig-start, nothing due -> "
        "no cards.",
        _on_ivig(20),
        [],
    ),
    Scenario(
        "in-ivig-monitoring-due",
        "A course 3 weeks ago and no CK/ESR/CRP or CMAS for 5 weeks: monitoring due (info).",
        _on_ivig(20, labs_days_ago=35),
        [MONITORING],
    ),
    Scenario(
        "out-ivig-monitoring-due",
        "A course 3 weeks ago, CK/ESR/CRP and CMAS 1 week ago: nothing due.",
        _on_ivig(20, labs_days_ago=7),
        [],
    ),
    Scenario(
        "boundary-ivig-monitoring-due-labs-4-weeks",
        "Labs and CMAS exactly 4 weeks (28 days) ago count as 'in the last 4 weeks': not due.",
        _on_ivig(20, labs_days_ago=28),
        [],
        threshold=Threshold(
            "monitoring window",
            "4 weeks",
            "done within 4 weeks: no card",
            "docs/clinical/decision-model.md §4: 'no CK, ESR or CRP and no CMAS/MMT-8 in the "
            "last 4 weeks'.",
        ),
    ),
    # --- escalate-after-ivig ------------------------------------------------------------------
    Scenario(
        "in-escalate-after-ivig",
        "4 monthly IVIG courses, 30 kg / 130 cm, still weak: escalate-after-ivig with rituximab "
        "750 mg/m2 -> BSA 1.04 m2 -> 780 mg x 2, 7 days apart; no ivig-start.",
        steps(_on_ivig(100, 72, 44, 16, kg=30), _body(30, 130, date(2016, 11, 20))),
        [_escalate(RITUXIMAB_30_KG)],
    ),
    Scenario(
        "in-escalate-after-ivig-rituximab-capped",
        "3 courses, the third 6 weeks ago, 60 kg / 165 cm (15 y): rituximab 1244 mg -> capped "
        "at 1000 mg per infusion.",
        steps(_on_ivig(100, 72, 44, kg=60), _body(60, 165, date(2010, 9, 1))),
        [_escalate(RITUXIMAB_60_KG)],
    ),
    Scenario(
        "out-escalate-after-ivig-responding",
        "3 courses and the disease is inactive (weakness resolved, CMAS 50): no cards.",
        steps(lambda c: inactive(c, mtx_days=280), _courses(72, 44, 16)),
        [],
    ),
    Scenario(
        "boundary-escalate-after-ivig-3-courses",
        "Exactly 3 courses, the third begun exactly 4 weeks ago, 30 kg / 130 cm, still weak, "
        "CMAS not improving: escalate-after-ivig fires.",
        steps(_on_ivig(83, 55, 27, kg=30), _body(30, 130, date(2016, 11, 20))),
        [_escalate(RITUXIMAB_30_KG)],
        threshold=Threshold(
            "IVIG courses; response review",
            "3 courses; 4 weeks after the third began",
            "fires (>= 3, >= 4 weeks)",
            "docs/clinical/decision-model.md §4: IVIG failing is judged at least 4 weeks after "
            "the third monthly course.",
        ),
    ),
    Scenario(
        "boundary-escalate-after-ivig-2-courses",
        "2 courses, still weak, last 16 days ago, labs recent: too early to call IVIG "
        "failing; no cards.",
        _on_ivig(44, 16),
        [],
        threshold=Threshold(
            "IVIG courses", "3", "does not fire (2 < 3)", "docs/clinical/decision-model.md §4."
        ),
    ),
    # --- extramuscular-screen -------------------------------------------------------------
    Scenario(
        "in-extramuscular-screen",
        "No ECG, echocardiogram or PFT ever (6 weeks of MTX): screen card suggesting all three.",
        steps(lambda c: refractory(c, mtx_days=42), _screens_only()),
        [
            x.first_line_window(),
            x.card(
                "extramuscular-screen", "info", serviceRequests=["29303009", "40701008", "23426006"]
            ),
        ],
    ),
    Scenario(
        "in-extramuscular-screen-pft-missing",
        "ECG and echo last month but no PFT: the card suggests only the PFT.",
        steps(lambda c: refractory(c, mtx_days=42), _screens_only("ecg", "echo")),
        [
            x.first_line_window(),
            x.card(
                "extramuscular-screen",
                "info",
                serviceRequests=["23426006"],
                serviceRequestsAbsent=["29303009", "40701008"],
            ),
        ],
    ),
    Scenario(
        "out-extramuscular-screen",
        "ECG, echo and PFT 33 days ago: no screen card.",
        lambda c: refractory(c, mtx_days=42),
        [x.first_line_window()],
    ),
    Scenario(
        "boundary-extramuscular-screen-12-months",
        "ECG, echo and PFT exactly 12 months (365 days) ago: within 12 months, no card.",
        steps(
            lambda c: refractory(c, mtx_days=42), _screens_only("ecg", "echo", "pft", days_ago=365)
        ),
        [x.first_line_window()],
        threshold=Threshold(
            "screen recency",
            "12 months",
            "done within 12 months (boundary counts)",
            "docs/clinical/decision-model.md §5: 'no ECG, echocardiogram or PFT in the last 12 "
            "months'.",
        ),
    ),
    # --- steroid-taper ----------------------------------------------------------------------
    Scenario(
        "in-steroid-taper",
        "Prednisolone 52 mg cut to 20 mg (38 %) at 5.5 weeks while still weak: premature taper.",
        steps(lambda c: refractory(c, mtx_days=42), _pred((49, 52), (10, 20))),
        [
            x.first_line_window(),
            x.card("steroid-taper", "warning", evidence=["pred-2"], mentions=[["taper"]]),
        ],
    ),
    Scenario(
        "out-steroid-taper-inactive-disease",
        "The same fast taper in a child whose disease is inactive: no card (needs active disease).",
        steps(lambda c: inactive(c, mtx_days=42), _pred((49, 52), (10, 20))),
        [],
    ),
    Scenario(
        "boundary-steroid-taper-half-dose",
        "52 mg -> 26 mg at 5.5 weeks: exactly 50 % (not under) and exactly half (not "
        "more): no card.",
        steps(lambda c: refractory(c, mtx_days=42), _pred((49, 52), (10, 26))),
        [x.first_line_window()],
        threshold=Threshold(
            "taper reference",
            "50 % of start before 2 months; > half within 4 weeks",
            "does not fire",
            "docs/clinical/decision-model.md §5: 'under 50 %' and 'more than half'.",
        ),
    ),
    # --- data-quality ---------------------------------------------------------------------
    Scenario(
        "in-data-quality-unconvertible-weight",
        "A weight from yesterday in stones cannot be converted: data-quality card naming it; the "
        "dose uses the newest valid weight (26 kg, 5 days ago).",
        steps(refractory, _unit_weight("w-stone", 4.1, "[stone_av]", 1)),
        [x.ivig_start(dose=x.DOSE_26_KG), x.card("data-quality", "info", evidence=["w-stone"])],
        forbidden=(),
    ),
    Scenario(
        "out-data-quality-old-unconvertible-weight",
        "A weight in stones from 200 days ago could change nothing: no data-quality card.",
        steps(refractory, _unit_weight("w-stone", 3.5, "[stone_av]", 200)),
        [x.ivig_start(dose=x.DOSE_26_KG)],
    ),
    Scenario(
        "boundary-data-quality-weight-in-pounds",
        "The only weight is 50 [lb_av] (= 22.6796185 kg, read as 22.7 kg): convertible, used, no "
        "data-quality card; 45.4 g per course.",
        steps(refractory, lambda c: c.drop("w-now"), _unit_weight("w-now", 50, "[lb_av]", 5)),
        [
            x.ivig_start(
                dose=x.DOSE_26_KG
                | {
                    "weightKg": "22.7",  # the dosing weight is read to 0.1 kg (dosing.md)
                    "uncappedTotalG": "45.4",
                    "courseTotalG": "45.4",
                    "perDayG": "22.7",
                    "fiveDayPerDayG": "9.1",
                    "volumeMl": "454",
                }
            )
        ],
        threshold=Threshold(
            "convertible weight units",
            "kg, g, [lb_av]",
            "converted, no note",
            "docs/clinical/dosing.md: 'in a convertible unit (kg, g, [lb_av])'.",
        ),
    ),
    # --- obesity -----------------------------------------------------------------------------
    Scenario(
        "in-ivig-start-obese-shows-ddw",
        "A 10-year-old girl, 50 kg / 140 cm (BMI 25.5, above the 95th centile): the card "
        "also shows "
        "the dose-determining weight (IBW + 0.4 x excess, ~40 kg); the dose uses actual weight "
        "(default) -> 100 g capped at 70 g.",
        steps(refractory, _body(50, 140, date(2016, 1, 10))),
        [
            x.ivig_start(
                dose=x.DOSE_40_KG
                | {
                    "weightKg": "50",
                    "uncappedTotalG": "100",
                    "ddwKg": {"min": "35", "max": "45"},
                },
                # docs/clinical/dosing.md: the arithmetic shows any cap applied, for the DDW
                # alternative too:
                # 2 x 50 = 100 g and 2 x ~40 = ~80 g, both capped at 70 g
                mentions=[["100 g"], ["80 g", "79.8 g", "79.9 g", "80.1 g", "80.2 g"]],
            )
        ],
    ),
]
