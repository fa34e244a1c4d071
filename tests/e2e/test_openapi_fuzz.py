"""schemathesis against the running APIs: no 5xx, and every response matches the OpenAPI document."""

import json
import re
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.helpers import Receiver, free_port, seed_article, wait_for

# The fuzzers talk HTTP only: which broker carries the tasks does not matter here.
pytestmark = pytest.mark.slow

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def fuzz(spec_url: str, key: str, config: Path | None = None, har: Path | None = None) -> subprocess.CompletedProcess:
    """schemathesis run; `config`: a schemathesis.toml; `har`: where to record every exchange."""
    schemathesis = Path(sys.executable).parent / "schemathesis"
    command = [str(schemathesis), *(["--config-file", str(config)] if config else []), "run", spec_url]
    command += ["--header", f"Authorization: Bearer {key}", "--checks", CHECKS, "--max-examples", "25", "--no-color"]
    command += ["--report", "har", "--report-har-path", str(har)] if har else []
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def known_ids_config(path: Path, ids: dict[str, str]) -> Path:
    """A schemathesis config drawing each path parameter from `ids` half the time, so operations on
    resources that exist are fuzzed too (random ids only ever reach the 404 branch)."""
    lines = []
    for name, value in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = [{json.dumps(value)}]", ""]
    lines.append("[parameters]")
    lines += [f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}' for name in ids]
    path.write_text("\n".join(lines) + "\n")
    return path


def operations_never_successful(spec: dict, har: Path) -> list[str]:
    """The operations of `spec` that no exchange recorded in `har` got a 2xx answer from."""
    exchanges = [
        (e["request"]["method"].lower(), urlsplit(e["request"]["url"]).path)
        for e in json.loads(har.read_text())["log"]["entries"]
        if 200 <= e["response"]["status"] < 300
    ]

    def succeeded(method: str, template: str) -> bool:
        pattern = re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", template) + "$")
        return any(method == m and pattern.match(path) for m, path in exchanges)

    return [f"{m.upper()} {path}" for path, methods in spec["paths"].items() for m in methods if not succeeded(m, path)]


def test_ingest_api_holds_to_its_openapi_document(processes):
    port = free_port()
    processes(["ingest"], INGEST_PORT=str(port), INGEST_RATE_LIMIT="100000", INGEST_RATE_BURST="100000")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, 30, "ingest to be ready")
    result = fuzz(f"{base}/openapi.json", INGEST_KEY)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def api_client(port: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"})


OPERATOR_ONLY = ("/v1/consumers", "/v1/audit")


def test_publish_api_holds_to_its_openapi_document_with_consumer_and_operator_keys(processes, tmp_path):
    ports = {"INGEST_PORT": str(free_port()), "PUBLISH_PORT": str(free_port())}
    stack = processes(
        ["ingest", "publish", "enrich", "publish-worker", "deliver"], PUBLISH_RATE_LIMIT="100000", **ports
    )
    with (
        api_client(ports["INGEST_PORT"], INGEST_KEY) as ingest,
        api_client(ports["PUBLISH_PORT"], PUBLISH_KEY) as publish,
    ):
        for client in (ingest, publish):
            wait_for(lambda c=client: c.get("/readyz").status_code == 200, 60, f"{client.base_url} to be ready")
        # a consumer fuzzed with its own key, and one whose key the operator's run may revoke
        fuzzed, target = (publish.post("/v1/consumers", json={"name": name}).json() for name in ("fuzzed", "target"))
        consumer_key = publish.post(f"/v1/consumers/{fuzzed['id']}/keys", json={}).json()["key"]
        target_key_id = publish.post(f"/v1/consumers/{target['id']}/keys", json={}).json()["id"]
        with Receiver() as receiver, api_client(ports["PUBLISH_PORT"], consumer_key) as consumer:
            # two subscriptions each: the fuzzer may delete the first, the second keeps its delivery for it
            sub_id, keeper = (publish.post("/v1/subscriptions", json={"url": receiver.url}).json()["id"] for _ in "ab")
            own_sub, own_keeper = (
                consumer.post("/v1/subscriptions", json={"url": receiver.url}).json()["id"] for _ in "ab"
            )
            article_id = ingest.post("/v1/articles", json=seed_article()).json()["id"]
            wait_for(lambda: len(receiver.received) == 4, 180, "the seed article's webhooks")
            own_delivery = consumer.get(f"/v1/subscriptions/{own_keeper}/deliveries").json()["items"][0]["id"]
        for name in ("publish-worker", "enrich", "ingest"):
            # Only the API runs while fuzzing: nothing sends webhooks to the URLs the fuzzer subscribes.
            stack.kill(name, signal.SIGTERM)
        spec = publish.get("/openapi.json").json()

        known = {"article_id": article_id, "sub_id": own_sub, "delivery_id": own_delivery}
        har = tmp_path / "consumer.har"
        result = fuzz(
            f"{publish.base_url}/openapi.json", consumer_key, known_ids_config(tmp_path / "c.toml", known), har
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        # a consumer key reaches every operation but the operator's (those answer 403)
        missed = operations_never_successful(spec, har)
        assert [op for op in missed if not op.split(" ")[1].startswith(OPERATOR_ONLY)] == []

        delivery_id = publish.get(f"/v1/subscriptions/{keeper}/deliveries").json()["items"][0]["id"]
        known = {"article_id": article_id, "sub_id": sub_id, "delivery_id": delivery_id,
                 "consumer_id": target["id"], "key_id": target_key_id}  # fmt: skip
        har = tmp_path / "operator.har"
        result = fuzz(
            f"{publish.base_url}/openapi.json", PUBLISH_KEY, known_ids_config(tmp_path / "o.toml", known), har
        )
        assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
        # the run got past the 404s and 422s into every operation's real work
        assert operations_never_successful(spec, har) == []
