"""The clinical knowledge base under cards/: loaded and validated once, at startup.

Everything a rule or a card needs that a pharmacy and therapeutics committee might review lives
as data under ``cards/`` (see ``cards/README.md``): value sets, the history-reading policy, dosing,
the decision lists, thresholds, card texts, order sets and citation keys. Each file has a JSON
Schema under ``cards/schemas/``; on top of the schemas the loaders check what a schema cannot (a
source key, order-set id, concept or threshold that exists; a value the code can honour), and this
module checks the constraints between files. Any failure raises :class:`KnowledgeError` as
``<file>: field <path>: <message>``.

Example::

    knowledge = load_knowledge(Path("cards"))
    knowledge.threshold("cmas_weakness").value   # Decimal("48")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType

from cds_service.knowledge.bindings import Binder
from cds_service.knowledge.citations import citation_index
from cds_service.knowledge.decision import DecisionLists, load_decision
from cds_service.knowledge.dosing_policy import DosingPolicy, load_dosing_policy
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.files import field_error, read_json
from cds_service.knowledge.history_policy import HistoryPolicy, load_history_policy
from cds_service.knowledge.order_policy import OrderPolicy, load_order_policy
from cds_service.knowledge.order_sets import OrderSet, load_order_sets
from cds_service.knowledge.sources import Source, load_sources
from cds_service.knowledge.terminology import Terminology, load_terminology
from cds_service.knowledge.texts import SAFETY_CHECK_CODES, CardTexts, TopicText, load_card_texts
from cds_service.knowledge.thresholds import Threshold, load_thresholds

# the longest a calendar month can be, for comparing month windows with day look-backs
MONTH_DAYS = 31


@dataclass(frozen=True)
class Knowledge:
    """Everything under cards/, validated. Frozen; built once by :func:`load_knowledge`."""

    root: Path
    terminology: Terminology
    history_policy: HistoryPolicy
    dosing: DosingPolicy
    decision: DecisionLists
    order_sets: Mapping[str, OrderSet]
    sources: Mapping[str, Source]
    citations: Mapping[str, tuple[str, ...]]  # source key -> the fields citing it
    thresholds: Mapping[str, Threshold]
    texts: CardTexts
    orders: OrderPolicy  # the numbers of the order-time checks (order-checks.json)

    def threshold(self, name: str) -> Threshold:
        return self.thresholds[name]

    def topic(self, topic: str) -> TopicText:
        return self.texts.topics[topic]

    def source(self, key: str) -> Source | None:
        return self.sources.get(key)


def load_knowledge(root: Path) -> Knowledge:
    """Load and validate every file under ``root``; raise KnowledgeError on the first fault."""
    if not root.is_dir():
        raise KnowledgeError(f"{root}: knowledge folder not found")
    # the small files first: a typo in them fails in milliseconds
    sources = load_sources(root)
    decision, decision_raw = load_decision(root, SAFETY_CHECK_CODES)
    floors = [floor.threshold for floor in decision.taper_floors]
    thresholds = load_thresholds(root, sources, floors)
    dosing = load_dosing_policy(root / "dosing.json")
    history_policy = load_history_policy(root)
    terminology = load_terminology(root / "valuesets")
    order_sets = load_order_sets(root / "order-sets")
    orders = load_order_policy(root, sources)
    binder = Binder(
        thresholds,
        read_json(root / "dosing.json"),
        decision_raw,
        read_json(root / "order-checks.json"),
    )
    texts = load_card_texts(root, sources, frozenset(order_sets), binder, decision.concepts)
    knowledge = Knowledge(
        root=root,
        terminology=terminology,
        history_policy=history_policy,
        dosing=dosing,
        decision=decision,
        order_sets=MappingProxyType(dict(order_sets)),
        sources=sources,
        citations=citation_index(root, sources),
        thresholds=thresholds,
        texts=texts,
        orders=orders,
    )
    check_between_files(knowledge)
    return knowledge


def check_between_files(knowledge: Knowledge) -> None:
    """Constraints that span files: one number read by two rules must agree."""
    root, policy = knowledge.root, knowledge.history_policy
    for floor in knowledge.decision.taper_floors:
        if floor.threshold not in knowledge.thresholds:
            raise field_error(
                root / "decision.json", "taperFloors", f"no threshold {floor.threshold!r}"
            )
        if knowledge.thresholds[floor.threshold].unit != "1":
            raise field_error(
                root / "thresholds.json",
                f"thresholds.{floor.threshold}.unit",
                "a taper floor is a fraction of the start dose: unit 1",
            )
    rise_window = knowledge.threshold("creatinine_rise_window_months")
    creatinine = policy.measurement_lookback_by_concept.get(
        "creatinine", policy.measurement_lookback
    )
    if creatinine < timedelta(days=int(rise_window.value) * MONTH_DAYS):
        raise field_error(
            root / "history.json",
            "measurement_lookback_days_by_concept.days.creatinine",
            f"the creatinine look-back must cover creatinine_rise_window_months "
            f"({rise_window.value} months) of thresholds.json",
        )
    needed = {
        "monitoring_window_weeks": timedelta(
            weeks=int(knowledge.threshold("monitoring_window_weeks").value)
        ),
        "dosing.json weight.recencyDays + weight.changeWindowDays": timedelta(
            days=knowledge.dosing.weight.recency_days.as_int
            + knowledge.dosing.weight.change_window_days.as_int
        ),
    }
    for what, span in needed.items():
        if policy.measurement_lookback < span:
            raise field_error(
                root / "history.json",
                "parameters.measurement_lookback_days",
                f"the look-back must cover {what} ({span.days} days)",
            )
    red_flags = set(knowledge.decision.red_flag_problems)
    for concept in policy.free_text_phrases:
        if concept not in red_flags:
            raise field_error(
                root / "history.json",
                f"free_text_findings.phrases.{concept}",
                "free text counts only for a red-flag problem of decision.json redFlagProblems",
            )
    if policy.bsa_height_gap != timedelta(days=knowledge.dosing.weight.height_window_days.as_int):
        raise field_error(
            root / "history.json",
            "parameters.bsa_height_days",
            "must equal dosing.json weight.heightWindowDays (one rule: a height within so many "
            "days of the weight)",
        )
