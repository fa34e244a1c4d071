"""Stable article ids and content fingerprints (pure)."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "ref_src"}
CONTENT_FIELDS = ("title", "body", "html")


def canonical_url(url: str) -> str:
    """Lower-cased scheme and host, no default port, fragment or tracking parameters, sorted query."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    )
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", urlencode(query), ""))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def content_hash(raw: dict) -> str:
    return _digest(json.dumps({k: raw.get(k) for k in CONTENT_FIELDS}, sort_keys=True))


def article_id(raw: dict) -> str:
    """From (source, external_id), else the canonical url, else the content; 32 hex chars."""
    if raw.get("external_id"):
        key = _digest("ext", raw["source"], raw["external_id"])
    elif raw.get("url"):
        key = _digest("url", canonical_url(raw["url"]))
    else:
        key = _digest("content", content_hash(raw))
    return key[:32]
