"""IPTC Media Topics from cue words (pure). A first, lexicon-based version."""

from __future__ import annotations

from collections import Counter

IPTC_URI = "http://cv.iptc.org/newscodes/mediatopic/"

# code -> (IPTC label, cue lemmas)
TOP_LEVEL: dict[str, tuple[str, frozenset[str]]] = {
    "01000000": ("arts, culture, entertainment and media", frozenset(
        "film movie music album song singer artist actor actress museum festival theatre novel book concert "
        "television tv series celebrity media newspaper broadcaster exhibition".split())),
    "02000000": ("crime, law and justice", frozenset(
        "police arrest court judge trial crime criminal murder prison jail lawsuit prosecutor charge "
        "convict sentence lawyer fraud theft investigation suspect".split())),
    "03000000": ("disaster, accident and emergency incident", frozenset(
        "earthquake flood fire wildfire crash accident disaster explosion rescue victim collapse tsunami "
        "hurricane evacuate emergency casualty".split())),
    "04000000": ("economy, business and finance", frozenset(
        "economy economic market business company bank investor stock share price inflation profit revenue "
        "trade tax finance financial growth gdp industry".split())),
    "05000000": ("education", frozenset(
        "school university student teacher education college pupil exam curriculum campus degree".split())),
    "06000000": ("environment", frozenset(
        "climate environment emission pollution carbon wildlife conservation renewable forest biodiversity "
        "environmental plastic".split())),
    "07000000": ("health", frozenset(
        "health hospital doctor patient disease virus vaccine covid medical medicine cancer pandemic "
        "infection nurse treatment".split())),
    "08000000": ("human interest", frozenset(
        "anniversary birthday celebrate wedding animal pet record oldest royal".split())),
    "09000000": ("labour", frozenset(
        "worker job employment unemployment union strike wage salary labour labor employee employer".split())),
    "10000000": ("lifestyle and leisure", frozenset(
        "travel tourism food restaurant recipe fashion holiday hobby leisure lifestyle".split())),
    "11000000": ("politics", frozenset(
        "election government minister president parliament vote party politics political policy senator "
        "congress diplomat diplomatic campaign law legislation prime secretary".split())),
    "12000000": ("religion", frozenset(
        "church religion religious pope mosque muslim christian faith god bishop temple".split())),
    "13000000": ("science and technology", frozenset(
        "science scientist research technology software computer internet space nasa study researcher "
        "ai robot satellite".split())),
    "14000000": ("society", frozenset(
        "community family rights woman girl minority immigration migrant refugee poverty welfare "
        "discrimination".split())),
    "15000000": ("sport", frozenset(
        "match game team player coach league cup championship tournament goal score football soccer tennis "
        "olympic season win".split())),
    "16000000": ("conflict, war and peace", frozenset(
        "war military troop army attack soldier conflict peace weapon missile bomb militant terrorist "
        "terrorism taliban rebel ceasefire extremist".split())),
    "17000000": ("weather", frozenset(
        "weather rain snow storm temperature forecast heatwave wind drought".split())),
}


def subjects(lemmas: list[str], keep_ratio: float = 0.4) -> list[dict]:
    """Top-level topics whose cue count reaches `keep_ratio` of the best one, best first."""
    counts = Counter()
    for lemma in lemmas:
        for code, (_, cues) in TOP_LEVEL.items():
            if lemma in cues:
                counts[code] += 1
    if not counts:
        return []
    best = max(counts.values())
    return [
        {"name": TOP_LEVEL[code][0], "uri": IPTC_URI + code, "code": f"medtop:{code}",
         "relevance": round(100 * n / best)}
        for code, n in counts.most_common() if n >= keep_ratio * best
    ]
