"""The account emails: one template per kind, in French and English, as plain text and HTML.

A template is a subject and paragraphs with `{placeholders}`; the HTML part is built from the
same paragraphs (escaped), the link as a button. Payloads name the kind, the locale and the
parameters; the link's token travels in the payload's `secret` and is dropped once sent.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

LOCALES = ("fr", "en")
DEFAULT_LOCALE = "fr"


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


TEMPLATES: dict[str, dict[str, Text]] = {
    "verify_email": {
        "fr": Text(
            "Confirmez votre adresse email",
            ("Bonjour {name},", "Pour confirmer l'adresse {email}, suivez ce lien dans les {hours} heures :"),
            "/verify-email", "Confirmer mon adresse",
        ),
        "en": Text(
            "Confirm your email address",
            ("Hello {name},", "To confirm the address {email}, follow this link within {hours} hours:"),
            "/verify-email", "Confirm my address",
        ),
    },
    "account_exists": {
        "fr": Text(
            "Tentative d'inscription avec votre adresse",
            ("Bonjour {name},",
             "Quelqu'un a voulu créer un compte avec votre adresse. Vous en avez déjà un : connectez-vous, "
             "ou demandez un nouveau mot de passe si vous l'avez oublié.",
             "Si ce n'était pas vous, vous pouvez ignorer ce message."),
        ),
        "en": Text(
            "Someone tried to sign up with your address",
            ("Hello {name},",
             "Someone tried to create an account with your address. You already have one: log in, or "
             "ask for a new password if you forgot it.",
             "If it was not you, you can ignore this message."),
        ),
    },
    "reset_password": {
        "fr": Text(
            "Choisissez un nouveau mot de passe",
            ("Bonjour {name},",
             "Pour choisir un nouveau mot de passe, suivez ce lien dans les {minutes} minutes :",
             "Si vous n'avez rien demandé, ignorez ce message : votre mot de passe ne change pas."),
            "/reset-password", "Choisir un mot de passe",
        ),
        "en": Text(
            "Choose a new password",
            ("Hello {name},",
             "To choose a new password, follow this link within {minutes} minutes:",
             "If you did not ask for it, ignore this message: your password stays the same."),
            "/reset-password", "Choose a password",
        ),
    },
    "password_changed": {
        "fr": Text(
            "Votre mot de passe a changé",
            ("Bonjour {name},",
             "Le mot de passe de votre compte vient de changer ; vos autres appareils ont été déconnectés.",
             "Si ce n'était pas vous, demandez aussitôt un nouveau mot de passe."),
        ),
        "en": Text(
            "Your password changed",
            ("Hello {name},",
             "The password of your account just changed; your other devices were logged out.",
             "If it was not you, ask for a new password at once."),
        ),
    },
    "notification": {
        "fr": Text(
            "Du nouveau pour vous sur Parvis",
            ("Bonjour {name},", "{message}", "Retrouvez-le dans l'application."),
            link_label="Ouvrir dans Parvis",
        ),
        "en": Text(
            "News for you on Parvis",
            ("Hello {name},", "{message}", "Find it in the app."),
            link_label="Open in Parvis",
        ),
    },
    "digest": {
        "fr": Text(
            "Votre résumé du jour sur Parvis",
            ("Bonjour {name},", "Depuis hier, {count} nouveauté(s) :", "{lines}", "Retrouvez-les dans l'application."),
        ),
        "en": Text(
            "Your daily summary on Parvis",
            ("Hello {name},", "Since yesterday, {count} update(s):", "{lines}", "Find them in the app."),
        ),
    },
    "question_due": {
        "fr": Text(
            "Une question attend votre réponse demain",
            ("Bonjour {name},", "La question « {title} » arrive à échéance dans moins d'un jour.",
             "Les habitants attendent votre réponse dans l'application."),
        ),
        "en": Text(
            "A question awaits your reply by tomorrow",
            ("Hello {name},", "The question “{title}” falls due in less than a day.",
             "Residents await your reply in the app."),
        ),
    },
    "reports_open": {
        "fr": Text(
            "Des signalements attendent une décision",
            ("Bonjour {name},", "{count} signalement(s) attendent une décision de modération.",
             "Retrouvez-les dans l'application."),
        ),
        "en": Text(
            "Reports await a decision",
            ("Hello {name},", "{count} report(s) await a moderation decision.", "Find them in the app."),
        ),
    },
    "email_changed": {
        "fr": Text(
            "L'adresse de votre compte a changé",
            ("Bonjour {name},",
             "L'adresse email de votre compte est désormais {new_email}.",
             "Si ce n'était pas vous, répondez à ce message."),
        ),
        "en": Text(
            "The address of your account changed",
            ("Hello {name},",
             "The email address of your account is now {new_email}.",
             "If it was not you, reply to this message."),
        ),
    },
}


# The footer of a mail that carries an unsubscribe link (List-Unsubscribe, delivery/email.py).
UNSUBSCRIBE_FOOTER = {
    "fr": ("Vous ne voulez plus recevoir ces emails ? Désabonnez-vous :", "Se désabonner"),
    "en": ("You no longer want these emails? Unsubscribe:", "Unsubscribe"),
}


def render(
    kind: str, locale: str, params: dict[str, Any], public_url: str, token: str | None,
    unsubscribe: str | None = None,
) -> Mail:
    """The mail of `kind` in `locale` (French when unknown); KeyError for an unknown kind.
    With `unsubscribe` (a link), a footer offers it."""
    text = TEMPLATES[kind].get(locale) or TEMPLATES[kind][DEFAULT_LOCALE]
    paragraphs = [p.format(**params) for p in text.paragraphs]
    link = f"{public_url.rstrip('/')}{text.link_path}?token={token}" if text.link_path and token else None
    if link is None and isinstance(params.get("path"), str) and params["path"].startswith("/"):
        # A deep link to what a notification is about (Question.url, Idea.url): no token.
        link = f"{public_url.rstrip('/')}{params['path']}"
    footer, footer_label = UNSUBSCRIBE_FOOTER.get(locale) or UNSUBSCRIBE_FOOTER[DEFAULT_LOCALE]
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
