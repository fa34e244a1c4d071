"""Language identification (pure): py3langid, a maintained, dependency-light port of langid.py."""

from __future__ import annotations

import py3langid


def detect_language(text: str) -> str:
    code, _score = py3langid.classify(text[:5000])
    return code
