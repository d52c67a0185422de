"""The one translation layer of every interface: the dashboard, the bot and the command line.

Strings are written in English in the code and wrapped where they are shown:

    from engine.i18n import translator
    _ = translator("ru")                      # a language tag, an Accept-Language pick, a Telegram language_code
    _("Search")                               -> "Поиск"
    _("Found in {place}", place=name)         -> named placeholders, filled after translation
    _.ngettext("{n} photo", "{n} photos", n)  -> "5 фотографий": Russian has three plural forms

A string that is defined before the language is known (a table of labels, an error sentence) is marked with
`N_("...")` so that extraction finds it, and translated where it is shown.

Sentences the engine builds for every interface (a search note, a missing-model error, a job's stage) are
written the same way, with named placeholders: `N_("no person named “{name}” is known", name=name)` returns
a `Message`, a `str` holding the English sentence (what REST's `notes`, logs and English clients read,
unchanged) that also carries its msgid and params. Where a view shows it, `_(note)` translates it:

    note = N_("searching with {model} until …", model="SigLIP")   # engine: str(note) is the English
    _ = translator("ru"); _(note)                                  # view: the Russian, placeholders filled

A placeholder's value that is itself a `Message` is translated too (`N_("{reason}; …", reason=N_("…"))`),
and `join(", ", parts)` keeps a list of them translatable; any other value (a name, a path) is shown as
given. A plain string passed to `_` is looked up as its own msgid (a stage the engine named with `N_`).
This is the one way engine text reaches an interface in its language; the engine never picks a language.

Catalogues are gettext `.po` files in `engine/i18n/locales/<lang>/LC_MESSAGES/photoindex.po`, read with Babel
at first use (no compile step, nothing built for one machine). `pybabel extract -F babel.cfg` lists the strings;
`tests/test_i18n.py` fails when a marked string has no Russian translation.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

Language = Literal["en", "ru"]
LANGUAGES: tuple[Language, ...] = ("en", "ru")
DEFAULT_LANGUAGE: Language = "en"
DOMAIN = "photoindex"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"


class Message(str):
    """An English sentence (this `str`) that remembers its msgid and params, so that it can be shown
    translated later (`Translator.gettext` takes one): see the module docstring."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, params: dict[str, object]) -> "Message":
        text = super().__new__(cls, msgid.format(**params) if params else msgid)
        text.msgid, text.params = msgid, dict(params)
        return text

    def __reduce__(self) -> tuple[object, ...]:
        return (Message, (self.msgid, self.params))


def join(separator: str, parts: "Iterable[str]") -> str:
    """Parts of a sentence (each may be a `Message`) joined into one that translates part by part."""
    parts = list(parts)
    if not any(isinstance(p, Message) for p in parts):
        return separator.join(parts)
    return Message(separator.join("{p%d}" % i for i in range(len(parts))), {f"p{i}": p for i, p in enumerate(parts)})


def N_(message: str, /, **params: object) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown.

    Returns the English text (params filled) as a `Message`, which a translator shows in its language,
    also when it is a placeholder's value inside another sentence."""
    return Message(message, params)


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=None)
def load_catalog(language: str) -> Catalog | None:
    path = catalog_path(language)
    if not path.is_file():
        return None
    with path.open("rb") as f:
        return read_po(f, locale=language, domain=DOMAIN)


# The order of a catalogue's plural forms (its Plural-Forms header), as CLDR categories.
PLURAL_ORDER: dict[str, tuple[str, ...]] = {"en": ("one", "other"), "ru": ("one", "few", "many")}


@dataclass(frozen=True)
class Translator:
    """Translates to one language; an English (or untranslated) message is returned as written."""

    language: Language
    messages: dict[str, str | tuple[str, ...]] = field(default_factory=dict, repr=False)

    def gettext(self, message: str, /, **params: object) -> str:
        if not message:
            return message  # "" is the catalogue's header, never a message
        if isinstance(message, Message):
            message, params = message.msgid, {**message.params, **params}
        params = {k: self.gettext(v) if isinstance(v, Message) else v for k, v in params.items()}
        translated = self.messages.get(message)
        text = translated if isinstance(translated, str) and translated else message
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        forms = self.messages.get(singular)
        if isinstance(forms, tuple) and forms and all(forms):
            text = forms[min(plural_index(self.language, n), len(forms) - 1)]
        else:
            text = singular if n == 1 else plural
        return text.format(n=n, **params)

    __call__ = gettext


def plural_index(language: str, n: int) -> int:
    """Which of the catalogue's plural forms `n` takes: Russian 1, 21 -> 0; 2-4, 22 -> 1; 5, 11, 12 -> 2."""
    order = PLURAL_ORDER.get(language, PLURAL_ORDER["en"])
    category = Locale.parse(language).plural_form(abs(n))
    return order.index(category) if category in order else len(order) - 1


@lru_cache(maxsize=None)
def translator(language: str | None = None) -> Translator:
    """The translator for `language` (a tag like "ru-RU" is fine); English for anything not translated."""
    code = normalize(language) or DEFAULT_LANGUAGE
    catalog = load_catalog(code) if code != DEFAULT_LANGUAGE else None
    if catalog is None:
        return Translator(DEFAULT_LANGUAGE)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, (tuple, list)):
            messages[message.id[0]] = tuple(message.string or ())
        else:
            messages[message.id] = message.string or ""
    return Translator(code, messages)


def normalize(language: str | None) -> Language | None:
    """'ru', 'ru-RU', 'ru_RU.UTF-8' -> 'ru'; a language the product does not speak -> None."""
    match = re.match(r"\s*([A-Za-z]{2,3})(?![A-Za-z])", language or "")
    code = match.group(1).lower() if match else ""
    return code if code in LANGUAGES else None  # type: ignore[return-value]


def negotiate(accept_language: str | None, default: Language = DEFAULT_LANGUAGE) -> Language:
    """The best of the product's languages for an Accept-Language header (or a Telegram `language_code`)."""
    ranked: list[tuple[float, int, Language]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.partition(";")
        code = normalize(tag)
        quality = re.search(r"q\s*=\s*([^;\s]*)", params)
        try:
            q = float(quality.group(1)) if quality else 1.0
        except ValueError:
            q = 0.0
        if code is not None and q > 0:
            ranked.append((q, -position, code))
    return max(ranked)[2] if ranked else default
