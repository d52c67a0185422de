"""Dates in free text, English and Russian: years, months, seasons, "last summer", "в прошлом году",
ISO and dotted dates. Each phrase found gives an inclusive date range and the span it covered."""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class DateHit:
    start: date
    end: date
    span: tuple[int, int]
    phrase: str


_MONTHS = {
    1: ("january", "jan", "январ"), 2: ("february", "feb", "феврал"), 3: ("march", "mar", "март"),
    4: ("april", "apr", "апрел"), 5: ("may", "ма[йяею]"), 6: ("june", "jun", "июн"), 7: ("july", "jul", "июл"),
    8: ("august", "aug", "август"), 9: ("september", "sep", "sept", "сентябр"), 10: ("october", "oct", "октябр"),
    11: ("november", "nov", "ноябр"), 12: ("december", "dec", "декабр"),
}
_SEASONS = {
    "summer": ("summer", "лет(?:о|ом|а|е|нее|ний|них)"),
    "winter": ("winter", "зим(?:а|ой|у|ы|е|нее|ний|них)"),
    "spring": ("spring", "весн(?:а|ой|у|ы|е)|весенн(?:ий|ие|их|ее)"),
    "autumn": ("autumn", "fall", "осен(?:ь|ью|и|нее|ний|них)"),
}
_SEASON_MONTHS = {"spring": (3, 5), "summer": (6, 8), "autumn": (9, 11), "winter": (12, 2)}
_LAST = r"(?:last|previous|прошл(?:ым|ой|ую|ая|ое|ом|ый|ого)|прошедш(?:им|ей|ую|ая|ее|ем|ий))"
_THIS = r"(?:this|эт(?:им|ой|у|а|о|ом|от))"
_YEAR = r"((?:19|20)\d{2})"
_PREP = r"(?:(?:in|of|from|during|в|во|за|на)\s+)?"
_YEAR_SUFFIX = r"(?:\s*(?:г\.|года|году|год|г\b))?"


def _month_alt() -> str:
    return "|".join(f"(?P<m{n}>{'|'.join(p + ('[a-zа-я]*' if not p.isascii() else '') for p in parts)})"
                    for n, parts in _MONTHS.items())


def _season_alt() -> str:
    return "|".join(f"(?P<s_{name}>{'|'.join(parts)})" for name, parts in _SEASONS.items())


def _month_range(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _season_range(season: str, year: int) -> tuple[date, date]:
    """Winter of `year` is the one that starts in its December."""
    first, last = _SEASON_MONTHS[season]
    if season == "winter":
        return date(year, 12, 1), _month_range(year + 1, 2)[1]
    return date(year, first, 1), _month_range(year, last)[1]


def _latest_season(season: str, today: date, *, completed: bool) -> tuple[date, date]:
    """The most recent such season: the one going on now (unless `completed`), else the one before."""
    for year in (today.year, today.year - 1, today.year - 2):
        start, end = _season_range(season, year)
        if (end < today) or (not completed and start <= today):
            return start, end
    return _season_range(season, today.year - 1)


_FLAGS = re.IGNORECASE | re.UNICODE


def find_dates(text: str, today: date) -> list[DateHit]:
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, start: date, end: date) -> None:
        span = m.span()
        if any(span[0] < b and a < span[1] for a, b in taken):
            return
        taken.append(span)
        hits.append(DateHit(start, end, span, m.group(0).strip()))

    def bound(pattern: str) -> re.Pattern:
        return re.compile(rf"(?<![\w]){pattern}(?![\w])", _FLAGS)

    # ISO and dotted days
    for m in bound(r"(\d{4})-(\d{2})-(\d{2})").finditer(text):
        try:
            d = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
        add(m, d, d)
    for m in bound(r"(\d{1,2})\.(\d{1,2})\.(\d{4})").finditer(text):
        try:
            d = date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            continue
        add(m, d, d)
    # year ranges: 2019-2021, from 2019 to 2021, с 2019 по 2021
    for m in bound(rf"(?:(?:from|между|с|со)\s+)?{_YEAR}\s*(?:-|–|—|to|till|until|по|до|и)\s*{_YEAR}{_YEAR_SUFFIX}").finditer(text):
        a, b = sorted((int(m.group(1)), int(m.group(2))))
        add(m, date(a, 1, 1), date(b, 12, 31))
    # season (+ year | last | this)
    seasons = _season_alt()
    for m in bound(rf"{_PREP}(?P<rel>{_LAST}|{_THIS})?\s*(?:{seasons})(?:\s+(?:of\s+)?{_YEAR}{_YEAR_SUFFIX})?").finditer(text):
        season = next(k[2:] for k, v in m.groupdict().items() if k.startswith("s_") and v)
        year = next((g for g in m.groups()[-1:] if g and g.isdigit()), None)
        rel = (m.group("rel") or "").lower()
        if year:
            start, end = _season_range(season, int(year))
        elif rel and re.fullmatch(_LAST, rel, _FLAGS):
            start, end = _latest_season(season, today, completed=True)
        else:
            start, end = _latest_season(season, today, completed=False)
        add(m, start, end)
    # month (+ year)
    months = _month_alt()
    for m in bound(rf"{_PREP}(?:{months})(?:\s+(?:of\s+)?{_YEAR}{_YEAR_SUFFIX})?").finditer(text):
        month = next(int(k[1:]) for k, v in m.groupdict().items() if k.startswith("m") and k[1:].isdigit() and v)
        word = m.group(f"m{month}")
        if month == 5 and word.lower() == "may" and not m.groups()[-1]:
            continue  # the English verb
        if month == 3 and word.lower() == "mar" or month == 12 and word.lower() == "dec" and not m.groups()[-1]:
            continue
        year = m.groups()[-1]
        if year:
            y = int(year)
        else:
            y = today.year if month <= today.month else today.year - 1
        add(m, *_month_range(y, month))
    # relative
    relative = [
        (rf"(?:last|previous)\s+year|(?:в\s+)?прошл(?:ом|ый|ого)\s+год(?:у|а)?", lambda: (date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))),
        (rf"this\s+year|(?:в\s+)?эт(?:ом|от)\s+год(?:у)?", lambda: (date(today.year, 1, 1), today)),
        (rf"(?:last|previous)\s+month|(?:в\s+)?прошл(?:ом|ый)\s+месяц(?:е)?", lambda: _month_range(*((today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)))),
        (rf"this\s+month|(?:в\s+)?эт(?:ом|от)\s+месяц(?:е)?", lambda: (date(today.year, today.month, 1), today)),
        (rf"(?:last|previous)\s+week|(?:на\s+)?прошл(?:ой|ая|ую)\s+недел(?:е|я|ю)", lambda: (today - timedelta(days=today.weekday() + 7), today - timedelta(days=today.weekday() + 1))),
        (rf"yesterday|вчера", lambda: (today - timedelta(days=1), today - timedelta(days=1))),
        (rf"today|сегодня", lambda: (today, today)),
    ]
    for pattern, fn in relative:
        for m in bound(pattern).finditer(text):
            add(m, *fn())
    # a bare year: 2023, in 2023, в 2023 году
    for m in bound(rf"{_PREP}{_YEAR}{_YEAR_SUFFIX}").finditer(text):
        y = int(m.group(1))
        add(m, date(y, 1, 1), date(y, 12, 31))
    return sorted(hits, key=lambda h: h.span)
