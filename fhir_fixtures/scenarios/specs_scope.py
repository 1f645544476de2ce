"""Scenarios: how the diagnosis is worded (docs/clinical/decision-model.md §0, "Scope wording").

JDM typed as words in either order ("Dermatomyositis, juvenile") is a JDM diagnosis read by name;
a diagnosis recorded only as provisional or differential keeps the child in scope, but every card
says it is not confirmed and links the re-evaluation order set; and a card shown while the disease
is not active does not call it active.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_fixtures import builders as b
from fhir_fixtures.scenarios import expect as x
from fhir_fixtures.scenarios.charts import Chart, inactive, refractory, seed
from fhir_fixtures.scenarios.scenario import Scenario, Threshold, steps

# docs/clinical/decision-model.md §0: the line every card carries when the diagnosis is unconfirmed
UNCONFIRMED = ["not confirmed"]
REEVALUATION = "jdm-reevaluation"
# docs/clinical/decision-model.md §5: "active JDM" only while the disease is active
ACTIVE_WORDING = "Active JDM"
SCREEN_ORDERS = ["29303009", "40701008", "23426006"]


def _seed_cards(**extra: Any) -> list[dict[str, Any]]:
    """The seed case's two cards, each with `extra` (lists merged with the card's own)."""
    cards = [
        x.ivig_start("critical", dose=x.DOSE_26_KG, evidence=["dys"]),
        x.dysphagia(),
    ]
    return [_with_extra(card, extra) for card in cards]


def _with_extra(card: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(card)
    for key, value in extra.items():
        merged[key] = [*merged.get(key, []), *value] if isinstance(value, list) else value
    return merged


def _unconfirmed(card: dict[str, Any]) -> dict[str, Any]:
    """A card of a child whose JDM is unconfirmed: the caveat, the link, the Condition."""
    return _with_extra(
        card, {"mentions": [UNCONFIRMED], "links": [REEVALUATION], "evidence": ["jdm"]}
    )


def _confirmed(card: dict[str, Any]) -> dict[str, Any]:
    return _with_extra(card, {"notMentions": UNCONFIRMED})


def _jdm_words(text: str, *, display_only: bool = False) -> Callable[[Chart], None]:
    """The JDM Condition carries no known code: `text` as its text, or as the display of a
    local code."""

    def step(c: Chart) -> None:
        if display_only:
            coding = {"system": "urn:oid:1.2.3.4.5.6", "code": "DM-J", "display": text}
            c.get("jdm")["code"] = {"coding": [coding]}
        else:
            c.get("jdm")["code"] = {"text": text}

    return step


def _verification(status: str, local: str = "jdm") -> Callable[[Chart], None]:
    def step(c: Chart) -> None:
        c.get(local)["verificationStatus"] = b.concept(b.Code(b.CONDITION_VERIFICATION, status))

    return step


def _second_jdm(status: str) -> Callable[[Chart], None]:
    """A second JDM Condition, recorded the year before, with verification `status`."""

    def step(c: Chart) -> None:
        c.problem("jdm-2", "jdm", days_ago=400, verification=status)

    return step


def _cmas(value: int) -> Callable[[Chart], None]:
    def step(c: Chart) -> None:
        c.get("cmas")["valueQuantity"]["value"] = value

    return step


def _no_screens(c: Chart) -> None:
    c.drop("ecg", "echo", "pft")


SCENARIOS = [
    # --- JDM as words, either order -------------------------------------------------------
    Scenario(
        "in-scope-jdm-free-text-reversed",
        "The diagnosis typed as 'Dermatomyositis, juvenile' (no code) is JDM, read by name: the "
        "seed cards, the Condition in the evidence as matched by name (§0).",
        steps(seed, _jdm_words("Dermatomyositis, juvenile")),
        _seed_cards(evidence=["jdm"], matchedByName=["jdm"]),
    ),
    Scenario(
        "in-scope-jdm-free-text-bracketed",
        "A local code whose display is 'dermatomyositis (juvenile)' is JDM, read by name: the "
        "seed cards (§0).",
        steps(seed, _jdm_words("dermatomyositis (juvenile)", display_only=True)),
        _seed_cards(evidence=["jdm"], matchedByName=["jdm"]),
    ),
    Scenario(
        "out-scope-jdm-free-text-refuted",
        "'Dermatomyositis, juvenile' as words, verification refuted: out of scope, no cards (§0).",
        steps(seed, _jdm_words("Dermatomyositis, juvenile"), _verification("refuted")),
        [],
        forbidden=("jdm",),
    ),
    Scenario(
        "boundary-scope-jdm-free-text-list",
        "'Dermatomyositis; juvenile idiopathic arthritis' is a list of two diagnoses, not JDM "
        "in reversed order, and 'juvenile' keeps it from counting as adult-type "
        "dermatomyositis: out of scope, no cards (§0).",
        steps(seed, _jdm_words("Dermatomyositis; juvenile idiopathic arthritis")),
        [],
        threshold=Threshold(
            "words between 'dermatomyositis' and 'juvenile'",
            "punctuation but a semicolon",
            "not JDM (a semicolon separates two diagnoses)",
            "docs/clinical/decision-model.md §0: JDM named in either word order, as one name.",
        ),
    ),
    # --- provisional or differential --------------------------------------------------------
    Scenario(
        "in-scope-provisional-jdm",
        "JDM recorded as provisional: in scope, and every card says first that the diagnosis is "
        "not confirmed, links the re-evaluation order set (MRI, biopsy) and names the Condition "
        "(§0).",
        steps(seed, _verification("provisional")),
        [_unconfirmed(card) for card in _seed_cards()],
    ),
    Scenario(
        "in-scope-differential-jdm",
        "JDM recorded as a differential diagnosis, 6 weeks of methotrexate: the first-line "
        "window card says the diagnosis is not confirmed (§0).",
        steps(lambda c: refractory(c, mtx_days=42), _verification("differential")),
        [_unconfirmed(x.first_line_window())],
    ),
    Scenario(
        "out-scope-caveat-confirmed-jdm",
        "JDM recorded as confirmed: the seed cards carry no 'not confirmed' line (§0).",
        seed,
        [_confirmed(card) for card in _seed_cards()],
    ),
    Scenario(
        "out-scope-caveat-no-verification-status",
        "JDM with no verificationStatus at all: read as today, no 'not confirmed' line (§0).",
        steps(seed, lambda c: c.get("jdm").pop("verificationStatus")),
        [_confirmed(card) for card in _seed_cards()],
    ),
    Scenario(
        "boundary-scope-caveat-provisional-and-confirmed",
        "A provisional JDM Condition beside a confirmed one from last year: one confirmed "
        "diagnosis is enough, no 'not confirmed' line (§0).",
        steps(seed, _verification("provisional"), _second_jdm("confirmed")),
        [_confirmed(card) for card in _seed_cards()],
        threshold=Threshold(
            "confirmed JDM Conditions",
            "1",
            "no caveat (one confirmed is enough)",
            "docs/clinical/decision-model.md §0: the caveat only when no JDM Condition is "
            "confirmed.",
        ),
    ),
    # --- no 'active' wording for disease that is not active ----------------------------------
    Scenario(
        "in-extramuscular-screen-inactive-disease",
        "Inactive JDM (weakness resolved, CMAS 50) and no ECG, echocardiogram or lung function "
        "test: the screen card, worded for follow-up, never 'Active JDM' (§5).",
        steps(lambda c: inactive(c, mtx_days=42), _no_screens),
        [
            x.card(
                "extramuscular-screen",
                "info",
                serviceRequests=SCREEN_ORDERS,
                mentions=[["follow-up"]],
                notMentions=[ACTIVE_WORDING],
            )
        ],
    ),
    Scenario(
        "out-extramuscular-screen-inactive-wording-active-disease",
        "Active disease (weak, CMAS 35) and no screens: the screen card still says 'Active JDM' "
        "(§5).",
        steps(lambda c: refractory(c, mtx_days=42), _no_screens),
        [
            x.first_line_window(),
            x.card(
                "extramuscular-screen",
                "info",
                serviceRequests=SCREEN_ORDERS,
                mentions=[[ACTIVE_WORDING]],
                notMentions=["follow-up"],
            ),
        ],
    ),
    Scenario(
        "boundary-extramuscular-screen-inactive-cmas-48",
        "Weakness resolved and CMAS exactly 48 (not < 48): not active, so the screen card is "
        "worded for follow-up (§2, §5).",
        steps(lambda c: inactive(c, mtx_days=42), _cmas(48), _no_screens),
        [
            x.card(
                "extramuscular-screen",
                "info",
                serviceRequests=SCREEN_ORDERS,
                mentions=[["follow-up"]],
                notMentions=[ACTIVE_WORDING],
            )
        ],
        threshold=Threshold(
            "CMAS weakness",
            "48",
            "not active (48 is not < 48): follow-up wording",
            "docs/clinical/decision-model.md §2: weakness is CMAS < 48 [PRINTO-CID].",
        ),
    ),
]
