"""The catalogues (access/locales/<lang>/LC_MESSAGES/parvis.po) and the code agree: every
message the code writes is translated in French and English, with the same placeholders, no
message is built with an f-string (its parameters could not be translated nor read by apps),
and the catalogues hold nothing the code no longer says."""

from __future__ import annotations

import string

from access.i18n import LOCALES, PHRASE, catalogue
from tests.i18n.catalogue import scan


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def entries(locale: str) -> dict[tuple[str | None, str], str]:
    return {(m.context, str(m.id)): str(m.string) for m in catalogue(locale) if m.id}


def test_every_message_the_code_writes_is_translated_in_both_languages() -> None:
    uses, built = scan()
    assert uses, "the scan found no messages: it no longer reads the code"
    for locale in LOCALES:
        known = entries(locale)
        missing = sorted(
            f"{use.where}: {use.msgid!r} ({use.context})"
            for use in uses
            if not known.get((use.context, use.msgid)) and not known.get((None, use.msgid))
            and not (use.context == PHRASE and known.get((None, use.msgid)))
        )
        assert missing == [], f"add these to access/locales/{locale}/LC_MESSAGES/parvis.po"


def test_no_message_is_built_with_an_f_string() -> None:
    _, built = scan()
    assert built == [], "write the msgid literally and pass its values as parameters"


def test_translations_keep_the_placeholders_and_nothing_is_stale() -> None:
    uses, _ = scan()
    used = {(use.context, use.msgid) for use in uses} | {(None, use.msgid) for use in uses}
    for locale in LOCALES:
        for (context, msgid), text in entries(locale).items():
            assert text, f"{locale}: {msgid!r} has no translation"
            assert placeholders(text) == placeholders(msgid), f"{locale}: {msgid!r} -> {text!r}"
            assert (context, msgid) in used, f"{locale}: {msgid!r} ({context}) is no longer used"
    assert entries("fr").keys() == entries("en").keys()
