"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

The compose file must validate against the Compose Specification's JSON Schema (vendored in
tests/data/, see compose-spec.SOURCE.md) and hang together: every name it refers to exists, every
CDS_* variable is a real setting with a value the service accepts, and the service is wired to the
stack's PostgreSQL and HAPI server with auth on.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from cds_service.config import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "tests/data/compose-spec.json").read_text())
CDS_REPLICAS = ("cds-1", "cds-2")


def load_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(SCHEMA)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def interpolate(value: str) -> str:
    """Compose's ``${NAME:-default}`` with nothing set in the environment: the default."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment is written as a mapping in this file"
    return {key: interpolate(str(value)) for key, value in env.items()}


def test_compose_file_validates_against_the_compose_specification() -> None:
    assert schema_errors(load_compose()) == []


def test_the_schema_check_can_fail() -> None:
    broken = load_compose()
    broken["services"]["cds-1"]["depends_on"] = 5
    broken["services"]["hapi"]["ports"] = [{"target": "not-a-port"}]
    broken["volumes"]["pgdata"] = {"unknown_key": True}
    errors = schema_errors(broken)
    assert any(e.startswith("services/cds-1/depends_on") for e in errors)
    assert any(e.startswith("volumes/pgdata") for e in errors)


def test_depends_on_and_volumes_name_things_that_exist() -> None:
    compose = load_compose()
    services = compose["services"]
    declared_volumes = set(compose.get("volumes", {}))
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
            assert dependency != name
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared_volumes, f"{name} mounts undeclared volume {source}"


def test_every_cds_variable_is_a_real_setting_with_a_valid_value() -> None:
    services = load_compose()["services"]
    for name in CDS_REPLICAS:
        env = environment(services[name])
        cds_only = {key: value for key, value in env.items() if key.startswith(ENV_PREFIX)}
        assert cds_only, f"{name} has no CDS_ settings"
        # raises SettingsError on an unknown CDS_ name or a value of the wrong type
        Settings.from_env(cds_only)


def test_replicas_share_postgres_trust_hapi_and_require_auth() -> None:
    services = load_compose()["services"]
    settings = [
        Settings.from_env(
            {k: v for k, v in environment(services[n]).items() if k.startswith(ENV_PREFIX)}
        )
        for n in CDS_REPLICAS
    ]
    database_urls = {s.database_url for s in settings}
    assert len(database_urls) == 1, "both replicas must use the same store"
    (database_url,) = database_urls
    assert database_url.startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in database_url
    for replica, service_settings in zip(CDS_REPLICAS, settings, strict=True):
        assert service_settings.auth_required, replica
        assert service_settings.auth_issuers_file.startswith("/demo-issuer/"), replica
        assert service_settings.fhir_server_allowlist == ("http://hapi:8080/fhir",), replica
        assert service_settings.fhir_http_hosts == ("hapi",), replica
        dependencies = services[replica]["depends_on"]
        assert dependencies["postgres"]["condition"] == "service_healthy"
        assert dependencies["loader"]["condition"] == "service_completed_successfully"
    # both answer behind one proxy: the URL clients call (and the JWT audience) is the proxy's
    proxy_port = services["proxy"]["ports"][0].split(":")[1]
    assert {s.public_base_url for s in settings} == {f"http://localhost:{proxy_port}"}


def test_the_proxy_is_the_only_way_in() -> None:
    services = load_compose()["services"]
    proxy = services["proxy"]
    assert (ROOT / proxy["build"] / "Dockerfile").exists()
    for replica in CDS_REPLICAS:
        assert "ports" not in services[replica], f"{replica} must be reached through the proxy"
        assert proxy["depends_on"][replica]["condition"] == "service_healthy"
    (published,) = proxy["ports"]
    host_ip, _, container_port = published.split(":")
    assert host_ip == "127.0.0.1"
    listen = (ROOT / "deploy/nginx/compose/listen.conf").read_text()
    assert re.search(rf"^listen {container_port};$", listen, re.M), listen


def test_the_proxy_passes_to_every_replica_on_its_port() -> None:
    services = load_compose()["services"]
    upstream = (ROOT / "deploy/nginx/compose/upstream.conf").read_text()
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream, re.M)
    expected = {(name, environment(services[name])["CDS_PORT"]) for name in CDS_REPLICAS}
    assert set(servers) == expected


def test_the_loader_prints_requests_for_the_proxy() -> None:
    services = load_compose()["services"]
    command = services["loader"]["command"]
    proxy_port = services["proxy"]["ports"][0].split(":")[1]
    assert command[command.index("--service-url") + 1] == f"http://localhost:{proxy_port}"


def test_hapi_is_r4_and_the_loader_posts_to_it() -> None:
    services = load_compose()["services"]
    hapi = services["hapi"]
    assert hapi["image"].startswith("hapiproject/hapi:")
    assert hapi["environment"]["hapi.fhir.fhir_version"] == "R4"
    assert hapi["environment"]["hapi.fhir.server_address"].rstrip("/") == "http://hapi:8080/fhir"
    loader = services["loader"]
    assert loader["restart"] == "no"
    command = loader["command"]
    assert command[:2] == ["jdm-cds", "demo"]
    assert command[command.index("--fhir-server") + 1] == "http://hapi:8080/fhir"
    assert "--no-serve" in command


def test_loader_command_parses_with_the_real_cli() -> None:
    cli = pytest.importorskip("cds_service.commands.cli")
    command = load_compose()["services"]["loader"]["command"]
    try:
        args = cli.build_parser().parse_args(command[1:])
    except SystemExit as exc:  # argparse exits on an unknown command or option
        pytest.fail(f"the loader's command does not parse: {command} ({exc})")
    assert args.fhir_server == "http://hapi:8080/fhir"


@pytest.mark.parametrize(
    ("dockerfile", "context"),
    [(ROOT / "Dockerfile", ROOT), (ROOT / "deploy/nginx/Dockerfile", ROOT / "deploy/nginx")],
    ids=["service", "proxy"],
)
def test_dockerfile_runs_as_a_non_root_user_with_a_healthcheck(
    dockerfile: Path, context: Path
) -> None:
    lines = [line.strip() for line in dockerfile.read_text().splitlines() if line.strip()]
    froms = [line for line in lines if line.startswith("FROM ")]
    assert froms and all("-slim" in line for line in froms)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    healthcheck = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    assert "/healthz" in " ".join(lines[healthcheck : healthcheck + 2])
    copied = {
        source
        for line in lines
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    }
    for source in copied:
        assert (context / source).exists(), f"{dockerfile.name} copies missing {source}"
