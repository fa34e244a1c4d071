"""One webhook attempt, and when the next one is due (the retry policy is pure)."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

import aiohttp

from services.publish.ssrf import UnsafeAddress
from shared.times import iso

RESPONSE_EXCERPT_BYTES = 2048
# Statuses that ask the sender to slow down, as timeouts do: the retry waits at least the minimum backoff.
SLOW_DOWN_STATUSES = frozenset({429, 502, 503, 504})
OK, HTTP_ERROR, TIMEOUT, CONNECT_ERROR, BLOCKED = "ok", "http", "timeout", "connect", "blocked"


@dataclass(frozen=True)
class Attempt:
    at: str
    status_code: int | None
    duration_ms: int
    error: str | None
    response_excerpt: str
    # not part of the delivery log: what the retry policy needs
    kind: str = field(default=OK, compare=False)
    retry_after: str | None = field(default=None, compare=False)
    ended: float = field(default=0.0, compare=False)

    @property
    def succeeded(self) -> bool:
        return self.kind == OK

    def as_dict(self) -> dict:
        return {
            "at": self.at,
            "status_code": self.status_code,
            "duration_ms": self.duration_ms,
            "error": self.error,
            "response_excerpt": self.response_excerpt,
        }


async def post(
    client: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str], timeout_s: float
) -> Attempt:
    """POST once, never following redirects, reading at most 2 KB of the answer, all within `timeout_s`
    (so an attempt always ends well inside its delivery's lease). Every failure becomes an Attempt."""
    started = time.time()
    status, error, excerpt, retry_after, kind = None, None, b"", None, OK
    try:
        async with asyncio.timeout(timeout_s):
            async with client.post(url, data=body.encode(), headers=headers, allow_redirects=False) as response:
                status, retry_after = response.status, response.headers.get("retry-after")
                while len(excerpt) < RESPONSE_EXCERPT_BYTES and (
                    chunk := await response.content.read(RESPONSE_EXCERPT_BYTES - len(excerpt))
                ):
                    excerpt += chunk
        if not 200 <= status < 300:
            kind, error = (
                HTTP_ERROR,
                f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else ""),
            )
    except UnsafeAddress as exc:
        kind, error = BLOCKED, str(exc)
    except TimeoutError:
        kind, error = TIMEOUT, f"timed out after {timeout_s:g} s"
    except (aiohttp.ClientError, OSError) as exc:
        kind, error = CONNECT_ERROR, f"{type(exc).__name__}: {exc}"
    ended = time.time()
    text = excerpt[:RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")
    return Attempt(iso(started), status, round((ended - started) * 1000), error, text, kind, retry_after, ended)


def retry_delay(attempts_made: int, schedule: tuple[float, ...], rng: random.Random = random) -> float | None:
    """Seconds until the next attempt (±20 % jitter), or None when the schedule is used up."""
    if attempts_made > len(schedule):
        return None
    return schedule[attempts_made - 1] * rng.uniform(0.8, 1.2)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def next_delay(
    attempt: Attempt,
    attempts_made: int,
    schedule: tuple[float, ...],
    min_backoff_s: float,
    rng: random.Random = random,
) -> float | None:
    """Seconds from the end of a failed attempt to the next one, or None when no retry is left.

    The schedule entry (with jitter) is the base. A Retry-After is honoured within [base, 2 × base], so a
    receiver can slow us down but neither speed us up nor park a delivery for hours. 429, 502, 503, 504 and
    timeouts wait at least `min_backoff_s`."""
    scheduled = retry_delay(attempts_made, schedule, rng)
    if scheduled is None:
        return None
    delay = scheduled
    asked = parse_retry_after(attempt.retry_after, attempt.ended or time.time())
    if asked is not None:
        delay = min(max(asked, scheduled), 2 * scheduled)
    if attempt.kind == TIMEOUT or attempt.status_code in SLOW_DOWN_STATUSES:
        delay = max(delay, min_backoff_s)
    return delay
