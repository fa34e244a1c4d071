"""deploy/caddy/Caddyfile, run by a real Caddy in front of the real ingest and publish apps: both APIs answer
through it, and /metrics (no key) never leaves the compose network through it."""

import os
import shutil
import subprocess
import threading

import httpx
import pytest
from werkzeug.serving import make_server

from services.ingest.app import create_app as ingest_app
from services.publish.app import create_app as publish_app
from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.helpers import ROOT, free_port, wait_for

pytestmark = pytest.mark.skipif(not shutil.which("caddy"), reason="needs Debian's caddy (apt-get install caddy)")


@pytest.fixture
def upstream(app_env):
    """Serve a Flask app on a free port in a thread; yields its host:port."""
    servers = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", free_port(), app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()


def test_the_proxy_serves_both_apis_and_hides_their_metrics(app_env, upstream, tmp_path):
    ingest, publish = upstream(ingest_app(app_env)), upstream(publish_app(app_env))
    sites = {"ingest": free_port(), "publish": free_port()}
    env = {
        **os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
        "INGEST_SITE": f"http://127.0.0.1:{sites['ingest']}", "INGEST_UPSTREAM": ingest,
        "PUBLISH_SITE": f"http://127.0.0.1:{sites['publish']}", "PUBLISH_UPSTREAM": publish,
    }  # fmt: skip
    caddy = subprocess.Popen(
        ["caddy", "run", "--config", str(ROOT / "deploy" / "caddy" / "Caddyfile"), "--adapter", "caddyfile"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        ingest_url, publish_url = (f"http://127.0.0.1:{sites[name]}" for name in ("ingest", "publish"))
        wait_for(lambda: httpx.get(f"{ingest_url}/healthz").status_code == 200, 30, "caddy in front of ingest")
        posted = httpx.post(f"{ingest_url}/v1/articles", json={"title": "T", "body": "Through the proxy."},
                            headers={"Authorization": f"Bearer {INGEST_KEY}"})  # fmt: skip
        assert posted.status_code == 202
        feed = httpx.get(f"{publish_url}/v1/articles", headers={"Authorization": f"Bearer {PUBLISH_KEY}"})
        assert feed.status_code == 200 and "items" in feed.json()
        for base, direct in ((ingest_url, ingest), (publish_url, publish)):
            assert httpx.get(f"http://{direct}/metrics").status_code == 200  # Prometheus, on the inside
            for path in ("/metrics", "/metrics/", "/METRICS", "/metrics?format=text", "/./metrics", "/x/../metrics"):
                response = httpx.get(base + path)
                assert response.status_code == 404 and "newsflow_" not in response.text, (base, path)
    finally:
        caddy.terminate()
        caddy.wait(10)
