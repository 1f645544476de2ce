"""Scenarios: stale problem-list entries (docs/clinical/decision-model.md §5b).

A weakness or dysphagia Condition at least 6 months old, with the latest CMAS, MMT-8 and CK
recorded after it all in the inactive range (CMAS >= 48, MMT-8 >= 78, CK <= 150 U/L), is named on
the data-quality card and counts neither as activity nor as a red flag. A recent entry, a score
still showing weakness, no strength score at all, a dysphagia Observation of last week or a swallow
study within 4 weeks keep the entry in play, and the cards fire as they always did.

The chart: JDM since 1 March 2024, on methotrexate for 40 weeks, weakness resolved; on 10 March
2026 (5 days before the scenario's "now") CMAS 52, MMT-8 80 and CK 95 U/L.
"""

from __future__ import annotations

from fhir_fixtures import builders as b
from fhir_fixtures.builders import SEVERE, concept
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.charts import Chart, inactive
from fhir_fixtures.scenarios.fhir_builders import at
from fhir_fixtures.scenarios.scenario import Build, Scenario, Threshold, steps

SCORES_DATE = "2026-03-10"  # 5 days before the scenarios' now


def _inactive_scores(c: Chart) -> Chart:
    """Long-standing JDM, on methotrexate for 40 weeks, weakness resolved; CMAS 52, MMT-8 80 and
    CK 95 U/L 5 days ago."""
    inactive(c, mtx_days=280)
    _dated("jdm", "2024-03-01")(c)
    c.get("cmas")["valueQuantity"]["value"] = 52
    c.get("ck")["valueQuantity"]["value"] = 95
    return c.lab("mmt8", "mmt8", 80, days_ago=5)


def _dated(local: str, when: str) -> Build:
    """A Condition whose onset and recording are `when` (a date)."""

    def step(c: Chart) -> None:
        condition = c.get(local)
        condition["onsetDateTime"] = when
        condition["recordedDate"] = when

    return step


def _problem(local: str, kind: str, when: str, *, severe: bool = False) -> Build:
    """An active problem-list entry of `kind`, never abated, dated `when`."""

    def step(c: Chart) -> None:
        c.problem(local, kind, days_ago=1)
        _dated(local, when)(c)
        if severe:
            c.get(local)["severity"] = concept(SEVERE)

    return step


def _weakness_active_since(when: str) -> Build:
    def step(c: Chart) -> None:
        weak = c.get("weak")
        weak["clinicalStatus"]["coding"][0]["code"] = "active"
        weak.pop("abatementDateTime", None)
        _dated("weak", when)(c)

    return step


def _dysphagia_observation(c: Chart) -> None:
    """Dysphagia recorded as a coded Observation 3 days ago (a finding of this week)."""
    c.add(
        b.observation(
            c.id("dys-obs"),
            c.pid,
            concept(b.DYSPHAGIA),
            effective=at(days_ago=3),
            category="exam",
        )
    )


def _swallow_study(days_ago: float) -> Build:
    return lambda c: c.add(fb.procedure(c.id("vfss"), c.pid, "vfss", when=at(days_ago=days_ago)))


def _stale_card(entry: str, label: str, since: str) -> dict[str, object]:
    """The data-quality card naming the stale entry, the later results and what to do; the entry
    and the results that contradict it are its evidence; no draft orders."""
    return x.card(
        "data-quality",
        "info",
        evidence=[entry, "cmas", "mmt8", "ck"],
        mentions=[
            [label],
            ["problem list"],
            [{"date": since}],
            [{"date": SCORES_DATE}],
            ["CMAS 52"],
            ["MMT-8 80"],
            ["CK 95 U/L"],
            ["inactive range"],
            ["not counted as active disease"],
            ["update the problem list"],
        ],
        suggestionsAbsent=True,
    )


# the entry still counts: a red flag after first-line therapy (ivig-start critical) + the swallow
# card, and no data-quality card
DYSPHAGIA_IN_PLAY = [x.ivig_start("critical", evidence=["dys"]), x.dysphagia()]

SCENARIOS = [
    Scenario(
        "in-data-quality-stale-problem-weakness",
        "Proximal weakness on the problem list since 12 March 2024, never updated, but CMAS 52, "
        "MMT-8 80 and CK 95 U/L 5 days ago are in the inactive range: the entry is stale. No "
        "'refractory, consider IVIG' card; the data-quality card names the entry and the results "
        "and asks for the problem list to be updated.",
        steps(_inactive_scores, _weakness_active_since("2024-03-12")),
        [_stale_card("weak", "proximal muscle weakness", "2024-03-12")],
        forbidden=(),
    ),
    Scenario(
        "in-data-quality-stale-problem-dysphagia",
        "Severe dysphagia on the problem list since 12 March 2024 (still active, never abated), "
        "but CMAS 52, MMT-8 80 and CK 95 U/L 5 days ago are in the inactive range: no "
        "dysphagia-aspiration or severe-organ-disease card; the data-quality card names it.",
        steps(_inactive_scores, _problem("dys", "dysphagia", "2024-03-12", severe=True)),
        [_stale_card("dys", "dysphagia", "2024-03-12")],
    ),
    Scenario(
        "out-data-quality-stale-problem-recent-dysphagia",
        "Dysphagia entered 2 months ago (10 January 2026) with the same inactive-range results "
        "since: a recent entry is never stale. Red flag after first-line therapy -> ivig-start "
        "critical and dysphagia-aspiration; no data-quality card.",
        steps(_inactive_scores, _problem("dys", "dysphagia", "2026-01-10")),
        DYSPHAGIA_IN_PLAY,
    ),
    Scenario(
        "out-data-quality-stale-problem-cmas-weak",
        "Dysphagia since 12 March 2024, but the latest CMAS is 40 (weakness, below 48): the "
        "scores do not contradict the entry, so it fires as before (ivig-start critical and "
        "dysphagia-aspiration).",
        steps(
            _inactive_scores,
            _problem("dys", "dysphagia", "2024-03-12"),
            lambda c: c.get("cmas")["valueQuantity"].update(value=40),
        ),
        DYSPHAGIA_IN_PLAY,
    ),
    Scenario(
        "out-data-quality-stale-problem-no-strength-score",
        "Weakness since 12 March 2024 and a normal CK (95 U/L), but no CMAS or MMT-8 on record: a "
        "CK alone does not contradict weakness, so it still counts: after 40 weeks of "
        "methotrexate, ivig-start (warning, no red flag).",
        steps(
            _inactive_scores,
            _weakness_active_since("2024-03-12"),
            lambda c: c.drop("cmas", "mmt8"),
        ),
        [x.ivig_start(evidence=["weak"])],
    ),
    Scenario(
        "out-data-quality-stale-problem-dysphagia-observation",
        "The old dysphagia entry of 12 March 2024 beside the inactive-range results, and a "
        "dysphagia Observation 3 days ago: a current finding backs the entry, so nothing is "
        "stale: ivig-start critical and dysphagia-aspiration (both records as evidence).",
        steps(
            _inactive_scores,
            _problem("dys", "dysphagia", "2024-03-12"),
            _dysphagia_observation,
        ),
        [
            x.ivig_start("critical", evidence=["dys-obs", "dys"]),
            x.card(
                "dysphagia-aspiration",
                "critical",
                evidence=["dys-obs", "dys"],
                mentions=x.DYSPHAGIA_TEXT,
                serviceRequests=[x.VFSS],
            ),
        ],
    ),
    Scenario(
        "out-data-quality-stale-problem-swallow-study",
        "The old dysphagia entry of 12 March 2024 beside the inactive-range results, and a swallow "
        "study 10 days ago: someone is assessing the swallow now, so the entry is not stale: "
        "ivig-start critical and dysphagia-aspiration (no new study suggested).",
        steps(_inactive_scores, _problem("dys", "dysphagia", "2024-03-12"), _swallow_study(10)),
        [x.ivig_start("critical", evidence=["dys"]), x.dysphagia(suggest_vfss=False)],
    ),
    Scenario(
        "boundary-data-quality-stale-problem-6-months",
        "Dysphagia entered on 15 September 2025, exactly 6 calendar months before now, with the "
        "inactive-range results after it: stale (6 months counts) -> only the data-quality card.",
        steps(_inactive_scores, _problem("dys", "dysphagia", "2025-09-15")),
        [_stale_card("dys", "dysphagia", "2025-09-15")],
        threshold=Threshold(
            "problem-list entry stale",
            "6 months",
            "stale (an entry 6 months old counts)",
            "docs/clinical/decision-model.md §5b: an entry at least 6 months old.",
        ),
    ),
    Scenario(
        "boundary-data-quality-stale-problem-6-months-less-a-day",
        "Dysphagia entered on 16 September 2025, a day short of 6 months, with the same results: "
        "not stale -> ivig-start critical and dysphagia-aspiration.",
        steps(_inactive_scores, _problem("dys", "dysphagia", "2025-09-16")),
        DYSPHAGIA_IN_PLAY,
        threshold=Threshold(
            "problem-list entry stale",
            "6 months",
            "not stale (a day short of 6 months)",
            "docs/clinical/decision-model.md §5b: an entry at least 6 months old.",
        ),
    ),
]
