"""The `newsflow` command line: a client of the ingest and publish HTTP APIs."""

import click


@click.group()
def cli() -> None:
    """Drive a running Newsflow over its HTTP APIs."""
