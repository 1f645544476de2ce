"""README settings table, the two commands, gunicorn config, `jdm-cds serve` and `.ci/run`."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cds_service.commands.serve import server_environment
from cds_service.commands.settings import markdown_table
from cds_service.config import settings_table

REPO_ROOT = Path(__file__).resolve().parent.parent
README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_settings_table_matches_config() -> None:
    match = re.search(
        r"<!-- settings-table:start -->\n(.*?)<!-- settings-table:end -->", README, re.S
    )
    assert match, "README lost its settings-table markers"
    assert match.group(1) == markdown_table(), "README settings table is stale: jdm-cds settings"
    for name, _default, _doc in settings_table():
        assert f"`{name}`" in match.group(1)


def test_readme_first_screen_holds_the_two_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:25])
    assert "make run" in first_screen and "make test" in first_screen
    assert "http://127.0.0.1:8080/cds-services" in first_screen
    assert "https://jdm-cds.example.org/fhir/CodeSystem/card-topic" in README


def _gunicorn_conf(env: dict[str, str]) -> dict[str, object]:
    """The config gunicorn would read, loaded in a child process: importing it here would set
    PROMETHEUS_MULTIPROC_DIR in the test process and switch every later test's metrics."""
    code = (
        "import json, cds_service.serving.gunicorn_conf as c; "
        "print(json.dumps({'bind': c.bind, 'workers': c.workers, 'threads': c.threads, "
        "'ctl': c.control_socket_disable, 'w8': c.default_workers(8), 'w1': c.default_workers(1)}))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDS_")}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    loaded: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_gunicorn_config_follows_the_settings() -> None:
    conf = _gunicorn_conf({"CDS_HOST": "::1", "CDS_PORT": "8123", "CDS_WORKERS": "2"})
    assert conf["bind"] == ["[::1]:8123"]
    assert conf["workers"] == 2
    assert conf["threads"] == 4
    assert conf["ctl"] is True
    assert (conf["w1"], conf["w8"]) == (3, 5)  # 2 x cores + 1, at most 5
    assert _gunicorn_conf({})["bind"] == ["127.0.0.1:8080"]


def test_serve_turns_auth_on_unless_told_otherwise() -> None:
    args = argparse.Namespace(host=None, port=9000, workers=None)
    assert server_environment(args, {})["CDS_AUTH_REQUIRED"] == "true"
    assert server_environment(args, {})["CDS_PORT"] == "9000"
    explicit = server_environment(args, {"CDS_AUTH_REQUIRED": "false"})
    assert explicit["CDS_AUTH_REQUIRED"] == "false"


def _fake_make(tmp_path: Path, junit_tests: int | None, exit_code: int) -> dict[str, str]:
    """A `make` on PATH that writes a JUnit report with `junit_tests` tests and exits."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    report = ""
    if junit_tests is not None:
        report = (
            "mkdir -p build && printf '<testsuites><testsuite tests=\"%d\"/></testsuites>' "
            f"{junit_tests} > build/pytest-junit.xml\n"
        )
    script = bin_dir / "make"
    script.write_text(f"#!/usr/bin/env bash\n{report}exit {exit_code}\n", encoding="utf-8")
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


@pytest.mark.parametrize(
    ("junit_tests", "make_exit", "expected"),
    [(0, 2, 5), (0, 0, 5), (12, 0, 0), (12, 2, 2), (None, 0, 1), (None, 2, 2)],
)
def test_ci_run_fails_when_no_test_ran(
    tmp_path: Path, junit_tests: int | None, make_exit: int, expected: int
) -> None:
    # a copy of the script in a scratch repo root, so the real build/ is never touched
    ci_dir = tmp_path / "repo" / ".ci"
    ci_dir.mkdir(parents=True)
    (ci_dir / "run").write_text((REPO_ROOT / ".ci" / "run").read_text(), encoding="utf-8")
    env = _fake_make(tmp_path, junit_tests, make_exit)
    result = subprocess.run(
        ["bash", str(ci_dir / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == expected, result.stderr
