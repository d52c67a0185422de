"""Place names in Russian and English: what the place filter accepts and what the interface shows.

Photos store the English names the offline reverse geocoder gives (GeoNames, `engine.geo.places`).
Other names come from:

- countries: CLDR through Babel, every ISO 3166 country in Russian and English ("Камбоджа",
  "Cambodia"), matched by country code, plus the colloquial names CLDR lacks ("США", "Англия",
  "Голландия", "USA", "Holland");
- cities: CLDR's exemplar cities (the ~420 time-zone cities, every capital and most big cities:
  "Париж", "Пномпень", "Нью-Йорк") and `RU_PLACES` below, Russian names of the big cities and
  regions families travel to that have no time zone of their own ("Санкт-Петербург", "Барселона",
  "Бали", "Крым").

Not covered: Russian names of smaller towns, suburbs and most regions. Those are found and shown
by their English (GeoNames) name only.
"""
from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache

from engine.geo.places import Place
from engine.i18n import LANGUAGES, Language
from engine.search import names as name_match
from engine.text import morph


RU_PLACES: dict[str, str] = {
    "Санкт-Петербург": "Saint Petersburg", "Петербург": "Saint Petersburg", "Питер": "Saint Petersburg",
    "Нижний Новгород": "Nizhniy Novgorod", "Казань": "Kazan", "Сочи": "Sochi", "Краснодар": "Krasnodar",
    "Ростов-на-Дону": "Rostov-na-Donu", "Анапа": "Anapa", "Геленджик": "Gelendzhik", "Ялта": "Yalta",
    "Севастополь": "Sevastopol", "Симферополь": "Simferopol", "Крым": "Crimea", "Карелия": "Karelia",
    "Алтай": "Altai", "Мурманск": "Murmansk",
    "Барселона": "Barcelona", "Милан": "Milan", "Венеция": "Venice", "Флоренция": "Florence",
    "Неаполь": "Naples", "Сицилия": "Sicily", "Тоскана": "Tuscany", "Мюнхен": "Munich",
    "Франкфурт": "Frankfurt am Main", "Гамбург": "Hamburg", "Дрезден": "Dresden", "Бавария": "Bavaria",
    "Ницца": "Nice", "Марсель": "Marseille", "Лион": "Lyon", "Женева": "Geneva", "Порту": "Porto",
    "Краков": "Kraków", "Эдинбург": "Edinburgh", "Манчестер": "Manchester", "Анталья": "Antalya",
    "Анталия": "Antalya", "Анкара": "Ankara", "Бодрум": "Bodrum", "Батуми": "Batumi",
    "Хургада": "Hurghada", "Шарм-эш-Шейх": "Sharm el-Sheikh", "Абу-Даби": "Abu Dhabi",
    "Тель-Авив": "Tel Aviv", "Лимасол": "Limassol", "Ларнака": "Larnaca", "Пафос": "Paphos",
    "Крит": "Crete", "Пхукет": "Phuket", "Паттайя": "Pattaya",
    "Чиангмай": "Chiang Mai", "Нячанг": "Nha Trang", "Ханой": "Hanoi", "Сиемреап": "Siem Reap",
    "Бали": "Bali", "Денпасар": "Denpasar", "Гоа": "Goa", "Дели": "Delhi", "Мумбаи": "Mumbai",
    "Пекин": "Beijing", "Гонконг": "Hong Kong", "Киото": "Kyoto", "Осака": "Osaka",
    "Сан-Франциско": "San Francisco", "Вашингтон": "Washington", "Бостон": "Boston", "Майами": "Miami",
    "Лас-Вегас": "Las Vegas", "Калифорния": "California", "Флорида": "Florida",
    "Рио-де-Жанейро": "Rio de Janeiro", "Марракеш": "Marrakesh",
    # CLDR has these, spelled unlike GeoNames
    "Нью-Йорк": "New York City", "Цюрих": "Zürich", "Рейкьявик": "Reykjavík", "Кишинёв": "Chisinau",
}
"""Russian names (nominative) -> the English name GeoNames stores for the city or region."""

COUNTRY_ALIASES: dict[str, str] = {
    "США": "US", "Штаты": "US", "Америка": "US", "Англия": "GB", "Британия": "GB", "Голландия": "NL",
    "Корея": "KR", "Южная Корея": "KR", "Белоруссия": "BY", "Эмираты": "AE", "Тайланд": "TH",
    "USA": "US", "America": "US", "UK": "GB", "England": "GB", "Britain": "GB",
    "Holland": "NL", "Czech Republic": "CZ", "Korea": "KR", "Russian Federation": "RU",
}
"""Colloquial country names people type that CLDR's standard names are not."""


@dataclass(frozen=True)
class PlaceQuery:
    """What one place filter value stands for: place names to compare (lowercase) and country codes."""

    names: frozenset[str]
    country_codes: frozenset[str]


class _NameIndex:
    """(item, name) pairs found by a whole text in any case form, looked up by its first word's lemmas."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._by_lemma: dict[str, list[tuple[str, str]]] = {}
        for item, name in items:
            words = name_match.tokens(name)
            for lemma in morph.lemmas(words[0].text) if words else ():
                self._by_lemma.setdefault(lemma, []).append((item, name))

    def whole(self, text: str) -> list[str]:
        """The items whose name is the whole text ("Камбодже" is Камбоджа, "Южной Корее" Южная Корея)."""
        words = name_match.tokens(text)
        candidates = {pair for lemma in (morph.lemmas(words[0].text) if words else ())
                      for pair in self._by_lemma.get(lemma, ())}
        return sorted({item for item, name in candidates if name_match.same_name(text, name)})


@dataclass(frozen=True)
class _Catalog:
    country_names: dict[str, dict[Language, str]]
    """Country code -> its CLDR name per language."""
    countries: _NameIndex
    """Country codes by a name in any language: CLDR's and the aliases."""
    cities: _NameIndex
    """English GeoNames names by a name in any language."""
    city_ru: dict[str, str]
    """Folded English name -> the Russian name."""
    names_of: dict[str, list[str]]
    """A country code or a folded English city name -> every name it has in the catalog."""


_lock = threading.Lock()
_catalog_value: _Catalog | None = None


def _exemplar_cities() -> Iterable[tuple[str, str]]:
    """(English, Russian) of CLDR's time-zone exemplar cities."""
    from babel import Locale
    from babel.core import get_global

    ru, en = Locale("ru").time_zones, Locale("en").time_zones
    for zone in get_global("zone_territories"):
        if zone.startswith(("Etc/", "Antarctica/")):
            continue
        russian = ru.get(zone, {}).get("city")
        english = en.get(zone, {}).get("city") or zone.rsplit("/", 1)[-1].replace("_", " ")
        if russian:
            yield english, russian


def _catalog() -> _Catalog:
    global _catalog_value
    with _lock:
        if _catalog_value is None:
            from babel import Locale

            territories = {lang: Locale(lang).territories for lang in LANGUAGES}
            country_names = {code: {lang: territories[lang][code] for lang in LANGUAGES if code in territories[lang]}
                             for code in territories["en"] if len(code) == 2 and code.isalpha() and code != "ZZ"}
            countries = [(code, name) for code, names in country_names.items() for name in names.values()]
            countries += [(code, alias) for alias, code in COUNTRY_ALIASES.items()]
            pairs = [*_exemplar_cities(), *((en, ru) for ru, en in RU_PLACES.items())]
            cities = [(en, name) for en, ru in pairs for name in (en, ru)]
            city_ru: dict[str, str] = {}
            for en, ru in pairs:
                city_ru.setdefault(morph.fold(en), ru)
            names_of: dict[str, list[str]] = {}
            for key, name in [*countries, *((morph.fold(en), name) for en, name in cities)]:
                names_of.setdefault(key, []).append(name)
            _catalog_value = _Catalog(country_names, _NameIndex(countries), _NameIndex(cities), city_ru, names_of)
        return _catalog_value


@lru_cache(maxsize=1024)
def resolve(name: str) -> PlaceQuery:
    """A place filter value in either language -> the stored names (lowercase, as SQL's lower()
    spells them) and country codes it means. The value itself always counts (regions, suburbs,
    any GeoNames name typed in English)."""
    catalog = _catalog()
    name = name.strip()
    codes = set(catalog.countries.whole(name))
    if len(name) == 2 and name.isalpha():
        codes.add(name.upper())
    names = {name.lower(), *(en.lower() for en in catalog.cities.whole(name))}
    return PlaceQuery(frozenset(names), frozenset(codes))


def is_place(word: str) -> bool:
    """Is this a country or city name the catalog knows, in any case form ("Лондоне", "London")?"""
    catalog = _catalog()
    return bool(catalog.countries.whole(word) or catalog.cities.whole(word))


def resolve_all(values: Iterable[str]) -> PlaceQuery:
    queries = [resolve(v) for v in values]
    return PlaceQuery(frozenset().union(*(q.names for q in queries)),
                      frozenset().union(*(q.country_codes for q in queries)))


def country_name(code: str | None, lang: Language, fallback: str | None = None) -> str | None:
    """A country's CLDR name in `lang` ("KH", "ru" -> "Камбоджа"); `fallback` when the code is unknown."""
    if not code:
        return fallback
    return _catalog().country_names.get(code.upper(), {}).get(lang) or fallback


def city_name(name: str | None, lang: Language) -> str | None:
    """A stored (English) city or region name in `lang`; the English name where no Russian one is known."""
    if not name or lang == "en":
        return name
    return _catalog().city_ru.get(morph.fold(name), name)


def localized(place: Place, lang: Language) -> Place:
    """The place with every name in `lang` (English names stay where no translation is known)."""
    return replace(place, country=country_name(place.country_code, lang, place.country),
                   state=city_name(place.state, lang), city=city_name(place.city, lang),
                   metro=city_name(place.metro, lang))


def place_label(place: Place | None, lang: Language = "en") -> str | None:
    """"Париж, Франция" / "Paris, France": the big city (or locality) and the country, in `lang`."""
    if place is None or not (place.country or place.city):
        return None
    return localized(place, lang).label or None


def other_names(place: Place) -> list[tuple[str, str]]:
    """(stored name, another name for it) for each part of a library place: its country in both
    languages and the colloquial names, its cities and region in Russian. For the assistant's parser."""
    names_of = _catalog().names_of
    out: list[tuple[str, str]] = []
    if place.country and place.country_code:
        out += [(place.country, name) for name in names_of.get(place.country_code.upper(), ())]
    for stored in (place.metro, place.city, place.state):
        if stored:
            out += [(stored, name) for name in names_of.get(morph.fold(stored), ())]
    return list(dict.fromkeys(out))
