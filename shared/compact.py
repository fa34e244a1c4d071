"""Large values stored compressed (pure): zlib on what is over a threshold, plain UTF-8 below it.

A packed value is either the text itself (short JSON, which starts with `{`) or a zlib stream (which starts
with 0x78), so a reader needs no flag and values stored before compression read as they are. The store's Redis
client decodes replies with `surrogateescape` (shared/store.py `connect`), so a zlib stream comes back as a str
that encodes to the very same bytes.
"""

from __future__ import annotations

import zlib

COMPRESS_FROM = 512  # bytes: below this, zlib's header and a short text's poor ratio save next to nothing
LEVEL = 6


def pack(text: str) -> str | bytes:
    data = text.encode()
    return zlib.compress(data, LEVEL) if len(data) >= COMPRESS_FROM else text


def unpack(value: str | bytes | None) -> str | None:
    """The text `pack` was given, from what Redis gave back."""
    if value is None:
        return None
    data = value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value
    return zlib.decompress(data).decode() if data[:1] == b"\x78" else data.decode()
