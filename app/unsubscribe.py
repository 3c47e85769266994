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

from access.i18n import N_, negotiate, translate
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

# The page's texts, msgids of the catalogue (access/locales): said in the reader's language,
# the browser's (Accept-Language), else the account's the link names, else the territory's.
KIND_NAMES = {
    "QUESTION_ANSWERED": N_("replies to your questions"),
    "IDEA_STATUS_CHANGED": N_("status changes of ideas"),
    "POLL_CLOSED": N_("poll results"),
    "NEW_COMMENT": N_("new comments"),
    "CONTENT_HIDDEN": N_("moderation of your content"),
    "QUESTION_DUE": N_("reminders of questions falling due"),
    "REPORTS_OPEN": N_("reminders of open reports"),
}
TEXTS = {
    "refused_title": N_("Link not valid"),
    "refused": N_("This unsubscribe link is not valid. You can choose which emails you get in the app's settings."),
    "ask_title": N_("Unsubscribe"),
    "ask": N_("Stop emails about: {what}?"),
    "button": N_("Unsubscribe"),
    "done_title": N_("Unsubscribed"),
    "done": N_("You will no longer get emails about: {what}. Other emails, and notifications in the app, stay "
               "as they were; the app's settings change them."),
    "not_one_click_title": N_("Nothing changed"),
    "not_one_click": N_("The request did not ask to unsubscribe (List-Unsubscribe=One-Click)."),
}


def locale_of(request: Request, account_locale: str | None = None) -> str:
    """The page's language: the browser's, else the account's (only once the link proved
    valid: a refusal reads the same whoever it names), else the territory's."""
    settings: Settings = request.app.state.settings
    return negotiate(request.headers.get("accept-language"), account_locale, settings.locale)


def page(locale: str, key: str, status: int = 200, *, named: Unsubscribe | None = None, form: bool = False) -> Response:
    title = html.escape(translate(locale, None, TEXTS[f"{key}_title"]))
    what = ", ".join(
        translate(locale, None, KIND_NAMES[kind.value]) if kind.value in KIND_NAMES else kind.value
        for kind in named.kinds
    ) if named else ""
    body = f"<p>{html.escape(translate(locale, None, TEXTS[key], {'what': what}))}</p>"
    if form:
        # No action: the form posts to this very URL, token included, whatever prefix the
        # public address puts before /unsubscribe.
        body += ('<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
                 f'<button type="submit">{html.escape(translate(locale, None, TEXTS["button"]))}</button></form>')
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


async def account_locale(named: Unsubscribe) -> str | None:
    """The language of the account the link names (read once the link proved valid)."""
    locale = await Account.filter(id=named.account_id).first().values_list("locale", flat=True)
    return str(locale) if locale else None


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
        return page(locale_of(request, await account_locale(named)), "done", named=named)
    if not await live_account(named):
        return page(locale, "refused", 400)
    return page(locale_of(request, await account_locale(named)), "ask", named=named, form=True)
