"""The README's Try-it, run as written by bash against the whole Procfile: only what differs from a user's
machine is swapped (the stack's free ports for 8001/8002/9000, also given to the CLI as INGEST_URL and
PUBLISH_URL; a keys file for var/dev.env; this test's temporary directory for /tmp), so a command that
stops working fails here."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shared.contracts import EventType
from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.helpers import ROOT, free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("jq") is None, reason="the README's Try-it reads answers with jq"),
]


def try_it_block() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Try it\n", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)


def test_the_readme_try_it_runs_as_written(start_stack, tmp_path: Path):
    ingest, publish = start_stack()
    keys = tmp_path / "dev.env"
    keys.write_text(f"export INGEST_API_KEY={INGEST_KEY}\nexport PUBLISH_API_KEY={PUBLISH_KEY}\n")
    swaps = {
        "source var/dev.env": f"source {keys}",
        "localhost:8001": str(ingest.base_url.netloc.decode()),
        "localhost:8002": str(publish.base_url.netloc.decode()),
        "9000": str(free_port()),
        "/tmp/": f"{tmp_path}/",
        ".venv/bin/": f"{Path(sys.executable).parent}/",
    }
    script = try_it_block()
    for old in swaps:
        assert old in script, f"the Try-it no longer says {old!r}: update this test's swaps"
    script = re.sub("|".join(map(re.escape, swaps)), lambda m: swaps[m.group(0)], script)  # one pass

    run = subprocess.Popen(
        ["bash", "-c", "set -eo pipefail\n" + script],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_URL"))},
            "INGEST_URL": str(ingest.base_url),  # the CLI's defaults are the user's ports, 8001 and 8002
            "PUBLISH_URL": str(publish.base_url),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = run.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(run.pid, signal.SIGKILL)
        pytest.fail("the Try-it did not finish in 120 s:\n" + run.communicate()[0])
    with contextlib.suppress(ProcessLookupError):  # the backgrounded receiver, if the script stopped early
        os.killpg(run.pid, signal.SIGKILL)

    assert run.returncode == 0, out
    assert "HTTP/1.1 202 ACCEPTED" in out
    assert EventType.PUBLISHED in out and "(signature verified)" in out, out
    assert "Lisbon council backs a night ferry trial across the Tagus" in out
    assert '"published"' in out and '"country":"PT"' in out, out
    assert re.search(r"duplicate\s+examples/sample-article.txt", out), out
    assert "0 accepted, 1 duplicate, 0 rejected" in out
