"""Synthetic FHIR data for the tests, the scenarios and the bench (never a real patient).

- :mod:`fhir_fixtures.builders`: the one set of FHIR R4 resource builders and the codes they use;
- :mod:`fhir_fixtures.clocks`: the frozen clocks every fixture and test is dated against;
- ``patients/`` (:mod:`fhir_fixtures.build_patients`) and ``scenarios/``
  (:mod:`fhir_fixtures.scenarios.build_scenarios`): the generated fixtures, with the scripts that
  write them; :mod:`fhir_fixtures.record_mix`: a large vitals-heavy chart made on the fly.

Run the scripts as modules from the repository root, e.g.
``.venv/bin/python -m fhir_fixtures.build_patients``.
"""
