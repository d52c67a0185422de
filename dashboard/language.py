"""The interface language of one browser session.

The switch in the header (RU/EN) wins: it sets the `photoindex_lang` cookie and the `?lang=` query
parameter and reloads, so a reload, a bookmark and a new tab keep the choice. Without it,
INTERFACE_LANGUAGE when it names a language (en, ru), else the browser's Accept-Language.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from engine.i18n import Language, negotiate, normalize

COOKIE = "photoindex_lang"
QUERY = "lang"


def _text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def session_language(setting: str, headers: Mapping[str, object] | None = None,
                     cookies: Mapping[str, object] | None = None,
                     args: Mapping[str, Sequence[bytes] | str] | None = None) -> Language:
    """The language for a page request: `args` are its query arguments, `setting` INTERFACE_LANGUAGE."""
    for chosen in (_text((args or {}).get(QUERY)), _text((cookies or {}).get(COOKIE)), setting):
        code = normalize(chosen)
        if code is not None:
            return code
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    return negotiate(_text(headers.get("accept-language")))


def request_language(setting: str) -> Language:
    """The language of the page request Panel is serving now (English outside a server session)."""
    import panel as pn

    if pn.state.curdoc is None or pn.state.curdoc.session_context is None:
        return session_language(setting)
    return session_language(setting, pn.state.headers, pn.state.cookies, pn.state.session_args)
