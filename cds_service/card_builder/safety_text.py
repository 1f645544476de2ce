"""A fired safety check in words: its reasons joined into the ``{detail}`` of its line."""

from __future__ import annotations

from cds_service.card_builder.units_display import measured_text
from cds_service.history.model import Measurement
from cds_service.knowledge.texts import CardTexts
from cds_service.knowledge.thresholds import COMPARISON_SIGNS
from cds_service.rules.findings import CheckReason, SafetyCheckResult
from cds_service.rules.timeutil import day

# how a check's reasons are joined (a list of risk factors reads with commas)
JOINERS = {
    "renal": "; ",
    "anaphylaxis-to-ig": "; ",
    "ig-reaction-mild": "; ",
    "anti-iga": "; ",
    "anti-iga-reaction": "; ",
    "live-vaccine": "; ",
    "live-vaccine-immunosuppressed": "; ",
}


def check_detail(result: SafetyCheckResult, texts: CardTexts) -> str:
    """What fired, in words; a check that fires on the absence of data is its own line."""
    joiner = JOINERS.get(result.code, ", ")
    words = [reason_text(reason, texts) for reason in result.reasons]
    return joiner.join(w for w in words if w) or texts.safety_checks[result.code].text


def short_detail(result: SafetyCheckResult, texts: CardTexts, most: int = 40) -> str:
    """The detail for a summary when it is short enough; else the check's short name (the
    card's detail has it whole). Never cut in a word."""
    text = check_detail(result, texts)
    return text if len(text) <= most else texts.safety_checks[result.code].short


def reason_text(reason: CheckReason, texts: CardTexts) -> str:
    kind, phrase = reason.kind, texts.phrase
    if kind in ("allergy", "blood-group") and reason.text is not None:
        return (
            reason.text if kind == "allergy" else phrase("check.hemolysis.group", group=reason.text)
        )
    if kind == "problem" and reason.text is not None:
        return reason.text
    if kind == "renal-problem" and reason.text is not None:
        return phrase("check.renal.problem", display=reason.text)
    if kind == "risk-factor" and reason.concept is not None:
        return texts.label(reason.concept)
    if kind == "anti-iga":
        return phrase("check.antiIga.present", date=day(reason.at))
    if kind == "vaccine" and reason.text is not None:
        return phrase("check.liveVaccine.item", vaccine=reason.text, date=day(reason.at))
    if kind == "vaccine-repeat" and reason.text is not None:
        return phrase("check.liveVaccine.repeat", vaccine=reason.text, date=day(reason.at))
    if kind == "vaccine-immunosuppressed" and reason.text is not None:
        agents = [
            phrase(f"check.immunosuppressed.{agent}") for agent in (reason.concept or "").split("+")
        ]
        return phrase(
            "check.liveVaccine.immunosuppressed",
            vaccine=reason.text,
            date=day(reason.at),
            agents=" and ".join(agents),
        )
    measured = reason.measurement
    if measured is not None:
        return _measured(reason, measured, texts)
    simple = {
        "iga-problem-list": "check.iga.problemList",
        "blood-group-unknown": "check.hemolysis.unknown",
    }
    # the other reasons (no IgA, no renal result, vaccine deferral, migraine) need no words of
    # their own: the check's line says it all
    return phrase(simple[kind]) if kind in simple else ""


def _measured(reason: CheckReason, measured: Measurement, texts: CardTexts) -> str:
    values = {"value": measured_text(measured.value, measured.unit), "date": day(measured.at)}
    threshold = reason.threshold
    if threshold is not None:
        values |= {"comparison": COMPARISON_SIGNS[threshold.comparison]}
    match reason.kind:
        case "iga-below-range" if threshold is not None:
            low = measured.reference_low
            return texts.phrase(
                "check.iga.belowRange",
                low=measured_text(low, measured.unit) if low is not None else "?",
                threshold=str(threshold.value),
                unit=threshold.unit,
                **values,
            )
        case "iga-below-threshold" if threshold is not None:
            return texts.phrase(
                "check.iga.belowThreshold",
                threshold=str(threshold.value),
                unit=threshold.unit,
                **values,
            )
        case "egfr-schwartz" if threshold is not None and len(reason.inputs) == 2:
            height, creatinine = reason.inputs
            return texts.phrase(
                "check.renal.schwartz",
                threshold=str(threshold.value),
                height=measured_text(height.value, height.unit),
                creatinine=measured_text(creatinine.value, creatinine.unit),
                **values,
            )
        case "creatinine-unjudged":
            return texts.phrase("check.renal.creatinineAlone", **values)
        case "egfr-low" if threshold is not None:
            return texts.phrase("check.renal.egfrLow", threshold=str(threshold.value), **values)
        case "creatinine-high":
            return texts.phrase(
                "check.renal.creatinineHigh", high=str(measured.reference_high), **values
            )
        case "creatinine-rise" if threshold is not None and reason.baseline is not None:
            base = reason.baseline
            return texts.phrase(
                "check.renal.creatinineRise",
                baseline=measured_text(base.value, base.unit),
                baseline_date=day(base.at),
                ratio=str(threshold.value),
                **values,
            )
    raise ValueError(f"no words for a {reason.kind} reason")
