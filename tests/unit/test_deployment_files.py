"""docker-compose.yml, the Procfile and the settings table must tell the same story."""

import re

import yaml

from shared.config import SETTINGS, Settings
from tests.helpers import ROOT, procfile

APP_SERVICES = ("ingest", "publish", "enrich", "publish-worker", "deliver", "scheduler")


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_procfile_has_exactly_the_contract_processes():
    assert set(procfile()) == set(APP_SERVICES)
    assert "services.ingest.app:create_app()" in procfile()["ingest"]
    assert "services.publish.app:create_app()" in procfile()["publish"]
    assert "--queues enrich " in procfile()["enrich"]
    assert "--queues publish " in procfile()["publish-worker"]
    assert procfile()["deliver"] == "python -m services.publish.engine"
    assert "--beat" in procfile()["scheduler"]


def test_every_app_service_runs_its_procfile_command_from_one_image():
    services = compose()["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert images == {"newsflow:latest"}
    for name in APP_SERVICES:
        command = services[name]["command"]
        # compose unescapes $$ to $, then `sh -c` runs exactly the Procfile line
        assert command[:2] == ["sh", "-c"] and command[2].replace("$$", "$") == procfile()[name], name


def test_compose_environment_is_the_settings_table_with_its_defaults():
    defaults = {s.name: s.default for s in SETTINGS}
    for name in APP_SERVICES:
        env = compose()["services"][name]["environment"]
        assert set(env) == set(defaults), name
        for key, value in env.items():
            match = re.fullmatch(r"\$\{(\w+):([-?])(.*)\}", str(value))
            if match and match.group(2) == "-":
                assert match.group(1) == key and match.group(3) == (defaults[key] or ""), key
            elif match:
                assert defaults[key] is None, f"{key} is required in compose but has a default"


def test_redis_is_durable_and_apps_wait_for_healthy_dependencies():
    services = compose()["services"]
    redis = services["redis"]
    for flag in ("--appendonly yes", "--appendfsync everysec", "--maxmemory-policy noeviction"):
        assert flag in redis["command"]
    assert "redis-cli" in redis["healthcheck"]["test"] and redis["volumes"]
    for name in APP_SERVICES:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_apis_publish_their_ports_and_check_healthz():
    services = compose()["services"]
    for name, port in (("ingest", 8001), ("publish", 8002)):
        assert services[name]["ports"] == [f"{port}:{port}"]
        assert f"localhost:{port}/healthz" in " ".join(services[name]["healthcheck"]["test"])


def test_workers_scale_out_with_no_fixed_names_or_ports():
    """`docker compose up --scale enrich=4`: each replica gets its own container and Celery node name."""
    services = compose()["services"]
    assert not [name for name, service in services.items() if "container_name" in service]
    for name in ("enrich", "publish-worker", "scheduler"):
        assert not {"ports", "hostname"} & set(services[name]), name
        assert re.search(r"--hostname \w+@%h ", procfile()[name]), name


def test_rabbitmq_profile_adds_a_durable_healthchecked_broker_that_the_documented_url_reaches():
    rabbitmq = compose()["services"]["rabbitmq"]
    assert rabbitmq["profiles"] == ["rabbitmq"] and rabbitmq["image"].startswith("rabbitmq:")
    assert rabbitmq["volumes"] == ["rabbitmq-data:/var/lib/rabbitmq"] and rabbitmq["hostname"]
    assert "rabbitmq-diagnostics" in rabbitmq["healthcheck"]["test"] and "ports" not in rabbitmq
    user, password = (
        re.fullmatch(r"\$\{\w+:-(.*)\}", rabbitmq["environment"][f"RABBITMQ_DEFAULT_{k}"])[1] for k in ("USER", "PASS")
    )
    documented = f"BROKER_URL=amqp://{user}:{password}@rabbitmq:5672// "
    assert documented + "docker compose --profile rabbitmq up" in (ROOT / "docker-compose.yml").read_text()
    assert documented in (ROOT / "Makefile").read_text()  # compose-check validates the profile with it


def test_containers_are_given_longer_to_stop_than_a_request_or_a_webhook_attempt_takes():
    """SIGTERM lets gunicorn finish its requests and Celery its tasks (warm shutdown) before compose kills."""
    gunicorn_grace = int(re.search(r"^graceful_timeout = (\d+)$", (ROOT / "gunicorn.conf.py").read_text(), re.M)[1])
    for name in APP_SERVICES:
        grace = int(compose()["services"][name]["stop_grace_period"].removesuffix("s"))
        assert grace > max(gunicorn_grace, Settings.from_env({}).webhook_timeout_s), name
