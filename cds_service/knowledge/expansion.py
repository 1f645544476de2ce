"""A value set's ``expansion`` is generated from its ``compose``, never kept by hand.

``compose.include`` is what an editor writes (the codes with their status and source);
``expansion`` is the same list flattened, as FHIR terminology clients read it. The loader refuses
a value set whose expansion is not exactly :func:`expansion_for` of its compose; ``jdm-cds
expand-valuesets`` rewrites them (``--check`` only reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def expansion_for(document: Mapping[str, Any]) -> dict[str, Any]:
    """The expansion of a value set's compose, dated by the value set's ``date``."""
    contains = [
        {
            "system": include["system"],
            "code": concept["code"],
            "display": concept["display"],
            "extension": concept["extension"],
        }
        for include in document["compose"]["include"]
        for concept in include.get("concept", [])
    ]
    return {
        "identifier": f"urn:jdm-cds:expansion:{document['id']}:{document['date']}",
        "timestamp": f"{document['date']}T00:00:00Z",
        "total": len(contains),
        "contains": contains,
    }
