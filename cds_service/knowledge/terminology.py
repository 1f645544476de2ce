"""Value-set membership from ``cards/valuesets/``: which concept a code or a name belongs to.

Each file is a FHIR ``ValueSet`` whose id is a concept key of :mod:`cds_service.history.model`
(``weight``, ``methotrexate``, ``dysphagia`` ...). Every code records whether it was VERIFIED
against a published source, and where; medication products (SCD/SBD) sit in their ingredient's
value set, marked as products. A value set also lists the FHIR resource types it applies to
(``useContext`` focus) and the names that may match a resource that carries no code.

>>> terminology = load_terminology(Path("cards/valuesets"))
>>> terminology.concepts_for("http://loinc.org", "29463-7")
frozenset({'weight'})
>>> terminology.match_text("agent", "Privigen 10% infusion")
frozenset({'ivig'})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cds_service.knowledge.check_digits import code_problem
from cds_service.knowledge.codings import canonical
from cds_service.knowledge.concepts import CONCEPTS_BY_KIND
from cds_service.knowledge.errors import KnowledgeError
from cds_service.knowledge.expansion import expansion_for
from cds_service.knowledge.files import field_error, read_validated

EXT = "https://jdm-cds.example.org/fhir/StructureDefinition/"
# the schema lives in the knowledge folder: <cards>/schemas/, beside <cards>/valuesets/
SCHEMA_RELATIVE_PATH = Path("schemas") / "valueset.schema.json"

MODEL_CONCEPTS = CONCEPTS_BY_KIND
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class CodeEntry:
    """One code of one value set, with its provenance."""

    concept: str
    system: str
    code: str
    display: str
    verified: bool
    source: str
    product: bool = False  # a medication product (SCD/SBD/brand), not an ingredient
    dose_form: str | None = None  # "injection" | "oral" for products
    ingredient: str | None = None  # e.g. "prednisone": for prednisolone-equivalence
    estimated: bool = False  # a measurement estimated, not measured (LOINC 8335-2)
    # the code counts for its concept only when given by this route (an IV-or-SC IG product)
    route_required: str | None = None

    @property
    def token(self) -> str:
        return f"{self.system}|{self.code}"


@dataclass(frozen=True)
class ValueSetInfo:
    concept: str
    kind: str
    title: str
    resource_types: frozenset[str]
    names: tuple[str, ...]  # normalised (see normalise_text)
    excludes: tuple[str, ...]
    codes: tuple[CodeEntry, ...]


def words_pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One regex finding any of `names` (normalised) as whole words, any punctuation between
    but a semicolon: "Dermatomyositis, juvenile" is one name, "dermatomyositis; juvenile
    arthritis" two (a list; and the separator put between a code's text and its displays).

    With no names it matches nothing.
    """
    if not names:
        return re.compile(r"(?!)")
    alternatives = "|".join(r"[^0-9a-z;]+".join(map(re.escape, n.split())) for n in names)
    return re.compile(rf"(?<![0-9a-z])(?:{alternatives})(?![0-9a-z])")


def normalise_text(text: str) -> str:
    """Lower case, every run of punctuation/space one space, padded: `` solu medrol 1 g ``."""
    return " " + _NON_ALNUM.sub(" ", text.lower()).strip() + " "


_NameMatcher = tuple[str, re.Pattern[str], re.Pattern[str]]


class Terminology:
    """Membership lookups over the loaded value sets. Immutable after construction."""

    def __init__(self, valuesets: Mapping[str, ValueSetInfo]):
        self._valuesets = dict(valuesets)
        by_token: dict[tuple[str, str], list[CodeEntry]] = {}
        for info in self._valuesets.values():
            for entry in info.codes:
                by_token.setdefault(canonical(entry.system, entry.code), []).append(entry)
        self._by_token = {key: tuple(entries) for key, entries in by_token.items()}
        self._concepts = {
            key: frozenset(e.concept for e in entries) for key, entries in self._by_token.items()
        }
        self._matchers: dict[str, tuple[_NameMatcher, ...]] = {}
        self._by_type: dict[tuple[str, str, str], frozenset[str]] = {}
        for key, concepts in self._concepts.items():
            for resource_type in {t for c in concepts for t in self._valuesets[c].resource_types}:
                self._by_type[(*key, resource_type)] = frozenset(
                    c for c in concepts if resource_type in self._valuesets[c].resource_types
                )

    # --- codes ---------------------------------------------------------------------------
    def concepts_for(self, coding_system: str | None, code: str | None) -> frozenset[str]:
        """The concepts whose value set holds ``system|code`` (empty when either is missing)."""
        if not coding_system or not code:
            return frozenset()
        return self._concepts.get(canonical(coding_system, code), frozenset())

    @property
    def code_index(self) -> Mapping[tuple[str, str, str], frozenset[str]]:
        """(system, code, resource type) -> the concepts whose value sets hold ``system|code``
        and apply to that resource type; keys are canonical (:func:`canonical`).

        A plain lookup, for loops over thousands of codings; read-only like the rest.
        """
        return self._by_type

    def has_names(self, kind: str) -> bool:
        """Whether any value set of `kind` (or for that resource type) can match by name."""
        return bool(self._name_matchers(kind))

    def code_entries(self, coding_system: str | None, code: str | None) -> tuple[CodeEntry, ...]:
        """The value-set entries for ``system|code``: provenance, product flag, dose form."""
        if not coding_system or not code:
            return ()
        return self._by_token.get(canonical(coding_system, code), ())

    def search_codes(self, resource_type: str) -> list[str]:
        """Sorted ``system|code`` tokens of every value set that applies to `resource_type`."""
        tokens = {
            entry.token
            for info in self._valuesets.values()
            if resource_type in info.resource_types
            for entry in info.codes
        }
        return sorted(tokens)

    # --- names ---------------------------------------------------------------------------
    def match_text(self, kind: str, text: str) -> frozenset[str]:
        """Concepts of `kind` whose names occur as whole words in `text` (case-insensitive).

        `kind` is a concept kind (``agent``, ``problem``, ``measurement``, ``procedure``,
        ``immunization``, ``allergy``, ``coded-result``) or a FHIR resource type. A value set's
        exclusions win: "hepatitis B immune globulin" is not IVIG.
        """
        if not text:
            return frozenset()
        lowered = text.lower()
        return frozenset(
            concept
            for concept, names, excludes in self._name_matchers(kind)
            if names.search(lowered) and not excludes.search(lowered)
        )

    def _name_matchers(self, kind: str) -> tuple[_NameMatcher, ...]:
        """(concept, names regex, exclusions regex) of the value sets with names, per kind."""
        cached = self._matchers.get(kind)
        if cached is None:
            cached = tuple(
                (info.concept, words_pattern(info.names), words_pattern(info.excludes))
                for info in self._valuesets.values()
                if info.names and (info.kind == kind or kind in info.resource_types)
            )
            self._matchers[kind] = cached
        return cached

    # --- value sets ----------------------------------------------------------------------
    def info(self, concept_id: str) -> ValueSetInfo:
        return self._valuesets[concept_id]

    def concept_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._valuesets))


# --- loading ---------------------------------------------------------------------------------


def load_terminology(valueset_dir: Path) -> Terminology:
    """Load and validate every ``*.json`` under `valueset_dir`, or give the one already loaded.

    Thousands of product codes make a full load take about a second (JSON Schema validation of
    each code entry). A Terminology is immutable, so one loaded from the same files (same names,
    sizes and modification times, schema included) is shared within the process: an app, a
    command and each test that loads the knowledge pay for it once. An edited file is read again.
    """
    key = _files_key(valueset_dir)
    cached = _LOADED.get(key)
    if cached is None:
        cached = _load_terminology(valueset_dir)
        if len(_LOADED) >= _LOADED_MOST:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = cached
    return cached


_LOADED: dict[tuple[Any, ...], Terminology] = {}
_LOADED_MOST = 8  # distinct knowledge folders kept (tests edit copies)


def _files_key(valueset_dir: Path) -> tuple[Any, ...]:
    """What identifies the files a load reads: each one's name, size and modification time."""
    if not valueset_dir.is_dir():
        return (str(valueset_dir),)  # the load reports the missing folder
    files = [*sorted(valueset_dir.glob("*.json")), valueset_dir.parent / SCHEMA_RELATIVE_PATH]
    stats = []
    for path in files:
        try:
            stat = path.stat()
        except OSError:
            return (str(valueset_dir), None)  # never cached: the load reports it
        stats.append((path.name, stat.st_size, stat.st_mtime_ns))
    return (str(valueset_dir.resolve()), *stats)


def _load_terminology(valueset_dir: Path) -> Terminology:
    """Load and validate every ``*.json`` under `valueset_dir`.

    Raises :class:`KnowledgeError` naming the file and the field on the first problem: a schema
    violation, an id that is not the file name or not a concept of the history model, a SNOMED CT
    id (or dm+d id) or LOINC code whose check digit is wrong, an expansion that disagrees with the
    compose, or a model concept without a value set.
    """
    if not valueset_dir.is_dir():
        raise KnowledgeError(f"{valueset_dir}: value-set folder not found")
    infos: dict[str, ValueSetInfo] = {}
    for path in sorted(valueset_dir.glob("*.json")):
        document = _read_json(path)
        info = _parse_valueset(path, document)
        infos[info.concept] = info
    for kind, concepts in MODEL_CONCEPTS.items():
        for concept in concepts:
            if concept not in infos:
                raise KnowledgeError(
                    f"{valueset_dir}/{concept}.json: file not found ({kind} concept)"
                )
    return Terminology(infos)


def _read_json(path: Path) -> dict[str, Any]:
    document = read_validated(path, path.parent.parent / SCHEMA_RELATIVE_PATH)
    if not isinstance(document, dict):
        raise field_error(path, "(top level)", "not an object")
    return document


def _parse_valueset(path: Path, document: dict[str, Any]) -> ValueSetInfo:
    concept = str(document["id"])
    if concept != path.stem:
        raise field_error(path, "id", f"{concept!r} is not the file name {path.stem!r}")
    extensions = document["extension"]
    kind = next(str(e["valueCode"]) for e in extensions if e["url"] == EXT + "concept-kind")
    known = MODEL_CONCEPTS[kind]
    if concept not in known:
        raise field_error(path, "id", f"{concept!r} is not a {kind} concept of the model")
    compose_codes = _compose_codes(path, concept, document)
    if document["expansion"] != expansion_for(document):
        raise field_error(
            path,
            "expansion",
            "is not the expansion of compose.include: run `jdm-cds expand-valuesets`",
        )
    types = frozenset(
        str(coding["code"])
        for context in document["useContext"]
        for coding in context["valueCodeableConcept"]["coding"]
    )
    return ValueSetInfo(
        concept=concept,
        kind=kind,
        title=str(document.get("title", concept)),
        resource_types=types,
        names=_names(extensions, "name-match"),
        excludes=_names(extensions, "name-exclude"),
        codes=compose_codes,
    )


def _names(extensions: list[dict[str, Any]], kind: str) -> tuple[str, ...]:
    return tuple(
        normalise_text(str(e["valueString"])).strip() for e in extensions if e["url"] == EXT + kind
    )


def _compose_codes(path: Path, concept: str, document: dict[str, Any]) -> tuple[CodeEntry, ...]:
    entries: list[CodeEntry] = []
    seen: set[str] = set()
    for index, include in enumerate(document["compose"]["include"]):
        for position, item in enumerate(include.get("concept", [])):
            extras = {str(e["url"]).removeprefix(EXT): e for e in item["extension"]}
            entry = CodeEntry(
                concept=concept,
                system=str(include["system"]),
                code=str(item["code"]),
                display=str(item["display"]),
                verified=extras["code-status"]["valueCode"] == "VERIFIED",
                source=str(extras["code-source"]["valueString"]),
                product=bool(extras.get("medication-product", {}).get("valueBoolean", False)),
                dose_form=extras.get("dose-form", {}).get("valueCode"),
                ingredient=extras.get("ingredient", {}).get("valueString"),
                estimated=extras.get("measurement-method", {}).get("valueCode") == "estimated",
                route_required=extras.get("route-required", {}).get("valueCode"),
            )
            problem = code_problem(entry.system, entry.code)
            if problem:  # a SNOMED CT id or LOINC code whose check digit is wrong exists nowhere
                raise field_error(
                    path,
                    f"compose.include.{index}.concept.{position}.code",
                    f"{entry.code} {problem}",
                )
            if entry.token in seen:
                raise field_error(
                    path, f"compose.include.{index}", f"code {entry.code} listed twice"
                )
            seen.add(entry.token)
            entries.append(entry)
    return tuple(entries)
