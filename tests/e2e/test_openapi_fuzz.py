"""schemathesis against the running APIs: no 5xx, and every response matches the OpenAPI document."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import INGEST_KEY
from tests.helpers import free_port, wait_for

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


def fuzz(spec_url: str, key: str) -> subprocess.CompletedProcess:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    command = [str(schemathesis), "run", spec_url, "--header", f"Authorization: Bearer {key}"]
    command += ["--checks", CHECKS, "--max-examples", "25", "--no-color"]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


def test_ingest_api_holds_to_its_openapi_document(processes):
    port = free_port()
    processes(["ingest"], INGEST_PORT=str(port), INGEST_RATE_LIMIT="100000", INGEST_RATE_BURST="100000")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(f"{base}/readyz").status_code == 200, 30, "ingest to be ready")
    result = fuzz(f"{base}/openapi.json", INGEST_KEY)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
