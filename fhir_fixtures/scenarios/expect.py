"""Expected cards, written by hand from the clinical docs (never from the service's output).

A card expectation is a dict; every key is optional except topic and indicator:

* ``dose``: figures of the evidence's dose object (docs/clinical/card-contract.md), numbers as
strings and
  compared numerically; a figure may be ``{"value": "780", "tolerance": "1"}`` or
  ``{"min": "35", "max": "45"}`` where the docs' own worked examples round differently.
* ``doseAbsent``: the card must carry no dose object (no usable weight, docs/clinical/dosing.md).
* ``medicationRequest``: ``{"perDayG": "26", "days": 2}`` — the draft IVIG order; ``"absent"`` when
  there must be none (no usable weight or a hard stop, docs/clinical/safety.md).
* ``serviceRequests``: each item a code (matched in any coding) or ``{"anyCode": [...],
  "text": "swallow"}`` that some suggested ServiceRequest must match.
* ``serviceRequestsAbsent``: codes no suggested ServiceRequest may carry.
* ``safetyChecks``: ``{"present": [[code, effect], ...], "absent": [code, ...]}``.
* ``evidence``: local resource names that must be in ``resources``; ``evidenceAnyOf``: groups of
  which at least one must be; ids listed in a scenario's ``forbidden`` may appear on no card;
  ``matchedByName``: local names the evidence must list as matched by name (no known code).
* ``links``: order-set ids the card must link to; ``linksAbsent``: ids it must not link to.
* ``suggestionsAbsent``: the card offers no draft orders at all.
* ``mentions``: groups of alternatives, one of each group must appear in summary or detail
  (case-insensitive; ``{"date": "2026-04-26"}`` matches the usual spellings of a date);
  ``mentionsInOrder``: tokens that must appear in this order; ``mentionsBeforeWhy``: groups that
  must appear in the recommendation, before "Why this card" (a hard stop "says why first");
  ``notMentions``: tokens that must not appear (a wrong figure).
  The tokens are the docs' own words.
"""

from __future__ import annotations

from typing import Any

Card = dict[str, Any]

# docs/clinical/dosing.md worked example: 26 kg -> 2 x 26 = 52 g per course, 26 g/day x 2 days, 520
# mL of 10 %;
# 0.4 g/kg/day over 5 days = 10.4 g/day; rates 0.01 then at most 0.04 mL/kg/min.
DOSE_26_KG: dict[str, Any] = {
    "agent": "ivig",
    "weightKg": "26",
    "dosingWeightBasis": "actual",
    "gPerKg": "2",
    "uncappedTotalG": "52",
    "capG": "70",
    "capped": False,
    "courseTotalG": "52",
    "days": 2,
    "perDayG": "26",
    "fiveDayPerDayG": "10.4",
    "volumeMl": "520",
    "startRateMlPerKgMin": "0.01",
    "maxRateMlPerKgMin": "0.04",
}
# renal or thrombotic risk: 5-day split and at most 0.03 mL/kg/min (docs/clinical/dosing.md,
# docs/clinical/safety.md)
DOSE_26_KG_SLOW_5_DAY = DOSE_26_KG | {"days": 5, "perDayG": "10.4", "maxRateMlPerKgMin": "0.03"}
# fluid-load risk (cardiac-fluid): 5-day split; the rate limit of 0.03 is for renal/thrombotic risk
DOSE_26_KG_5_DAY = DOSE_26_KG | {"days": 5, "perDayG": "10.4"}
# 40 kg -> 80 g -> capped at 70 g (docs/clinical/dosing.md); 35 g/day x 2; 14 g/day x 5; 700 mL of
# 10 %
DOSE_40_KG = DOSE_26_KG | {
    "weightKg": "40",
    "uncappedTotalG": "80",
    "capped": True,
    "courseTotalG": "70",
    "perDayG": "35",
    "fiveDayPerDayG": "14",
    "volumeMl": "700",
}
# 35 kg -> exactly 70 g: the cap is reached, not exceeded (`capped` is not asserted: see README)
DOSE_35_KG = {k: v for k, v in DOSE_40_KG.items() if k != "capped"} | {
    "weightKg": "35",
    "uncappedTotalG": "70",
}

VACCINE_DEFERRAL = ["vaccine-deferral", "note"]
HARD_STOP_CHECKS = ["anaphylaxis-to-ig", "renal-severe"]
IGA_SERUM = "2458-8"
CK = "2157-6"
VFSS = {"anyCode": ["86395-1", "24682-7"], "text": "swallow"}
FIVE_DAYS = ["5-day", "5 day", "five-day", "five day"]

# docs/clinical/decision-model.md §3: continue methotrexate, do not stop or speed the taper;
# docs/clinical/safety.md vaccine-deferral: defer measles/varicella-containing vaccines 11 months
# after 2 g/kg
IVIG_START_TEXT = [["methotrexate"], ["taper"], ["2 g/kg"], ["11 months", "11-month"]]
# docs/clinical/decision-model.md §5 dysphagia / aspiration
DYSPHAGIA_TEXT = [
    ["swallow"],
    ["speech"],
    ["precaution"],
    ["intravenous", "iv steroid", "iv rather", "iv methylpred", "iv glucocorticoid"],
    ["nasogastric", "ng tube", "ng-tube", "ng feeding"],
]
# docs/clinical/safety.md, the warning column
SAFETY_TEXT = {
    "ivig-safety-renal": [["sucrose"], ["0.03"], FIVE_DAYS, ["hydrat"], ["creatinine"]],
    "ivig-safety-iga-deficiency": [
        ["anti-iga"],
        ["iga-depleted", "iga depleted", "low-iga", "low iga"],
        ["anaphyla"],
    ],
    "ivig-safety-thrombosis": [["0.03"], ["hydrat"], FIVE_DAYS],
    "ivig-safety-cardiac-fluid": [["20 ml/kg"], FIVE_DAYS, ["cardiolog"]],
}
# docs/clinical/decision-model.md §4: the options in the card's words and order; the adult regimen
# named
STALE_WEIGHT_TEXT = ["30 days", "30-day"]
ESCALATE_ORDER = ["rituximab", "ciclosporin", "cyclophosphamide"]
ESCALATE_TEXT = [["750 mg/m"], ["14 days"], ["severe organ"]]


def ivig_start(
    indicator: str = "warning",
    *,
    dose: dict[str, Any] | None = DOSE_26_KG,
    weight: str | None = "w-now",
    checks: list[list[str]] | None = None,
    absent_checks: list[str] | None = None,
    evidence: list[str] | None = None,
    evidence_any_of: list[list[str]] | None = None,
    hard_stop: bool = False,
    extra_orders: list[Any] | None = None,
    mentions: list[Any] | None = None,
    draft: bool = True,
) -> Card:
    """The ivig-start card. With a usable weight and no hard stop: dose + draft MedicationRequest.

    ``dose=None``: no usable weight, so no dose object and no draft IVIG order
    (docs/clinical/dosing.md). ``draft=False``: a dose but no draft order (the product is a
    specialist's choice, docs/clinical/safety.md).
    """
    card: Card = {"topic": "ivig-start", "indicator": indicator, "links": ["ivig-baseline"]}
    card["mentions"] = [*IVIG_START_TEXT, *(mentions or [])]
    present = [VACCINE_DEFERRAL, *(checks or [])]
    card["safetyChecks"] = {"present": present, "absent": absent_checks or []}
    card["serviceRequests"] = [CK, *(extra_orders or [])]
    card["evidence"] = list(evidence or [])
    if evidence_any_of:
        card["evidenceAnyOf"] = evidence_any_of
    if dose is None:
        card["doseAbsent"] = True
        card["medicationRequest"] = "absent"
        return card
    card["dose"] = dose | ({"weightObservation": weight} if weight else {})
    if weight:
        card["evidence"].append(weight)
    if hard_stop or not draft:
        card["medicationRequest"] = "absent"
    else:
        card["medicationRequest"] = {"perDayG": dose["perDayG"], "days": dose["days"]}
    return card


def course_due(
    *,
    dose: dict[str, Any] | None = DOSE_26_KG,
    weight: str | None = "w-now",
    mentions: list[Any] | None = None,
) -> Card:
    """The ivig-course-due card: the next monthly course overdue on an IVIG trial; the draft of
    the next course, no baseline orders (no pre-IVIG serology once IVIG was given)."""
    card: Card = {"topic": "ivig-course-due", "indicator": "warning", "links": ["ivig-infusion"]}
    card["mentions"] = [["overdue"], ["serology"], *(mentions or [])]
    card["serviceRequestsAbsent"] = [CK]
    card["evidence"] = []
    if dose is None:
        card["doseAbsent"] = True
        card["medicationRequest"] = "absent"
        return card
    card["dose"] = dose | ({"weightObservation": weight} if weight else {})
    if weight:
        card["evidence"].append(weight)
    card["medicationRequest"] = {"perDayG": dose["perDayG"], "days": dose["days"]}
    return card


def card(topic: str, indicator: str, **extra: Any) -> Card:
    result: Card = {"topic": topic, "indicator": indicator, **extra}
    if topic in SAFETY_TEXT:
        result.setdefault("mentions", SAFETY_TEXT[topic])
    return result


def dysphagia(evidence: str = "dys", *, suggest_vfss: bool = True) -> Card:
    result = card("dysphagia-aspiration", "critical", evidence=[evidence], mentions=DYSPHAGIA_TEXT)
    if suggest_vfss:
        result["serviceRequests"] = [VFSS]
    else:
        result["serviceRequestsAbsent"] = ["86395-1", "24682-7"]
    return result


def first_line_window(**extra: Any) -> Card:
    """docs/clinical/decision-model.md §2 'Not yet': says when the 12-week point falls (the builder
    adds that date from the chart), what to do with methotrexate (continue it; or, with a note
    against it, once weekly once checked, or that it has been stopped), and not to speed up the
    steroid taper."""
    return card(
        "first-line-window",
        "info",
        evidenceAnyOf=[["mtx-1", "mtx-order"]],
        mentions=[
            ["continue methotrexate", "methotrexate goes on", "methotrexate has been stopped"],
            ["taper"],
            ["12 week", "12-week"],
        ],
        **extra,
    )


def weight_needed(*evidence: str, mentions: list[Any] | None = None) -> Card:
    """docs/clinical/dosing.md: says which weight was found and how old it is (`mentions`), asks for
    a current
    one."""
    return card(
        "weight-needed",
        "warning",
        evidence=list(evidence),
        mentions=list(mentions or []),
    )


def escalate(dose: dict[str, Any], **extra: Any) -> Card:
    return card(
        "escalate-after-ivig",
        "warning",
        dose=dose,
        mentionsInOrder=ESCALATE_ORDER,
        mentions=ESCALATE_TEXT,
        **extra,
    )


MTX_EVIDENCE = [["mtx-1", "mtx-order"]]


# docs/clinical/decision-model.md §5a: urgent expert centre; IV methylprednisolone with
# cyclophosphamide or combination therapy; IVIG an adjunct; anti-MDA5 named as the highest risk
SEVERE_ORGAN_TEXT = [
    ["expert centre", "expert-centre"],
    ["methylprednisolone"],
    ["cyclophosphamide"],
    ["combination"],
    ["adjunct"],
    ["anti-mda5"],
]
# docs/clinical/safety.md, hard stops: what is contraindicated and why first; the alternatives
CONTRAINDICATED_TEXT = [["specialist"], ["rituximab"], ["ciclosporin"]]


def severe_organ(
    dose: dict[str, Any] | None = DOSE_26_KG,
    *,
    evidence: list[str] | None = None,
    mentions: list[Any] | None = None,
    **extra: Any,
) -> Card:
    """The severe-organ-disease card: critical, the IVIG adjunct's dose (cardiac risk honoured),
    no draft orders."""
    result = card(
        "severe-organ-disease",
        "critical",
        evidence=list(evidence or []),
        mentions=[*SEVERE_ORGAN_TEXT, *(mentions or [])],
        links=["jdm-reevaluation"],
        linksAbsent=["ivig-infusion"],
        medicationRequest="absent",
        **extra,
    )
    if dose is None:
        result["doseAbsent"] = True
    else:
        result["dose"] = dose
    return result


def contraindicated(code: str, reason: list[str], evidence: list[str]) -> Card:
    return card(
        "ivig-contraindicated",
        "critical",
        safetyChecks={"present": [[code, "hard-stop"]], "absent": []},
        evidence=evidence,
        links=["jdm-reevaluation"],
        doseAbsent=True,
        medicationRequest="absent",
        serviceRequestsAbsent=[CK, IGA_SERUM],
        suggestionsAbsent=True,
        linksAbsent=["ivig-infusion", "ivig-baseline"],
        mentionsBeforeWhy=[["contraindicat"], reason],
        mentions=CONTRAINDICATED_TEXT,
        notMentions=["next step is **ivig", "ivig 2 g/kg per course over"],
    )
