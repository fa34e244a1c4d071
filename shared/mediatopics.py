"""The IPTC Media Topics Newsflow tags articles with (`mediatopics.json`): each code's English label and, for a
second-level topic, its parent. Enrich chooses among them (services/enrich/topics.py); publish checks subscription
and feed filters against them."""

from __future__ import annotations

import json
from pathlib import Path

IPTC_URI = "http://cv.iptc.org/newscodes/mediatopic/"

_CATALOGUE: dict[str, dict[str, str]] = json.loads((Path(__file__).parent / "mediatopics.json").read_text("utf-8"))
NAMES: dict[str, str] = {code: topic["name"] for code, topic in _CATALOGUE.items()}
PARENTS: dict[str, str] = {code: topic["parent"] for code, topic in _CATALOGUE.items() if "parent" in topic}
TOP_LEVEL: dict[str, str] = {code: name for code, name in NAMES.items() if code not in PARENTS}
