"""Scenarios beyond the minimum: the other red flags, the MMT-8 thresholds, records that must not
count (entered-in-error, not-done), escalation without a height, methotrexate known only from
its order, and the weight plausibility limits (docs/clinical/decision-model.md §2, §4, §6;
docs/clinical/dosing.md)."""

from __future__ import annotations

from fhir_fixtures import builders as b
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, refractory, seed
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps


def _early(c: Chart) -> Chart:
    """6 weeks of methotrexate: without a red flag this is the first-line window."""
    return refractory(c, mtx_days=42)


def _problem(local: str, kind: str, days_ago: int = 10) -> object:
    return lambda c: c.problem(local, kind, days_ago=days_ago)


def _mmt8(value: int, *, drop_weakness: bool = True) -> object:
    """An MMT-8 score instead of CMAS (and, by default, no weakness Condition)."""

    def step(c: Chart) -> None:
        c.drop("cmas")
        if drop_weakness:
            c.drop("weak")
        c.lab("mmt8", "mmt8", value, days_ago=5)

    return step


def _verification(local: str, code: str) -> object:
    def step(c: Chart) -> None:
        c.get(local)["verificationStatus"]["coding"][0]["code"] = code

    return step


def _weights(*kg_days: tuple[float, float]) -> object:
    """Replace the weights: (kg, days ago) pairs, the first being the newest (`w-now`)."""

    def step(c: Chart) -> None:
        c.drop_type("Observation", "w-")
        for n, (kg, days_ago) in enumerate(kg_days):
            c.weight("w-now" if n == 0 else f"w-{n}", kg, days_ago=days_ago)

    return step


def _mtx_order_only(c: Chart) -> None:
    """Home SC methotrexate: the active weekly order since 14 weeks ago, no administrations."""
    c.drop_type("MedicationAdministration", "mtx-")


def _not_done_ivig(c: Chart) -> None:
    """An IVIG course that was planned 3 weeks ago but not given (status not-done)."""
    c.ivig_course("ivig-1", last_days_ago=20, grams_per_day=26)
    for local in ("ivig-1-d1", "ivig-1-d2"):
        c.get(local)["status"] = "not-done"


MYOCARDITIS_FLUID = x.card("ivig-safety-cardiac-fluid", "warning", evidence=["myo"])

SCENARIOS = [
    Scenario(
        "in-ivig-start-red-flag-ild",
        "Interstitial lung disease after only 6 weeks of MTX: organ-threatening, so the severe "
        "pathway (severe-organ-disease, critical) replaces ivig-start (decision-model.md §5a).",
        steps(_early, _problem("ild", "ild", 20)),
        [x.severe_organ(evidence=["ild"])],
    ),
    Scenario(
        "out-ivig-start-red-flag-irritability",
        "Irritability is not a red flag: SNOMED 55929007 is 'Feeling irritable', once listed as "
        "dysphonia by mistake. At 6 weeks of MTX this is the first-line window, not ivig-start.",
        steps(_early, _problem("irr", "irritability", 10)),
        [x.first_line_window()],
        forbidden=("irr",),
    ),
    Scenario(
        "in-ivig-safety-cardiac-fluid-myocarditis",
        "Myocarditis is organ-threatening (severe-organ-disease, not ivig-start: "
        "docs/clinical/decision-model.md §5a) and a fluid-load risk (its own card): the IVIG "
        "adjunct is split over 5 days at no more than 0.03 mL/kg/min.",
        steps(_early, _problem("myo", "myocarditis", 15)),
        [x.severe_organ(dose=x.DOSE_26_KG_SLOW_5_DAY, evidence=["myo"]), MYOCARDITIS_FLUID],
    ),
    Scenario(
        "boundary-ivig-start-mmt8-29-red-flag",
        "MMT-8 29 (< 30) is a red flag: ivig-start critical at 6 weeks of MTX.",
        steps(_early, _mmt8(29)),
        [x.ivig_start("critical", evidence=["mmt8"])],
        threshold=Threshold(
            "MMT-8 red flag",
            "30",
            "fires (29 < 30)",
            "docs/clinical/decision-model.md §2: 'MMT-8 < 30'.",
        ),
    ),
    Scenario(
        "boundary-first-line-window-mmt8-30",
        "MMT-8 exactly 30 is weak (< 78) but not a red flag: first-line window at 6 weeks of MTX.",
        steps(_early, _mmt8(30)),
        [x.first_line_window()],
        threshold=Threshold(
            "MMT-8 red flag",
            "30",
            "does not fire (30 is not < 30)",
            "docs/clinical/decision-model.md §2.",
        ),
    ),
    Scenario(
        "boundary-ivig-start-mmt8-77",
        "No weakness Condition, MMT-8 77 (< 78): active disease; 14 weeks of MTX -> ivig-start.",
        steps(refractory, _mmt8(77)),
        [x.ivig_start(evidence=["mmt8"])],
        threshold=Threshold(
            "MMT-8 weakness",
            "78",
            "fires (77 < 78)",
            "docs/clinical/decision-model.md §2: 'MMT-8 < 78'.",
        ),
    ),
    Scenario(
        "boundary-ivig-start-mmt8-78",
        "No weakness Condition, MMT-8 exactly 78: inactive by strength, no cards.",
        steps(refractory, _mmt8(78)),
        [],
        threshold=Threshold(
            "MMT-8 weakness",
            "78",
            "does not fire (inactive needs MMT-8 >= 78)",
            "docs/clinical/decision-model.md §2 [PRINTO-CID].",
        ),
    ),
    Scenario(
        "out-dysphagia-aspiration-entered-in-error",
        "Seed, but the dysphagia Condition was entered in error: no red flag, no dysphagia card; "
        "4 MTX doses -> first-line window (docs/clinical/decision-model.md §6).",
        steps(seed, _verification("dys", "entered-in-error")),
        [x.first_line_window()],
        forbidden=("dys",),
    ),
    Scenario(
        "in-ivig-start-ivig-not-done",
        "An IVIG course marked not-done 3 weeks ago was never given: ivig-start still fires.",
        steps(refractory, _not_done_ivig),
        [x.ivig_start()],
        forbidden=("ivig-1-d1", "ivig-1-d2"),
    ),
    Scenario(
        "in-ivig-start-methotrexate-order-only",
        "Methotrexate known only from its active weekly order (home injections) started 14 weeks "
        "ago: the adequate trial counts from the order -> ivig-start.",
        steps(refractory, _mtx_order_only),
        [x.ivig_start(evidence=["mtx-order"])],
    ),
    Scenario(
        "in-escalate-after-ivig-no-height",
        "3 courses, still weak, no height on record: escalate-after-ivig names rituximab "
        "750 mg/m2 but gives no mg figure (docs/clinical/dosing.md: needs weight and height).",
        steps(
            lambda c: refractory(c, mtx_days=280),
            lambda c: c.drop("height"),
            lambda c: [
                c.ivig_course(f"ivig-{n}", last_days_ago=d, grams_per_day=26)
                for n, d in enumerate((100, 72, 44), start=1)
            ],
        ),
        [
            x.card(
                "escalate-after-ivig",
                "warning",
                doseAbsent=True,
                mentionsInOrder=x.ESCALATE_ORDER,
                mentions=x.ESCALATE_TEXT,
            )
        ],
    ),
    Scenario(
        "boundary-weight-needed-change-20-percent",
        "24 kg now, 20 kg 25 days ago: exactly +20 % is not 'more than 20 %' -> 24 kg is used "
        "(48 g, 24 g/day x 2).",
        steps(refractory, _weights((24, 5), (20, 25))),
        [
            x.ivig_start(
                dose=x.DOSE_26_KG
                | {
                    "weightKg": "24",
                    "uncappedTotalG": "48",
                    "courseTotalG": "48",
                    "perDayG": "24",
                    "fiveDayPerDayG": "9.6",
                    "volumeMl": "480",
                }
            )
        ],
        threshold=Threshold(
            "weight change",
            "20 % within 30 days",
            "usable (exactly 20 % is not more than 20 %)",
            "docs/clinical/dosing.md: 'a change of more than 20 % within 30 days'.",
        ),
    ),
    Scenario(
        "in-weight-needed-implausible-weight",
        "A recorded weight of 260 kg (outside 2-150 kg) is not used: weight-needed, no grams.",
        steps(refractory, _weights((260, 2))),
        [x.ivig_start(dose=None), x.weight_needed("w-now", mentions=[["260"]])],
    ),
    Scenario(
        "out-scope-deceased-boolean",
        "deceasedBoolean true (no date): no cards, as with a date "
        "(docs/clinical/decision-model.md §0).",
        steps(seed, lambda c: c.get("pat").update({"deceasedBoolean": True})),
        [],
    ),
]


def _noise(c: Chart) -> None:
    """What a real record also holds: asthma, salbutamol and vitamin D, a heart rate, years of
    weights and heights, an inactivated flu vaccine, a mild penicillin allergy, an old resolved
    problem. None of it may change a card."""
    c.problem("asthma", "asthma", days_ago=1500)
    c.add(fb.other_order(c.id("salbutamol"), c.pid, b.ALBUTEROL, start=at(days_ago=1400)))
    c.add(fb.other_order(c.id("vitd"), c.pid, b.CHOLECALCIFEROL, start=at(days_ago=30)))
    c.add(fb.other_observation(c.id("hr"), c.pid, b.HEART_RATE, 96, "/min", when=at(days_ago=5)))
    for n, (kg, days_ago) in enumerate([(21.5, 700), (23, 400), (24.6, 180)], start=1):
        c.weight(f"w-hist-{n}", kg, days_ago=days_ago)
        c.lab(f"h-hist-{n}", "height", 118 + 4 * n, days_ago=days_ago)
    c.add(fb.immunization(c.id("flu"), c.pid, "influenza-inactivated", when=at(days_ago=150)))
    c.add(
        fb.ig_allergy(
            c.id("pen"),
            c.pid,
            criticality="low",
            manifestation="Rash",
            severity="mild",
            recorded=at(days_ago=1200),
            substance="penicillin",
        )
    )


def _stale_mtx_records(c: Chart) -> None:
    """A methotrexate order from 20 weeks ago that was cancelled unused, and an administration
    16 weeks ago entered in error: neither makes the 6-week trial any longer."""
    old_order = fb.mtx_order(c.id("mtx-cancelled"), c.pid, 15, start=at(days_ago=140))
    old_order["status"] = "cancelled"
    c.add(old_order)
    wrong = fb.mtx_admin(c.id("mtx-eie"), c.pid, 15, when=at(days_ago=112))
    wrong["status"] = "entered-in-error"
    c.add(wrong)


SCENARIOS += [
    Scenario(
        "in-seed-case-noisy-record",
        "The seed inside a realistic record (asthma, other drugs, years of growth, a heart rate, "
        "a flu vaccine, a mild penicillin allergy): exactly the seed's cards and dose.",
        steps(seed, _noise),
        [
            x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"]),
            x.dysphagia(),
        ],
        forbidden=("asthma", "salbutamol", "vitd", "hr", "flu", "pen"),
    ),
    Scenario(
        "out-ivig-start-cancelled-and-erroneous-methotrexate",
        "6 weeks of methotrexate, plus a cancelled order from 20 weeks ago and an entered-in-error "
        "dose 16 weeks ago: the trial is still 6 weeks -> first-line window, no IVIG.",
        steps(_early, _stale_mtx_records),
        [x.first_line_window()],
        forbidden=("mtx-cancelled", "mtx-eie"),
    ),
]


def _courses(*last_days_ago: int) -> object:
    def step(c: Chart) -> None:
        for n, days_ago in enumerate(last_days_ago, start=1):
            c.ivig_course(f"ivig-{n}", last_days_ago=days_ago, grams_per_day=26)

    return step


def _jdm_code(kind: str) -> object:
    return lambda c: c.get("jdm").update({"code": fb.concept(fb.CONDITION_CODES[kind])})


def _jdm_resolved(c: Chart) -> None:
    jdm = c.get("jdm")
    jdm["clinicalStatus"]["coding"][0]["code"] = "resolved"
    jdm["abatementDateTime"] = at(days_ago=20)


SCENARIOS += [
    Scenario(
        "out-ivig-start-after-three-courses-lapsed",
        "3 IVIG courses, the last 74 days ago (outside 8 weeks), still weak: IVIG is failing -> "
        "escalate-after-ivig only; never ivig-start alongside it "
        "(docs/clinical/decision-model.md §6).",
        steps(lambda c: refractory(c, mtx_days=280), _courses(130, 102, 74)),
        [x.escalate({"agent": "rituximab", "mgPerM2": "750", "infusions": 2, "intervalDays": 7})],
    ),
    Scenario(
        "out-scope-juvenile-polymyositis",
        "A child with polymyositis (not dermatomyositis), weak after 14 weeks of MTX: not in this "
        "service's scope -> no cards (docs/clinical/decision-model.md §0).",
        steps(refractory, _jdm_code("polymyositis")),
        [],
    ),
    Scenario(
        "out-scope-jdm-resolved",
        "The JDM diagnosis is resolved (remission recorded) though an old weakness entry is still "
        "active: no active JDM diagnosis -> no cards (docs/clinical/decision-model.md §0).",
        steps(refractory, _jdm_resolved),
        [],
    ),
    Scenario(
        "in-dysphagia-aspiration-on-ivig",
        "Dysphagia in a child whose last IVIG course ended 20 days ago: the dysphagia card fires "
        "on its own (§5 stands alone); no ivig-start within 8 weeks of IVIG.",
        steps(
            lambda c: refractory(c, mtx_days=150, labs_days_ago=7),
            _courses(20),
            lambda c: c.problem("dys", "dysphagia", days_ago=6),
        ),
        [x.dysphagia()],
    ),
]


def _pred_statements(*steps_: tuple[int, float]) -> object:
    """Replace the prednisolone orders by MedicationStatements: (days ago started, mg/day)."""

    def step(c: Chart) -> None:
        c.drop_type("MedicationRequest", "pred-")
        for n, (start, mg) in enumerate(steps_, start=1):
            end = at(days_ago=steps_[n][0]) if n < len(steps_) else None
            c.add(
                fb.pred_statement(c.id(f"pred-{n}"), c.pid, mg, start=at(days_ago=start), end=end)
            )

    return step


SCENARIOS += [
    Scenario(
        "in-steroid-taper-reported-doses",
        "Prednisolone known only from MedicationStatements (reported use): 52 mg/day cut to 20 mg "
        "at 5.5 weeks while still weak -> steroid-taper, as with orders.",
        steps(_early, _pred_statements((49, 52), (10, 20))),
        [
            x.first_line_window(),
            x.card("steroid-taper", "warning", evidence=["pred-2"], mentions=[["taper"]]),
        ],
    ),
]
