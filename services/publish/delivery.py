"""One webhook attempt and what follows from its outcome."""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass

import httpx

from shared.store import iso

RESPONSE_EXCERPT_CHARS = 2048


@dataclass(frozen=True)
class Attempt:
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def as_dict(self) -> dict:
        return asdict(self)


def post(client: httpx.Client, url: str, body: str, headers: dict[str, str], timeout_s: float) -> Attempt:
    """POST once, never following redirects; every failure becomes an Attempt, never an exception."""
    started = time.time()
    status, error, excerpt = None, None, ""
    try:
        response = client.post(url, content=body.encode(), headers=headers, timeout=timeout_s, follow_redirects=False)
        status, excerpt = response.status_code, response.text[:RESPONSE_EXCERPT_CHARS]
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except httpx.TimeoutException:
        error = f"timed out after {timeout_s:g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return Attempt(iso(started), status, round((time.time() - started) * 1000), error, excerpt)


def retry_delay(attempts_made: int, schedule: tuple[float, ...], rng: random.Random = random) -> float | None:
    """Seconds until the next attempt (±20 % jitter), or None when the schedule is used up."""
    if attempts_made > len(schedule):
        return None
    return schedule[attempts_made - 1] * rng.uniform(0.8, 1.2)
