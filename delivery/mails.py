"""The account emails: one template per kind, in French and English, as plain text and HTML.

A template is a subject and paragraphs with `{placeholders}`, written in English as msgids of the
catalogue (access/i18n.py) and translated when the mail is rendered, in the recipient's locale.
The HTML part is built from the same paragraphs (escaped), the link as a button. Payloads name the kind, the locale and the
parameters; the link's token travels in the payload's `secret` and is dropped once sent.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from access.i18n import DEFAULT_LOCALE, LOCALES, N_, translate


@dataclass(frozen=True)
class Text:
    subject: str
    paragraphs: tuple[str, ...]
    # The path of the link (the token is added), or None for a mail without one.
    link_path: str | None = None
    link_label: str = ""


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


# The English source of each mail (msgids of the catalogue, access/locales); the French and any
# other language come from the catalogue when the mail is rendered.
TEMPLATES: dict[str, Text] = {
    "verify_email": Text(
        N_('Confirm your email address'),
        (
            N_('Hello {name},'),
            N_('To confirm the address {email}, follow this link within {hours} hours:'),
        ),
        '/verify-email', N_('Confirm my address'),
    ),
    "account_exists": Text(
        N_('Someone tried to sign up with your address'),
        (
            N_('Hello {name},'),
            N_('Someone tried to create an account with your address. You already have one: log in, or ask for a new password if you forgot it.'),
            N_('If it was not you, you can ignore this message.'),
        ),
    ),
    "reset_password": Text(
        N_('Choose a new password'),
        (
            N_('Hello {name},'),
            N_('To choose a new password, follow this link within {minutes} minutes:'),
            N_('If you did not ask for it, ignore this message: your password stays the same.'),
        ),
        '/reset-password', N_('Choose a password'),
    ),
    "password_changed": Text(
        N_('Your password changed'),
        (
            N_('Hello {name},'),
            N_('The password of your account just changed; your other devices were logged out.'),
            N_('If it was not you, ask for a new password at once.'),
        ),
    ),
    "notification": Text(
        N_('News for you on Parvis'),
        (
            N_('Hello {name},'),
            N_('{message}'),
            N_('Find it in the app.'),
        ),
        link_label=N_('Open in Parvis'),
    ),
    "digest": Text(
        N_('Your daily summary on Parvis'),
        (
            N_('Hello {name},'),
            N_('Since yesterday, {count} update(s):'),
            N_('{lines}'),
            N_('Find them in the app.'),
        ),
    ),
    "question_due": Text(
        N_('A question awaits your reply by tomorrow'),
        (
            N_('Hello {name},'),
            N_('The question “{title}” falls due in less than a day.'),
            N_('Residents await your reply in the app.'),
        ),
    ),
    "reports_open": Text(
        N_('Reports await a decision'),
        (
            N_('Hello {name},'),
            N_('{count} report(s) await a moderation decision.'),
            N_('Find them in the app.'),
        ),
    ),
    "email_changed": Text(
        N_('The address of your account changed'),
        (
            N_('Hello {name},'),
            N_('The email address of your account is now {new_email}.'),
            N_('If it was not you, reply to this message.'),
        ),
    ),
}


# The footer of a mail that carries an unsubscribe link (List-Unsubscribe, delivery/email.py).
UNSUBSCRIBE_FOOTER = (N_('You no longer want these emails? Unsubscribe:'), N_('Unsubscribe'))


def render(
    kind: str, locale: str, params: dict[str, Any], public_url: str, token: str | None,
    unsubscribe: str | None = None,
) -> Mail:
    """The mail of `kind` in `locale` (French when unknown); KeyError for an unknown kind.
    With `unsubscribe` (a link), a footer offers it."""
    source = TEMPLATES[kind]
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    context = f"mail:{kind}"

    def say(msgid: str, values: dict[str, Any] | None = None, where: str = context) -> str:
        return translate(locale, where, msgid, values)

    text = Text(say(source.subject, params), tuple(say(p, params) for p in source.paragraphs),
                source.link_path, say(source.link_label) if source.link_label else "")
    paragraphs = list(text.paragraphs)
    link = f"{public_url.rstrip('/')}{text.link_path}?token={token}" if text.link_path and token else None
    if link is None and isinstance(params.get("path"), str) and params["path"].startswith("/"):
        # A deep link to what a notification is about (Question.url, Idea.url): no token.
        link = f"{public_url.rstrip('/')}{params['path']}"
    footer, footer_label = (say(msgid, where="mail:unsubscribe") for msgid in UNSUBSCRIBE_FOOTER)
    plain = "\n\n".join(
        paragraphs + ([link] if link else []) + ([f"--\n{footer}\n{unsubscribe}"] if unsubscribe else [])
    ) + "\n"
    parts = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    if link:
        href = html.escape(link, quote=True)
        parts.append(f'<p><a href="{href}">{html.escape(text.link_label)}</a></p><p>{href}</p>')
    if unsubscribe:
        href = html.escape(unsubscribe, quote=True)
        parts.append(f'<hr><p><small>{html.escape(footer)} <a href="{href}">{html.escape(footer_label)}</a>'
                     "</small></p>")
    body = f'<!doctype html><html lang="{locale}"><body>{"".join(parts)}</body></html>\n'
    return Mail(subject=text.subject, text=plain, html=body)
