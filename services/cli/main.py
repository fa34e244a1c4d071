"""The `newsflow` command line: a client of the ingest and publish HTTP APIs.

Exit codes: 0 ok; 1 the API answered an error or some articles were rejected; 2 usage error;
3 an API could not be reached."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from services.cli import formatting as fmt
from services.cli.articles import SUFFIXES, Item, collect_files, read_items
from services.cli.client import Api, Apis, Endpoint, error_message, path
from services.cli.listen import receiver, verifier
from services.cli.params import Since
from services.cli.results import Summary, article_states, batches
from services.cli.subscriptions import deliveries, redeliver, replay, subscriptions

FEED_PAGES_COUNTED = 10  # `stats` counts at most this many pages of 100 published articles
RECENT_DELIVERIES = 50


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.option("--ingest-url", envvar="INGEST_URL", show_envvar=True, default="http://localhost:8001")
@click.option("--ingest-key", envvar="INGEST_API_KEY", show_envvar=True, help="Ingest API key.")
@click.option("--publish-url", envvar="PUBLISH_URL", show_envvar=True, default="http://localhost:8002")
@click.option(
    "--publish-key", envvar="PUBLISH_API_KEY", show_envvar=True, help="Publish API key: an operator or a consumer key."
)
@click.pass_context
def cli(ctx: click.Context, ingest_url: str, ingest_key: str, publish_url: str, publish_key: str) -> None:
    """Drive a running Newsflow over its HTTP APIs.

    Exit codes: 0 ok, 1 API error or rejected articles, 2 usage error, 3 an API unreachable."""
    ctx.obj = Apis(Endpoint("ingest", ingest_url, ingest_key), Endpoint("publish", publish_url, publish_key))


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="List every article with its id, not only the rejected ones.")
@click.pass_obj
def submit(apis: Apis, paths: tuple[Path, ...], verbose: bool) -> None:
    """Submit articles from files or folders (recursively).

    .txt: title = first non-empty line, body = the text; .html: title from <title> (or the file name);
    .json: an article object or a list of them; .jsonl: one article object per line."""
    api = apis.ingest()
    items = [item for path in collect_files(paths) for item in read_items(path)]
    if not items:
        raise click.UsageError(f"No {', '.join(SUFFIXES)} files in {', '.join(map(str, paths))}.")
    summary = Summary()
    for item in items:
        if item.error:
            summary.reject(item.origin, item.error)
    sendable = [item for item in items if item.article is not None]
    with click.progressbar(length=len(sendable), label="submitting", file=sys.stderr) as bar:
        for chunk in batches(sendable):
            _submit_batch(api, chunk, summary)
            bar.update(len(chunk))
    click.echo("\n".join(summary.lines(verbose)))
    sys.exit(summary.exit_code)


def _submit_batch(api: Api, chunk: list[Item], summary: Summary) -> None:
    response = api.send("POST", "/v1/articles/batch", json={"articles": [item.article for item in chunk]})
    if response.status_code != 200:  # the batch as a whole was refused (too large, still busy, ...)
        reason = error_message(response)
        for item in chunk:
            summary.reject(item.origin, reason)
        return
    for item, result in zip(chunk, response.json()["results"], strict=True):
        summary.record(item.origin, result)


@cli.command()
@click.argument("article_id")
@click.pass_obj
def status(apis: Apis, article_id: str) -> None:
    """Processing status of an article.

    received, enriching, enriched, published or failed (with the error)."""
    click.echo(fmt.article_status(apis.ingest().call("GET", path("/v1/articles", article_id)).json()))


@cli.command()
@click.option("--since", type=Since(), default="24h", help="Count articles published since then (2h, 7d, ISO 8601).")
@click.pass_obj
def stats(apis: Apis, since: str) -> None:
    """Articles by state, published articles and deliveries, at a glance."""
    publish = apis.publish()
    metrics = apis.ingest(needs_key=False).send("GET", "/metrics")
    states = article_states(metrics.text) if metrics.is_success else {}
    published = _count_published(publish, since)
    subs = publish.call("GET", "/v1/subscriptions").json()["items"]
    recent = {
        sub["id"]: publish.call(
            "GET", path("/v1/subscriptions", sub["id"], "deliveries"), params={"limit": RECENT_DELIVERIES}
        ).json()["items"]
        for sub in subs
    }
    click.echo(fmt.stats(states, published, since, subs, recent, RECENT_DELIVERIES))


def _count_published(publish: Api, since: str) -> str:
    """How many articles were published since then, as '123', or '1000+' past FEED_PAGES_COUNTED pages."""
    count, params = 0, {"since": since, "limit": 100}
    for _ in range(FEED_PAGES_COUNTED):
        page = publish.call("GET", "/v1/articles", params=params).json()
        count += len(page["items"])
        if not page["next_cursor"]:
            return str(count)
        params["cursor"] = page["next_cursor"]
    return f"{count}+"


@cli.command()
@click.option("--port", type=click.IntRange(1, 65535), default=9000)
@click.option("--host", default="127.0.0.1")
@click.option("--secret", envvar="NEWSFLOW_WEBHOOK_SECRET", show_envvar=True, required=True,
              help="The subscription's whsec_ signing secret.")  # fmt: skip
@click.option("--json", "full", is_flag=True, help="Print each article in full, as delivered.")
def listen(port: int, host: str, secret: str, full: bool) -> None:
    """Receive webhooks, verify them, print the articles.

    Subscribe this receiver first: newsflow subscriptions create http://127.0.0.1:9000/hook"""
    try:
        webhook = verifier(secret)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--secret") from None
    try:
        server = receiver(host, port, webhook, lambda text, err: click.echo(text, err=err), full)
    except OSError as exc:
        raise click.ClickException(f"Cannot listen on {host}:{port} ({exc.strerror}); pick another --port.") from None
    click.echo(f"listening on http://{host}:{port}/ and verifying signatures; Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


for command in (subscriptions, deliveries, redeliver, replay):
    cli.add_command(command)
