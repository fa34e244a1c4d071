"""The `newsflow` command line run as a subprocess, as a shell user runs it: against the whole Procfile
(one stack start, one flow), and on its own for the exits that need no stack and for `listen`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from standardwebhooks import Webhook

from shared.contracts import ArticleState, DeliveryStatus, EventType
from tests.conftest import INGEST_KEY, PUBLISH_KEY
from tests.helpers import SEED_ARTICLE, free_port, wait_for

pytestmark = pytest.mark.slow

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")
SECRET = "whsec_" + "c2VjcmV0LW9mLWEtdGVzdC1zdWJzY3JpcHRpb24="
STORY = (
    "The city council of Lyon approved a new tram line on Monday after two years of debate. "
    "Mayor Claire Dubois said the line would link the university campus with the central station. "
    "Construction is due to start in the spring and the council expects the first trams to run in 2029."
)


def newsflow(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([NEWSFLOW, *map(str, args)], env=env, capture_output=True, text=True, timeout=120)


def cli_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any Newsflow setting, plus `settings`."""
    names = ("INGEST_URL", "PUBLISH_URL", "INGEST_API_KEY", "PUBLISH_API_KEY", "NEWSFLOW_WEBHOOK_SECRET")
    return {**{k: v for k, v in os.environ.items() if k not in names}, **settings}


class Listening:
    """`newsflow listen` as a subprocess; its stdout and stderr lines collected as they come."""

    def __init__(self, port: int, env: dict[str, str]):
        self.out: list[str] = []
        self.err: list[str] = []
        self.proc = subprocess.Popen(
            [NEWSFLOW, "listen", "--port", str(port)], env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        for stream, lines in ((self.proc.stdout, self.out), (self.proc.stderr, self.err)):
            threading.Thread(target=lambda s=stream, ls=lines: ls.extend(iter(s.readline, "")), daemon=True).start()
        wait_for(lambda: any("listening on" in line for line in self.out), 30, "newsflow listen to start")

    def text(self) -> str:
        return "".join(self.out)

    def __enter__(self) -> Listening:
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def write_inbox(folder: Path) -> None:
    """Good articles of every kind the CLI reads, one unparsable file and one invalid article."""
    (folder / "nested").mkdir(parents=True)
    (folder / "tram.json").write_text(json.dumps({"title": "Lyon approves a new tram line", "body": STORY}))
    page = f"<html><head><title>Tram works in Lyon</title></head><body><article><p>{STORY}</p></article></body></html>"
    (folder / "nested" / "page.html").write_text(page)
    lines = [json.dumps({"title": "Tram line: what changes", "body": STORY + " Fares stay the same."}),
             json.dumps({"body": "An article without a title."})]  # fmt: skip
    (folder / "nested" / "feed.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "broken.json").write_text('{"title": "cut off')


def test_unreachable_api_exits_3_naming_the_url_and_the_variable_to_set():
    url = f"http://127.0.0.1:{free_port()}"
    result = newsflow("status", "some-id", env=cli_env(INGEST_URL=url, INGEST_API_KEY="k"))
    assert result.returncode == 3
    assert url in result.stderr and "INGEST_URL" in result.stderr


def test_missing_api_key_is_a_usage_error_naming_the_variable():
    result = newsflow("subscriptions", "list", env=cli_env())
    assert result.returncode == 2
    assert "PUBLISH_API_KEY" in result.stderr


def test_listen_prints_a_verified_article_and_refuses_a_forged_one():
    port = free_port()
    body = json.dumps({"type": EventType.PUBLISHED, "timestamp": "2026-11-26T12:00:00Z", "data": {
        "uri": "urn:newsflow:article:a1", "version": "1",
        "headlines": [{"role": "main", "value": "Tram line approved"}],
        "people": [{"name": "Claire Dubois"}], "places": [{"name": "Lyon"}],
        "subjects": [{"name": "transport", "literal": "medtop:20000446"}],
    }, "enrichment": {"keywords": ["tram"]}})  # fmt: skip

    def post(secret: str, webhook_id: str) -> httpx.Response:
        now = datetime.now(UTC)
        headers = {
            "webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(webhook_id, now, body), "content-type": "application/json",
        }  # fmt: skip
        return httpx.post(f"http://127.0.0.1:{port}/hook", content=body, headers=headers)

    with Listening(port, cli_env(NEWSFLOW_WEBHOOK_SECRET=SECRET)) as listener:
        assert post(SECRET, "msg_good").status_code == 204
        assert post("whsec_" + "b3RoZXItc2VjcmV0LW9mLWFub3RoZXI=", "msg_forged").status_code == 400
        wait_for(lambda: listener.err, 10, "the forged delivery to be reported")
    printed = listener.text()
    assert "article.published  msg_good  (signature verified)" in printed
    assert "Tram line approved" in printed and "people: Claire Dubois" in printed and "places: Lyon" in printed
    assert "subjects: transport (medtop:20000446)" in printed and "keywords: tram" in printed
    assert "msg_forged" not in printed and listener.err[0].startswith("REJECTED msg_forged")


def test_cli_submits_files_and_a_listener_sees_them_then_inspects_redelivers_replays_and_counts(start_stack, tmp_path):
    # The first submit's batch of 5 empties the 5-token bucket, which then refills one token per 20 s: the
    # second submit meets a 429 however slowly its process starts (up to 20 s) and waits out its Retry-After.
    ingest, publish = start_stack(INGEST_RATE_LIMIT="0.05", INGEST_RATE_BURST="5")
    env = cli_env(INGEST_URL=str(ingest.base_url), PUBLISH_URL=str(publish.base_url),
                  INGEST_API_KEY=INGEST_KEY, PUBLISH_API_KEY=PUBLISH_KEY)  # fmt: skip
    port = free_port()

    created = newsflow("subscriptions", "create", f"http://127.0.0.1:{port}/hook", "--description", "cli", env=env)
    assert created.returncode == 0, created.stderr
    sub_id = re.search(r"^id\s+(sub_\w+)$", created.stdout, re.M).group(1)
    secret = re.search(r"^secret\s+(whsec_\S+)$", created.stdout, re.M).group(1)

    write_inbox(tmp_path / "inbox")
    with Listening(port, {**env, "NEWSFLOW_WEBHOOK_SECRET": secret}) as listener:
        submitted = newsflow("submit", "--verbose", SEED_ARTICLE, tmp_path / "inbox", env=env)
        assert submitted.returncode == 1  # some were rejected
        lines = submitted.stdout.splitlines()
        assert lines[-1] == "4 accepted, 0 duplicate, 2 rejected"
        assert any(re.match(r"rejected   .*broken\.json: invalid JSON", line) for line in lines)
        assert any(re.match(r"rejected   .*feed\.jsonl:2: title: Missing data for required field\.", line)
                   for line in lines)  # fmt: skip
        accepted = dict(re.findall(r"^accepted   (\S+)  (\w+)$", submitted.stdout, re.M))
        seed_id = accepted[str(SEED_ARTICLE)]

        # the same article again: it waits out its 429 (up to 20 s) while the flow below goes on (checked at
        # the end); as a duplicate it adds no delivery to the counts there
        again = subprocess.Popen([NEWSFLOW, "submit", SEED_ARTICLE], env=env, text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
        wait_for(lambda: "people: Anthony Blinken" in listener.text(), 180, "the seed article at the listener")
        assert f"urn:newsflow:article:{seed_id}" in listener.text() and "(signature verified)" in listener.text()

        def all_published() -> bool:
            return all(
                ingest.get(f"/v1/articles/{i}").json()["status"] == ArticleState.PUBLISHED for i in accepted.values()
            )

        wait_for(all_published, 180, "every accepted article to be published")
        status = newsflow("status", seed_id, env=env)
        assert status.returncode == 0 and re.search(r"^status\s+published$", status.stdout, re.M)

        def seed_delivery() -> str | None:
            log = newsflow("deliveries", sub_id, "--status", DeliveryStatus.SUCCEEDED, "--limit", "200", env=env).stdout
            found = re.search(rf"^(\S+)\s+succeeded\s+article\.published\s+{seed_id}\s", log, re.M)
            return found and found.group(1)

        delivery_id = wait_for(seed_delivery, 60, "the seed's delivery in the log")
        redelivered = newsflow("redeliver", delivery_id, env=env)
        assert redelivered.returncode == 0 and "same webhook-id" in redelivered.stdout
        wait_for(lambda: listener.text().count(f"  {delivery_id}  ") == 2, 60, "the redelivery at the listener")

        replayed = newsflow("replay", sub_id, "--since", "1h", env=env)
        assert replayed.returncode == 0 and re.search(r": 4 articles queued for ", replayed.stdout)
        wait_for(lambda: listener.text().count("(signature verified)") == 4 + 1 + 4, 120, "the replayed articles")

        def stats_once_all_succeeded() -> str | None:
            shown = newsflow("stats", env=env)
            row = rf"^{sub_id}\s+yes\s+closed\s+8\s+0\s+0\s+0\s+\S+"  # succeeded, retrying, pending, failed
            return shown.returncode == 0 and re.search(row, shown.stdout, re.M) and shown.stdout

        stats = wait_for(stats_once_all_succeeded, 60, "stats to count 8 succeeded deliveries")
        assert re.search(r"^published since \S+: 4$", stats, re.M)
    assert listener.err == []  # nothing failed verification

    wrong_key = newsflow("status", seed_id, env={**env, "INGEST_API_KEY": "not-the-key"})
    assert wrong_key.returncode == 1 and "INGEST_API_KEY" in wrong_key.stderr
    assert "not-the-key" not in wrong_key.stdout + wrong_key.stderr
    unknown = newsflow("status", "no-such-article", env=env)
    assert unknown.returncode == 1 and "No article with id 'no-such-article'" in unknown.stderr

    updated = newsflow("subscriptions", "update", sub_id, "--topic", "medtop:15000000", "--place", "FR", env=env)
    assert updated.returncode == 0 and "topics: medtop:15000000; places: FR" in updated.stdout
    refused = newsflow("subscriptions", "update", sub_id, "--language", "french", env=env)
    assert refused.returncode == 1 and "filters.languages.0: Must be an ISO 639-1 code" in refused.stderr
    rotated = newsflow("subscriptions", "rotate-secret", sub_id, env=env)
    new_secret = re.search(r"^secret\s+(whsec_\S+)$", rotated.stdout, re.M).group(1)
    assert new_secret != secret and re.search(r"^old secret until\s+\S+", rotated.stdout, re.M)
    assert sub_id in newsflow("subscriptions", "list", env=env).stdout
    assert newsflow("subscriptions", "delete", sub_id, env=env).returncode == 0
    gone = newsflow("subscriptions", "show", sub_id, env=env)
    assert gone.returncode == 1 and f"No subscription with id '{sub_id}'" in gone.stderr

    again_out, again_err = again.communicate(timeout=120)
    assert (again.returncode, again_out.splitlines()[-1]) == (0, "0 accepted, 1 duplicate, 0 rejected")
    retry = re.search(r"ingest answered 429; retrying in (\d+) s\n", again_err)
    assert retry and 1 <= int(retry.group(1)) <= 20, again_err  # the token's remaining 20 s refill


@pytest.mark.broker("redis")
def test_cli_with_a_consumer_key_manages_that_consumers_subscriptions_only(processes):
    port = free_port()
    processes(["publish"], PUBLISH_PORT=str(port))
    base = f"http://127.0.0.1:{port}"
    operator = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {PUBLISH_KEY}"})
    wait_for(lambda: operator.get("/readyz").status_code == 200, 60, "publish to be ready")
    keys = []
    for name in ("a", "b"):
        consumer = operator.post("/v1/consumers", json={"name": name}).json()
        keys.append(operator.post(f"/v1/consumers/{consumer['id']}/keys", json={}).json()["key"])
    as_a, as_b = (cli_env(PUBLISH_URL=base, PUBLISH_API_KEY=key) for key in keys)
    theirs = newsflow("subscriptions", "create", "http://127.0.0.1:9/b", env=as_b)
    theirs_id = re.search(r"^id\s+(sub_\w+)$", theirs.stdout, re.M).group(1)

    created = newsflow("subscriptions", "create", "http://127.0.0.1:9/a", "--description", "mine", env=as_a)
    assert created.returncode == 0, created.stderr
    mine = re.search(r"^id\s+(sub_\w+)$", created.stdout, re.M).group(1)
    listed = newsflow("subscriptions", "list", env=as_a)
    assert mine in listed.stdout and theirs_id not in listed.stdout
    for command in (["show", theirs_id], ["rotate-secret", theirs_id], ["delete", theirs_id]):
        refused = newsflow("subscriptions", *command, env=as_a)
        assert refused.returncode == 1 and "No subscription with id" in refused.stderr, command
    assert theirs_id in newsflow("subscriptions", "list", env=as_b).stdout
    metadata = newsflow("subscriptions", "create", "http://169.254.169.254/latest/", env=as_a)
    assert metadata.returncode == 0 and "warning: 169.254.169.254 is a link-local" in metadata.stderr
    operator.close()
