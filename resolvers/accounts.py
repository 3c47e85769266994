"""Accounts: sign up, log in, log out, erasure."""

from __future__ import annotations

import datetime as dt
import secrets

import strawberry
from graphql import GraphQLError
from starlette.types import Scope
from strawberry.types import Info
from tortoise.exceptions import IntegrityError

from access.context import Context
from access.errors import LocalizedError
from access.i18n import DEFAULT_LOCALE, N_, from_accept_language
from access.i18n import LOCALES as I18N_LOCALES
from access.passwords import PasswordsBusy, hash_password, verify_password
from access.ratelimit import Decision, client_key, private_key
from access.tokens import device_of, hash_token
from models import clock
from models.accounts import AccessToken, Account
from resolvers.account_mails import notify_address_taken, notify_email_verification
from resolvers.mutations import check_rate, rate_limited, run_in_transaction
from resolvers.validation import Checks, is_clean, is_utf8
from schema.accounts import AuthPayload, DeleteAccountInput, LogInInput, SignUpInput, Viewer
from schema.errors import Refusal, UserError, UserErrorCode

PASSWORD_MIN = 10
PASSWORD_MAX = 1000
TOKEN_DAYS = 30
TAKEN_MESSAGE = N_("This email is already used.")
LOCALES = I18N_LOCALES


def request_locale(ctx: Context) -> str:
    """A new account's locale: the language the client prefers most among ours
    (Accept-Language, quality values counted), else French."""
    header = ctx.request.headers.get("accept-language") if ctx.request is not None else None
    return from_accept_language(header) or DEFAULT_LOCALE


def normalize_email(email: str) -> str:
    return email.strip().lower()


def check_email(checks: Checks, email: str, field: str = "email") -> str:
    normalized = normalize_email(email)
    local, at, domain = normalized.partition("@")
    if (
        not at
        or not local
        or "." not in domain
        or " " in normalized
        or len(normalized) > 254
        or not is_clean(normalized)
    ):
        checks.fail("Must be a valid email address.", field)
    return normalized


def check_password(checks: Checks, password: str, field: str = "password") -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        checks.fail("Must be {min} to {max} characters long.", field, min=PASSWORD_MIN, max=PASSWORD_MAX)
    elif not is_utf8(password):
        checks.fail("Must be valid Unicode text.", field)


async def do_issue_token(ctx: Context, account: Account) -> str:
    """A new bearer token: a session of the device the request came from."""
    token = secrets.token_urlsafe(32)
    days = getattr(ctx.settings, "token_days", TOKEN_DAYS)
    at = clock.now()
    user_agent = ctx.request.headers.get("user-agent") if ctx.request is not None else None
    await AccessToken.create(
        account=account,
        token_hash=hash_token(token),
        expires_at=at + dt.timedelta(days=days),
        device=device_of(user_agent),
        last_used_at=at,
    )
    return token


def auth_payload(result: tuple[Account, str] | None, errors: list[UserError]) -> AuthPayload:
    if result is None:
        return AuthPayload(token=None, viewer=None, user_errors=errors)
    account, token = result
    return AuthPayload(token=token, viewer=Viewer.from_model(account), user_errors=[])


def busy_errors(busy: PasswordsBusy) -> list[UserError]:
    """RATE_LIMITED, with the seconds after which the password pool has room again."""
    return rate_limited(Decision(False, busy.retry_after), "password checks in progress")


def scope_of(ctx: Context) -> Scope | None:
    return ctx.request.scope if ctx.request is not None else None


@strawberry.type
class AccountsMutation:
    @strawberry.mutation(description="Create an account and get a bearer token.")
    async def sign_up(self, info: Info[Context, None], input: SignUpInput) -> AuthPayload:
        ctx = info.context
        # Counted before anything else: hashing costs CPU, and TAKEN tells which emails exist.
        limited = await check_rate(ctx.limiter, "signup_ip", client_key(scope_of(ctx)), "sign-ups")
        if limited:
            return AuthPayload(token=None, viewer=None, user_errors=limited)
        checks = Checks()
        email = check_email(checks, input.email)
        check_password(checks, input.password)
        name = checks.text(input.display_name, "displayName", max_length=100)
        if checks.errors:
            return AuthPayload(token=None, viewer=None, user_errors=checks.errors)
        try:
            password_hash = await hash_password(input.password)
        except PasswordsBusy as busy:
            await ctx.limiter.undo("signup_ip", client_key(scope_of(ctx)))  # not an attempt
            return AuthPayload(token=None, viewer=None, user_errors=busy_errors(busy))

        async def work() -> tuple[Account, str] | None:
            owner = await Account.filter(email=email).first()
            if owner is not None:
                # Committed with the refusal: the owner hears of it, the caller only TAKEN.
                await notify_address_taken(owner)
                return None
            try:
                account = await Account.create(
                    email=email, display_name=name, password_hash=password_hash, locale=request_locale(ctx)
                )
            except IntegrityError as exc:
                raise Refusal.of(UserErrorCode.TAKEN, TAKEN_MESSAGE, "email") from exc
            await notify_email_verification(account, email)
            return account, await do_issue_token(ctx, account)

        result, errors = await run_in_transaction(ctx, work)
        if result is None and not errors:
            errors = Refusal.of(UserErrorCode.TAKEN, TAKEN_MESSAGE, "email").errors
        return auth_payload(result, errors)

    @strawberry.mutation(description="Exchange an email and password for a bearer token.")
    async def log_in(self, info: Info[Context, None], input: LogInInput) -> AuthPayload:
        ctx = info.context
        email = normalize_email(input.email)
        # Each attempt takes its place in every bucket BEFORE the password is verified, so
        # parallel guesses cannot overtake the count and a limited attacker learns nothing
        # (not even from the right password); a success gives its places back. Guesses from
        # one address are slowed per (email, address), so they never lock the owner out from
        # another one; only many addresses guessing one email meet its slower global curve.
        ip = client_key(scope_of(ctx))
        keys = {
            "login_email_ip": private_key(f"{email}\n{ip}"),
            "login_ip": ip,
            "login_email": private_key(email),
        }
        for bucket, key in keys.items():
            # In this order, and no further once one refuses: a refused guess must not count
            # against the email everywhere, or one address could still lock its owner out.
            decision = await ctx.limiter.hit(bucket, key)
            if not decision.allowed:
                return AuthPayload(token=None, viewer=None, user_errors=rate_limited(decision, "failed logins"))
        # An email no account can have (a NUL, a lone surrogate) would fail the query itself.
        account = (
            await Account.filter(email=email, deleted_at__isnull=True).first() if is_clean(email) else None
        )
        try:
            matches = await verify_password(account, input.password)
        except PasswordsBusy as busy:
            for bucket, key in keys.items():  # nothing was checked: not an attempt
                await ctx.limiter.undo(bucket, key)
            return AuthPayload(token=None, viewer=None, user_errors=busy_errors(busy))
        if not matches or account is None:
            return AuthPayload(
                token=None,
                viewer=None,
                user_errors=Refusal.of(
                    UserErrorCode.BAD_CREDENTIALS, "The email or the password is wrong."
                ).errors,
            )
        await ctx.limiter.reset("login_email_ip", keys["login_email_ip"])
        await ctx.limiter.undo("login_email", keys["login_email"])
        await ctx.limiter.undo("login_ip", ip)
        token, _ = await run_in_transaction(ctx, lambda: do_issue_token(ctx, account))
        return AuthPayload(token=token, viewer=Viewer.from_model(account), user_errors=[])

    @strawberry.mutation(description="Revoke the bearer token this request was made with.")
    async def log_out(self, info: Info[Context, None]) -> bool:
        ctx = info.context
        ctx.require_account()
        assert ctx.token is not None
        await AccessToken.filter(id=ctx.token.id).update(revoked_at=clock.now())
        return True

    @strawberry.mutation(
        description=(
            "Right to erasure: removes the viewer's email, name, password and tokens. What they "
            "wrote stays, shown as written by a former member; ballots stay counted (they were "
            "never linked to anyone)."
        )
    )
    async def delete_account(self, info: Info[Context, None], input: DeleteAccountInput) -> bool:
        ctx = info.context
        account = ctx.require_account()
        try:
            matches = await verify_password(account, input.password)
        except PasswordsBusy as busy:
            error = busy_errors(busy)[0]
            raise LocalizedError(error.message, "RATE_LIMITED", error.arguments,
                                 retryAfter=error.retry_after_seconds) from busy
        if not matches:
            raise GraphQLError("The password is wrong.", extensions={"code": "BAD_CREDENTIALS"})

        async def work() -> bool:
            await Account.filter(id=account.id).update(
                email=None,
                display_name="Former member",
                password_hash=None,
                deleted_at=clock.now(),
            )
            await AccessToken.filter(account_id=account.id).delete()
            return True

        done, _ = await run_in_transaction(ctx, work)
        return bool(done)


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The authenticated person, or null for an anonymous visitor.")
    async def viewer(self, info: Info[Context, None]) -> Viewer | None:
        ctx: Context = info.context
        return Viewer.from_model(ctx.account) if ctx.account else None
