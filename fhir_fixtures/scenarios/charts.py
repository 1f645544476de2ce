"""A chart: one scenario's patient record, built up from readable clinical steps.

Resource ids are unique per scenario (a short hash of the scenario name + a local name such as
``w-now``), so every scenario can be loaded into the same FHIR server for the fetch path without
one scenario's resources leaking into another's search results.

The two bases every scenario starts from:

* :func:`seed` — the product's seed case: a 9-year-old girl (26 kg, 130 cm) with JDM, persistent
  proximal weakness and dysphagia after 3 IV methylprednisolone pulses, 4 weekly methotrexate
  doses and prednisolone tapering from 2 mg/kg/day; weight measured 5 days ago.
* :func:`refractory` — the same girl without dysphagia, on methotrexate for ``mtx_days`` days,
  with prednisolone tapering on (or above) the reference schedule. With ``mtx_days >= 84`` she
  meets "inadequate response after an adequate trial"; below it she is in the first-line window.

Both include what keeps unrelated cards quiet (docs/clinical/decision-model.md,
docs/clinical/safety.md): serum IgA and an
ABO group O result (no IgA/haemolysis notes), a normal creatinine/eGFR, and an ECG, an
echocardiogram and a PFT 33 days ago (no extramuscular screen).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from fhir_fixtures.scenarios import fhir_builders as fb
from fhir_fixtures.scenarios.fhir_builders import Json, at


@dataclass
class Chart:
    scenario: str
    resources: list[Json] = field(default_factory=list)
    # local names of resources a FHIR server would reject (malformed): prefetch only
    prefetch_only: set[str] = field(default_factory=set)
    # other versions of resources already in the chart (same id): sent in the prefetch only,
    # since a FHIR server keeps one current version of a resource
    prefetch_versions: list[Json] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return hashlib.sha1(self.scenario.encode()).hexdigest()[:8]  # noqa: S324 - ids, not security

    def id(self, local: str) -> str:
        return f"{self.tag}-{local}"

    @property
    def pid(self) -> str:
        return self.id("pat")

    def ref(self, resource_type: str, local: str) -> str:
        return f"{resource_type}/{self.id(local)}"

    def add(self, *resources: Json) -> Chart:
        self.resources.extend(resources)
        return self

    def drop(self, *locals_: str) -> Chart:
        ids = {self.id(name) for name in locals_}
        missing = ids - {r.get("id") for r in self.resources}
        if missing:
            raise KeyError(f"{self.scenario}: no resource {sorted(missing)} to drop")
        self.resources = [r for r in self.resources if r.get("id") not in ids]
        return self

    def drop_type(self, resource_type: str, prefix: str) -> Chart:
        """Drop every resource of a type whose local name starts with `prefix`."""
        start = self.id(prefix)
        self.resources = [
            r
            for r in self.resources
            if not (r["resourceType"] == resource_type and str(r.get("id", "")).startswith(start))
        ]
        return self

    def get(self, local: str) -> Json:
        for resource in self.resources:
            if resource.get("id") == self.id(local):
                return resource
        raise KeyError(f"{self.scenario}: no resource {local}")

    # --- clinical steps ------------------------------------------------------------------

    def patient(self, *, birth: date = date(2016, 11, 20), sex: str = "female") -> Chart:
        return self.add(fb.patient(self.pid, birth=birth, sex=sex))

    def problem(self, local: str, kind: str, *, days_ago: float, **kwargs: str) -> Chart:
        return self.add(
            fb.condition(self.id(local), self.pid, kind, onset=at(days_ago=days_ago), **kwargs)
        )

    def weight(self, local: str, kg: float | str, *, days_ago: float, **kwargs: object) -> Chart:
        return self.add(
            fb.observation(
                self.id(local), self.pid, "weight", kg, when=at(days_ago=days_ago), **kwargs
            )  # type: ignore[arg-type]
        )

    def lab(
        self, local: str, kind: str, value: float | int, *, days_ago: float, **kwargs: object
    ) -> Chart:
        return self.add(
            fb.observation(
                self.id(local), self.pid, kind, value, when=at(days_ago=days_ago), **kwargs
            )  # type: ignore[arg-type]
        )

    def pulses(self, *, first_days_ago: int, mg: int = 780) -> Chart:
        """Three daily IV methylprednisolone pulses (30 mg/kg at 26 kg = 780 mg)."""
        for n in range(3):
            self.add(
                fb.mp_pulse(
                    self.id(f"mp-{n + 1}"), self.pid, mg, when=at(days_ago=first_days_ago - n)
                )
            )
        return self

    def methotrexate(self, *, first_days_ago: int, mg: int = 15, doses: int | None = None) -> Chart:
        """Weekly SC methotrexate from `first_days_ago` (every 7 days, none today) + its order."""
        given = [d for d in range(first_days_ago, 0, -7)]
        if doses is not None:
            given = given[:doses]
        for n, days_ago in enumerate(given, start=1):
            self.add(fb.mtx_admin(self.id(f"mtx-{n}"), self.pid, mg, when=at(days_ago=days_ago)))
        return self.add(
            fb.mtx_order(self.id("mtx-order"), self.pid, mg, start=at(days_ago=first_days_ago))
        )

    def prednisolone(self, steps: list[tuple[int, float]]) -> Chart:
        """Oral prednisolone orders: (days_ago the dose started, mg/day); the last one is active."""
        for n, (start, mg) in enumerate(steps, start=1):
            end = at(days_ago=steps[n][0]) if n < len(steps) else None
            self.add(
                fb.pred_order(self.id(f"pred-{n}"), self.pid, mg, start=at(days_ago=start), end=end)
            )
        return self

    def ivig_course(
        self, local: str, *, last_days_ago: int, grams_per_day: float, days: int = 2
    ) -> Chart:
        """One IVIG course: `days` daily infusions ending `last_days_ago` days ago."""
        for n in range(days):
            when = at(days_ago=last_days_ago + days - 1 - n)
            self.add(
                fb.ivig_admin(self.id(f"{local}-d{n + 1}"), self.pid, grams_per_day, when=when)
            )
        return self

    def screens(self, *, days_ago: float, kinds: tuple[str, ...] = ("ecg", "echo", "pft")) -> Chart:
        for kind in kinds:
            self.add(fb.procedure(self.id(kind), self.pid, kind, when=at(days_ago=days_ago)))
        return self

    def baseline_labs(
        self,
        *,
        days_ago: float = 5,
        iga: bool = True,
        abo: str | None = "O",
        egfr: float | None = 120,
    ) -> Chart:
        """IgA, ABO group, creatinine and eGFR: normal values unless told otherwise."""
        if iga:
            self.lab("iga", "iga", 110, days_ago=days_ago, low=40, high=250)
        if abo is not None:
            self.add(fb.abo_group(self.id("abo"), self.pid, abo, when=at(days_ago=35)))
        self.lab("creat", "creatinine", 38, days_ago=days_ago, low=27, high=62)
        if egfr is not None:
            self.lab("egfr", "egfr", egfr, days_ago=days_ago)
        return self

    def disease_activity(self, *, days_ago: float, ck: int = 850, cmas: int | None = 35) -> Chart:
        """Markers of activity: CK, ESR, CRP and (optionally) a CMAS score."""
        self.lab("ck", "ck", ck, days_ago=days_ago, low=25, high=200)
        self.lab("esr", "esr", 28, days_ago=days_ago, low=0, high=20)
        self.lab("crp", "crp", 6, days_ago=days_ago, low=0, high=5)
        if cmas is not None:
            self.lab("cmas", "cmas", cmas, days_ago=days_ago)
        return self


def taper_steps(start_days_ago: int) -> list[tuple[int, float]]:
    """Prednisolone 2 mg/kg/day (52 mg at 26 kg), 40 mg after a month, 30 mg after two.

    Always at or above the reference schedule (docs/clinical/decision-model.md §1: about 50 % at 2
    months, 25 %
    at 4, 12.5 % at 6) and never more than half within 4 weeks: no steroid-taper card.
    """
    steps: list[tuple[int, float]] = [(start_days_ago, 52)]
    if start_days_ago > 30:
        steps.append((start_days_ago - 30, 40))
    if start_days_ago > 60:
        steps.append((start_days_ago - 60, 30))
    return steps


def seed(chart: Chart) -> Chart:
    """The seed case (see the module doc string)."""
    return (
        chart.patient()
        .problem("jdm", "jdm", days_ago=40)
        .problem("weak", "weakness", days_ago=40)
        .problem("dys", "dysphagia", days_ago=24)
        .pulses(first_days_ago=34)
        .prednisolone([(31, 52), (3, 40)])
        .methotrexate(first_days_ago=24, doses=4)
        .weight("w-old", 25.8, days_ago=35)
        .weight("w-now", 26, days_ago=5)
        .lab("height", "height", 130, days_ago=35)
        .disease_activity(days_ago=5, cmas=28)
        .baseline_labs()
        .screens(days_ago=33)
    )


def refractory(
    chart: Chart, *, mtx_days: int = 98, labs_days_ago: float = 5, cmas: int | None = 35
) -> Chart:
    """Persistent proximal weakness, no red flag, methotrexate for `mtx_days` days."""
    return (
        chart.patient()
        .problem("jdm", "jdm", days_ago=mtx_days + 14)
        .problem("weak", "weakness", days_ago=mtx_days + 12)
        .pulses(first_days_ago=mtx_days + 10)
        .prednisolone(taper_steps(mtx_days + 7))
        .methotrexate(first_days_ago=mtx_days)
        .weight("w-now", 26, days_ago=5)
        .lab("height", "height", 130, days_ago=35)
        .disease_activity(days_ago=labs_days_ago, cmas=cmas)
        .baseline_labs()
        .screens(days_ago=33)
    )


def inactive(chart: Chart, *, mtx_days: int = 140) -> Chart:
    """JDM responding to first-line therapy: weakness resolved, CMAS 50, CK normal."""
    refractory(chart, mtx_days=mtx_days, cmas=50)
    weak = chart.get("weak")
    weak["clinicalStatus"]["coding"][0]["code"] = "resolved"
    weak["abatementDateTime"] = at(days_ago=30)
    chart.get("ck")["valueQuantity"]["value"] = 110
    chart.get("esr")["valueQuantity"]["value"] = 8
    chart.get("crp")["valueQuantity"]["value"] = 2
    return chart
