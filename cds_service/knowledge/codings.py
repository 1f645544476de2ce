"""Codes as EHRs send them, made comparable: one normalisation, used on both sides of a match.

EHRs name the same code system several ways (LOINC as ``http://loinc.org`` or as its OID
``urn:oid:2.16.840.1.113883.6.1``; SNOMED CT with a module or version URI) and write the same
code several ways (ICD-10 ``M33.02`` or ``M3302``; an NDC as ``44206-436-02`` or
``44206043602``). :func:`canonical` turns a ``(system, code)`` into the one form the value sets
are indexed by; the terminology indexes its value sets through it and the history builder looks
codes up through it, so a code matches whatever way it was written.

>>> canonical("urn:oid:2.16.840.1.113883.6.90", "m3302")
('http://hl7.org/fhir/sid/icd-10-cm', 'M33.02')
>>> canonical("http://hl7.org/fhir/sid/ndc", "44206-436-02")
('http://hl7.org/fhir/sid/ndc', '44206043602')
>>> canonical("http://snomed.info/sct/900000000000207008/version/20250101", "396230008")
('http://snomed.info/sct', '396230008')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10_WHO = "http://hl7.org/fhir/sid/icd-10"
NDC = "http://hl7.org/fhir/sid/ndc"
DMD = "https://dmd.nhs.uk"

# OIDs from HL7's terminology registry (docs/clinical/codes.md, code systems)
_OIDS = {
    "2.16.840.1.113883.6.1": LOINC,
    "2.16.840.1.113883.6.96": SNOMED,
    "2.16.840.1.113883.6.88": RXNORM,
    "2.16.840.1.113883.6.90": ICD10_CM,
    "2.16.840.1.113883.6.3": ICD10_WHO,
    "2.16.840.1.113883.6.69": NDC,
}
SYSTEM_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        **{f"urn:oid:{oid}": system for oid, system in _OIDS.items()},
        **_OIDS,
        **{f"{system}/": system for system in (LOINC, SNOMED, RXNORM, ICD10_CM, ICD10_WHO, NDC)},
        "https://loinc.org": LOINC,
        "https://snomed.info/sct": SNOMED,
        "https://www.nlm.nih.gov/research/umls/rxnorm": RXNORM,
        "https://dmd.nhs.uk/": DMD,
        "http://dmd.nhs.uk": DMD,
    }
)
_ICD10 = frozenset({ICD10_CM, ICD10_WHO})
_SNOMED_URI_PREFIX = SNOMED + "/"  # an edition or version URI: the concept id is the same
_NDC_SEGMENTS = (5, 4, 2)  # the 11-digit form, 5-4-2


def canonical(system: str, code: str) -> tuple[str, str]:
    """The form the value sets are indexed by (unknown systems pass through unchanged)."""
    system = SYSTEM_ALIASES.get(system, system)
    if system.startswith(_SNOMED_URI_PREFIX):
        system = SNOMED
    if system in _ICD10:
        code = code.strip().upper()
        if "." not in code and len(code) > 3:
            code = f"{code[:3]}.{code[3:]}"
    elif system == NDC:
        code = ndc11(code)
    return system, code


_RESHAPED_SYSTEMS = frozenset({*SYSTEM_ALIASES, *_ICD10, NDC})


def may_reshape(system: str) -> bool:
    """Whether :func:`canonical` can change a code of `system`; a lookup that missed with the
    code as sent is tried again in canonical form only then (thousands of codings a call).

    >>> may_reshape("http://loinc.org"), may_reshape("urn:oid:2.16.840.1.113883.6.1")
    (False, True)
    """
    return system in _RESHAPED_SYSTEMS or system.startswith(_SNOMED_URI_PREFIX)


def ndc11(code: str) -> str:
    """An NDC as its 11 digits: the hyphenated 10-digit forms 4-4-2, 5-3-2 and 5-4-1 are padded
    with a zero in the short segment. Ten digits without hyphens are ambiguous and pass as sent.

    >>> ndc11("0944-2700-02"), ndc11("13533-800-12"), ndc11("44206-4360-2"), ndc11("12345678901")
    ('00944270002', '13533080012', '44206436002', '12345678901')
    """
    text = code.strip()
    parts = text.split("-")
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        return text.replace("-", "") if text.replace("-", "").isdigit() else text
    return "".join(part.zfill(width) for part, width in zip(parts, _NDC_SEGMENTS, strict=True))


# LOINC 85353-1, the vital-signs panel: EHRs may file weight and height only as its components,
# which a search by code does not look into (the FHIR R4 vital-signs panel example, kept in
# fhir_fixtures/real/examples/fhir-r4/observation-example-vitals-panel.json)
VITAL_SIGNS_PANEL = f"{LOINC}|85353-1"
_OID_OF = {system: f"urn:oid:{oid}" for oid, system in _OIDS.items()}


def search_tokens(tokens: Iterable[str]) -> list[str]:
    """A search's ``system|code`` tokens as EHRs file the codes: each one, and the same code under
    its system's OID (an Epic server files LOINC as ``urn:oid:2.16.840.1.113883.6.1``, which a
    token of ``http://loinc.org`` does not find); sorted and unique.

    >>> search_tokens(["http://loinc.org|29463-7"])
    ['http://loinc.org|29463-7', 'urn:oid:2.16.840.1.113883.6.1|29463-7']
    """
    found: set[str] = set()
    for token in tokens:
        found.add(token)
        system, _, code = token.partition("|")
        if system in _OID_OF and code:
            found.add(f"{_OID_OF[system]}|{code}")
    return sorted(found)
