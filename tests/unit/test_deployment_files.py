"""docker-compose.yml, the Procfile and the settings table must tell the same story."""

import re
import subprocess

import yaml

from shared.config import SECRETS, SETTINGS, Settings
from tests.helpers import ROOT, procfile

APP_SERVICES = ("ingest", "publish", "enrich", "publish-worker", "scheduler")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_procfile_has_exactly_the_contract_processes():
    assert set(procfile()) == set(APP_SERVICES)
    assert "services.ingest.app:create_app()" in procfile()["ingest"]
    assert "services.publish.app:create_app()" in procfile()["publish"]
    assert "--queues enrich " in procfile()["enrich"]
    assert "--queues publish,deliver " in procfile()["publish-worker"]
    assert "--beat" in procfile()["scheduler"]


def test_every_app_service_runs_its_procfile_command_from_one_image():
    services = compose()["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"newsflow:latest"}
    for name in APP_SERVICES:
        command = services[name]["command"]
        # compose unescapes $$ to $, then `sh -c` runs exactly the Procfile line
        assert command[:2] == ["sh", "-c"] and command[2].replace("$$", "$") == procfile()[name], name


# The secrets each app service is given, as files: only what it uses.
SECRET_FILES = {
    "ingest": {"REDIS_PASSWORD", "BROKER_URL", "INGEST_API_KEYS"},
    "publish": {"REDIS_PASSWORD", "BROKER_URL", "PUBLISH_API_KEY"},
    "enrich": {"REDIS_PASSWORD", "BROKER_URL"},
    "publish-worker": {"REDIS_PASSWORD", "BROKER_URL"},
    "scheduler": {"REDIS_PASSWORD", "BROKER_URL"},
}


def test_compose_environment_is_the_settings_table_with_its_defaults():
    defaults = {s.name: s.default for s in SETTINGS if not s.secret}
    for name in APP_SERVICES:
        env = compose()["services"][name]["environment"]
        assert set(env) == set(defaults) | {"REDIS_URL"} | {f"{secret}_FILE" for secret in SECRET_FILES[name]}, name
        for key, value in env.items():
            match = re.fullmatch(r"\$\{(\w+):-(.*)\}", str(value))
            if match:
                assert match.group(1) == key and match.group(2) == (defaults[key] or ""), key
        assert env["REDIS_URL"] == "redis://redis:6379/0"  # no password in it: that comes from its file


def test_each_app_service_gets_only_the_secrets_it_uses_as_files_never_as_values():
    services, declared = compose()["services"], compose()["secrets"]
    for name in APP_SERVICES:
        env, secrets = services[name]["environment"], services[name]["secrets"]
        assert not set(env) & (set(SECRETS) - {"REDIS_URL"}), name
        for secret in SECRET_FILES[name]:
            mounted = env[f"{secret}_FILE"].removeprefix("/run/secrets/")
            assert mounted in secrets and mounted in declared, (name, secret)
        assert len(secrets) == len(SECRET_FILES[name]), name


def test_make_secrets_writes_every_secret_file_compose_reads_and_the_apps_accept_them(tmp_path):
    for broker in ("redis", "rabbitmq"):
        out = tmp_path / broker
        subprocess.run(["sh", ROOT / "scripts" / "make_secrets.sh", out], check=True, env={"BROKER": broker})
        files = {p.name for p in out.iterdir()}
        assert files == {ref["file"].rpartition("/")[2] for ref in compose()["secrets"].values()}
        first = {p.name: p.read_text() for p in out.iterdir()}
        subprocess.run(["sh", ROOT / "scripts" / "make_secrets.sh", out], check=True, capture_output=True)
        assert {p.name: p.read_text() for p in out.iterdir()} == first  # re-running keeps every secret
        env = {f"{secret}_FILE": str(out / secret.lower()) for secret in ("INGEST_API_KEYS", "PUBLISH_API_KEY")}
        env |= {"REDIS_PASSWORD_FILE": str(out / "redis_password"), "BROKER_URL_FILE": str(out / "broker_url")}
        settings = Settings.from_env(env).require("INGEST_API_KEYS", "PUBLISH_API_KEY")
        assert settings.redis_url.startswith("redis://:") and len(settings.publish_api_key) >= 32
        password = first["rabbitmq_password"].strip()
        expected = f"amqp://newsflow:{password}@rabbitmq:5672//" if broker == "rabbitmq" else settings.redis_url
        assert settings.broker_url == expected


def megabytes(size: str) -> float:
    number, unit = re.fullmatch(r"(\d+)([kmg])b?", size.lower()).groups()
    return int(number) * {"k": 1 / 1024, "m": 1, "g": 1024}[unit]


def test_redis_is_durable_bounded_password_protected_and_apps_wait_for_it():
    services = compose()["services"]
    redis = services["redis"]
    command = redis["command"][2]
    for flag in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
        assert flag in command
    maxmemory = re.search(r"--maxmemory \$\{REDIS_MAXMEMORY:-(\w+)\}", command)[1]
    limit = re.fullmatch(r"\$\{REDIS_MEM_LIMIT:-(\w+)\}", redis["deploy"]["resources"]["limits"]["memory"])[1]
    assert megabytes(limit) >= 1.5 * megabytes(maxmemory)  # room for the fork of a snapshot or AOF rewrite
    assert "; exec docker-entrypoint.sh redis-server --requirepass" in command  # the entrypoint drops root
    assert "cat /run/secrets/redis_password" in command and redis["secrets"] == ["redis_password"]
    assert "REDISCLI_AUTH" in redis["healthcheck"]["test"][1] and redis["volumes"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_apis_publish_their_ports_on_loopback_by_default_and_check_healthz():
    services = compose()["services"]
    for name, port in (("ingest", 8001), ("publish", 8002)):
        assert services[name]["ports"] == [f"${{API_BIND:-127.0.0.1}}:${{{name.upper()}_PORTS:-{port}}}:{port}"]
        assert f"localhost:{port}/healthz" in " ".join(services[name]["healthcheck"]["test"])
    published = {name: service["ports"] for name, service in services.items() if "ports" in service}
    assert set(published) == {"ingest", "publish", "proxy", "prometheus"}
    assert published["prometheus"] == ["127.0.0.1:9090:9090"]  # no auth on its UI


def test_every_profile_is_validated_by_compose_check_and_its_images_are_pinned():
    services = compose()["services"]
    profiles = {profile for service in services.values() for profile in service.get("profiles", [])}
    makefile = (ROOT / "Makefile").read_text()
    assert set(re.search(r"^PROFILES := (.*)$", makefile, re.M)[1].split()) == profiles
    for name in ("backup", "proxy", "prometheus", "redis-exporter"):
        assert services[name]["profiles"] and services[name]["restart"] == "unless-stopped"
    for name in ("proxy", "prometheus", "redis-exporter"):
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+(-alpine)?", services[name]["image"]), name
    assert services["backup"]["image"] == services["redis"]["image"]  # its redis-cli speaks to that Redis


def test_optional_services_mount_what_they_run_and_get_only_the_redis_password():
    services = compose()["services"]
    assert "./deploy/caddy/Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert "./scripts/redis_backup.sh:/scripts/redis_backup.sh:ro" in services["backup"]["volumes"]
    for name in ("backup", "redis-exporter"):
        assert services[name]["secrets"] == ["redis_password"], name
    assert not {"secrets", "environment"} & set(services["prometheus"])
    assert "secrets" not in services["proxy"]


def test_workers_scale_out_with_no_fixed_names_or_ports():
    """`docker compose up --scale enrich=4`: each replica gets its own container and Celery node name."""
    services = compose()["services"]
    assert not [name for name, service in services.items() if "container_name" in service]
    for name in ("enrich", "publish-worker", "scheduler"):
        assert not {"ports", "hostname"} & set(services[name]), name
        assert re.search(r"--hostname \w+@%h ", procfile()[name]), name


def test_rabbitmq_profile_adds_a_durable_healthchecked_broker_with_a_password_from_its_secret():
    rabbitmq = compose()["services"]["rabbitmq"]
    assert rabbitmq["profiles"] == ["rabbitmq"] and rabbitmq["image"].startswith("rabbitmq:")
    assert rabbitmq["volumes"] == ["rabbitmq-data:/var/lib/rabbitmq"] and rabbitmq["hostname"]
    assert "rabbitmq-diagnostics" in rabbitmq["healthcheck"]["test"] and "ports" not in rabbitmq
    assert rabbitmq["environment"]["RABBITMQ_DEFAULT_USER"] == "${RABBITMQ_DEFAULT_USER:-newsflow}"
    assert rabbitmq["environment"]["RABBITMQ_DEFAULT_PASS_FILE"] == "/run/secrets/rabbitmq_password"
    assert "RABBITMQ_DEFAULT_PASS" not in rabbitmq["environment"] and rabbitmq["secrets"] == ["rabbitmq_password"]
    documented = "BROKER=rabbitmq make secrets && docker compose --profile rabbitmq up"
    assert documented in (ROOT / "docker-compose.yml").read_text()


def test_containers_are_given_longer_to_stop_than_a_request_or_a_webhook_attempt_takes():
    """SIGTERM lets gunicorn finish its requests and Celery its tasks (warm shutdown) before compose kills."""
    gunicorn_grace = int(re.search(r"^graceful_timeout = (\d+)$", (ROOT / "gunicorn.conf.py").read_text(), re.M)[1])
    for name in APP_SERVICES:
        grace = int(compose()["services"][name]["stop_grace_period"].removesuffix("s"))
        assert grace > max(gunicorn_grace, Settings.from_env({}).webhook_timeout_s), name
