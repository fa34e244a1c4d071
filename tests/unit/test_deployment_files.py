"""docker-compose.yml, the Procfile and the settings table must tell the same story."""

import re
import subprocess

import yaml

from scripts.run_local import local_env
from shared.celery_app import SOFT_SHUTDOWN_S, WARM_SHUTDOWN_S
from shared.config import SECRETS, SETTINGS, Settings
from tests.helpers import ROOT, procfile

APP_SERVICES = ("ingest", "publish", "enrich", "publish-worker", "deliver", "scheduler")
CELERY_WORKERS = {"enrich": "enrich", "publish-worker": "publish", "scheduler": "scheduler"}  # service: node prefix
WORKERS = {**CELERY_WORKERS, "deliver": "deliver"}  # and the delivery engine, heartbeating as a worker does
EXACT_VERSION = r"\d+\.\d+\.\d+"  # an exact release, e.g. 7.4.11: never a floating 7 or latest


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_procfile_has_exactly_the_contract_processes():
    assert set(procfile()) == set(APP_SERVICES)
    assert "services.ingest.app:create_app()" in procfile()["ingest"]
    assert "services.publish.app:create_app()" in procfile()["publish"]
    assert "--queues enrich " in procfile()["enrich"]
    # deliver: the previous release's publish.deliver messages, drained for one release (docs/operations.md)
    assert "--queues publish,deliver " in procfile()["publish-worker"]
    assert procfile()["deliver"] == "exec python -m services.publish.engine --hostname deliver@%h"
    assert "--beat" in procfile()["scheduler"]


def test_every_process_replaces_its_shell_so_it_gets_the_stop_signal():
    """As PID 1 of a container, a shell ignores SIGTERM; `exec` makes gunicorn or Celery PID 1 instead."""
    for name, line in procfile().items():
        assert line.startswith("exec "), name


def test_every_app_service_runs_its_procfile_command_from_one_image_tagged_with_the_version():
    services = compose()["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"newsflow:${VERSION:-dev}"}
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
    "deliver": {"REDIS_PASSWORD", "BROKER_URL"},
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
        assert settings.redis_url.startswith("redis://:") and len(next(iter(settings.publish_api_keys))) >= 32
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
    """`INGEST_PORTS=8001-8004 docker compose up --scale ingest=4`: each replica takes a host port of the range."""
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


def test_containers_are_given_longer_to_stop_than_a_request_a_webhook_attempt_or_a_celery_shutdown_takes():
    """SIGTERM lets gunicorn finish its requests and Celery its tasks (warm, then soft shutdown) before compose
    kills; a few seconds are left for Celery to hand back what it cancelled."""
    gunicorn_grace = int(re.search(r"^graceful_timeout = (\d+)$", (ROOT / "gunicorn.conf.py").read_text(), re.M)[1])
    for name in APP_SERVICES:
        grace = int(compose()["services"][name]["stop_grace_period"].removesuffix("s"))
        assert grace > max(gunicorn_grace, Settings.from_env({}).webhook_timeout_s), name
        assert grace >= WARM_SHUTDOWN_S + SOFT_SHUTDOWN_S + 5, name


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", size.lower()).groups()
    return int(number) * 1024 ** " kmg".index(unit or " ")


def test_every_service_has_memory_and_cpu_limits_and_rotated_logs():
    services = compose()["services"]
    for name, service in services.items():
        logging = service["logging"]
        assert logging["driver"] == "json-file" and {"max-size", "max-file"} <= set(logging["options"]), name
        if name in APP_SERVICES:
            limits = service["deploy"]["resources"]["limits"]
            assert _bytes(limits["memory"]) >= 256 * 1024**2 and float(limits["cpus"]) > 0, name


def test_celery_pool_processes_are_replaced_before_their_container_reaches_its_memory_limit():
    """--max-memory-per-child (KiB) times the default concurrency, plus the main process, fits the limit."""
    defaults = {s.name: s.default for s in SETTINGS}
    services = compose()["services"]
    for name in CELERY_WORKERS:
        line = procfile()[name]
        per_child = int(re.search(r"--max-memory-per-child (\d+) ", line)[1]) * 1024
        setting = re.search(r"--concurrency (?:\$\{(\w+):-\d+\}|(\d+)) ", line)
        concurrency = int(defaults[setting[1]] if setting[1] else setting[2])
        limit = _bytes(services[name]["deploy"]["resources"]["limits"]["memory"])
        assert concurrency * per_child + 200 * 1024**2 <= limit, name


def test_every_worker_is_healthchecked_by_its_heartbeat_with_the_node_name_of_its_procfile_line():
    services = compose()["services"]
    for name, node in WORKERS.items():
        assert services[name]["healthcheck"]["test"] == ["CMD", "python", "-m", "shared.liveness", node], name
        assert re.search(rf"--hostname {node}@%h( |$)", procfile()[name]), name


def test_third_party_images_and_the_base_image_are_pinned_to_exact_releases():
    for name, service in compose()["services"].items():
        if name not in APP_SERVICES:
            assert re.fullmatch(rf"[\w./-]+:v?{EXACT_VERSION}(-[a-z]+)?", service["image"]), name
    bases = re.findall(r"^FROM (\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert bases and all(re.fullmatch(rf"python:{EXACT_VERSION}-slim-\w+", base) for base in bases), bases


def test_the_image_installs_its_dependencies_before_copying_the_code():
    """A code change rebuilds only the layers after the dependencies; the build context leaves the rest out."""
    steps = re.findall(r"^(COPY|RUN) (.*)$", (ROOT / "Dockerfile").read_text().replace("\\\n", " "), re.M)
    copies = [(i, args.split()[:-1]) for i, (op, args) in enumerate(steps) if op == "COPY"]
    assert copies[0][1] == ["pyproject.toml", "constraints.txt"]
    install_deps = next(i for i, (op, args) in enumerate(steps) if op == "RUN" and "-c constraints.txt -r" in args)
    assert copies[0][0] < install_deps < copies[1][0]
    copied = {source.rstrip("/") for _, sources in copies for source in sources}
    assert {"services", "shared"} <= copied
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") + 1 :] and all(f"!{source}" in {i.rstrip("/") for i in ignore} for source in copied)


def test_the_apis_bind_to_bind_host_and_the_local_run_keeps_them_on_loopback():
    for name in ("ingest", "publish"):
        assert "--bind ${BIND_HOST:-0.0.0.0}:" in procfile()[name]
    assert local_env({}, {})["BIND_HOST"] == "127.0.0.1"
    assert local_env({"BIND_HOST": "0.0.0.0"}, {})["BIND_HOST"] == "0.0.0.0"  # told otherwise
    assert compose()["services"]["publish"]["environment"]["BIND_HOST"] == "0.0.0.0"  # containers
