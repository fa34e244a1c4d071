"""The contracts between the services, spelled out once: Celery tasks and their arguments, article states,
delivery statuses and webhook event types. Every service, script and test names them from here; the Lua
scripts get them formatted in (shared/store.py). Values are plain strings: they are what Redis, the broker, the
JSON APIs and the webhooks carry, so changing one breaks a running deployment (docs/operations.md,
"Compatibility rules")."""

from __future__ import annotations


class Task:
    """Celery task names. Messages carry ids, never articles."""

    ENRICH_ARTICLE = "enrich.article"  # (article_id: str, version: int), queue enrich
    SWEEP = "ops.sweep"  # (), queue ops: sent by the scheduler's beat
    # The previous release's messages, still consumed for one release and sent by nothing in this one:
    PUBLISH_ARTICLE = "publish.article"  # (article_id: str, version: int), queue publish
    PUBLISH_DELIVER = "publish.deliver"  # (delivery_id: str), queue deliver
    PUBLISH_POLL_DUE = "publish.poll_due"  # (), queue publish


# publish.deliver and publish.poll_due have no route here: nothing sends them now, and the previous release's
# messages wait in `deliver` and `publish`, both consumed by publish-worker (Procfile). QUEUES are the queues whose
# depth the console and the metrics show: `deliver` among them, so an upgrade shows when its old messages are gone.
TASK_QUEUES = {Task.ENRICH_ARTICLE: "enrich", Task.PUBLISH_ARTICLE: "publish", Task.SWEEP: "ops"}
QUEUES = ("enrich", "publish", "ops", "deliver")


class ArticleState:
    """Where an article's current version is: received -> enriching -> enriched -> published, or failed."""

    RECEIVED = "received"
    ENRICHING = "enriching"
    ENRICHED = "enriched"
    PUBLISHED = "published"
    FAILED = "failed"
    ALL = (RECEIVED, ENRICHING, ENRICHED, PUBLISHED, FAILED)
    FINAL = frozenset({PUBLISHED, FAILED})


class DeliveryStatus:
    """Where a webhook delivery is: pending -> (retrying ->) succeeded or failed."""

    PENDING = "pending"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ALL = (PENDING, RETRYING, SUCCEEDED, FAILED)
    FINAL = frozenset({SUCCEEDED, FAILED})


class EventType:
    """A webhook body's `type`."""

    PUBLISHED = "article.published"  # the first published version of an article
    UPDATED = "article.updated"  # a later version of an article already published
    TEST = "article.test"  # the sample event a subscriber asks for; never in a delivery log
    SUBSCRIBABLE = (PUBLISHED, UPDATED)
