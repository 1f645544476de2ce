"""Scenarios: every safety check of docs/clinical/safety.md (hard stops, warnings, notes).

All start from :func:`charts.refractory` (14 weeks of methotrexate, weak, no red flag), whose
ivig-start card is a plain ``warning``: so a hard stop shows as ``critical`` with no draft IVIG
order, a warning as a card of its own, and a note only in the ivig-start card's safety checks.
"""

from __future__ import annotations

from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, refractory, taper_steps
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps


def _lab(local: str, kind: str, value: float, *, days_ago: float = 2, **ranges: float) -> object:
    """Replace (or add) a lab result, measured 2 days ago unless told otherwise."""

    def step(c: Chart) -> None:
        if any(r.get("id") == c.id(local) for r in c.resources):
            c.drop(local)
        c.lab(local, kind, value, days_ago=days_ago, **ranges)

    return step


def _no(*locals_: str) -> object:
    return lambda c: c.drop(*locals_)


def _problem(
    local: str,
    kind: str,
    *,
    days_ago: int = 200,
    status: str = "active",
    verification: str = "confirmed",
    abated_days_ago: int | None = None,
) -> object:
    def step(c: Chart) -> None:
        extra = {"abated": at(days_ago=abated_days_ago)} if abated_days_ago is not None else {}
        c.add(
            fb.condition(
                c.id(local),
                c.pid,
                kind,
                onset=at(days_ago=days_ago),
                status=status,
                verification=verification,
                **extra,
            )
        )

    return step


def _allergy(**kwargs: str) -> object:
    return lambda c: c.add(
        fb.ig_allergy(c.id("allergy"), c.pid, recorded=at(days_ago=400), **kwargs)
    )


def _vaccine(kind: str, days_ago: float, local: str = "vax") -> object:
    return lambda c: c.add(fb.immunization(c.id(local), c.pid, kind, when=at(days_ago=days_ago)))


def _anti_iga(positive: bool, days_ago: float = 20, local: str = "anti-iga") -> object:
    return lambda c: c.add(
        fb.anti_iga(c.id(local), c.pid, positive=positive, when=at(days_ago=days_ago))
    )


def _anti_iga_text(text: str) -> object:
    def step(c: Chart) -> None:
        result = fb.anti_iga(c.id("anti-iga"), c.pid, positive=True, when=at(days_ago=20))
        del result["valueCodeableConcept"]
        result["valueString"] = text
        c.add(result)

    return step


def _steroid_from(days_ago: int) -> object:
    """Replace the chart's prednisolone: 52, 40 then 30 mg/day (all >= 20 mg/day), from
    `days_ago`."""

    def step(c: Chart) -> None:
        c.drop_type("MedicationRequest", "pred-")
        c.prednisolone(taper_steps(days_ago))

    return step


def _methotrexate_stopped(first_days_ago: int, last_days_ago: int) -> object:
    """The refractory chart with weekly methotrexate from `first_days_ago`, stopped after the
    dose `last_days_ago` ago (the order ended, later doses never given)."""

    def step(c: Chart) -> None:
        refractory(c, mtx_days=first_days_ago)
        c.drop("mtx-order")
        for n, days_ago in enumerate(range(first_days_ago, 0, -7), start=1):
            if days_ago < last_days_ago:
                c.drop(f"mtx-{n}")

    return step


def _abo(group: str, days_ago: float) -> object:
    def step(c: Chart) -> None:
        c.drop("abo")
        c.add(fb.abo_group(c.id("abo"), c.pid, group, when=at(days_ago=days_ago)))

    return step


def _body_40kg(c: Chart) -> None:
    c.get("pat")["birthDate"] = "2014-02-01"
    c.get("w-now")["valueQuantity"]["value"] = 40
    c.get("height")["valueQuantity"]["value"] = 150


def _ivig_course_70_days_ago(c: Chart) -> None:
    c.ivig_course("ivig-1", last_days_ago=70, grams_per_day=26)


RENAL_WARNING = x.card("ivig-safety-renal", "warning", evidence=["egfr"])
HARD_STOP = "hard-stop"
NO_IGA_CARD = ["iga-unknown"]
REPEAT = [["repeat that dose 11 months after ivig"]]


# what each note must say (docs/clinical/safety.md, the effect column)
NOTE_TEXT: dict[str, list[list[object]]] = {
    "hemolysis": [["haemoly", "hemoly"], ["36"]],  # Hb at baseline and 36-96 h after
    "live-vaccine": [["vaccin"]],  # IVIG may blunt the vaccine; note the dates
    "live-vaccine-immunosuppressed": [["immunosuppress"], ["vaccine-strain"]],
    "migraine": [["aseptic meningitis"]],
    "iga-unknown": [["iga"]],
    "iga-low": [["mildly low"], ["not iga deficiency"]],
    "renal-unjudged": [["cannot be judged"], ["140"], ["height"]],
}
ABO_ORDER = {"anyCode": ["882-1", "883-9"], "text": "ABO"}


def _note(
    code: str, *, mentions: list[object] | None = None, **kwargs: object
) -> dict[str, object]:
    text = [*NOTE_TEXT[code], *(mentions or [])]
    return x.ivig_start(checks=[[code, "note"]], mentions=text, **kwargs)  # type: ignore[arg-type]


def _no_note(code: str, **kwargs: object) -> dict[str, object]:
    return x.ivig_start(absent_checks=[code], **kwargs)  # type: ignore[arg-type]


def _hard_stop(code: str, evidence: list[str]) -> dict[str, object]:
    """The ivig-contraindicated card (docs/clinical/safety.md, hard stops): critical, says what is
    contraindicated and why first, names the alternatives; no dose, no draft orders at all (no
    pre-IVIG serology), no infusion order set."""
    return x.contraindicated(code, HARD_STOP_REASONS[code], evidence)


HARD_STOP_REASONS = {
    "anaphylaxis-to-ig": ["anaphyla", "allerg", "reaction"],
    "renal-severe": ["egfr", "creatinine", "renal", "kidney"],
    "anti-iga-reaction": ["anti-iga", "reaction"],
}
IGA_5 = _lab("iga", "iga", 5, low=40, high=250)
ANTI_IGA_CARD = x.card(
    "ivig-safety-anti-iga",
    "warning",
    evidence=["iga", "anti-iga"],
    mentions=[["anti-iga antibodies present"], ["iga-depleted"], ["immunology"]],
)


SCENARIOS = [
    # --- anaphylaxis-to-ig (hard stop) --------------------------------------------------------
    Scenario(
        "in-safety-anaphylaxis-to-ig",
        "Anaphylaxis to immune globulin: hard stop -> ivig-start critical, no draft IVIG order.",
        steps(
            refractory, _allergy(criticality="high", manifestation="Anaphylaxis", severity="severe")
        ),
        [_hard_stop("anaphylaxis-to-ig", ["allergy"])],
    ),
    Scenario(
        "out-safety-anaphylaxis-to-ig-other-drug",
        "Anaphylaxis to penicillin is not an immune-globulin allergy: ivig-start as usual. The "
        "service does not classify penicillin, so the data-quality card names the severe allergy "
        "(docs/clinical/decision-model.md, never silent).",
        steps(
            refractory,
            _allergy(
                criticality="high",
                manifestation="Anaphylaxis",
                severity="severe",
                substance="penicillin",
            ),
        ),
        [
            x.ivig_start(absent_checks=["anaphylaxis-to-ig"]),
            x.card("data-quality", "info", evidence=["allergy"], mentions=[["penicillin"]]),
        ],
    ),
    Scenario(
        "boundary-safety-anaphylaxis-to-ig-severe-reaction",
        "A severe reaction to immune globulin (not coded anaphylaxis, criticality unassessed) is a "
        "hard stop: 'severe/anaphylactic reaction'.",
        steps(
            refractory,
            _allergy(
                criticality="unable-to-assess",
                manifestation="Generalised urticaria with wheeze",
                severity="severe",
            ),
        ),
        [_hard_stop("anaphylaxis-to-ig", ["allergy"])],
        threshold=Threshold(
            "reaction severity",
            "severe",
            "fires (severe counts, not only anaphylaxis)",
            "docs/clinical/safety.md: 'an AllergyIntolerance to immune globulin with a "
            "severe/anaphylactic reaction'.",
        ),
    ),
    Scenario(
        "out-safety-anaphylaxis-to-ig-mild-reaction",
        "A mild rash with immune globulin, low criticality: no hard stop; ivig-start with "
        "its order.",
        steps(
            refractory, _allergy(criticality="low", manifestation="Mild urticaria", severity="mild")
        ),
        [x.ivig_start(absent_checks=["anaphylaxis-to-ig"])],
    ),
    # --- iga-deficiency (warning) -----------------------------------------------------------
    Scenario(
        "in-ivig-safety-iga-deficiency",
        "IgA deficiency Condition and serum IgA 5 mg/dL (range 40-250): its own warning card; "
        "ivig-start unchanged (warning, 52 g, draft order).",
        steps(
            refractory, _problem("igad", "iga-deficiency"), _lab("iga", "iga", 5, low=40, high=250)
        ),
        [x.ivig_start(), x.card("ivig-safety-iga-deficiency", "warning", evidence=["igad"])],
    ),
    Scenario(
        "in-ivig-safety-iga-deficiency-no-range",
        "Serum IgA 6 mg/dL with no reference range (< 7): IgA-deficiency warning.",
        steps(refractory, _lab("iga", "iga", 6)),
        [x.ivig_start(), x.card("ivig-safety-iga-deficiency", "warning", evidence=["iga"])],
    ),
    Scenario(
        "out-ivig-safety-iga-deficiency",
        "Serum IgA 110 mg/dL (range 40-250): no IgA card.",
        refractory,
        [x.ivig_start(absent_checks=["iga-deficiency", "iga-unknown"])],
    ),
    Scenario(
        "boundary-safety-iga-low-at-lower-limit",
        "Serum IgA exactly at the lab's lower limit (40; range 40-250) is not below it: no card "
        "and no mildly-low note.",
        steps(refractory, _lab("iga", "iga", 40, low=40, high=250)),
        [x.ivig_start(absent_checks=["iga-deficiency", "iga-low"])],
        threshold=Threshold(
            "serum IgA",
            "lab lower limit (40 mg/dL)",
            "does not fire",
            "docs/clinical/safety.md: iga-low is under the lab's range; 40 is within 40-250.",
        ),
    ),
    Scenario(
        "out-safety-iga-low-within-range",
        "Serum IgA 60 mg/dL (range 40-250): within the range -> no IgA note, no card.",
        steps(refractory, _lab("iga", "iga", 60, low=40, high=250)),
        [x.ivig_start(absent_checks=["iga-deficiency", "iga-low"])],
    ),
    Scenario(
        "in-safety-iga-low-mildly",
        "Serum IgA 35 mg/dL against a lab range from 40: mildly low, not IgA deficiency (< 7 "
        "mg/dL) -> a note on ivig-start, no IgA-deficiency warning card.",
        steps(refractory, _lab("iga", "iga", 35, low=40, high=250)),
        [_note("iga-low", absent_checks=["iga-deficiency"])],
    ),
    Scenario(
        "boundary-ivig-safety-iga-deficiency-6-with-range",
        "Serum IgA 6 mg/dL with a lab range from 40: under 7 mg/dL -> IgA deficiency (warning).",
        steps(refractory, _lab("iga", "iga", 6, low=40, high=250)),
        [x.ivig_start(), x.card("ivig-safety-iga-deficiency", "warning", evidence=["iga"])],
        threshold=Threshold(
            "serum IgA", "7 mg/dL", "fires (6 < 7)", "docs/clinical/safety.md: iga-deficiency."
        ),
    ),
    Scenario(
        "boundary-ivig-safety-iga-deficiency-7-no-range",
        "Serum IgA exactly 7 mg/dL with no range is not < 7: no card.",
        steps(refractory, _lab("iga", "iga", 7)),
        [x.ivig_start(absent_checks=["iga-deficiency"])],
        threshold=Threshold(
            "serum IgA without a range",
            "7 mg/dL",
            "does not fire (7 is not < 7)",
            "docs/clinical/safety.md: '< 7 mg/dL when no range'.",
        ),
    ),
    # --- anti-iga (warning) and anti-iga-reaction (hard stop) ---------------------------------
    Scenario(
        "in-ivig-safety-anti-iga",
        "IgA 5 mg/dL and anti-IgA antibodies positive, no reaction to immune globulin on record: "
        "the anti-IgA warning card (IgA-depleted product, immunology) replaces the IgA-deficiency "
        "card; ivig-start keeps its dose but offers no IVIG draft order: the product "
        "(IgA-depleted) and the rate are chosen with immunology.",
        steps(refractory, IGA_5, _anti_iga(True)),
        [
            x.ivig_start(draft=False, mentions=[["No IVIG draft order"], ["IgA-depleted"]]),
            ANTI_IGA_CARD,
        ],
    ),
    Scenario(
        "out-ivig-safety-anti-iga-negative",
        "IgA 5 mg/dL, anti-IgA antibodies negative: the plain IgA-deficiency warning, no anti-IgA "
        "card.",
        steps(refractory, IGA_5, _anti_iga(False)),
        [x.ivig_start(), x.card("ivig-safety-iga-deficiency", "warning", evidence=["iga"])],
    ),
    Scenario(
        "boundary-ivig-safety-anti-iga-iga-7",
        "Anti-IgA antibodies positive but serum IgA exactly 7 mg/dL (no range): no IgA deficiency, "
        "so no anti-IgA card and no IgA card.",
        steps(refractory, _lab("iga", "iga", 7), _anti_iga(True)),
        [x.ivig_start(absent_checks=["iga-deficiency", "anti-iga", "anti-iga-reaction"])],
        threshold=Threshold(
            "serum IgA without a range",
            "7 mg/dL",
            "does not fire (7 is not < 7)",
            "docs/clinical/safety.md: anti-iga needs IgA deficiency (< 7 mg/dL or the Condition).",
        ),
    ),
    Scenario(
        "in-data-quality-anti-iga-unreadable",
        "IgA 5 mg/dL and an anti-IgA result that reads as neither positive nor negative ('see "
        "report'): the IgA-deficiency warning, and the data-quality card names the result and the "
        "check it could change.",
        steps(refractory, IGA_5, _anti_iga_text("see report")),
        [
            x.ivig_start(),
            x.card("ivig-safety-iga-deficiency", "warning", evidence=["iga"]),
            x.card("data-quality", "info", evidence=["anti-iga"], mentions=[["anti-iga"]]),
        ],
    ),
    Scenario(
        "in-safety-anti-iga-reaction",
        "IgA deficiency Condition, anti-IgA antibodies positive and a mild urticaria with immune "
        "globulin: hard stop -> ivig-contraindicated, no dose, no draft orders.",
        steps(
            refractory,
            _problem("igad", "iga-deficiency"),
            _anti_iga(True),
            _allergy(criticality="low", manifestation="Urticaria", severity="mild"),
        ),
        [_hard_stop("anti-iga-reaction", ["igad", "anti-iga", "allergy"])],
    ),
    Scenario(
        "out-safety-anti-iga-reaction-antibodies-negative",
        "IgA 5 mg/dL and a mild reaction to immune globulin, but anti-IgA antibodies negative: no "
        "hard stop; the IgA-deficiency warning and the mild-reaction note.",
        steps(
            refractory,
            IGA_5,
            _anti_iga(False),
            _allergy(criticality="low", manifestation="Urticaria", severity="mild"),
        ),
        [
            x.ivig_start(
                checks=[["ig-reaction-mild", "note"]], absent_checks=["anti-iga-reaction"]
            ),
            x.card("ivig-safety-iga-deficiency", "warning", evidence=["iga"]),
        ],
    ),
    Scenario(
        "boundary-safety-anti-iga-reaction-later-negative",
        "Anti-IgA antibodies positive a year ago, negative 20 days ago, IgA 5 mg/dL and a prior "
        "reaction with rigors: the latest result counts -> no hard stop, the IgA-deficiency "
        "warning.",
        steps(
            refractory,
            IGA_5,
            _anti_iga(True, days_ago=365, local="anti-iga-old"),
            _anti_iga(False),
            _allergy(criticality="low", manifestation="Rigors", severity="mild"),
        ),
        [
            x.ivig_start(
                checks=[["ig-reaction-mild", "note"]], absent_checks=["anti-iga-reaction"]
            ),
            x.card("ivig-safety-iga-deficiency", "warning", evidence=["iga"]),
        ],
        threshold=Threshold(
            "latest anti-IgA result",
            "negative after positive",
            "does not fire (the latest result is negative)",
            "docs/clinical/safety.md: anti-iga-reaction reads the latest anti-IgA result.",
        ),
    ),
    # --- iga-unknown (note) -----------------------------------------------------------------
    Scenario(
        "in-safety-iga-unknown",
        "No IgA result ever before a first course: a note on ivig-start and a serum IgA order "
        "among its suggestions; no card of its own.",
        steps(refractory, _no("iga")),
        [_note("iga-unknown", extra_orders=[x.IGA_SERUM])],
    ),
    Scenario(
        "out-safety-iga-unknown-old-result",
        "An IgA result from 3 years ago is 'an IgA result': no iga-unknown note.",
        steps(refractory, _lab("iga", "iga", 95, days_ago=1100, low=40, high=250)),
        [_no_note("iga-unknown")],
    ),
    Scenario(
        "boundary-safety-iga-unknown-after-first-course",
        "No IgA ever, but a first IVIG course was given 10 weeks ago: the check is for 'before a "
        "first course', so no note (IgA drawn after IVIG reflects the product); the second "
        "course is overdue.",
        steps(refractory, _no("iga"), _ivig_course_70_days_ago),
        [x.course_due() | {"safetyChecks": {"present": [], "absent": ["iga-unknown"]}}],
        threshold=Threshold(
            "first course",
            "1 prior course",
            "does not fire",
            "docs/clinical/safety.md: 'no IgA result ever, before a first course'.",
        ),
    ),
    # --- renal (warning) and renal-severe (hard stop) ----------------------------------------
    Scenario(
        "in-ivig-safety-renal",
        "eGFR 45: renal warning card; ivig-start offers the 5-day split at <= 0.03 mL/kg/min.",
        steps(refractory, _lab("egfr", "egfr", 45)),
        [x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY, absent_checks=["renal-severe"]), RENAL_WARNING],
    ),
    Scenario(
        "in-ivig-safety-renal-bedside-schwartz",
        "Creatinine 140 umol/L, no eGFR and no lab range, height 130 cm: the bedside Schwartz "
        "estimate (0.413 x 130 / 1.58 mg/dL = 34) is under 60 -> renal warning, said to be an "
        "estimate, 5-day split at the slow rate.",
        steps(refractory, _no("egfr", "creat"), _lab("creat", "creatinine", 140)),
        [
            x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY),
            x.card(
                "ivig-safety-renal",
                "warning",
                evidence=["creat"],
                mentions=[["bedside schwartz"], ["34"], ["130 cm"]],
            ),
        ],
    ),
    Scenario(
        "out-ivig-safety-renal-bedside-schwartz",
        "Creatinine 40 umol/L, no eGFR and no lab range, height 130 cm: bedside Schwartz 119 -> "
        "no renal warning and no note.",
        steps(refractory, _no("egfr", "creat"), _lab("creat", "creatinine", 40)),
        [x.ivig_start(absent_checks=["renal", "renal-unjudged", "renal-unknown"])],
    ),
    Scenario(
        "out-safety-renal-unjudged-creatinine-with-range",
        "Creatinine 50 umol/L within its lab range (27-62), no eGFR, no height: the range judges "
        "it -> no note, no renal warning.",
        steps(
            refractory,
            _no("egfr", "creat", "height"),
            _lab("creat", "creatinine", 50, low=27, high=62),
        ),
        [x.ivig_start(absent_checks=["renal", "renal-unjudged", "renal-unknown"])],
    ),
    Scenario(
        "boundary-safety-renal-unjudged-height-91-days",
        "Creatinine 140 umol/L, no eGFR, no range, and the only height 91 days before it: "
        "outside the 90-day height window, so no bedside estimate -> the cannot-judge note.",
        steps(
            refractory,
            _no("egfr", "creat", "height"),
            _lab("creat", "creatinine", 140),
            _lab("height", "height", 130, days_ago=93),
        ),
        [_note("renal-unjudged", absent_checks=["renal"])],
        threshold=Threshold(
            "height for the bedside Schwartz estimate",
            "90 days from the creatinine",
            "outside (91 days): the note fires",
            "docs/clinical/safety.md: renal, no eGFR recorded.",
        ),
    ),
    Scenario(
        "in-safety-renal-unjudged",
        "Creatinine 140 umol/L with no eGFR, no lab range and no height: renal function cannot be "
        "judged -> a note saying so (never silence), no renal warning.",
        steps(refractory, _no("egfr", "creat", "height"), _lab("creat", "creatinine", 140)),
        [_note("renal-unjudged", absent_checks=["renal"])],
    ),
    Scenario(
        "in-ivig-safety-renal-creatinine",
        "Creatinine 75 umol/L above its range (27-62), no eGFR: renal warning, 5-day split.",
        steps(
            refractory,
            _no("egfr", "creat"),
            _lab("creat", "creatinine", 75, low=27, high=62, days_ago=2),
            _lab("creat-old", "creatinine", 70, low=27, high=62, days_ago=60),
        ),
        [
            x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY),
            x.card("ivig-safety-renal", "warning", evidence=["creat"]),
        ],
    ),
    Scenario(
        "out-ivig-safety-renal",
        "eGFR 120 and creatinine in range: no renal card, the default 2-day split.",
        refractory,
        [x.ivig_start(dose=x.DOSE_26_KG, absent_checks=["renal", "renal-severe"])],
    ),
    Scenario(
        "boundary-ivig-safety-renal-egfr-60",
        "eGFR exactly 60 is not < 60: no renal card, 2-day split.",
        steps(refractory, _lab("egfr", "egfr", 60)),
        [x.ivig_start(dose=x.DOSE_26_KG)],
        threshold=Threshold(
            "eGFR",
            "60 mL/min/1.73 m2",
            "does not fire (60 is not < 60)",
            "docs/clinical/safety.md renal: 'eGFR < 60'.",
        ),
    ),
    Scenario(
        "boundary-ivig-safety-renal-egfr-59",
        "eGFR 59 (< 60): renal card and the 5-day split.",
        steps(refractory, _lab("egfr", "egfr", 59)),
        [x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY), RENAL_WARNING],
        threshold=Threshold(
            "eGFR",
            "60 mL/min/1.73 m2",
            "fires (59 < 60)",
            "docs/clinical/safety.md renal: 'eGFR < 60'.",
        ),
    ),
    Scenario(
        "in-safety-renal-severe",
        "eGFR 25: hard stop pending specialist review (replaces the renal warning).",
        steps(refractory, _lab("egfr", "egfr", 25)),
        [_hard_stop("renal-severe", ["egfr"])],
    ),
    Scenario(
        "in-safety-renal-severe-creatinine-rise",
        "Creatinine 40 -> 62 umol/L within 2 months (x1.55, still in range): hard stop.",
        steps(
            refractory,
            _no("creat"),
            _lab("creat-old", "creatinine", 40, low=27, high=62, days_ago=60),
            _lab("creat", "creatinine", 62, low=27, high=62, days_ago=2),
            _lab("egfr", "egfr", 80),
        ),
        [_hard_stop("renal-severe", ["creat", "creat-old"])],
    ),
    Scenario(
        "out-safety-renal-severe",
        "eGFR 35: renal warning (5-day split, slow rate), not a hard stop.",
        steps(refractory, _lab("egfr", "egfr", 35)),
        [x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY, absent_checks=["renal-severe"]), RENAL_WARNING],
    ),
    Scenario(
        "boundary-safety-renal-severe-egfr-30",
        "eGFR exactly 30 is not < 30: renal warning only, no hard stop.",
        steps(refractory, _lab("egfr", "egfr", 30)),
        [x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY, absent_checks=["renal-severe"]), RENAL_WARNING],
        threshold=Threshold(
            "eGFR",
            "30 mL/min/1.73 m2",
            "not severe (30 is not < 30)",
            "docs/clinical/safety.md renal-severe: 'eGFR < 30'.",
        ),
    ),
    Scenario(
        "boundary-safety-renal-severe-egfr-29",
        "eGFR 29 (< 30): hard stop; no separate renal warning card.",
        steps(refractory, _lab("egfr", "egfr", 29)),
        [_hard_stop("renal-severe", ["egfr"])],
        threshold=Threshold(
            "eGFR",
            "30 mL/min/1.73 m2",
            "fires (29 < 30)",
            "docs/clinical/safety.md renal-severe: 'eGFR < 30'.",
        ),
    ),
    Scenario(
        "boundary-safety-renal-severe-creatinine-1-5x",
        "Creatinine 40 -> 60 umol/L within 2 months: exactly 1.5x the previous value -> hard stop.",
        steps(
            refractory,
            _no("creat"),
            _lab("creat-old", "creatinine", 40, low=27, high=62, days_ago=60),
            _lab("creat", "creatinine", 60, low=27, high=62, days_ago=2),
            _lab("egfr", "egfr", 85),
        ),
        [_hard_stop("renal-severe", ["creat"])],
        threshold=Threshold(
            "creatinine rise",
            "1.5 x previous within 3 months",
            "fires (>= 1.5)",
            "docs/clinical/safety.md renal-severe: 'creatinine >= 1.5 x the patient's previous "
            "value'.",
        ),
    ),
    # --- thrombosis (warning) ----------------------------------------------------------------
    Scenario(
        "in-ivig-safety-thrombosis",
        "Personal history of venous thrombosis: thrombosis card; 5-day split at <= 0.03 mL/kg/min.",
        steps(refractory, _problem("dvt", "dvt-history", days_ago=700)),
        [
            x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY),
            x.card("ivig-safety-thrombosis", "warning", evidence=["dvt"]),
        ],
    ),
    Scenario(
        "out-ivig-safety-thrombosis",
        "A refuted DVT diagnosis is not a thrombosis risk: no card, 2-day split at 0.04.",
        steps(refractory, _problem("dvt", "dvt", days_ago=300, verification="refuted")),
        [x.ivig_start(dose=x.DOSE_26_KG)],
        forbidden=("dvt",),
    ),
    Scenario(
        "boundary-ivig-safety-thrombosis-resolved-dvt",
        "A DVT resolved 2 years ago is still 'prior thrombosis': the card fires.",
        steps(
            refractory, _problem("dvt", "dvt", days_ago=800, status="resolved", abated_days_ago=700)
        ),
        [
            x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY),
            x.card("ivig-safety-thrombosis", "warning", evidence=["dvt"]),
        ],
        threshold=Threshold(
            "thrombosis history",
            "resolved",
            "fires",
            "docs/clinical/safety.md: 'prior thrombosis' includes a resolved episode.",
        ),
    ),
    # --- cardiac-fluid (warning) -------------------------------------------------------------
    Scenario(
        "in-ivig-safety-cardiac-fluid",
        "Heart failure: fluid card (20 mL/kg per course), 5-day split, and the at-risk rate "
        "limit 0.03 mL/kg/min (docs/clinical/dosing.md: cardiac disease, a design default).",
        steps(refractory, _problem("hf", "heart-failure", days_ago=90)),
        [
            x.ivig_start(dose=x.DOSE_26_KG_SLOW_5_DAY),
            x.card("ivig-safety-cardiac-fluid", "warning", evidence=["hf"]),
        ],
    ),
    Scenario(
        "out-ivig-safety-cardiac-fluid",
        "A refuted heart-failure diagnosis: no fluid card, 2-day split.",
        steps(refractory, _problem("hf", "heart-failure", days_ago=90, verification="refuted")),
        [x.ivig_start(dose=x.DOSE_26_KG)],
        forbidden=("hf",),
    ),
    Scenario(
        "boundary-ivig-safety-cardiac-fluid-capped-course",
        "Heart failure at 40 kg: the capped 70 g course is 700 mL (not 20 mL/kg x 40 = 800 mL), "
        "14 g/day over 5 days.",
        steps(refractory, _body_40kg, _problem("hf", "heart-failure", days_ago=90)),
        [
            x.ivig_start(
                dose=x.DOSE_40_KG | {"days": 5, "perDayG": "14", "maxRateMlPerKgMin": "0.03"}
            ),
            x.card(
                "ivig-safety-cardiac-fluid",
                "warning",
                evidence=["hf"],
                mentions=[*x.SAFETY_TEXT["ivig-safety-cardiac-fluid"], ["700 ml"]],
                notMentions=["800 ml"],
            ),
        ],
        threshold=Threshold(
            "IVIG cap with fluid load",
            "70 g",
            "fluid follows the capped grams",
            "docs/clinical/dosing.md: 10 % product, 2 g/kg = 20 mL/kg; the course is capped at "
            "70 g.",
        ),
    ),
    # --- hemolysis (note) --------------------------------------------------------------------
    Scenario(
        "in-safety-hemolysis",
        "Blood group A with a 2 g/kg course: haemolysis note on ivig-start.",
        steps(refractory, _abo("A", 35)),
        [_note("hemolysis", evidence=["abo"])],
    ),
    Scenario(
        "in-safety-hemolysis-unknown-group",
        "No blood group on record: haemolysis note (non-O 'or unknown').",
        steps(refractory, _no("abo")),
        [_note("hemolysis", extra_orders=[ABO_ORDER])],
    ),
    Scenario(
        "out-safety-hemolysis",
        "Blood group O: no haemolysis note.",
        refractory,
        [_no_note("hemolysis")],
    ),
    Scenario(
        "boundary-safety-hemolysis-old-group-o",
        "Blood group O recorded 6 years ago still counts (a blood group does not change): no note.",
        steps(refractory, _abo("O", 2200)),
        [_no_note("hemolysis")],
        threshold=Threshold(
            "blood group result age",
            "any age",
            "counts",
            "docs/clinical/safety.md hemolysis: 'non-O blood group (or unknown)'; no recency is "
            "asked.",
        ),
    ),
    # --- live-vaccine (note) -----------------------------------------------------------------
    Scenario(
        "in-safety-live-vaccine",
        "MMR 6 weeks ago: live-vaccine note (IVIG may blunt the vaccine).",
        steps(refractory, _vaccine("mmr", 42)),
        [_note("live-vaccine", evidence=["vax"], mentions=[[{"date": "2026-02-01"}]])],
    ),
    Scenario(
        "out-safety-live-vaccine",
        "MMR 5 years ago and an inactivated flu vaccine 3 weeks ago: no live-vaccine note.",
        steps(refractory, _vaccine("mmr", 1830), _vaccine("influenza-inactivated", 21, "flu")),
        [_no_note("live-vaccine")],
    ),
    Scenario(
        "boundary-safety-live-vaccine-3-months",
        "MMR exactly 3 months (90 days) ago: within 'the last 3 months' -> note.",
        steps(refractory, _vaccine("mmr", 90)),
        [_note("live-vaccine", evidence=["vax"], mentions=[[{"date": "2025-12-15"}]])],
        threshold=Threshold(
            "live vaccine window",
            "3 months",
            "fires (the boundary day counts)",
            "docs/clinical/safety.md: 'in the last 3 months'; windows include their boundary.",
        ),
    ),
    Scenario(
        "in-safety-live-vaccine-repeat-within-14-days",
        "MMR 10 days ago, IVIG offered now: the live-vaccine line says to repeat that dose 11 "
        "months after IVIG.",
        steps(refractory, _vaccine("mmr", 10)),
        [_note("live-vaccine", evidence=["vax"], mentions=REPEAT)],
    ),
    Scenario(
        "boundary-safety-live-vaccine-14-days",
        "MMR exactly 14 days ago: within the 14 days before IVIG -> repeat that dose.",
        steps(refractory, _vaccine("mmr", 14)),
        [_note("live-vaccine", evidence=["vax"], mentions=REPEAT)],
        threshold=Threshold(
            "live vaccine before IVIG",
            "14 days",
            "fires (the boundary day counts)",
            "docs/clinical/safety.md: live-vaccine, a dose within 14 days before IVIG is repeated.",
        ),
    ),
    Scenario(
        "boundary-safety-live-vaccine-15-days",
        "MMR 15 days ago: beyond the 14 days -> the plain live-vaccine note, no repeat.",
        steps(refractory, _vaccine("mmr", 15)),
        [
            x.ivig_start(
                checks=[["live-vaccine", "note"]],
                mentions=[["vaccin"]],
                evidence=["vax"],
            )
            | {"notMentions": ["repeat that dose"]}
        ],
        threshold=Threshold(
            "live vaccine before IVIG",
            "14 days",
            "does not fire (15 > 14 days)",
            "docs/clinical/safety.md: live-vaccine, only within 14 days before IVIG.",
        ),
    ),
    # --- live-vaccine-immunosuppressed (note) ------------------------------------------------
    Scenario(
        "in-safety-live-vaccine-immunosuppressed",
        "MMR 6 weeks ago, while on methotrexate and prednisolone 30 mg/day (>= 20 mg/day for "
        "months): a note naming both.",
        steps(refractory, _vaccine("mmr", 42)),
        [
            _note(
                "live-vaccine-immunosuppressed",
                evidence=["vax"],
                mentions=[["methotrexate"], ["prednisolone"]],
            )
        ],
    ),
    Scenario(
        "out-safety-live-vaccine-immunosuppressed-before-treatment",
        "MMR 88 days ago, before methotrexate (84 days ago) and prednisolone (80 days ago) "
        "began: the live-vaccine note only.",
        steps(lambda c: refractory(c, mtx_days=84), _steroid_from(80), _vaccine("mmr", 88)),
        [_note("live-vaccine", absent_checks=["live-vaccine-immunosuppressed"])],
    ),
    Scenario(
        "boundary-safety-live-vaccine-immunosuppressed-steroid-13-days",
        "MMR 88 days ago, before methotrexate, 13 days into prednisolone 52 mg/day: not yet "
        "14 days of a high dose -> no immunosuppression note.",
        steps(lambda c: refractory(c, mtx_days=84), _steroid_from(101), _vaccine("mmr", 88)),
        [_note("live-vaccine", absent_checks=["live-vaccine-immunosuppressed"])],
        threshold=Threshold(
            "high-dose steroid duration",
            "14 days",
            "does not fire (13 < 14 days)",
            "docs/clinical/safety.md: >= 20 mg/day or >= 2 mg/kg/day for >= 14 days.",
        ),
    ),
    Scenario(
        "boundary-safety-live-vaccine-immunosuppressed-steroid-14-days",
        "MMR 88 days ago, before methotrexate, 14 days into prednisolone 52 mg/day: "
        "immunosuppressed -> the note names high-dose prednisolone.",
        steps(lambda c: refractory(c, mtx_days=84), _steroid_from(102), _vaccine("mmr", 88)),
        [
            _note(
                "live-vaccine-immunosuppressed",
                evidence=["vax"],
                mentions=[["prednisolone"]],
            )
            | {"notMentions": ["on methotrexate"]}
        ],
        threshold=Threshold(
            "high-dose steroid duration",
            "14 days",
            "fires (14 days counts)",
            "docs/clinical/safety.md: >= 20 mg/day or >= 2 mg/kg/day for >= 14 days.",
        ),
    ),
    Scenario(
        "boundary-safety-live-vaccine-immunosuppressed-methotrexate-14-days",
        "Methotrexate stopped after the dose 28 days ago; MMR 14 days ago, exactly 14 days after "
        "that dose: still on methotrexate then -> the note names methotrexate (and the "
        "prednisolone the chart has throughout).",
        steps(_methotrexate_stopped(168, 28), _vaccine("mmr", 14)),
        [
            _note(
                "live-vaccine-immunosuppressed",
                evidence=["vax"],
                mentions=[["and methotrexate"]],
            )
        ],
        threshold=Threshold(
            "methotrexate current",
            "a dose within 14 days before the vaccine",
            "fires (the boundary day counts)",
            "docs/clinical/safety.md: live-vaccine-immunosuppressed, methotrexate_current_days.",
        ),
    ),
    # --- vaccine-deferral (note) -------------------------------------------------------------
    Scenario(
        "in-safety-vaccine-deferral",
        "Every ivig-start carries the 11-month measles/varicella vaccine deferral note.",
        refractory,
        [x.ivig_start()],
    ),
    Scenario(
        "out-safety-vaccine-deferral",
        "No ivig-start (first-line window): no card carries the vaccine-deferral note.",
        lambda c: refractory(c, mtx_days=42),
        [x.first_line_window(safetyChecks={"present": [], "absent": ["vaccine-deferral"]})],
    ),
    Scenario(
        "boundary-safety-vaccine-deferral-no-weight",
        "ivig-start without a usable weight (no grams) still carries the deferral note.",
        steps(refractory, _no("w-now")),
        [x.ivig_start(dose=None), x.weight_needed()],
        threshold=Threshold(
            "ivig-start without dose",
            "-",
            "fires",
            "docs/clinical/safety.md: 'always, on ivig-start'.",
        ),
    ),
    # --- migraine (note) ---------------------------------------------------------------------
    Scenario(
        "in-safety-migraine",
        "Migraine: note (higher risk of aseptic meningitis; slower rate).",
        steps(refractory, _problem("mig", "migraine", days_ago=500)),
        [_note("migraine", evidence=["mig"])],
    ),
    Scenario(
        "out-safety-migraine",
        "A refuted migraine diagnosis: no note.",
        steps(refractory, _problem("mig", "migraine", days_ago=500, verification="refuted")),
        [_no_note("migraine")],
        forbidden=("mig",),
    ),
    Scenario(
        "boundary-safety-migraine-resolved",
        "Migraine resolved a year ago: a history of migraine still raises the aseptic meningitis "
        "risk -> note.",
        steps(
            refractory,
            _problem("mig", "migraine", days_ago=900, status="resolved", abated_days_ago=365),
        ),
        [_note("migraine", evidence=["mig"])],
        threshold=Threshold(
            "migraine status",
            "resolved",
            "fires",
            "docs/clinical/safety.md: 'a migraine Condition' [Octagam-PI: history of migraine].",
        ),
    ),
]
