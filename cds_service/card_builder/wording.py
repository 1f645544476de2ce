"""Findings in words: the values a topic's templates take, and the lines a rule's notes add.

Each topic's rule returns structured facts (its ``subject``); here they become the phrases of
``cards/card-texts.json``. Nothing is decided here: only said.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from cds_service.card_builder.markdown import md_escape
from cds_service.card_builder.safety_text import check_detail, short_detail
from cds_service.card_builder.timeline import (
    given_doses,
    line_start,
    methotrexate_schedule_words,
)
from cds_service.card_builder.units_display import measured_text
from cds_service.dosing import IvigDose, WeightAssessment, WeightStatus
from cds_service.history.model import (
    DataQualityNote,
    DoseStatus,
    MethotrexateSchedule,
    TherapyHistory,
)
from cds_service.knowledge.loader import Knowledge
from cds_service.knowledge.texts import ANY_CONCEPT, CardTexts
from cds_service.rules.data_quality import DataQualitySubject
from cds_service.rules.dysphagia import DysphagiaSubject
from cds_service.rules.escalate_after_ivig import EscalateSubject
from cds_service.rules.extramuscular import ExtramuscularSubject
from cds_service.rules.findings import Finding
from cds_service.rules.first_line_window import FirstLineSubject
from cds_service.rules.ivig_course_due import CourseDueSubject
from cds_service.rules.ivig_monitoring import MonitoringSubject
from cds_service.rules.ivig_start import CHECKED_MEASUREMENTS, IvigStartSubject, WeightNeededSubject
from cds_service.rules.methotrexate_schedule import MethotrexateScheduleSubject
from cds_service.rules.safety import SafetyWarningSubject
from cds_service.rules.severe_organ import SevereOrganSubject
from cds_service.rules.stale_problems import StaleProblem
from cds_service.rules.steroid_taper import TaperSubject
from cds_service.rules.timeutil import day
from cds_service.rules.tried import EXPERT_CENTRE_AGENTS, AgentTried

Values = dict[str, str]


def template_values(finding: Finding, knowledge: Knowledge) -> Values:
    """The ``{name}`` values of the finding's topic templates (text_contract.py lists them)."""
    subject, texts = finding.subject, knowledge.texts
    for kind, words in _WORDERS:
        if isinstance(subject, kind):
            return words(finding, subject, texts)
    raise TypeError(f"no wording for a {type(subject).__name__} finding ({finding.topic})")


def note_lines(finding: Finding, knowledge: Knowledge) -> list[str]:
    """Markdown lines the finding adds after the recommendation (keyed notes, itemised facts)."""
    texts, subject = knowledge.texts, finding.subject
    lines = [knowledge.topic(finding.topic).notes[key] for key in finding.note_keys]
    if isinstance(subject, TaperSubject):
        lines += [f"- {text}." for text in taper_texts(subject, texts)]
    if isinstance(subject, DataQualitySubject):
        lines += [data_quality_line(note, knowledge) for note in subject.notes]
        lines += [stale_line(entry, texts) for entry in subject.stale]
        lines += [
            texts.phrase("dataQuality.gather", text=md_escape(t)) for t in subject.gather_notes
        ]
    return lines


def checked_values_line(history: TherapyHistory, texts: CardTexts) -> str | None:
    """The results the safety checks read, fired or not, in one line; None when none is on record
    (each missing one has its own line: the check that cannot be judged says so)."""
    shown = []
    for concept in CHECKED_MEASUREMENTS:
        latest = history.latest(concept)
        label = texts.label(concept)
        if latest is not None:
            value = measured_text(latest.value, latest.unit)
            shown.append(
                texts.phrase("checked.value", label=label, value=value, date=day(latest.at))
            )
    groups = sorted(
        (r for r in history.coded_results if r.concept == "blood-group"), key=lambda r: r.at
    )
    label = texts.label("blood-group")
    if groups:
        group = groups[-1]
        shown.append(
            texts.phrase("checked.value", label=label, value=group.value, date=day(group.at))
        )
    return texts.phrase("checked.results", results="; ".join(shown)) if shown else None


def weight_texts(weight: WeightAssessment, texts: CardTexts) -> tuple[str, str]:
    """(what is wrong with the weight, in a few words; the whole sentence)."""
    status = str(weight.status)
    measured = weight.weight
    if measured is None:
        return texts.phrase("weight.problem.missing"), texts.phrase("weight.detail.missing")
    values = {"weight": _kg(measured, texts), "age_days": str(weight.age_days)}
    if weight.status is WeightStatus.CHANGED and weight.compared_with is not None:
        previous = weight.compared_with
        fraction = weight.change_fraction or Decimal(0)
        values |= {
            "percent": str((fraction * 100).quantize(Decimal("1"))),
            "previous": _kg(previous, texts),
            "days_between": str((measured.at - previous.at).days),
        }
    problem_key = f"weight.problem.{status}"
    problem = texts.phrase(problem_key, **values) if problem_key in texts.phrases else ""
    return problem, texts.phrase(f"weight.detail.{status}", **values)


def taper_texts(subject: TaperSubject, texts: CardTexts) -> list[str]:
    found = []
    below = subject.below_floor
    if below is not None:
        found.append(
            texts.phrase(
                "taper.belowFloor",
                current=_fmt(below.current_mg),
                percent=f"{_fmt(below.floor.value * 100)} %",
                start=_fmt(below.start_mg),
                months=str(below.before_months),
            )
        )
    drop = subject.steep_drop
    if drop is not None:
        found.append(
            texts.phrase(
                "taper.drop",
                highest=_fmt(drop.highest_mg),
                current=_fmt(drop.current_mg),
                date=day(drop.since),
            )
        )
    return found


def data_quality_line(note: DataQualityNote, knowledge: Knowledge) -> str:
    """One left-out record in plain words: what it is, its date, why, what it could change.

    No resource id: the record is in the card's evidence (another patient's, never)."""
    texts = knowledge.texts
    if note.concept:
        what = line_start(_concept_name(note.concept, knowledge))
    else:
        # only records of DECISION_TYPES are named without a concept (rules/data_quality.py)
        what = texts.phrase(f"dataQuality.record.{note.resource_type}")
    when = texts.phrase("dataQuality.date", date=day(note.at)) if note.at else ""
    if note.category == "other-patient":
        about = texts.phrase("dataQuality.otherPatient")
    elif note.category == "unread-medication":
        about = texts.phrase("dataQuality.unreadMedication")
    elif note.category == "unread-allergy":
        about = texts.phrase("dataQuality.unreadAllergy")
    elif note.concept:
        affects = texts.data_quality_affects.get(
            note.concept, texts.data_quality_affects[ANY_CONCEPT]
        )
        about = texts.phrase("dataQuality.couldChange", affects=affects)
    else:
        about = texts.phrase("dataQuality.unknownContent")
    return texts.phrase(
        "dataQuality.line", what=what, when=when, reason=md_escape(note.reason), about=about
    )


def stale_line(entry: StaleProblem, texts: CardTexts) -> str:
    """A stale problem-list entry in plain words: what, since when, and the later results (each
    with its date) that put the disease in the inactive range."""
    results = ", ".join(
        texts.phrase(
            "checked.value",
            label=texts.label(m.concept),
            value=measured_text(m.value, m.unit),
            date=day(m.at),
        )
        for m in entry.results
    )
    return texts.phrase(
        "dataQuality.stale",
        what=line_start(texts.label(entry.problem.concept)),
        date=day(entry.since),
        results=md_escape(results),
    )


def _concept_name(concept: str, knowledge: Knowledge) -> str:
    """How cards name a concept: its label, else its value set's title."""
    label = knowledge.texts.labels.get(concept)
    return label if label is not None else knowledge.terminology.info(concept).title


# --- per topic ------------------------------------------------------------------------------


def _ivig_start(finding: Finding, subject: IvigStartSubject, texts: CardTexts) -> Values:
    hard_stops = [c for c in finding.safety_checks if str(c.effect) == "hard-stop"]
    values = {
        "flag_suffix": texts.phrase("ivigStart.redFlagSuffix") if subject.disease.red_flags else "",
        "hard_stop": short_detail(hard_stops[0], texts) if hard_stops else "",
        "contraindication": _contraindication(hard_stops, texts),
        "specialists": _specialists(hard_stops, texts),
        "methotrexate_plan": methotrexate_plan(finding, texts, alongside_ivig=True),
    }
    return values | _course_values(finding)


# the notes that change what the card says of methotrexate, the strongest first
_METHOTREXATE_PLANS = (
    ("pregnancy", "methotrexatePlan.pregnancy"),
    ("methotrexateNotWeekly", "methotrexatePlan.notWeekly"),
    ("methotrexateStopped", "methotrexatePlan.stopped"),
)


def methotrexate_plan(finding: Finding, texts: CardTexts, *, alongside_ivig: bool) -> str:
    """What the card says of methotrexate: continue it, unless a note of the finding says it is
    contraindicated (pregnancy), on record more often than weekly, or stopped."""
    alongside = texts.phrase("methotrexatePlan.alongsideIvig") if alongside_ivig else ""
    key = next(
        (plan for note, plan in _METHOTREXATE_PLANS if note in finding.note_keys),
        "methotrexatePlan.continue",
    )
    return texts.phrase(key, alongside=alongside)


def _specialists(hard_stops: Sequence[Any], texts: CardTexts) -> str:
    """Who reviews each hard stop that fired (its ``reviewBy``), the relevant ones only."""
    return "; ".join(dict.fromkeys(texts.safety_checks[c.code].review_by for c in hard_stops))


def _course_values(finding: Finding) -> Values:
    """The IVIG course of the card's summary: total, per day and days (none without a dose)."""
    dose = finding.dose
    if not isinstance(dose, IvigDose):
        return {}
    evidence = dose.evidence()
    return {
        "course_total_g": str(evidence["courseTotalG"]),
        "per_day_g": str(evidence["perDayG"]),
        "days": str(dose.days),
    }


def _course_due(finding: Finding, subject: CourseDueSubject, texts: CardTexts) -> Values:
    hard_stops = [c for c in finding.safety_checks if str(c.effect) == "hard-stop"]
    values = {
        "next_course": str(subject.courses_given + 1),
        "courses_given": str(subject.courses_given),
        "weeks_since": str(int(subject.weeks_since)),
        "last_course_date": day(subject.last_course_start),
        "hard_stop": short_detail(hard_stops[0], texts) if hard_stops else "",
    }
    return values | _course_values(finding)


def _contraindication(hard_stops: Sequence[Any], texts: CardTexts) -> str:
    """The hard stops in a few words each (ivig-contraindicated); a check without its own
    ``contraindicated.<code>`` phrase is named by its record's words."""
    words = []
    for check in hard_stops:
        key = f"contraindicated.{check.code}"
        words.append(texts.phrase(key) if key in texts.phrases else short_detail(check, texts))
    return "; ".join(dict.fromkeys(words))


def _weight_needed(finding: Finding, subject: WeightNeededSubject, texts: CardTexts) -> Values:
    problem, detail = weight_texts(subject.weight, texts)
    return {"weight_problem": problem, "weight_detail": detail}


def _first_line(finding: Finding, subject: FirstLineSubject, texts: CardTexts) -> Values:
    plan = {"methotrexate_plan": methotrexate_plan(finding, texts, alongside_ivig=False)}
    if subject.trial_end is None or subject.methotrexate_weeks is None:
        return {"twelve_week_date": texts.phrase("firstLine.notStarted"), "mtx_weeks": "0"} | plan
    return {
        "twelve_week_date": day(subject.trial_end),
        "mtx_weeks": str(subject.methotrexate_weeks),
    } | plan


def _dysphagia(finding: Finding, subject: DysphagiaSubject, texts: CardTexts) -> Values:
    study = subject.latest_study
    if study is not None:
        return {"vfss_status": texts.phrase("dysphagia.studyDone", date=day(study.at))}
    return {"vfss_status": texts.phrase("dysphagia.noStudy")}


def _safety_warning(finding: Finding, subject: SafetyWarningSubject, texts: CardTexts) -> Values:
    dose = subject.dose
    if dose is None:
        fluid = texts.phrase("safety.fluidNoWeight")
    else:
        evidence = dose.evidence()
        fluid = texts.phrase(
            "safety.fluidVolume",
            volume_ml=str(evidence["volumeMl"]),
            course_total_g=str(evidence["courseTotalG"]),
        )
    return {"finding": check_detail(subject.check, texts), "fluid_volume": fluid}


def _monitoring(finding: Finding, subject: MonitoringSubject, texts: CardTexts) -> Values:
    groups = [_or_list([texts.label(c) for c in group]) for group in subject.missing_groups]
    return {"missing": " and no ".join(groups)}


def _escalate(finding: Finding, subject: EscalateSubject, texts: CardTexts) -> Values:
    dose = finding.dose
    if dose is not None:
        mg = str(dose.evidence()["perInfusionMg"])
        rituximab = texts.phrase("escalate.rituximabDose", mg=mg)
    else:
        rituximab = texts.phrase("escalate.noRituximabDose")
    option = "escalate.rituximabAdult" if subject.adult else "escalate.rituximabChild"
    if "pregnancy" in finding.note_keys:  # a specialist's decision only (rules/pregnancy.py)
        option = "escalate.rituximabPregnancy"
    organs = sorted({texts.label(p.concept) for p in subject.organ_problems})
    organ_text = texts.phrase("escalate.organPresent", organs=", ".join(organs)) if organs else ""
    tried = {t.agent: t for t in subject.tried}
    cyclosporine, cyclophosphamide = tried.get("cyclosporine"), tried.get("cyclophosphamide")
    others = [
        texts.phrase("tried.agent", agent=texts.label(t.agent), history=tried_text(t, texts))
        for agent in EXPERT_CENTRE_AGENTS
        if (t := tried.get(agent)) is not None
    ]
    return {
        "courses": str(subject.courses),
        "rituximab_option": texts.phrase(option, rituximab_dose=rituximab),
        "organ_involvement": organ_text,
        "cyclosporine_tried": (
            texts.phrase("escalate.cyclosporineTried", history=tried_text(cyclosporine, texts))
            if cyclosporine is not None
            else ""
        ),
        "cyclophosphamide_tried": (
            texts.phrase(
                "escalate.cyclophosphamideTried", history=tried_text(cyclophosphamide, texts)
            )
            if cyclophosphamide is not None
            else ""
        ),
        "others_tried": (
            texts.phrase("escalate.othersTried", agents="; ".join(others)) if others else ""
        ),
    }


def tried_text(tried: AgentTried, texts: CardTexts) -> str:
    """What the record holds of an agent: doses given and the last date (cyclophosphamide with
    its total), else reported use from a date, else ordered from a date."""
    if tried.given:
        total = tried.total_mg
        shown = texts.phrase("tried.given", count=str(len(tried.given)), date=day(tried.last_given))
        if tried.agent == "cyclophosphamide" and total is not None:
            grams = (total / Decimal(1000)).quantize(Decimal("0.01"))
            shown += texts.phrase("tried.total", total=_fmt(grams))
        return shown
    if tried.reported:
        return texts.phrase("tried.reported", date=day(tried.reported[0].at))
    return texts.phrase("tried.ordered", date=day(tried.ordered[0].at))


def _severe_organ(finding: Finding, subject: SevereOrganSubject, texts: CardTexts) -> Values:
    labels = sorted({texts.label(p.concept) for p in subject.problems})
    dated = [
        texts.phrase("severe.organ", label=texts.label(p.concept), date=day(p.onset or p.recorded))
        for p in subject.problems
    ]
    cyclophosphamide = subject.cyclophosphamide
    if cyclophosphamide is None:
        dose = texts.phrase("severe.noCyclophosphamideDose")
    else:
        figures = cyclophosphamide.evidence()
        dose = texts.phrase(
            "severe.cyclophosphamideDose",
            low=str(figures["lowMg"]),
            high=str(figures["highMg"]),
            bsa=str(figures["bsaM2"]),
        )
    return {
        "organs": ", ".join(labels),
        "organ_list": "; ".join(dated),
        "cyclophosphamide_dose": dose,
        "ivig_adjunct": texts.phrase("severe.ivigCardiac") if subject.cardiac else "",
        "cyclophosphamide_tried": (
            texts.phrase(
                "severe.cyclophosphamideTried",
                history=tried_text(subject.cyclophosphamide_tried, texts),
            )
            if subject.cyclophosphamide_tried is not None
            else ""
        ),
        "anti_mda5": (
            texts.phrase("severe.antiMda5Positive", date=day(subject.anti_mda5.at))
            if subject.anti_mda5 is not None
            else texts.phrase("severe.antiMda5Unknown")
        ),
    }


def _extramuscular(finding: Finding, subject: ExtramuscularSubject, texts: CardTexts) -> Values:
    mda5 = subject.anti_mda5
    return {
        "missing": ", ".join(texts.label(c) for c in subject.missing),
        "mda5_date": day(mda5.at) if mda5 is not None else "",
    }


def _taper(finding: Finding, subject: TaperSubject, texts: CardTexts) -> Values:
    first = taper_texts(subject, texts)[0]
    short = first if len(first) <= 48 else first.split(" is under")[0].split(" within")[0]
    return {"taper_finding": short}


def _methotrexate_schedule(
    finding: Finding, subject: MethotrexateScheduleSubject, texts: CardTexts
) -> Values:
    """The schedule named in the summary (the latest in force, else the latest), or the latest
    run of doses given; every one on record in the recommendation."""
    lines = [
        texts.phrase(
            "methotrexateSchedule.line",
            dose=md_escape(s.dose_as_written),
            schedule=methotrexate_schedule_words(s, texts),
            per_week=_fmt(s.per_week.quantize(Decimal("0.1"))),
            recorded=_recorded(s, texts),
            start=day(s.start),
            until=texts.phrase("methotrexateSchedule.until", date=day(s.until)) if s.until else "",
        )
        for s in subject.schedules
    ]
    lines += [
        texts.phrase(
            "methotrexateSchedule.given",
            dose=md_escape(given_doses(run)),
            count=str(len(run.doses)),
            first=day(run.doses[0].at),
            last=day(run.doses[-1].at),
        )
        for run in subject.given
    ]
    named = subject.schedules[-1] if subject.schedules else None
    run = subject.given[-1] if subject.given else None
    return {
        "dose": named.dose_as_written if named else "",
        "recorded": _recorded(named, texts) if named else "",
        "schedule_upper": methotrexate_schedule_words(named, texts).upper() if named else "",
        "start": day(named.start) if named else "",
        "until": day(named.until) if named and named.until else "",
        "once_weekly": texts.phrase("methotrexate.onceWeekly"),
        "schedules": "; ".join(lines),
        "given_count": str(len(run.doses)) if run else "",
        "given_first": day(run.doses[0].at) if run else "",
        "given_last": day(run.doses[-1].at) if run else "",
    }


def _recorded(schedule: MethotrexateSchedule, texts: CardTexts) -> str:
    ordered = schedule.status is DoseStatus.ORDERED
    return texts.phrase(f"methotrexateSchedule.{'ordered' if ordered else 'reported'}")


def _data_quality(finding: Finding, subject: DataQualitySubject, texts: CardTexts) -> Values:
    # the left-out records' words, unless the card names only stale entries
    intro = "dataQuality.introStale" if finding.summary_variant == "stale" else "dataQuality.intro"
    return {"count": str(subject.count), "intro": texts.phrase(intro)}


_WORDERS: Sequence[tuple[type, Callable[[Finding, Any, CardTexts], Values]]] = (
    (MethotrexateScheduleSubject, _methotrexate_schedule),
    (IvigStartSubject, _ivig_start),
    (CourseDueSubject, _course_due),
    (WeightNeededSubject, _weight_needed),
    (FirstLineSubject, _first_line),
    (DysphagiaSubject, _dysphagia),
    (SafetyWarningSubject, _safety_warning),
    (MonitoringSubject, _monitoring),
    (EscalateSubject, _escalate),
    (SevereOrganSubject, _severe_organ),
    (ExtramuscularSubject, _extramuscular),
    (TaperSubject, _taper),
    (DataQualitySubject, _data_quality),
)


def _or_list(items: Sequence[str]) -> str:
    """``CK, ESR or CRP``."""
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + " or " + items[-1]


# a weight is read as a clinician reads a scale, to 0.1 kg (docs/clinical/dosing.md, rounding)
KG_SHOWN = Decimal("0.1")


def _kg(measurement: Any, texts: CardTexts) -> str:
    shown = measurement.value.quantize(KG_SHOWN, rounding=ROUND_HALF_UP)
    return texts.phrase("weight.value", value=_fmt(shown), date=day(measurement.at))


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")
