"""The mapping policy in ``cards/history.json``: pulse thresholds, weight windows, equivalences."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cds_service.knowledge.check_digits import code_problem
from cds_service.knowledge.files import field_error, read_validated
from cds_service.knowledge.sources import check_source_keys, load_sources

CARDS_DIR = Path(__file__).resolve().parent.parent.parent / "cards"


@dataclass(frozen=True)
class HistoryPolicy:
    pulse_min_mg_per_kg: Decimal
    pulse_min_mg: Decimal
    dose_weight_before: timedelta
    dose_weight_after: timedelta
    bsa_height_gap: timedelta
    ivig_course_window: timedelta
    methotrexate_interval: timedelta
    methotrexate_active_window: timedelta
    measurement_lookback: timedelta  # Observations older than this are not loaded ...
    measurement_keep_latest: int  # ... except the newest this many of each concept
    measurement_lookback_by_concept: Mapping[str, timedelta]  # longer look-backs, per concept
    # ingredient -> factor to prednisolone-equivalent mg (prednisone 1, methylprednisolone 1.25)
    glucocorticoid_factors: Mapping[str, Decimal]
    # "system|code" -> route, and normalised route text -> route
    route_codes: Mapping[str, str]
    route_names: Mapping[str, str]
    # reaction manifestations that count as anaphylaxis: "system|code" tokens and word stems
    anaphylaxis_codes: frozenset[str]
    anaphylaxis_names: tuple[str, ...]
    # measurement concept -> (lowest, highest) plausible value in its canonical unit
    plausible_ranges: Mapping[str, tuple[Decimal, Decimal]]
    # a finding recorded as an Observation counts as current this long after its date
    observed_finding_active: timedelta
    # red-flag concept -> phrases that name it in free text; words that deny a phrase before it
    free_text_phrases: Mapping[str, tuple[str, ...]]
    negations: tuple[str, ...]
    # values by which a finding Observation says the finding is absent
    absent_codes: frozenset[str]
    absent_words: frozenset[str]
    # what an unclassified record must have to be named (cards/history.json unread_screen)
    immune_globulin_words: tuple[str, ...]
    severe_criticality: frozenset[str]
    severe_reaction_severity: frozenset[str]
    not_medicine_categories: frozenset[str]
    # names that mean intravenous immune globulin without a route (normalised words)
    intravenous_ig_names: tuple[str, ...]


def load_history_policy(cards_dir: Path = CARDS_DIR) -> HistoryPolicy:
    """Read and validate ``history.json``; :class:`KnowledgeError` names the file and field."""
    path = cards_dir / "history.json"
    document = read_validated(path, cards_dir / "schemas" / "history.schema.json")
    sources = load_sources(cards_dir)
    for field, node in _sourced_nodes(document):
        check_source_keys(node["sources"], sources, path, f"{field}.sources")
    _check_codes(path, document)
    return _policy_from(document)


def _check_codes(path: Path, document: Mapping[str, Any]) -> None:
    """Route and anaphylaxis codes (``system|code``) whose SNOMED CT check digit is wrong."""
    lists = [(f"routes.{route}.codes", spec["codes"]) for route, spec in document["routes"].items()]
    lists.append(("anaphylaxis.codes", document["anaphylaxis"]["codes"]))
    for field, tokens in lists:
        for index, token in enumerate(tokens):
            system, _, code = token.partition("|")
            problem = code_problem(system, code)
            if problem:
                raise field_error(path, f"{field}.{index}", f"{code} {problem}")


def _sourced_nodes(document: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    nodes = [(f"parameters.{name}", item) for name, item in document["parameters"].items()]
    nodes += [(f"routes.{route}", spec) for route, spec in document["routes"].items()]
    for key in (
        "glucocorticoid_equivalence",
        "anaphylaxis",
        "measurement_lookback_days_by_concept",
        "measurement_plausible_ranges",
        "free_text_findings",
        "finding_values",
        "unread_screen",
        "immune_globulin_routes",
    ):
        nodes.append((key, document[key]))
    return nodes


def _policy_from(document: dict[str, Any]) -> HistoryPolicy:
    params = {name: Decimal(item["value"]) for name, item in document["parameters"].items()}

    def days(name: str) -> timedelta:
        return timedelta(days=float(params[name]))

    route_codes: dict[str, str] = {}
    route_names: dict[str, str] = {}
    for route, spec in document["routes"].items():
        route_codes.update({token: route for token in spec["codes"]})
        route_names.update({name: route for name in spec["names"]})
    factors = document["glucocorticoid_equivalence"]["factors"]
    free_text = document["free_text_findings"]
    finding_values = document["finding_values"]
    screen = document["unread_screen"]
    return HistoryPolicy(
        pulse_min_mg_per_kg=params["pulse_min_mg_per_kg"],
        pulse_min_mg=params["pulse_min_mg"],
        dose_weight_before=days("dose_weight_days_before"),
        dose_weight_after=days("dose_weight_days_after"),
        bsa_height_gap=days("bsa_height_days"),
        ivig_course_window=days("ivig_course_days"),
        methotrexate_interval=days("methotrexate_interval_days"),
        methotrexate_active_window=days("methotrexate_active_days"),
        measurement_lookback=days("measurement_lookback_days"),
        measurement_keep_latest=int(params["measurement_keep_latest"]),
        measurement_lookback_by_concept=MappingProxyType(
            {
                concept: timedelta(days=int(value))
                for concept, value in document["measurement_lookback_days_by_concept"][
                    "days"
                ].items()
            }
        ),
        glucocorticoid_factors=MappingProxyType({k: Decimal(v) for k, v in factors.items()}),
        route_codes=MappingProxyType(route_codes),
        route_names=MappingProxyType(route_names),
        anaphylaxis_codes=frozenset(document["anaphylaxis"]["codes"]),
        anaphylaxis_names=tuple(document["anaphylaxis"]["names"]),
        plausible_ranges=MappingProxyType(
            {
                concept: (Decimal(low), Decimal(high))
                for concept, (low, high) in document["measurement_plausible_ranges"][
                    "ranges"
                ].items()
            }
        ),
        observed_finding_active=days("observed_finding_active_days"),
        free_text_phrases=MappingProxyType(
            {concept: tuple(phrases) for concept, phrases in free_text["phrases"].items()}
        ),
        negations=tuple(free_text["negations"]),
        absent_codes=frozenset(finding_values["absent_codes"]),
        absent_words=frozenset(word.lower() for word in finding_values["absent_words"]),
        immune_globulin_words=tuple(screen["immune_globulin_words"]),
        severe_criticality=frozenset(screen["severe_criticality"]),
        severe_reaction_severity=frozenset(screen["severe_reaction_severity"]),
        not_medicine_categories=frozenset(screen["not_medicine_categories"]),
        intravenous_ig_names=tuple(
            name.lower() for name in document["immune_globulin_routes"]["intravenous_names"]
        ),
    )
