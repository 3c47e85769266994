"""/unsubscribe: the one-click link of notification mails (RFC 8058), no login needed.

GET shows a small page with a button and changes nothing: mail scanners and link previews
follow links. POST with the body `List-Unsubscribe=One-Click` (what mail clients send, and
what the page's form sends) turns the kinds the link names off by email for its account
(the same write as `setNotificationPreference`), and only those. Doing it again is the same
as once. A token this server did not sign as it stands, or an account that is gone, answers
400 with the same page whatever the reason: the page tells nobody whether an account exists.
"""

from __future__ import annotations

import html
from email.parser import BytesParser
from email.policy import HTTP
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from tortoise.transactions import in_transaction

from access.unsubscribe import Unsubscribe, read_unsubscribe_token
from app.settings import Settings
from models.accounts import Account
from models.reach import Channel, Frequency, NotificationPreference
from resolvers.reach import do_upsert

PATH = "/unsubscribe"
ONE_CLICK = ("List-Unsubscribe", "One-Click")
# A one-click body is 26 bytes; a form's a few hundred.
MAX_BODY = 8_192
# Tokens travel in the URL: never in a Referer, a cache or a search index.
HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}

# The page in the account mails' languages (delivery/mails.py): English when the browser
# prefers it, French otherwise, as signUp chooses (resolvers/accounts.request_locale).
KIND_NAMES = {
    "fr": {
        "QUESTION_ANSWERED": "les réponses à vos questions",
        "IDEA_STATUS_CHANGED": "l'avancement des idées",
        "POLL_CLOSED": "les résultats des votes",
        "NEW_COMMENT": "les nouveaux commentaires",
        "CONTENT_HIDDEN": "la modération de vos contributions",
        "QUESTION_DUE": "les rappels des questions à échéance",
        "REPORTS_OPEN": "les rappels des signalements en attente",
    },
    "en": {
        "QUESTION_ANSWERED": "replies to your questions",
        "IDEA_STATUS_CHANGED": "status changes of ideas",
        "POLL_CLOSED": "poll results",
        "NEW_COMMENT": "new comments",
        "CONTENT_HIDDEN": "moderation of your content",
        "QUESTION_DUE": "reminders of questions falling due",
        "REPORTS_OPEN": "reminders of open reports",
    },
}
TEXTS = {
    "fr": {
        "refused_title": "Lien non valable",
        "refused": "Ce lien de désabonnement n'est pas valable. Vous pouvez choisir les emails que vous recevez "
                   "dans les réglages de l'application.",
        "ask_title": "Se désabonner",
        "ask": "Ne plus recevoir d'emails pour : {what} ?",
        "button": "Me désabonner",
        "done_title": "Désabonnement enregistré",
        "done": "Vous ne recevrez plus d'emails pour : {what}. Vos autres emails et les notifications dans "
                "l'application ne changent pas ; les réglages de l'application les modifient.",
        "not_one_click_title": "Rien n'a changé",
        "not_one_click": "La demande ne demandait pas de désabonnement (List-Unsubscribe=One-Click).",
    },
    "en": {
        "refused_title": "Link not valid",
        "refused": "This unsubscribe link is not valid. You can choose which emails you get in the app's settings.",
        "ask_title": "Unsubscribe",
        "ask": "Stop emails about: {what}?",
        "button": "Unsubscribe",
        "done_title": "Unsubscribed",
        "done": "You will no longer get emails about: {what}. Other emails, and notifications in the app, stay "
                "as they were; the app's settings change them.",
        "not_one_click_title": "Nothing changed",
        "not_one_click": "The request did not ask to unsubscribe (List-Unsubscribe=One-Click).",
    },
}


def locale_of(request: Request) -> str:
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "fr"


def page(locale: str, key: str, status: int = 200, *, named: Unsubscribe | None = None, form: bool = False) -> Response:
    texts = TEXTS[locale]
    title = html.escape(texts[f"{key}_title"])
    what = ", ".join(KIND_NAMES[locale].get(kind.value, kind.value) for kind in named.kinds) if named else ""
    body = f"<p>{html.escape(texts[key].format(what=what))}</p>"
    if form:
        # No action: the form posts to this very URL, token included, whatever prefix the
        # public address puts before /unsubscribe.
        body += ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
                 f'<button type="submit">{html.escape(texts["button"])}</button></form>')
    document = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title></head>"
        '<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">'
        f"<h1>{title}</h1>{body}</body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers=HEADERS)


async def live_account(named: Unsubscribe) -> bool:
    return await Account.filter(id=named.account_id, deleted_at__isnull=True).exists()


async def do_unsubscribe(named: Unsubscribe) -> bool:
    """Set EMAIL to NEVER for each kind the token names; False when the account is gone."""
    async with in_transaction():
        if not await live_account(named):
            return False
        for kind in named.kinds:
            await do_upsert(
                NotificationPreference, {"account_id": named.account_id, "kind": kind, "channel": Channel.EMAIL},
                {"frequency": Frequency.NEVER},
            )
    return True


async def one_click(request: Request) -> bool:
    """Whether the body says List-Unsubscribe=One-Click, as a form (urlencoded) or as
    multipart/form-data (RFC 8058 allows both)."""
    body = await request.body()
    if len(body) > MAX_BODY:
        return False
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == "multipart/form-data":
        message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        if not message.is_multipart():
            return False
        return any(
            part.get_param("name", header="content-disposition") == ONE_CLICK[0]
            and bytes(part.get_payload(decode=True) or b"").strip() == ONE_CLICK[1].encode()
            for part in message.iter_parts()
        )
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False)
    except UnicodeDecodeError:
        return False
    return ONE_CLICK[1] in fields.get(ONE_CLICK[0], [])


async def unsubscribe(request: Request) -> Response:
    """GET: the confirmation page; POST: unsubscribe (the route allows nothing else)."""
    settings: Settings = request.app.state.settings
    locale = locale_of(request)
    named = read_unsubscribe_token(settings.secret, request.query_params.get("token", ""))
    # One answer for every refusal: a forged token and an erased account read the same.
    if named is None:
        return page(locale, "refused", 400)
    if request.method == "POST":
        if not await one_click(request):
            return page(locale, "not_one_click", 400)
        if not await do_unsubscribe(named):
            return page(locale, "refused", 400)
        return page(locale, "done", named=named)
    if not await live_account(named):
        return page(locale, "refused", 400)
    return page(locale, "ask", named=named, form=True)
