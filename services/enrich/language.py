"""Language identification (pure): py3langid, a maintained, dependency-light port of langid.py, calibrated for news.

py3langid alone is right on whole articles but not on a 20-word item, where a few names decide: an English item about
Tanzania's president comes out Swahili, others Nigerian Pidgin. So:

- the candidates are the languages an article's `language` can name (ISO 639-1) and someone writes news in: not
  py3langid's codes outside ISO 639-1 (Pidgin `pcm`, `zxx` "no language", Arabic dialects...), not Latin, Esperanto,
  Volapük or Sanskrit;
- capitalised words weigh half as much as the others (the others are read twice): they are mostly names, which are
  spelt the same in every language and tell the model where the story happens, not which language tells it;
- the answer is py3langid's normalised probability; below `MIN_CONFIDENCE` (more likely wrong than right) the text is
  too short or mixed to tell, and the deployment's usual language, `ENRICH_DEFAULT_LANGUAGE`, is the better guess.
"""

from __future__ import annotations

import os
from functools import cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from shared.config import DEFAULTS, ConfigError

MAX_CHARS = 5_000  # the top of an article says its language as well as the whole; the time grows with the length
MIN_CONFIDENCE = 0.5  # a priori, not fitted: below it the detected language is more likely wrong than right
NOT_NEWS = frozenset({"la", "eo", "vo", "sa"})  # classical and constructed languages


@cache  # one classifier per process: loading the model takes about 2 s
def identifier() -> LanguageIdentifier:
    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    ident.set_languages([code for code in ident.labels if len(code) == 2 and code not in NOT_NEWS])
    return ident


def candidates() -> frozenset[str]:
    """The languages `detect_language` may answer."""
    return frozenset(identifier().nb_classes)


def default_language() -> str:
    code = (os.environ.get("ENRICH_DEFAULT_LANGUAGE") or DEFAULTS["ENRICH_DEFAULT_LANGUAGE"] or "").strip().lower()
    if code not in candidates():
        raise ConfigError(f"ENRICH_DEFAULT_LANGUAGE must be an ISO 639-1 code py3langid knows, got {code!r}")
    return code


def names_weigh_half(text: str) -> str:
    """`text` after its words that do not start with a capital letter: the capitalised ones (names) count once."""
    words = [word for word in text.split() if not word[:1].isupper()]
    return f"{' '.join(words)}\n{text}" if words else text


def detect_language(text: str) -> str:
    """The ISO 639-1 code of `text`'s language; `ENRICH_DEFAULT_LANGUAGE` when the text is too short to tell."""
    code, probability = identifier().classify(names_weigh_half(text[:MAX_CHARS]))
    return code if probability >= MIN_CONFIDENCE else default_language()
