"""Concept keys: what a fact is about, as ``Literal`` types so a typo is a type error.

Each key is the id of a ValueSet under ``cards/valuesets/`` (the terminology loader refuses a
folder that lacks one) and is grouped by kind: problems (Conditions), measurements (numeric
Observations, with their canonical unit), coded results, agents (medications), procedures,
immunizations and allergies. ``mypy --strict`` checks every literal written in the rules against
these lists, so ``history.active_problems("dysphagai")`` fails the type check instead of silently
matching nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, cast, get_args

ProblemConcept = Literal[
    "jdm",  # juvenile dermatomyositis
    "dermatomyositis",  # dermatomyositis, not specified as juvenile (in scope if onset < 18 y)
    "polymyositis",  # recorded for exclusion/information only
    "muscle-weakness",  # proximal / girdle / generalised muscle weakness
    "dysphagia",
    "dysphonia",
    "aspiration",  # aspiration, aspiration pneumonia
    "ild",  # interstitial lung disease
    "calcinosis",
    "skin-ulceration",
    "gi-vasculopathy",
    "myocarditis",
    "iga-deficiency",
    "renal-impairment",
    "thrombosis",  # venous/arterial thrombosis, current or history of
    "thrombophilia",
    "central-venous-catheter",
    "immobility",
    "heart-failure",
    "migraine",
    "pregnancy",
]
PROBLEM_CONCEPTS: tuple[ProblemConcept, ...] = get_args(ProblemConcept)

MeasurementConcept = Literal[
    "weight",  # canonical unit kg
    "height",  # canonical unit cm
    "ck",  # U/L
    "aldolase",  # U/L
    "ldh",  # U/L
    "ast",  # U/L
    "alt",  # U/L
    "esr",  # mm/h
    "crp",  # mg/L
    "iga",  # mg/dL
    "creatinine",  # umol/L
    "egfr",  # mL/min/{1.73_m2}
    "hemoglobin",  # g/dL
    "platelets",  # 10*9/L
    "cmas",  # score 0-52
    "mmt8",  # score 0-80
]
MEASUREMENT_CONCEPTS: tuple[MeasurementConcept, ...] = get_args(MeasurementConcept)

AgentConcept = Literal[
    "methylprednisolone-iv",  # IV methylprednisolone (pulses)
    "glucocorticoid-oral",  # oral prednisolone / prednisone (prednisolone-equivalent mg)
    "methotrexate",
    "ivig",
    "immune-globulin-other",  # SC / IM immune globulin, hyperimmune globulins, ATG: named, not IVIG
    "rituximab",
    "cyclosporine",
    "cyclophosphamide",
    "mycophenolate",
    "tacrolimus",
    "hydroxychloroquine",
    "jak-inhibitor",
    "estrogen",  # estrogen-containing therapy (thrombosis risk)
]
AGENTS: tuple[AgentConcept, ...] = get_args(AgentConcept)

ProcedureConcept = Literal[
    "ecg",
    "echocardiogram",
    "pft",  # pulmonary function test
    "vfss",  # videofluoroscopic swallow study
    "slt-referral",  # speech and language therapy
    "mri-thigh",
    "central-venous-catheter",  # catheter insertion (thrombosis risk)
]
PROCEDURE_CONCEPTS: tuple[ProcedureConcept, ...] = get_args(ProcedureConcept)

ImmunizationConcept = Literal["live-vaccine",]
IMMUNIZATION_CONCEPTS: tuple[ImmunizationConcept, ...] = get_args(ImmunizationConcept)

AllergyConcept = Literal["immune-globulin",]
ALLERGY_CONCEPTS: tuple[AllergyConcept, ...] = get_args(AllergyConcept)

CodedResultConcept = Literal[
    "blood-group",
    "pregnancy-test",  # qualitative hCG: value "positive" or "negative"
    "anti-iga",  # anti-IgA antibodies: value "positive" or "negative"
    "anti-mda5",  # anti-MDA5 antibodies: value "positive" or "negative"
]
CODED_RESULT_CONCEPTS: tuple[CodedResultConcept, ...] = get_args(CodedResultConcept)

ConceptKey = Literal[
    ProblemConcept,
    MeasurementConcept,
    AgentConcept,
    ProcedureConcept,
    ImmunizationConcept,
    AllergyConcept,
    CodedResultConcept,
]

# kind (the value sets' concept-kind extension) -> the concept keys of that kind
CONCEPTS_BY_KIND: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "problem": PROBLEM_CONCEPTS,
        "measurement": MEASUREMENT_CONCEPTS,
        "coded-result": CODED_RESULT_CONCEPTS,
        "agent": AGENTS,
        "procedure": PROCEDURE_CONCEPTS,
        "immunization": IMMUNIZATION_CONCEPTS,
        "allergy": ALLERGY_CONCEPTS,
    }
)

CANONICAL_UNITS: Mapping[MeasurementConcept, str] = MappingProxyType(
    {
        "weight": "kg",
        "height": "cm",
        "ck": "U/L",
        "aldolase": "U/L",
        "ldh": "U/L",
        "ast": "U/L",
        "alt": "U/L",
        "esr": "mm/h",
        "crp": "mg/L",
        "iga": "mg/dL",
        "creatinine": "umol/L",
        "egfr": "mL/min/{1.73_m2}",
        "hemoglobin": "g/dL",
        "platelets": "10*9/L",
        "cmas": "{score}",
        "mmt8": "{score}",
    }
)


def problem_concept(key: str) -> ProblemConcept:
    """`key` as a problem concept; ValueError when it is none (a value set of another kind)."""
    if key in PROBLEM_CONCEPTS:
        return key
    raise ValueError(f"{key!r} is not a problem concept")


def measurement_concept(key: str) -> MeasurementConcept:
    if key in MEASUREMENT_CONCEPTS:
        return key
    raise ValueError(f"{key!r} is not a measurement concept")


def agent_concept(key: str) -> AgentConcept:
    if key in AGENTS:
        return key
    raise ValueError(f"{key!r} is not an agent concept")


def concept_key(key: str) -> ConceptKey:
    if not any(key in keys for keys in CONCEPTS_BY_KIND.values()):
        raise ValueError(f"{key!r} is not a concept key")
    return cast(ConceptKey, key)


def immunization_concept(key: str) -> ImmunizationConcept:
    if key in IMMUNIZATION_CONCEPTS:
        return key
    raise ValueError(f"{key!r} is not an immunization concept")


def allergy_concept(key: str) -> AllergyConcept:
    if key in ALLERGY_CONCEPTS:
        return key
    raise ValueError(f"{key!r} is not an allergy concept")


def concept_kind(key: str) -> str | None:
    """The first kind ``key`` belongs to (``problem``, ``measurement`` ...), or None."""
    return next((kind for kind, keys in CONCEPTS_BY_KIND.items() if key in keys), None)


def procedure_concept(key: str) -> ProcedureConcept:
    if key in PROCEDURE_CONCEPTS:
        return key
    raise ValueError(f"{key!r} is not a procedure concept")
