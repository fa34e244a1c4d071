"""Files to articles, as `newsflow submit` sends them: pure, no HTTP. A file the CLI cannot read or
parse becomes an Item with an error (reported as rejected), never an exception."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".html", ".htm", ".json", ".jsonl")
_TITLE_TAG = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Item:
    """One article to send, or why there is none; `origin` says where it came from (file, file:line)."""

    origin: str
    article: dict | None = None
    error: str | None = None


def collect_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the supported files under the folders named, recursively and sorted.
    A file named explicitly is kept whatever its suffix, so an unsupported one is reported, not skipped."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES))
        else:
            files.append(path)
    return files


def read_items(path: Path) -> list[Item]:
    origin = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        return [Item(origin, error=f"unsupported file type; use one of {', '.join(SUFFIXES)}")]
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Item(origin, error=f"cannot read: {exc}")]
    if suffix == ".txt":
        return [_item(origin, article_from_text(text))]
    if suffix in (".html", ".htm"):
        return [Item(origin, article_from_html(text, path.stem))]
    if suffix == ".json":
        return items_from_json(origin, text)
    return items_from_jsonl(origin, text)


def article_from_text(text: str) -> dict | str:
    """title = the first non-empty line, body = the whole text; or why that is impossible."""
    title = next((line.strip() for line in text.splitlines() if line.strip()), None)
    return {"title": title, "body": text} if title else "empty file"


def article_from_html(markup: str, fallback_title: str) -> dict:
    """title = the document's <title> (or the file name), html = the whole document."""
    match = _TITLE_TAG.search(markup)
    title = " ".join(html.unescape(match.group(1)).split()) if match else ""
    return {"title": title or fallback_title, "html": markup}


def items_from_json(origin: str, text: str) -> list[Item]:
    """One article object, or a list of them (each reported as file[index])."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return [Item(origin, error=f"invalid JSON: {exc}")]
    if isinstance(data, list):
        return [_item(f"{origin}[{index}]", _object(value)) for index, value in enumerate(data)]
    return [_item(origin, _object(data))]


def items_from_jsonl(origin: str, text: str) -> list[Item]:
    """One article object per non-blank line (each reported as file:line)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(_item(f"{origin}:{number}", _object(json.loads(line))))
        except ValueError as exc:
            items.append(Item(f"{origin}:{number}", error=f"invalid JSON: {exc}"))
    return items


_JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def _object(value: object) -> dict | str:
    if isinstance(value, dict):
        return value
    return f"expected a JSON object, got {_JSON_TYPES.get(type(value), 'null')}"


def _item(origin: str, parsed: dict | str) -> Item:
    return Item(origin, parsed) if isinstance(parsed, dict) else Item(origin, error=parsed)
