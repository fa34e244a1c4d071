"""API objects as text for a terminal: tables, key/value blocks, a webhook event. Pure."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from shared.contracts import DeliveryStatus

# the delivery statuses in the order the subscriptions table shows them
DELIVERY_STATUSES = (DeliveryStatus.SUCCEEDED, DeliveryStatus.RETRYING, DeliveryStatus.PENDING, DeliveryStatus.FAILED)
ENTITY_KINDS = ("people", "organisations", "places")


MAX_CELL = 60


def cell_text(value: object) -> str:
    """None as '-', anything longer than MAX_CELL cut with an ellipsis."""
    text = "-" if value is None else str(value)
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned columns as wide as their widest cell (at most MAX_CELL)."""
    cells = [list(header), *[[cell_text(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def fields(pairs: Sequence[tuple[str, object]]) -> str:
    """'name   value' lines, skipping empty values."""
    shown = [(name, value) for name, value in pairs if value not in (None, "", [], {})]
    width = max(len(name) for name, _ in shown)
    return "\n".join(f"{name.ljust(width)}  {value}" for name, value in shown)


def article_status(status: dict) -> str:
    return fields(
        [
            ("id", status["id"]),
            ("status", status["status"]),
            ("version", status["version"]),
            ("received", status.get("received_at")),
            ("updated", status.get("updated_at")),
            ("error", status.get("error")),
        ]
    )


def filters_text(filters: dict) -> str:
    return "; ".join(f"{name}: {', '.join(values)}" for name, values in filters.items() if values) or "everything"


def subscription(sub: dict) -> str:
    health = sub.get("health") or {}
    return fields(
        [
            ("id", sub["id"]),
            ("url", sub["url"]),
            ("description", sub.get("description")),
            ("enabled", "yes" if sub["enabled"] else f"no ({sub.get('disabled_reason') or 'disabled'})"),
            ("events", ", ".join(sub.get("event_types", []))),
            ("filters", filters_text(sub.get("filters") or {})),
            ("circuit", health.get("circuit")),
            ("paused until", health.get("paused_until")),
            ("last success", health.get("last_success_at")),
            ("failing since", health.get("failing_since")),
            ("old secret until", sub.get("previous_secret_expires_at")),
            ("secret", sub.get("secret")),
        ]
    )


def subscriptions(items: list[dict]) -> str:
    rows = [
        [s["id"], "yes" if s["enabled"] else "no", (s.get("health") or {}).get("circuit"), s["url"],
         filters_text(s.get("filters") or {})]
        for s in items
    ]  # fmt: skip
    return table(["ID", "ENABLED", "CIRCUIT", "URL", "FILTERS"], rows)


def last_attempt(delivery: dict) -> str | None:
    if not delivery["attempts"]:
        return None
    attempt = delivery["attempts"][-1]
    return f"{attempt['at']} {attempt.get('error') or attempt.get('status_code')}"


def deliveries(items: list[dict]) -> str:
    rows = [
        [d["id"], d["status"], d["event_type"], d["article_id"], len(d["attempts"]), last_attempt(d),
         d.get("next_attempt_at")]
        for d in items
    ]  # fmt: skip
    return table(["ID", "STATUS", "EVENT", "ARTICLE", "ATTEMPTS", "LAST ATTEMPT", "NEXT ATTEMPT"], rows)


def webhook_event(payload: dict, webhook_id: str, full: bool = False) -> str:
    """A verified webhook as a subscriber would want to skim it, or (`full`) its whole body."""
    verified = f"{payload['type']}  {webhook_id}  (signature verified)"
    if full:
        return f"{verified}\n{json.dumps(payload, indent=2, ensure_ascii=False)}"
    article, extra = payload["data"], payload.get("enrichment") or {}
    headline = next((h["value"] for h in article.get("headlines", []) if h.get("role") == "main"), "(no headline)")
    summary = next((d["value"] for d in article.get("descriptions", []) if d.get("role") == "summary"), None)
    sources = ", ".join(source["name"] for source in article.get("infosources", [])) or None
    words = sum(body.get("wordcount", 0) for body in article.get("bodies", []))
    lines = [
        verified,
        f"  {headline}",
        f"  {article.get('uri')} v{article.get('version')}  language: {article.get('language')}  "
        f"source: {sources}  words: {words}",
    ]
    if summary:
        lines.append(f"  summary: {summary}")
    for kind in ENTITY_KINDS:
        lines.append(f"  {kind}: {', '.join(e['name'] for e in article.get(kind, [])) or '-'}")
    subjects = ", ".join(f"{s['name']} ({s['literal']})" for s in article.get("subjects", []))
    lines.append(f"  subjects: {subjects or '-'}")
    lines.append(f"  keywords: {', '.join(extra.get('keywords', [])) or '-'}")
    return "\n".join(lines)


def delivery_counts(items: list[dict]) -> Counter:
    return Counter(d["status"] for d in items)


def stats(
    states: dict[str, int], published: str, since: str, subs: list[dict], recent: dict[str, list[dict]], limit: int
) -> str:
    """The at-a-glance view: articles by state (when ingest's /metrics has them), articles published
    since then, and per subscription the statuses of its newest deliveries (`recent`: subscription
    id → at most `limit` deliveries)."""
    enabled = sum(1 for s in subs if s["enabled"])
    lines = ["articles: " + ", ".join(f"{state} {count}" for state, count in states.items())] if states else []
    lines += [f"published since {since}: {published}", f"subscriptions: {len(subs)} ({enabled} enabled)"]
    if subs:
        rows = []
        for s in subs:
            counts = delivery_counts(recent[s["id"]])
            health = s.get("health") or {}
            rows.append(
                [s["id"], "yes" if s["enabled"] else "no", health.get("circuit"),
                 *(counts[status] for status in DELIVERY_STATUSES), health.get("last_success_at")]
            )  # fmt: skip
        header = ["SUBSCRIPTION", "ENABLED", "CIRCUIT", *(s.upper() for s in DELIVERY_STATUSES), "LAST SUCCESS"]
        lines += ["", f"deliveries, the newest {limit} of each subscription:", table(header, rows)]
    return "\n".join(lines)
