"""R4B validation of one resource, each repeated part of a chart validated once.

Validating with ``fhir.resources`` is the dominant cost of reading a chart (~100 µs for a
MedicationRequest), and most of it is spent on the elements inside a resource: every resource
names the same patient, a vital-sign category or a drug's code recurs hundreds of times, an
order's dosage and timing come again with each renewal. So each complex element (a Reference, a
CodeableConcept, a Dosage ...) is validated by the library on its own, as the type its field
declares, and kept by its exact JSON text; the resource is then validated by the library with
those models in place of the JSON, which runs every check of the resource itself (required and
choice elements, unknown keys, nulls in lists). An element that does not validate is left as
JSON, and a resource that does not validate is validated again from its original JSON, so a
refusal and its note are the library's own, word for word.

Whole resources are kept too (:data:`VALIDATED`): an EHR calls patient-view each time a chart is
opened and the same resources come again. Models are shared and only ever read.
"""

from __future__ import annotations

import json
import threading
import types
import typing
from collections import OrderedDict
from collections.abc import Mapping
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import ValidationError

from cds_service.history.model import DataQualityNote
from cds_service.history.select import note


class ModelCache:
    """Validated models by a key holding the exact JSON text, least recently used out."""

    def __init__(self, size: int):
        self._size = size
        self._models: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            model = self._models.get(key)
            if model is not None:
                self._models.move_to_end(key)
            return model

    def put(self, key: Any, model: Any) -> None:
        with self._lock:
            self._models[key] = model
            if len(self._models) > self._size:
                self._models.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._models.clear()

    def __len__(self) -> int:
        return len(self._models)


VALIDATED = ModelCache(4096)  # whole resources: ~3 charts' worth of used ones, tens of MB at most
ELEMENTS = ModelCache(8192)  # elements: most are a few hundred bytes as models


def validate_resource(resource: Mapping[str, Any], notes: list[DataQualityNote]) -> Any:
    """The resource's R4B model, or None with an ``unparseable`` note when it is not valid FHIR."""
    resource_type = str(resource["resourceType"])
    key = _json_key(resource)
    model = VALIDATED.get(key) if key is not None else None
    if model is not None:
        return model
    try:
        model_class = _model_class(resource_type)
    except (KeyError, ValueError):
        notes.append(note(resource_type, resource.get("id"), "not a FHIR R4 type", "unparseable"))
        return None
    model = _validated_with_elements(model_class, resource)
    if model is None:
        try:
            model = model_class.model_validate(resource)
        except ValidationError as exc:
            model = _r4_absent_choice(model_class, resource, notes)
            if model is None:
                notes.append(note(resource_type, resource.get("id"), refusal(exc), "unparseable"))
            return model  # a repaired model is not kept: its note must come again
        except (TypeError, ValueError, RecursionError):
            reason = "could not be read (not valid FHIR)"
            notes.append(note(resource_type, resource.get("id"), reason, "unparseable"))
            return None
    if key is not None:
        VALIDATED.put(key, model)
    return model


# A required choice element (MedicationAdministration.effective[x], Immunization.occurrence[x])
# sent, as R4 allows, as a primitive holding only extensions - typically a data-absent-reason:
# ``"_effectiveDateTime": {"extension": [...]}``. R4B's models demand a value there. The resource
# is read with a stand-in value that is then taken out again, so the model says "no date".
_STAND_INS = {"DateTime": "1900-01-01", "String": "-"}
DATA_ABSENT_REASON = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def _r4_absent_choice(
    model_class: Any, resource: Mapping[str, Any], notes: list[DataQualityNote]
) -> Any:
    """The model of an R4 resource whose required choice primitive has only extensions, or None."""
    absent = {
        name: _STAND_INS[suffix]
        for key in resource
        if key.startswith("_")
        and (name := key[1:]) not in resource
        and (suffix := next((s for s in _STAND_INS if name.endswith(s)), None)) is not None
    }
    if not absent:
        return None
    try:
        model = model_class.model_validate({**resource, **absent})
    except (ValidationError, TypeError, ValueError, RecursionError):
        return None
    for name in absent:
        model.__dict__[name] = None  # past the assignment check, which would refuse it again
        reason = f"its date is not recorded ({_absent_reason(resource['_' + name])})"
        notes.append(note(str(resource["resourceType"]), resource.get("id"), reason, "no-date"))
    return model


def _absent_reason(primitive: Any) -> str:
    """The data-absent-reason code of a primitive's extensions, else "no value"."""
    extensions = primitive.get("extension") if isinstance(primitive, Mapping) else None
    for extension in extensions if isinstance(extensions, list) else []:
        if isinstance(extension, Mapping) and extension.get("url") == DATA_ABSENT_REASON:
            code = extension.get("valueCode")
            if isinstance(code, str):
                return f"reason: {code}"
    return "no value"


def refusal(error: ValidationError) -> str:
    """The note's reason: the first error's location and kind only.

    Its message is left out: it can quote the (PHI-bearing) value.
    """
    first = error.errors(include_input=False, include_url=False)[0]
    where = ".".join(str(part) for part in first["loc"])
    return (
        f"could not be read (not valid FHIR at {where})"
        if where
        else "could not be read (not valid FHIR)"
    )


def _validated_with_elements(model_class: Any, raw: Mapping[str, Any]) -> Any:
    """`raw` validated as `model_class` with its elements' models in place; None if it fails."""
    try:
        # the constructor is model_validate's own path for these models, less a second run of
        # the model's after-validators
        return model_class(**_with_element_models(model_class, raw))
    except (ValidationError, TypeError, ValueError, RecursionError):
        return None  # the caller validates the original JSON: the refusal is the library's


def _with_element_models(model_class: Any, raw: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy of `raw`, each complex element that validates replaced by its model."""
    fields = element_fields(model_class)
    swapped = dict(raw)
    for name, value in raw.items():
        element_class = fields.get(name)
        if element_class is None:
            continue
        if type(value) is dict:
            swapped[name] = _element_model(element_class, value)
        elif type(value) is list:
            swapped[name] = [
                _element_model(element_class, item) if type(item) is dict else item
                for item in value
            ]
    return swapped


def _element_model(element_class: Any, raw: dict[str, Any]) -> Any:
    """The element's model (from :data:`ELEMENTS` when seen before), or `raw` if it fails."""
    text = _json_key(raw)
    if text is None:
        return raw
    key = (element_class, text)
    model = ELEMENTS.get(key)
    if model is None:
        model = _validated_with_elements(element_class, raw)
        if model is None:
            return raw  # left for the resource's validation to refuse, with its location
        ELEMENTS.put(key, model)
    return model


@cache
def _model_class(resource_type: str) -> Any:
    """The R4B model class (the library imports it by name on every lookup)."""
    return get_fhir_model_class(resource_type)


@cache
def element_fields(model_class: Any) -> Mapping[str, Any]:
    """JSON name -> model class of each field of `model_class` holding a complex element.

    Fields typed as "any resource" (``contained``, ``Bundle.entry.resource``) are left out:
    their model class depends on the value.
    """
    fields: dict[str, Any] = {}
    for name, info in model_class.model_fields.items():
        element_type = _element_type(info.annotation)
        if element_type is not None:
            fields[info.alias or name] = element_type.get_model_klass()
    return types.MappingProxyType(fields)


def _element_type(annotation: Any) -> Any:
    """The fhir_core element type inside ``X | None`` or ``Optional[List[X]]``, else None."""
    if isinstance(annotation, type):
        is_element = issubclass(annotation, FhirBase) and not issubclass(
            annotation, FhirElementOrResourceBase
        )
        return annotation if is_element else None
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list):
        found = [_element_type(arg) for arg in typing.get_args(annotation) if arg is not None]
        found = [arg for arg in found if arg is not None]
        return found[0] if len(found) == 1 else None
    return None


# one encoder for every key: json.dumps with options builds a new one per call
_KEY_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)


def _json_key(raw: Mapping[str, Any]) -> str | None:
    """The exact JSON text (key order kept: the same text parses to the same order)."""
    try:
        return _KEY_ENCODER.encode(raw)
    except (TypeError, ValueError, RecursionError):
        return None  # not plain JSON: validated (and most likely refused) without caching
