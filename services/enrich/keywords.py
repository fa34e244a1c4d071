"""Keywords of an article with YAKE (pure, no network, no model): the most telling one- and two-word phrases.

YAKE scores candidate n-grams by statistics of the text alone (position, frequency, spread, case, context), with a
stop-word list per language. On top of it, for a reader:

- each line that does not end a sentence (a headline, a caption) is closed first, so no phrase straddles two lines;
- a keyword is a whole name or keeps apart from names: a phrase that cuts a name or glues it to the words around it
  ("State Anthony" in "Secretary of State Anthony Blinken", "John Pombe" of "John Pombe Magufuli", "Ramaphosa met")
  is dropped unless the text also uses it on its own. The names are the entities spaCy found where the language has
  a model, else the runs of capitalised words;
- one keyword per concept: a candidate sharing a word with a better one is dropped ("air strike", not also
  "NATO air" and "strike killed") or another form of its word ("chips" after "chip"), as are numbers alone and,
  in English, day and month names alone;
- the case is the text's own: lower-case when the text writes the phrase so ("oil", not "Oil" from a headline),
  else its usual capitalised form ("Janet Jackson", "NATO").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence, Set
from functools import cache

import yake

MAX_NGRAM = 2  # two-word phrases: three-word ones mostly glue two names together ("Minister Malcolm Turnbull")
MAX_CHARS = 8_000  # the top of a news story holds its keywords; YAKE's time grows with the length
CANDIDATES_PER_KEYWORD = 4  # YAKE candidates read for each keyword wanted, before the overlapping ones are dropped
YAKE_TOP = 40  # YAKE candidates at most: enough for 10 keywords; a larger limit picks from the same 40

# Languages with a stop-word list in YAKE, by YAKE's file name (ISO 639-1 but "cz" and "no").
YAKE_LANGUAGES = frozenset(
    "ar bg br cz da de el en es et fa fi fr hi hr hu hy id it ja lt lv nl no pl pt ro ru sk sl sv tr uk zh".split()
)
_ALIASES = {"cs": "cz", "nb": "no", "nn": "no"}
# Written without spaces between words: YAKE cannot find the words, so it gives whole sentences.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})
# Any other language: YAKE's language-agnostic mode (no stop-word list; its context features still rank function
# words low). Not "noLang": YAKE reads the first two letters, which would be Norwegian.
_NO_LIST = "xx"

# Day and month names alone say when, not what (English only: the one language the pipeline knows well).
_CALENDAR = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july august "
    "september october november december jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_SENTENCE_END = re.compile(r"[.!?:;…\"'”’»)\]]\s*$")
_EDGES = re.compile(r"^\W+|\W+$")
_WORD = re.compile(r"[^\W_][\w'’-]*")
_SPACES = re.compile(r"[ \t]+")

Span = tuple[int, int]  # start and end character offsets in the text


def yake_language(language: str) -> str:
    """The YAKE language to use for an ISO 639-1 code: its own list, or the language-agnostic mode."""
    code = _ALIASES.get(language.lower(), language.lower())
    return code if code in YAKE_LANGUAGES else _NO_LIST


@cache  # one per YAKE language at most: a bounded set
def extractor(yake_lang: str) -> yake.KeywordExtractor:
    return yake.KeywordExtractor(lan=yake_lang, n=MAX_NGRAM, dedup_lim=0.9, top=YAKE_TOP)


def close_lines(text: str) -> str:
    """End every line that does not end a sentence with a full stop: YAKE joins lines before splitting sentences."""
    return "\n".join(
        line.rstrip() + "." if line.strip() and not _SENTENCE_END.search(line) else line for line in text.splitlines()
    )


def text_case(keyword: str, text: str) -> str:
    """The keyword as the text writes it: lower-case if it ever does, else its most common form, capitals last."""
    forms = Counter(" ".join(text[start:end].split()) for start, end in _occurrences(keyword, text))
    if not forms:
        return keyword
    if keyword.lower() in forms:
        return keyword.lower()
    return max(forms, key=lambda form: (not form.isupper(), forms[form]))


def _occurrences(phrase: str, text: str) -> list[Span]:
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
    return [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]


def capitalised_runs(text: str, stop_words: Set[str] = frozenset()) -> list[Span]:
    """The runs of capitalised words on one line ("State Anthony Blinken"): the names, when no model finds them.
    A stop word is in none ("The" opening a sentence)."""
    runs: list[Span] = []
    for word in _WORD.finditer(text):
        if not word.group()[0].isupper() or word.group().lower() in stop_words:
            continue
        if runs and _SPACES.fullmatch(text[runs[-1][1] : word.start()]):
            runs[-1] = (runs[-1][0], word.end())
        else:
            runs.append(word.span())
    return runs


def keeps_to_names(phrase: str, text: str, names: Sequence[Span]) -> bool:
    """Whether `phrase`, somewhere in `text`, is exactly a name or overlaps none."""
    return any(
        all(span == name or span[1] <= name[0] or name[1] <= span[0] for name in names)
        for span in _occurrences(phrase, text)
    )


def same_word(a: str, b: str) -> bool:
    """Crudely, two forms of one word (chip/chips, announces/announced): sharing all but their last letters."""
    if a == b:
        return True
    shorter = min(len(a), len(b))
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), shorter)
    return abs(len(a) - len(b)) <= 2 and common >= max(4, shorter - 1)


def _wanted(words: list[str], taken: set[str], language: str) -> bool:
    if not words or any(len(w) < 2 or not any(c.isalpha() for c in w) for w in words):
        return False
    if language == "en" and len(words) == 1 and words[0] in _CALENDAR:
        return False
    return not any(same_word(w, t) for w in words for t in taken)


def keywords(text: str, language: str, limit: int = 10, names: Sequence[Span] | None = None) -> list[str]:
    """Up to `limit` keywords of `text` (in `language`, ISO 639-1), best first; [] when YAKE cannot split words.

    `names`: where the names are in `text` (spaCy's entities); by default its runs of capitalised words."""
    if limit <= 0 or not text.strip() or language.lower() in UNSPACED_LANGUAGES:
        return []
    text = text[:MAX_CHARS]
    kw = extractor(yake_language(language))
    names = capitalised_runs(text, kw.stopword_set) if names is None else names
    picked: list[str] = []
    taken: set[str] = set()
    for candidate, _score in kw.extract_keywords(close_lines(text))[: limit * CANDIDATES_PER_KEYWORD]:
        phrase = " ".join(word for w in candidate.split() if (word := _EDGES.sub("", w)))
        words = phrase.lower().split()
        if _wanted(words, taken, language.lower()) and keeps_to_names(phrase, text, names):
            picked.append(text_case(phrase, text))
            taken |= set(words)
            if len(picked) == limit:
                break
    return picked
