"""The whole Procfile as real processes on free ports, with HTTP clients for both APIs; Debian's Chromium for
the server-rendered pages."""

import httpx
import pytest

from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.helpers import free_port, wait_for
from tests.tiers import CHROMIUM, browser_missing

SERVICES = ["ingest", "publish", "enrich", "publish-worker", "deliver", "scheduler"]


@pytest.fixture
def start_stack(processes):
    """`ingest, publish = start_stack(WEBHOOK_TIMEOUT_S="1")`: every process up and ready;
    `start_stack.processes` is then the running group, for tests that kill and restart entries."""
    clients: list[httpx.Client] = []

    def start(**overrides: str) -> tuple[httpx.Client, httpx.Client]:
        ports = {"INGEST_PORT": str(free_port()), "PUBLISH_PORT": str(free_port())}
        start.processes = processes(SERVICES, **overrides, **ports)
        for port, key in ((ports["INGEST_PORT"], INGEST_KEY), (ports["PUBLISH_PORT"], PUBLISH_KEY)):
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"})
            clients.append(client)
            wait_for(lambda c=client: c.get("/readyz").status_code == 200, 60, f"{client.base_url} to be ready")
        return clients[-2], clients[-1]

    yield start
    for client in clients:
        client.close()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium reaches out to Google, which this machine's network refuses
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    if missing := browser_missing():
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
