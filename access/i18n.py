"""Messages in the reader's language: the catalogues, the negotiation, the translation.

A message is written in code as its English source text (the gettext msgid) with
`{placeholders}`, and the code of the error or notification it belongs to (the msgctxt: the
catalogue is keyed by code). Its parameters travel beside it, machine-readable, and are put
into the text only when it is read, in the language of the request (`negotiate`): the
`Accept-Language` header (or a websocket's connection_init `acceptLanguage`), else the viewer's
account `locale`, else the territory's (the deployment's `PARVIS_LOCALE`), else French.

The catalogues are the gettext sources `access/locales/<lang>/LC_MESSAGES/parvis.po`, read with
Babel when first needed: no compile step, so `make run` needs nothing more. tests/i18n checks
that every msgid the code uses is translated in both languages.
"""

from __future__ import annotations

import functools
import logging
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from babel.core import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"
DOMAIN = "parvis"
CATALOGUES = Path(__file__).with_name("locales")

_log = logging.getLogger("parvis.i18n")


def N_(msgid: str) -> str:  # noqa: N802 - gettext's name for "a msgid, translated later"
    """Marks a message for the catalogue without translating it (it is translated when read)."""
    return msgid


# The msgctxt of the phrases put into other messages ("vote" in "Join the territory to vote.").
PHRASE = "phrase"


class Phrase(str):
    """A parameter that is itself a msgid, put into the message in the same language; its
    machine-readable value stays the English msgid ("vote")."""

    __slots__ = ()


def po_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def catalogue(locale: str) -> Catalog:
    """The catalogue of a language, read once per process (it is immutable data)."""
    with po_path(locale).open("rb") as source:
        return read_po(source, locale=locale, domain=DOMAIN)


@functools.cache
def _table(locale: str) -> dict[tuple[str | None, str], str]:
    table: dict[tuple[str | None, str], str] = {}
    for message in catalogue(locale):
        if message.id and isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            table[(message.context, message.id)] = message.string
    return table


def supported(tag: str | None) -> str | None:
    """The supported language a tag names ("en-GB" -> "en"), or None."""
    if not tag:
        return None
    try:
        language = Locale.parse(tag.strip().replace("-", "_")).language
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return language if language in LOCALES else None


def from_accept_language(header: str | None) -> str | None:
    """The supported language the client prefers most (RFC 9110 quality values), or None."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:1000].split(",")[:32]):
        tag, _, rest = item.strip().partition(";")
        quality = 1.0
        rest = rest.strip()
        if rest.startswith("q="):
            try:
                quality = float(rest[2:])
            except ValueError:
                continue
        if not 0 < quality <= 1:
            continue
        language = supported(tag) if tag.strip() != "*" else None
        if language is not None:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def negotiate(accept_language: str | None, account_locale: str | None, territory_locale: str | None) -> str:
    """The language of an answer: the client's, else the account's, else the territory's, else French."""
    return (
        from_accept_language(accept_language)
        or supported(account_locale)
        or supported(territory_locale)
        or DEFAULT_LOCALE
    )


class _Params(string.Formatter):
    """Fills `{name}` placeholders, leaving an unknown one as it was (a message never fails)."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str) and key in kwargs:
            return kwargs[key]
        return "{" + str(key) + "}"


_FORMATTER = _Params()


def translate(locale: str, context: str | None, msgid: str, params: Mapping[str, Any] | None = None,
              *, quiet: bool = False) -> str:
    """`msgid` of `context` (an error code, a notification kind) in `locale`, its parameters
    filled in (a parameter that is itself a `Phrase` in `locale` too); the English source when
    the catalogue lacks it (tests/i18n forbids that in code; `quiet` for text that may not be a
    msgid, such as a GraphQL validation message)."""
    table = _table(locale) if locale in LOCALES else {}
    text = table.get((context, msgid)) or table.get((None, msgid))
    if text is None:
        if locale != "en" and not quiet:
            _log.warning("no %s translation for %r (%s)", locale, msgid, context)
        text = msgid
    if not params:
        return text
    values = {
        name: translate(locale, PHRASE, value, quiet=quiet) if isinstance(value, Phrase) else value
        for name, value in params.items()
    }
    try:
        return _FORMATTER.vformat(text, (), values)
    except (ValueError, IndexError):
        return text
