"""What the APIs answered, made readable: problem+json messages, batches, the submit summary. Pure."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from prometheus_client.parser import text_string_to_metric_families

from services.cli.articles import Item

ARTICLES_METRIC = "newsflow_articles"  # a gauge labelled by state, on ingest's /metrics
MAX_BATCH_ITEMS = 100  # the batch endpoint's limit
# Well under ingest's default INGEST_MAX_BYTES (1 MiB), so a batch of long articles is split, not refused.
MAX_BATCH_BYTES = 512 * 1024


def field_errors(errors: dict, prefix: str = "") -> list[str]:
    """problem+json `errors` (field → messages, nested for lists and objects) as 'field: message' lines."""
    lines = []
    for name, messages in errors.items():
        path = f"{prefix}{name}"
        if isinstance(messages, dict):
            lines.extend(field_errors(messages, f"{path}."))
        else:
            text = " ".join(messages) if isinstance(messages, list) else str(messages)
            lines.append(f"{path}: {text}")
    return lines


def problem_message(status: int, body: object) -> str:
    """An error response as one readable message: 'Title (status): detail' and one line per bad field."""
    if not isinstance(body, dict) or "title" not in body:
        return f"HTTP {status}" + (f": {str(body)[:200]}" if body else "")
    detail = body.get("detail")
    message = f"{body['title']} ({status})" + (f": {detail}" if detail and detail != body["title"] else "")
    return "\n".join([message, *(f"  {line}" for line in field_errors(body.get("errors") or {}))])


def article_states(metrics_text: str) -> dict[str, int]:
    """Articles by processing state from a Prometheus exposition; empty when it has no such gauge."""
    try:
        families = list(text_string_to_metric_families(metrics_text))
    except ValueError:
        return {}
    return {
        sample.labels["state"]: int(sample.value)
        for family in families
        if family.name == ARTICLES_METRIC
        for sample in family.samples
        if "state" in sample.labels
    }


def retry_after_s(value: str | None, now: datetime | None = None, default: float = 1.0) -> float:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - (now or datetime.now(UTC))).total_seconds())
    except (TypeError, ValueError):
        return default


def batches(
    items: list[Item], max_items: int = MAX_BATCH_ITEMS, max_bytes: int = MAX_BATCH_BYTES
) -> Iterator[list[Item]]:
    """Consecutive chunks of at most `max_items` articles and about `max_bytes` of JSON (a larger
    article goes alone, for the API to judge)."""
    chunk: list[Item] = []
    size = 0
    for item in items:
        item_size = len(json.dumps(item.article, ensure_ascii=False).encode())
        if chunk and (len(chunk) == max_items or size + item_size > max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += item_size
    if chunk:
        yield chunk


def _natural(text: str) -> list:
    """A sort key putting 'feed.jsonl:9' before 'feed.jsonl:10'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


@dataclass
class Summary:
    """Outcome of a submit: (origin, article id) per accepted or duplicate item, (origin, reason) per rejected."""

    accepted: list[tuple[str, str]] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def record(self, origin: str, result: dict) -> None:
        """One item of a batch response: 202 accepted, 200 duplicate, anything else rejected."""
        if result.get("status") == 202:
            self.accepted.append((origin, result["id"]))
        elif result.get("status") == 200:
            self.duplicates.append((origin, result["id"]))
        else:
            reasons = field_errors(result.get("errors") or {}) or [f"HTTP {result.get('status')}"]
            self.reject(origin, "; ".join(reasons))

    def reject(self, origin: str, reason: str) -> None:
        self.rejected.append((origin, reason))

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def lines(self, verbose: bool = False) -> list[str]:
        counts = f"{len(self.accepted)} accepted, {len(self.duplicates)} duplicate, {len(self.rejected)} rejected"
        listed = []
        if verbose:
            listed += [f"accepted   {origin}  {article_id}" for origin, article_id in self.accepted]
            listed += [f"duplicate  {origin}  {article_id}" for origin, article_id in self.duplicates]
        for origin, reason in sorted(self.rejected, key=lambda rejected: _natural(rejected[0])):
            first, *more = reason.splitlines()
            listed += [f"rejected   {origin}: {first}", *more]
        return [*listed, counts]
