"""Shift every FHIR date, dateTime, instant and Period in FHIR JSON by a fixed delta.

Used to make the synthetic patients "recent" for demos and the README: a record built for a
frozen clock becomes the same record relative to today. Precision and offsets are kept: a date
stays a date (shifted by whole days), a year-month stays a year-month, a dateTime keeps its
offset. Values are recognised by shape, not by element name, so extensions are shifted too;
strings that merely look like dates inside free text are left alone (the whole string must be a
FHIR date/time).

>>> shift_resources({"birthDate": "2017-01-20"}, timedelta(days=10))
{'birthDate': '2017-01-30'}
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$")
# elements whose values are never times even when they look like one (ids, codes, versions)
_SKIP_KEYS = frozenset({"id", "versionId", "code", "value", "reference", "system", "url"})


def shift_resources(raw_json: Any, delta: timedelta) -> Any:
    """A deep copy of `raw_json` with every FHIR time value moved by `delta`."""
    if isinstance(raw_json, dict):
        return {
            key: value
            if key in _SKIP_KEYS and isinstance(value, str)
            else shift_resources(value, delta)
            for key, value in raw_json.items()
        }
    if isinstance(raw_json, list):
        return [shift_resources(item, delta) for item in raw_json]
    if isinstance(raw_json, str):
        return shift_value(raw_json, delta)
    return raw_json


def shift_value(text: str, delta: timedelta) -> str:
    """One FHIR time string moved by `delta`; any other string unchanged."""
    match = _DATETIME.match(text)
    if match:
        seconds, fraction, zone = match.groups()
        whole = text[: match.start(2)] + text[match.end(2) :] if fraction else text
        shifted = datetime.fromisoformat(whole.replace("Z", "+00:00")) + delta
        out = shifted.strftime("%Y-%m-%dT%H:%M")
        if seconds:
            out += shifted.strftime(":%S") + (fraction or "")
        if zone == "Z":
            return out + "Z"
        offset = shifted.strftime("%z")
        return f"{out}{offset[:3]}:{offset[3:]}"
    if _DATE.match(text):
        return (date.fromisoformat(text) + timedelta(days=delta.days)).isoformat()
    if _YEAR_MONTH.match(text):
        year, month = (int(part) for part in text.split("-"))
        shifted_day = date(year, month, 15) + timedelta(days=delta.days)
        return f"{shifted_day.year:04d}-{shifted_day.month:02d}"
    return text
