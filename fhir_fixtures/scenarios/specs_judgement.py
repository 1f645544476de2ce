"""Scenarios: clinical judgement - organ-threatening disease, pregnancy and
contraception, hard-stop cards, rituximab (docs/clinical/decision-model.md §4-§5a,
docs/clinical/dosing.md, docs/clinical/safety.md).

Expectations are the docs' own words: the severe pathway names the expert centre, IV
methylprednisolone with cyclophosphamide or combination therapy, IVIG as an adjunct and anti-MDA5;
a pregnancy names methotrexate as contraindicated; the rituximab dose that reaches the 1 g cap is
never called an adult dose for a child, and an adult gets the adult regimen's wording.
"""

from __future__ import annotations

from datetime import date

from fhir_fixtures.builders import MODERATE, SEVERE, concept
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, refractory, seed, taper_steps
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps


def _problem(local: str, kind: str, days_ago: int = 10, **kwargs: str) -> object:
    return lambda c: c.problem(local, kind, days_ago=days_ago, **kwargs)


def _severity(local: str, grade: object) -> object:
    def step(c: Chart) -> None:
        c.get(local)["severity"] = concept(grade)  # type: ignore[arg-type]

    return step


def _new_onset(c: Chart) -> Chart:
    """JDM diagnosed 12 days ago: IV methylprednisolone pulses and prednisolone, no
    methotrexate yet."""
    return (
        c.patient()
        .problem("jdm", "jdm", days_ago=12)
        .problem("weak", "weakness", days_ago=12)
        .pulses(first_days_ago=10)
        .prednisolone(taper_steps(7))
        .weight("w-now", 26, days_ago=5)
        .lab("height", "height", 130, days_ago=35)
        .disease_activity(days_ago=5)
        .baseline_labs()
        .screens(days_ago=3)
    )


def _anaphylaxis_to_ig(c: Chart) -> None:
    c.add(
        fb.ig_allergy(
            c.id("allergy"),
            c.pid,
            recorded=at(days_ago=400),
            criticality="high",
            manifestation="Anaphylaxis",
            severity="severe",
        )
    )


def _mild_reaction_to_ig(c: Chart) -> None:
    c.add(
        fb.ig_allergy(
            c.id("allergy"),
            c.pid,
            recorded=at(days_ago=400),
            criticality="low",
            manifestation="Mild urticaria",
            severity="mild",
        )
    )


def _egfr(value: float) -> object:
    def step(c: Chart) -> None:
        c.drop("egfr")
        c.lab("egfr", "egfr", value, days_ago=2)

    return step


def _pregnancy_test(local: str, positive: bool, days_ago: float) -> object:
    return lambda c: c.add(
        fb.pregnancy_test(c.id(local), c.pid, positive=positive, when=at(days_ago=days_ago))
    )


def _birth(born: date, sex: str = "female") -> object:
    def step(c: Chart) -> None:
        c.get("pat")["birthDate"] = born.isoformat()
        c.get("pat")["gender"] = sex

    return step


def _body(kg: float, cm: float) -> object:
    def step(c: Chart) -> None:
        c.get("w-now")["valueQuantity"]["value"] = kg
        c.get("height")["valueQuantity"]["value"] = cm
        c.get("height")["effectiveDateTime"] = c.get("w-now")["effectiveDateTime"]

    return step


def _failing_ivig(kg: float = 60, cm: float = 165) -> object:
    """Methotrexate for 40 weeks and 3 monthly IVIG courses, still weak."""

    def step(c: Chart) -> None:
        refractory(c, mtx_days=280, labs_days_ago=7)
        for n, days_ago in enumerate((100, 72, 44), start=1):
            c.ivig_course(f"ivig-{n}", last_days_ago=days_ago, grams_per_day=min(kg, 35))
        _body(kg, cm)(c)

    return step


# docs/clinical/dosing.md, cyclophosphamide: 40 kg / 150 cm -> BSA 1.29 m2 -> 645-1290 mg, the high
# end capped at 1000 mg
CYCLOPHOSPHAMIDE_40_KG = [["645-1000 mg", "645 - 1000 mg"], ["1.29"]]
# docs/clinical/dosing.md, rituximab: 165 cm / 60 kg -> 1.66 m2 -> 1245 mg -> capped at 1000 mg
RITUXIMAB_CAPPED = {"agent": "rituximab", "capped": True, "perInfusionMg": "1000"}
RITUXIMAB_ORDERS = ["5196-1", "16933-4", "2465-3"]  # HBsAg, anti-HBc, IgG (order-sets.md)
NOT_ADULT_FOR_CHILD = ["not a paediatric dose", "never a paediatric dose", "adult dose for"]
PREGNANCY_MTX = [["pregnan"], ["methotrexate is contraindicated"]]
PREGNANCY_SECOND_LINE = [["pregnan"], ["specialist decision"], ["mycophenolate"]]
CONTRACEPTION = [["pregnancy test"], ["contraception"]]
TEENAGER = date(2010, 1, 10)  # 16 at the scenarios' clock (2026-03-15)


def _escalate(dose: dict[str, object] | None = None, **extra: object) -> dict[str, object]:
    card = x.card(
        "escalate-after-ivig",
        "warning",
        links=["rituximab-baseline"],
        serviceRequests=list(RITUXIMAB_ORDERS),
        **extra,
    )
    card["mentions"] = [["hepatitis b"], ["igg"], *card.get("mentions", [])]  # type: ignore[misc]
    if dose is not None:
        card["dose"] = dose
    return card


SCENARIOS = [
    # --- severe-organ-disease ----------------------------------------------------------------
    Scenario(
        "in-severe-organ-disease-ild-before-methotrexate",
        "New-onset JDM with interstitial lung disease, before methotrexate has started: the "
        "organ-threatening pathway at once (urgent expert centre, IV methylprednisolone with "
        "cyclophosphamide or combination therapy, IVIG an adjunct, anti-MDA5 named), not an info "
        "card; no ivig-start.",
        steps(_new_onset, _problem("ild", "ild", days_ago=6)),
        [x.severe_organ(evidence=["ild"], mentions=[["interstitial lung disease"]])],
        optional_topics=("first-line-window",),
    ),
    Scenario(
        "in-severe-organ-disease-gi-vasculopathy-cyclophosphamide",
        "GI vasculopathy at 40 kg / 150 cm: cyclophosphamide 500-1000 mg/m2 at BSA 1.29 m2 = "
        "645-1000 mg per pulse (the high end capped at 1 g); replaces ivig-start.",
        steps(
            refractory,
            _body(40, 150),
            _birth(date(2014, 2, 1)),
            _problem("giv", "gi-vasculopathy", days_ago=8),
        ),
        [
            x.severe_organ(
                dose=x.DOSE_40_KG,
                evidence=["giv", "height"],
                mentions=[*CYCLOPHOSPHAMIDE_40_KG, ["gi", "intestin"]],
            )
        ],
    ),
    Scenario(
        "in-severe-organ-disease-severe-dysphagia",
        "The seed case with its dysphagia recorded as severe: organ-threatening (severe-organ-"
        "disease) besides the swallow card; the IVIG-first card does not fire.",
        steps(seed, _severity("dys", SEVERE)),
        [x.severe_organ(evidence=["dys"]), x.dysphagia()],
    ),
    Scenario(
        "out-severe-organ-disease-ild-resolved",
        "An interstitial lung disease recorded as resolved is not organ-threatening now: the "
        "refractory patient gets ivig-start as usual.",
        steps(refractory, _problem("ild", "ild", days_ago=300, status="resolved")),
        [x.ivig_start()],
        forbidden=("ild",),
    ),
    Scenario(
        "boundary-severe-organ-disease-dysphagia-moderate",
        "The seed case with its dysphagia graded moderate: a red flag for IVIG (ivig-start "
        "critical, the seed's answer) and the swallow card, but not the severe pathway.",
        steps(seed, _severity("dys", MODERATE)),
        [x.ivig_start("critical", evidence=["dys"]), x.dysphagia()],
        threshold=Threshold(
            "dysphagia severity",
            "severe",
            "does not fire (moderate is not severe)",
            "docs/clinical/decision-model.md §5a: 'severe dysphagia' (Condition.severity severe).",
        ),
    ),
    # --- pregnancy and contraception ---------------------------------------------------------
    Scenario(
        "in-pregnancy-on-methotrexate",
        "A pregnant 16-year-old on methotrexate, refractory: the ivig-start card says methotrexate "
        "is contraindicated in pregnancy (IVIG itself is compatible), citing its sources.",
        steps(refractory, _birth(TEENAGER), _problem("preg", "pregnancy", days_ago=40)),
        [
            x.ivig_start(
                evidence=["preg"],
                mentions=[*PREGNANCY_MTX, ["compatible with pregnancy"], ["BSR2022"]],
            )
        ],
    ),
    Scenario(
        "in-pregnancy-positive-test",
        "No pregnancy Condition, but a positive urine pregnancy test 5 days ago: a pregnancy on "
        "record, so ivig-start says methotrexate is contraindicated, citing the test.",
        steps(refractory, _birth(TEENAGER), _pregnancy_test("hcg", True, 5)),
        [x.ivig_start(evidence=["hcg"], mentions=PREGNANCY_MTX)],
    ),
    Scenario(
        "boundary-pregnancy-test-negative-after-positive",
        "A positive test 30 days ago and a negative one 3 days ago: the latest test decides, so "
        "no pregnancy note (the girl of 16 gets none on ivig-start either: it offers no "
        "second-line agent).",
        steps(
            refractory,
            _birth(TEENAGER),
            _pregnancy_test("hcg-1", True, 30),
            _pregnancy_test("hcg-2", False, 3),
        ),
        [x.ivig_start() | {"notMentions": ["pregnan"]}],
        threshold=Threshold(
            "latest pregnancy test",
            "negative after positive",
            "does not fire (the latest test is negative)",
            "docs/clinical/safety.md, pregnancy: the latest test within 40 weeks decides.",
        ),
    ),
    Scenario(
        "in-pregnancy-escalation-after-ivig",
        "Pregnant and IVIG failing: escalate-after-ivig says so in its summary, that methotrexate "
        "and mycophenolate are contraindicated and cyclophosphamide and rituximab a specialist "
        "decision; no rituximab dose and no draft orders for rituximab (hepatitis B serology, "
        "IgG).",
        steps(_failing_ivig(), _birth(TEENAGER), _problem("preg", "pregnancy", days_ago=40)),
        [
            x.card(
                "escalate-after-ivig",
                "warning",
                links=["rituximab-baseline"],
                evidence=["preg"],
                mentions=[
                    *PREGNANCY_SECOND_LINE,
                    ["no dose and no draft orders"],
                    ["courses, in pregnancy"],
                ],
                notMentions=["hepatitis b", "mg per infusion"],
                serviceRequestsAbsent=list(RITUXIMAB_ORDERS),
                doseAbsent=True,
            )
        ],
    ),
    Scenario(
        "in-contraception-before-rituximab",
        "A girl of 16 offered rituximab (not pregnant): pregnancy test and contraception note.",
        steps(_failing_ivig(), _birth(TEENAGER)),
        [_escalate(RITUXIMAB_CAPPED, mentions=CONTRACEPTION)],
    ),
    Scenario(
        "out-contraception-boy",
        "A boy of 16 offered rituximab: no pregnancy or contraception note.",
        steps(_failing_ivig(), _birth(TEENAGER, sex="male")),
        [_escalate(RITUXIMAB_CAPPED, notMentions=["pregnan", "contracept"])],
    ),
    Scenario(
        "out-pregnancy-resolved",
        "A pregnancy Condition recorded as resolved: no pregnancy note on ivig-start.",
        steps(
            refractory,
            _birth(TEENAGER),
            _problem("preg", "pregnancy", days_ago=400, status="resolved"),
        ),
        [x.ivig_start() | {"notMentions": ["pregnan"]}],
        forbidden=("preg",),
    ),
    Scenario(
        "boundary-contraception-age-10",
        "A girl who turned 10 yesterday, offered rituximab: the note fires (>= 10 years).",
        steps(_failing_ivig(30, 130), _birth(date(2016, 3, 14))),
        [_escalate(mentions=CONTRACEPTION)],
        threshold=Threshold(
            "child-bearing potential age",
            "10 years",
            "fires (10 >= 10)",
            "docs/clinical/safety.md, pregnancy: a female patient of 10 years or more.",
        ),
    ),
    Scenario(
        "boundary-contraception-age-9",
        "A girl who turns 10 tomorrow (9 today), offered rituximab: no contraception note.",
        steps(_failing_ivig(30, 130), _birth(date(2016, 3, 16))),
        [_escalate(notMentions=["contraception during"])],
        threshold=Threshold(
            "child-bearing potential age",
            "10 years",
            "does not fire (9 < 10)",
            "docs/clinical/safety.md, pregnancy: a female patient of 10 years or more.",
        ),
    ),
    # --- hard stops (ivig-contraindicated) ----------------------------------------------------
    Scenario(
        "in-ivig-contraindicated-says-why-and-alternatives",
        "Anaphylaxis to immune globulin in refractory JDM: the card is about the contraindication "
        "(first), names specialist review and other agents, offers no IVIG-start wording, no "
        "baseline or serology drafts and no infusion order set.",
        steps(refractory, _anaphylaxis_to_ig),
        [x.contraindicated("anaphylaxis-to-ig", ["immune globulin"], ["allergy"])],
    ),
    Scenario(
        "out-ivig-contraindicated-mild-reaction",
        "A mild reaction to immune globulin is a note, not a contraindication: ivig-start with its "
        "draft order and baseline orders, no ivig-contraindicated card.",
        steps(refractory, _mild_reaction_to_ig),
        [x.ivig_start(checks=[["ig-reaction-mild", "note"]])],
    ),
    Scenario(
        "boundary-ivig-contraindicated-egfr-29",
        "eGFR 29 (< 30) is the renal hard stop: the card is about the contraindication, names "
        "nephrology and other agents, drafts nothing.",
        steps(refractory, _egfr(29)),
        [x.contraindicated("renal-severe", ["egfr", "renal"], ["egfr"])],
        threshold=Threshold(
            "eGFR hard stop",
            "30 mL/min/1.73 m2",
            "fires (29 < 30)",
            "docs/clinical/safety.md renal-severe: eGFR < 30 is a hard stop.",
        ),
    ),
    # --- rituximab ----------------------------------------------------------------------------
    Scenario(
        "in-rituximab-capped-child-not-adult",
        "A 15-year-old at BSA 1.66 m2: 1000 mg per infusion is the correct paediatric dose (750 "
        "mg/m2 capped at 1 g); the card never calls it an adult or non-paediatric dose, names the "
        "RIM schedule and UK practice's 14-day interval, and drafts hepatitis B serology and IgG.",
        steps(_failing_ivig(), _birth(date(2010, 9, 1), sex="male")),
        [
            _escalate(
                RITUXIMAB_CAPPED,
                mentions=[["by bsa"], ["rim"], ["14 days apart"]],
                notMentions=NOT_ADULT_FOR_CHILD,
            )
        ],
    ),
    Scenario(
        "in-rituximab-adult-wording",
        "A 25-year-old with JDM since childhood: the adult regimen (1000 mg x 2, 14 days apart) "
        "in adult words, never 'paediatric dose'.",
        steps(_failing_ivig(), _birth(date(2001, 1, 10), sex="male")),
        [
            _escalate(
                mentions=[["adult regimen"], ["1000 mg x 2"]],
                notMentions=["paediatric dose", "rituximab** by bsa"],
            )
        ],
    ),
    Scenario(
        "boundary-rituximab-adult-at-18",
        "On the 18th birthday the adult wording applies (>= 18 years).",
        steps(_failing_ivig(), _birth(date(2008, 3, 15), sex="male")),
        [_escalate(mentions=[["adult regimen"]], notMentions=["rituximab** by bsa"])],
        threshold=Threshold(
            "adult age",
            "18 years",
            "adult wording (18 >= 18)",
            "docs/clinical/dosing.md, rituximab: adults (18 years and over) get the adult regimen.",
        ),
    ),
]
