"""Commands over the publish API's subscriptions and their delivery log."""

from __future__ import annotations

from collections.abc import Callable

import click

from services.cli import formatting as fmt
from services.cli.client import Apis, path
from services.cli.params import Since
from shared.contracts import EventType

# (field of `filters`, option, help); each option repeats: --topic medtop:11000000 --topic medtop:15000000
FILTER_OPTIONS = (
    ("topics", "--topic", "IPTC Media Topic code, e.g. medtop:11000000 (its subtopics match too)."),
    ("entities", "--entity", "Person or organisation name."),
    ("places", "--place", "Place name or ISO 3166 alpha-2 code."),
    ("sources", "--source", "Source name."),
    ("languages", "--language", "ISO 639-1 code, e.g. en."),
)


def filter_options(command: Callable) -> Callable:
    for name, flag, help_text in reversed(FILTER_OPTIONS):
        command = click.option(flag, name, multiple=True, help=f"{help_text} Repeat for more.")(command)
    return command


def given_filters(options: dict[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {name: list(values) for name, values in options.items() if values}


@click.group()
def subscriptions() -> None:
    """Manage webhook subscriptions."""


@subscriptions.command("list")
@click.pass_obj
def list_subscriptions(apis: Apis) -> None:
    """Every subscription: id, enabled, circuit, URL, filters."""
    items = apis.publish().call("GET", "/v1/subscriptions").json()["items"]
    click.echo(fmt.subscriptions(items) if items else "no subscriptions")


@subscriptions.command()
@click.argument("url")
@filter_options
@click.option(
    "--event-type", "event_types", multiple=True, type=click.Choice(EventType.SUBSCRIBABLE), help="Default: both."
)
@click.option("--description")
@click.pass_obj
def create(apis: Apis, url: str, event_types: tuple[str, ...], description: str | None, **filters) -> None:
    """Subscribe URL to published articles.

    With filters, only articles matching every filter given (any value of each) are sent."""
    body = {"url": url, "filters": given_filters(filters)}
    if event_types:
        body["event_types"] = list(event_types)
    if description is not None:
        body["description"] = description
    sub = apis.publish().call("POST", "/v1/subscriptions", json=body).json()
    click.echo(fmt.subscription(sub))
    click.echo("The secret is shown only now (and on rotate-secret): keep it to verify signatures.", err=True)
    for warning in sub.get("warnings", []):
        click.echo(f"warning: {warning}", err=True)


@subscriptions.command()
@click.argument("sub_id")
@click.pass_obj
def show(apis: Apis, sub_id: str) -> None:
    """One subscription, with its health."""
    click.echo(fmt.subscription(apis.publish().call("GET", path("/v1/subscriptions", sub_id)).json()))


@subscriptions.command()
@click.argument("sub_id")
@click.option("--url")
@click.option("--description")
@click.option("--event-type", "event_types", multiple=True, type=click.Choice(EventType.SUBSCRIBABLE))
@click.option("--enable/--disable", "enabled", default=None, help="Re-enabling starts a clean health record.")
@filter_options
@click.option("--clear-filters", is_flag=True, help="Drop the filters not given (by default they are kept).")
@click.pass_obj
def update(apis: Apis, sub_id: str, event_types: tuple[str, ...], clear_filters: bool, **options) -> None:
    """Change a subscription.

    A filter option replaces that filter's list and keeps the others."""
    filters = given_filters({name: options.pop(name) for name, _, _ in FILTER_OPTIONS})
    changes = {name: value for name, value in options.items() if value is not None}
    if event_types:
        changes["event_types"] = list(event_types)
    api, sub_path = apis.publish(), path("/v1/subscriptions", sub_id)
    if filters or clear_filters:
        current = {} if clear_filters else api.call("GET", sub_path).json()["filters"]
        changes["filters"] = {**current, **filters}
    if not changes:
        raise click.UsageError("Nothing to change: give --url, --description, --event-type, --enable/--disable "
                               "or filter options.")  # fmt: skip
    click.echo(fmt.subscription(api.call("PATCH", sub_path, json=changes).json()))


@subscriptions.command()
@click.argument("sub_id")
@click.pass_obj
def delete(apis: Apis, sub_id: str) -> None:
    """Delete a subscription."""
    apis.publish().call("DELETE", path("/v1/subscriptions", sub_id))
    click.echo(f"deleted {sub_id}")


@subscriptions.command("rotate-secret")
@click.argument("sub_id")
@click.pass_obj
def rotate_secret(apis: Apis, sub_id: str) -> None:
    """Issue a new signing secret.

    The old secret keeps signing (a second signature) for a grace period."""
    sub = apis.publish().call("POST", path("/v1/subscriptions", sub_id, "rotate-secret")).json()
    click.echo(fmt.subscription(sub))


@click.command()
@click.argument("sub_id")
@click.option("--status", type=click.Choice(fmt.DELIVERY_STATUSES), help="Only deliveries in this state.")
@click.option("--limit", type=click.IntRange(1, 200), default=20, show_default=True)
@click.option("--cursor", help="The cursor printed under the previous page.")
@click.pass_obj
def deliveries(apis: Apis, sub_id: str, status: str | None, limit: int, cursor: str | None) -> None:
    """The delivery log of a subscription, newest first."""
    params = {"limit": limit, **({"status": status} if status else {}), **({"cursor": cursor} if cursor else {})}
    page = apis.publish().call("GET", path("/v1/subscriptions", sub_id, "deliveries"), params=params).json()
    click.echo(fmt.deliveries(page["items"]) if page["items"] else "no deliveries")
    if page["next_cursor"]:
        click.echo(f"more: newsflow deliveries {sub_id} --cursor {page['next_cursor']}", err=True)


@click.command()
@click.argument("delivery_id")
@click.pass_obj
def redeliver(apis: Apis, delivery_id: str) -> None:
    """Attempt a delivery once more, now.

    The attempt carries the same webhook-id, so receivers can drop it if they already have it."""
    delivery = apis.publish().call("POST", path("/v1/deliveries", delivery_id, "redeliver")).json()
    click.echo(f"{delivery['id']}: one more attempt queued (status {delivery['status']}, same webhook-id)")


@click.command()
@click.argument("sub_id")
@click.option("--since", type=Since(), required=True, help="2h, 7d or an ISO 8601 time (no zone = UTC).")
@click.option("--until", type=Since(), help="Same forms; default: now.")
@click.pass_obj
def replay(apis: Apis, sub_id: str, since: str, until: str | None) -> None:
    """Re-send articles published in a time window.

    Every article published in the window that the subscription matches goes out again as a new
    delivery (a new webhook-id), oldest first."""
    body = {"since": since, **({"until": until} if until else {})}
    result = apis.publish().call("POST", path("/v1/subscriptions", sub_id, "replay"), json=body).json()
    click.echo(f"replay {result['replay_id']}: {result['count']} articles queued for {sub_id}")
    if result["capped"]:
        click.echo(f"capped; continue with: newsflow replay {sub_id} --since {result['next_since']}", err=True)
