"""The command line's language: INTERFACE_LANGUAGE, or with `auto` the system locale (LC_ALL,
LC_MESSAGES, LANG, as POSIX orders them), English when neither names one the product speaks.

`_` is the one translator every CLI module calls; `use()` switches it before the parser is built,
so argparse's help, its own messages ("usage:", "invalid choice") and the commands' sentences all
come in that language.
"""
from __future__ import annotations

import argparse
import os

from engine.i18n import DEFAULT_LANGUAGE, N_, Language, Translator, normalize, translator


class CliTranslator:
    """`_("…", name=…)` and `_.ngettext(…)` in the language chosen by `use()`."""

    def __init__(self) -> None:
        self.current: Translator = translator(DEFAULT_LANGUAGE)

    def __call__(self, message: str, /, **params: object) -> str:
        return self.current.gettext(message, **params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params: object) -> str:
        return self.current.ngettext(singular, plural, n, **params)


_ = CliTranslator()


def cli_language(setting: str | None = None, environ: dict[str, str] | None = None) -> Language:
    """`setting` (INTERFACE_LANGUAGE) unless it is `auto` or empty, else the system locale."""
    env = os.environ if environ is None else environ
    chosen = normalize(setting) if setting and setting.strip().lower() != "auto" else None
    if chosen:
        return chosen
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(name):  # the first one set decides, as in POSIX; "C" or an unknown language means English
            return normalize(env[name]) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


def use(language: Language) -> None:
    """Speak `language` from now on, argparse's own messages included."""
    _.current = translator(language)
    argparse._ = _  # type: ignore[attr-defined]  # argparse looks its gettext up as a module global
    argparse.ngettext = lambda singular, plural, n: _.ngettext(singular, plural, n)  # type: ignore[attr-defined]


# argparse's own messages (Python 3.11-3.13), marked so that extraction keeps their translations
ARGPARSE_MESSAGES = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("show program's version number and exit"), N_("%(prog)s: error: %(message)s\n"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"), N_("argument %(argument_name)s: %(message)s"), N_("expected one argument"),
    N_("expected at least one argument"), N_("invalid %(type)s value: %(value)r"),
    N_("not allowed with argument %s"), N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("one of the arguments %s is required"), N_("ignored explicit argument %r"),
)
