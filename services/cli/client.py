"""The one place the CLI talks HTTP: bearer key, waiting out 429/503, failures turned into exit codes."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import click
import httpx

from services.cli.results import problem_message, retry_after_s

EXIT_UNREACHABLE = 3
BUSY_STATUSES = (429, 503)
MAX_ATTEMPTS = 10
MAX_WAIT_S = 60.0
TIMEOUT_S = 60.0


class ApiError(click.ClickException):
    """The API answered with an error (exit 1)."""


class Unreachable(click.ClickException):
    exit_code = EXIT_UNREACHABLE


@dataclass(frozen=True)
class Endpoint:
    """One API: `name` ("ingest" or "publish") names its flags (--ingest-url, --ingest-key) and
    environment variables (INGEST_URL, INGEST_API_KEY)."""

    name: str
    url: str
    key: str | None

    @property
    def url_source(self) -> str:
        return f"{self.name.upper()}_URL (or --{self.name}-url)"

    @property
    def key_source(self) -> str:
        return f"{self.name.upper()}_API_KEY (or --{self.name}-key)"


class Api:
    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        headers = {"Authorization": f"Bearer {endpoint.key}"} if endpoint.key else {}
        self._http = httpx.Client(base_url=endpoint.url, headers=headers, timeout=TIMEOUT_S)

    def send(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The response, whatever its status, after waiting out 429/503 (Retry-After) up to MAX_ATTEMPTS
        times; a wrong key (401) and an unreachable API end the command here."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            response = self._request(method, path, **kwargs)
            if response.status_code not in BUSY_STATUSES or attempt == MAX_ATTEMPTS:
                break
            wait = min(retry_after_s(response.headers.get("Retry-After")), MAX_WAIT_S)
            click.echo(f"{self.endpoint.name} answered {response.status_code}; retrying in {wait:g} s", err=True)
            time.sleep(wait)
        if response.status_code == 401:
            raise ApiError(f"{self.endpoint.name} refused the API key (401): check {self.endpoint.key_source}.")
        return response

    def call(self, method: str, path: str, **kwargs) -> httpx.Response:
        """The response if it is a 2xx; otherwise the API's error, readably, as ApiError."""
        response = self.send(method, path, **kwargs)
        if not response.is_success:
            raise ApiError(error_message(response))
        return response

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(
                f"Cannot connect to the {self.endpoint.name} API at {self.endpoint.url} ({exc}). "
                f"Is Newsflow running (make run)? Set {self.endpoint.url_source} to its address."
            ) from None
        except httpx.TransportError as exc:
            raise ApiError(f"{self.endpoint.name} API at {self.endpoint.url}: {exc or type(exc).__name__}") from None


def error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return problem_message(response.status_code, body)


def path(*parts: str) -> str:
    """An API path with each user-given part escaped: `path("/v1/articles", article_id)`."""
    return "/".join([parts[0], *(quote(part, safe="") for part in parts[1:])])


@dataclass(frozen=True)
class Apis:
    """The two APIs as the command line configured them; a client is made (and its key checked) on use."""

    ingest_endpoint: Endpoint
    publish_endpoint: Endpoint

    def ingest(self, needs_key: bool = True) -> Api:
        return _api(self.ingest_endpoint, needs_key)

    def publish(self) -> Api:
        return _api(self.publish_endpoint, True)


def _api(endpoint: Endpoint, needs_key: bool) -> Api:
    if needs_key and not endpoint.key:
        raise click.UsageError(f"No {endpoint.name} API key: set {endpoint.key_source}.")
    return Api(endpoint)
