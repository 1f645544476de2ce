"""Scenarios: the seed case, robustness, scope, ivig-start, weight-needed, first-line window,
dysphagia/aspiration (docs/clinical/decision-model.md §0, §2, §3, §5; docs/clinical/dosing.md
"Weight and height")."""

from __future__ import annotations

from datetime import date

from fhir_fixtures import builders as b
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, inactive, refractory, seed
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps

# The main card shows the therapy so far (docs/clinical/card-contract.md): the IV MP pulses with
# their first and last dates, the methotrexate doses and weeks, the prednisolone trend in mg/kg/day,
# the red flag with its date, the latest results.
SEED_TIMELINE = [
    ["3 pulses"],
    [{"date": "2026-02-09"}],
    [{"date": "2026-02-11"}],
    ["4 doses", "4 weekly doses", "four doses", "doses: 4", "4 given"],
    ["3.4 w"],
    ["mg/kg/day"],
    [{"date": "2026-02-19"}],
    ["ck", "creatine kinase"],
]
SEED_CARDS = [
    x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"], mentions=SEED_TIMELINE),
    x.dysphagia(),
]


def _other_patient(c: Chart) -> None:
    """Another child's weight, IVIG infusion and IgA deficiency, mixed into this record."""
    other = c.id("other")
    c.add(fb.patient(other, birth=date(2012, 5, 1), sex="male"))
    c.add(fb.observation(c.id("oth-w"), other, "weight", 40, when=at(days_ago=1)))
    c.add(fb.ivig_admin(c.id("oth-ivig"), other, 40, when=at(days_ago=10)))
    c.add(fb.condition(c.id("oth-igad"), other, "iga-deficiency", onset=at(days_ago=400)))


def _entered_in_error_weight(c: Chart) -> None:
    c.weight("w-eie", 40, days_ago=1, status="entered-in-error")


def _malformed(c: Chart) -> None:
    """A newer weight whose value is not a number, and a Condition with an impossible status."""
    c.weight("w-bad", "heavy", days_ago=1)
    c.problem("bad-igad", "iga-deficiency", days_ago=100)
    c.get("bad-igad")["clinicalStatus"] = "active"  # must be a CodeableConcept
    c.prefetch_only.update({"w-bad", "bad-igad"})


def _dm_onset_18(c: Chart) -> None:
    """A 20-year-old whose dermatomyositis began on her 18th birthday."""
    c.get("pat")["birthDate"] = "2006-03-15"
    jdm = c.get("jdm")
    jdm["code"] = fb.concept(fb.CONDITION_CODES["dermatomyositis"])
    jdm["onsetDateTime"] = "2024-03-15"
    jdm["recordedDate"] = "2024-03-20"


def _adult_dm(c: Chart) -> None:
    c.get("pat")["birthDate"] = "1992-02-01"
    jdm = c.get("jdm")
    jdm["code"] = fb.concept(fb.CONDITION_CODES["dermatomyositis"])
    jdm["onsetDateTime"] = "2022-06-01"


def _child_dm(c: Chart) -> None:
    c.get("jdm")["code"] = fb.concept(fb.CONDITION_CODES["dermatomyositis"])


def _set(local: str, path: tuple[str, ...], value: object):
    def step(c: Chart) -> None:
        node = c.get(local)
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return step


def _status(local: str, status: str, abated_days_ago: int | None = None):
    def step(c: Chart) -> None:
        resource = c.get(local)
        resource["clinicalStatus"]["coding"][0]["code"] = status
        if abated_days_ago is not None:
            resource["abatementDateTime"] = at(days_ago=abated_days_ago)

    return step


def _only_weight(kg: float, days_ago: float, unit: str | None = None):
    def step(c: Chart) -> None:
        c.drop_type("Observation", "w-")
        c.weight("w-now", kg, days_ago=days_ago, **({"unit": unit} if unit else {}))

    return step


def _cmas(value: int, *, drop_weakness: bool = False):
    def step(c: Chart) -> None:
        c.get("cmas")["valueQuantity"]["value"] = value
        if drop_weakness:
            c.drop("weak")

    return step


def _body(kg: float, cm: float, birth: date):
    def step(c: Chart) -> None:
        c.get("pat")["birthDate"] = birth.isoformat()
        c.get("w-now")["valueQuantity"]["value"] = kg
        c.get("height")["valueQuantity"]["value"] = cm

    return step


SCENARIOS = [
    Scenario(
        "in-seed-case",
        "The seed: weakness + dysphagia after 3 IV MP pulses, 4 weekly MTX doses, tapering "
        "prednisolone, 26 kg -> ivig-start critical (52 g; 26 g/day x 2) and dysphagia-aspiration.",
        seed,
        SEED_CARDS,
    ),
    Scenario(
        "in-robustness-other-patient",
        "Another patient's newer 40 kg weight, IVIG infusion and IgA deficiency change nothing: "
        "same "
        "cards and dose as the seed (docs/clinical/decision-model.md §6).",
        steps(seed, _other_patient),
        SEED_CARDS,
        optional_topics=("data-quality",),
        forbidden=("other", "oth-w", "oth-ivig", "oth-igad"),
    ),
    Scenario(
        "in-robustness-entered-in-error-weight",
        "An entered-in-error 40 kg weight from yesterday is ignored: the dose stays 52 g.",
        steps(seed, _entered_in_error_weight),
        SEED_CARDS,
        optional_topics=("data-quality",),
        forbidden=("w-eie",),
    ),
    Scenario(
        "in-robustness-malformed-resource",
        "A malformed newer weight and a malformed Condition never change the dose (52 g).",
        steps(seed, _malformed),
        SEED_CARDS,
        optional_topics=("data-quality",),
        forbidden=("w-bad", "bad-igad"),
    ),
    Scenario(
        "in-scope-dermatomyositis-onset-in-childhood",
        "Dermatomyositis (not coded as juvenile) with onset at 9 years is in scope: seed cards.",
        steps(seed, _child_dm),
        SEED_CARDS,
    ),
    Scenario(
        "out-scope-adult-dermatomyositis",
        "A 34-year-old with dermatomyositis since age 30 gets no cards "
        "(docs/clinical/decision-model.md §0).",
        steps(seed, _adult_dm),
        [],
    ),
    Scenario(
        "boundary-scope-dermatomyositis-onset-on-18th-birthday",
        "Dermatomyositis beginning ON the 18th birthday is not 'before the 18th birthday': "
        "no cards.",
        steps(seed, _dm_onset_18),
        [],
        threshold=Threshold(
            "dermatomyositis onset age",
            "18 years",
            "out of scope",
            "docs/clinical/decision-model.md §0: onset *before* the 18th birthday; on the "
            "birthday she is 18.",
        ),
    ),
    Scenario(
        "out-scope-deceased",
        "A deceased patient gets no cards (docs/clinical/decision-model.md §0).",
        steps(seed, _set("pat", ("deceasedDateTime",), at(days_ago=1))),
        [],
    ),
    Scenario(
        "out-scope-refuted-jdm",
        "A refuted JDM diagnosis puts the child out of scope: no cards (§0, §6).",
        steps(
            seed,
            _set(
                "jdm",
                ("verificationStatus", "coding"),
                [b.coding(b.Code(b.CONDITION_VERIFICATION, "refuted"))],
            ),
        ),
        [],
        forbidden=("jdm",),
    ),
    Scenario(
        "out-scope-no-jdm-diagnosis",
        "Weakness and dysphagia without a JDM/DM diagnosis: not this service's patient, no cards.",
        steps(seed, lambda c: c.drop("jdm")),
        [],
    ),
    # --- ivig-start -------------------------------------------------------------------------
    Scenario(
        "in-ivig-start-inadequate-response",
        "Weakness persisting after 14 weeks of methotrexate (no red flag) -> ivig-start warning, "
        "52 g as 26 g/day x 2 (docs/clinical/decision-model.md §2-3).",
        refractory,
        [x.ivig_start(evidence=["weak"], evidence_any_of=x.MTX_EVIDENCE)],
    ),
    Scenario(
        "in-ivig-start-steroid-dependent",
        "Methotrexate for only 6 weeks, but prednisolone had to be raised again after a taper "
        "(steroid-dependent, Lam2011) -> ivig-start warning.",
        steps(
            lambda c: refractory(c, mtx_days=42),
            lambda c: c.drop_type("MedicationRequest", "pred-"),
            lambda c: c.prednisolone([(49, 52), (19, 30), (10, 45)]),
        ),
        [x.ivig_start()],
    ),
    Scenario(
        "in-ivig-start-capped-at-70-g",
        "40 kg -> 2 x 40 = 80 g -> capped at 70 g: 35 g/day x 2, 700 mL "
        "(docs/clinical/dosing.md worked example).",
        steps(refractory, _body(40, 150, date(2014, 2, 1))),
        [x.ivig_start(dose=x.DOSE_40_KG)],
    ),
    Scenario(
        "boundary-ivig-start-cap-35-kg",
        "35 kg -> 70 g: exactly the cap, 35 g/day x 2.",
        steps(refractory, _body(35, 142, date(2015, 1, 10))),
        [x.ivig_start(dose=x.DOSE_35_KG)],
        threshold=Threshold(
            "IVIG course cap",
            "70 g",
            "at the cap: course 70 g, nothing cut",
            "docs/clinical/dosing.md: course total = min(2 g/kg x weight, 70 g); 2 x 35 = 70.",
        ),
    ),
    Scenario(
        "boundary-ivig-start-methotrexate-12-weeks",
        "First methotrexate dose exactly 12 weeks (84 days) ago, still weak -> ivig-start.",
        lambda c: refractory(c, mtx_days=84),
        [x.ivig_start(evidence_any_of=x.MTX_EVIDENCE)],
        threshold=Threshold(
            "methotrexate adequate trial",
            "12 weeks",
            "fires (12 weeks counts)",
            "docs/clinical/decision-model.md §2: 'methotrexate started >= 12 weeks ago and "
            "weakness persists'.",
        ),
    ),
    Scenario(
        "out-ivig-start-inactive-disease",
        "JDM responding to first-line therapy (weakness resolved, CMAS 50): no cards "
        "(§2 'No card').",
        inactive,
        [],
    ),
    Scenario(
        "boundary-ivig-start-cmas-14-red-flag",
        "CMAS 14 (< 15) is a red flag: ivig-start critical after only 6 weeks of methotrexate.",
        steps(lambda c: refractory(c, mtx_days=42), _cmas(14)),
        [x.ivig_start("critical", evidence=["cmas"])],
        threshold=Threshold(
            "CMAS red flag",
            "15",
            "fires (14 < 15)",
            "docs/clinical/decision-model.md §2: red flag CMAS < 15.",
        ),
    ),
    Scenario(
        "boundary-first-line-window-cmas-15",
        "CMAS exactly 15 is not a red flag: with 6 weeks of methotrexate it is the "
        "first-line window.",
        steps(lambda c: refractory(c, mtx_days=42), _cmas(15)),
        [x.first_line_window()],
        threshold=Threshold(
            "CMAS red flag",
            "15",
            "does not fire (15 is not < 15)",
            "docs/clinical/decision-model.md §2: red flag CMAS < 15.",
        ),
    ),
    Scenario(
        "boundary-ivig-start-cmas-47",
        "No weakness Condition, but CMAS 47 (< 48) shows weakness: after 14 weeks of MTX, "
        "ivig-start.",
        steps(refractory, _cmas(47, drop_weakness=True)),
        [x.ivig_start(evidence=["cmas"])],
        threshold=Threshold(
            "CMAS weakness",
            "48",
            "fires (47 < 48)",
            "docs/clinical/decision-model.md §2: active disease includes CMAS < 48 [PRINTO-CID].",
        ),
    ),
    Scenario(
        "boundary-ivig-start-cmas-48",
        "No weakness Condition and CMAS exactly 48: not active disease, no cards.",
        steps(refractory, _cmas(48, drop_weakness=True)),
        [],
        threshold=Threshold(
            "CMAS weakness",
            "48",
            "does not fire (inactive needs CMAS >= 48)",
            "docs/clinical/decision-model.md §2: weakness is CMAS < 48; inactive disease needs "
            "CMAS >= 48.",
        ),
    ),
    # --- weight-needed ----------------------------------------------------------------------
    Scenario(
        "in-weight-needed-stale-weight",
        "Seed, but the newest weight is 45 days old: ivig-start without grams, weight-needed.",
        steps(seed, _only_weight(26, 45)),
        [
            x.ivig_start("critical", dose=None, evidence=["dys"]),
            x.weight_needed("w-now", mentions=[["45 days", "45 d"], x.STALE_WEIGHT_TEXT]),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "in-weight-needed-no-weight",
        "Refractory disease and no weight ever recorded: regimen in g/kg only + weight-needed.",
        steps(refractory, lambda c: c.drop("w-now")),
        [x.ivig_start(dose=None), x.weight_needed()],
    ),
    Scenario(
        "in-weight-needed-weight-changed-over-20-percent",
        "26 kg now but 20 kg 25 days ago (+30 % in 30 days): not used silently -> weight-needed.",
        steps(seed, lambda c: c.drop("w-old").weight("w-old", 20, days_ago=25)),
        [
            x.ivig_start("critical", dose=None, evidence=["dys"]),
            x.weight_needed("w-now", mentions=[["confirm"]]),
            x.dysphagia(),
        ],
    ),
    Scenario(
        "out-weight-needed-no-escalation",
        "No weight at all, but IVIG is not due (first-line window): no weight-needed card.",
        steps(lambda c: refractory(c, mtx_days=42), lambda c: c.drop("w-now")),
        [x.first_line_window()],
    ),
    Scenario(
        "boundary-weight-needed-30-days",
        "The only weight is exactly 30 days old: still usable -> dose 52 g, no weight-needed.",
        steps(refractory, _only_weight(26, 30)),
        [x.ivig_start(dose=x.DOSE_26_KG)],
        threshold=Threshold(
            "weight recency",
            "30 days",
            "usable (30 days counts as within 30 days)",
            "docs/clinical/dosing.md: 'measured within 30 days'.",
        ),
    ),
    Scenario(
        "boundary-weight-needed-31-days",
        "The only weight is 31 days old: stale -> no grams, weight-needed.",
        steps(refractory, _only_weight(26, 31)),
        [
            x.ivig_start(dose=None),
            x.weight_needed("w-now", mentions=[["31 days", "31 d"], x.STALE_WEIGHT_TEXT]),
        ],
        threshold=Threshold(
            "weight recency",
            "30 days",
            "stale (31 > 30 days)",
            "docs/clinical/dosing.md: 'measured within 30 days'.",
        ),
    ),
    # --- first-line-window -----------------------------------------------------------------
    Scenario(
        "in-first-line-window",
        "Weak after 6 weeks of methotrexate, no red flag: first-line-window info, no IVIG card.",
        lambda c: refractory(c, mtx_days=42),
        [x.first_line_window(evidence=["weak"])],
    ),
    Scenario(
        "out-first-line-window-inactive-disease",
        "6 weeks of methotrexate and no weakness (CMAS 50): no cards.",
        lambda c: inactive(c, mtx_days=42),
        [],
    ),
    Scenario(
        "boundary-first-line-window-methotrexate-83-days",
        "First methotrexate dose 83 days ago (11.9 weeks): still the first-line window.",
        lambda c: refractory(c, mtx_days=83),
        [x.first_line_window()],
        threshold=Threshold(
            "methotrexate adequate trial",
            "12 weeks",
            "not yet (83 days < 84)",
            "docs/clinical/decision-model.md §2: 'Not yet ... methotrexate for < 12 weeks'.",
        ),
    ),
    # --- dysphagia-aspiration ----------------------------------------------------------------
    Scenario(
        "in-dysphagia-aspiration-pneumonia",
        "Aspiration pneumonia (no dysphagia Condition) after 6 weeks of MTX: organ-threatening "
        "(docs/clinical/decision-model.md §5a) -> severe-organ-disease instead of ivig-start, and "
        "dysphagia-aspiration with the swallow study suggested.",
        steps(
            lambda c: refractory(c, mtx_days=42),
            lambda c: c.problem("asp", "aspiration", days_ago=6),
        ),
        [x.severe_organ(evidence=["asp"]), x.dysphagia("asp")],
    ),
    Scenario(
        "out-dysphagia-aspiration-resolved",
        "Dysphagia resolved 2 months ago: no dysphagia card; 6 weeks of MTX -> first-line window.",
        steps(
            lambda c: refractory(c, mtx_days=42),
            lambda c: c.problem("dys", "dysphagia", days_ago=80),
            _status("dys", "resolved", 60),
        ),
        [x.first_line_window()],
    ),
    Scenario(
        "boundary-dysphagia-aspiration-swallow-study-4-weeks",
        "Seed with a swallow study exactly 28 days ago: the card fires but suggests no new study.",
        steps(
            seed, lambda c: c.add(fb.procedure(c.id("vfss"), c.pid, "vfss", when=at(days_ago=28)))
        ),
        [
            x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"]),
            x.dysphagia(suggest_vfss=False),
        ],
        threshold=Threshold(
            "swallow study recency",
            "4 weeks",
            "done within 4 weeks (28 days counts): not suggested",
            "docs/clinical/decision-model.md §5: 'Suggest the swallow study order unless one was "
            "done in "
            "the last 4 weeks'.",
        ),
    ),
]
