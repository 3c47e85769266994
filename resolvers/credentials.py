"""What a person does with their own account: confirm their email, reset a forgotten
password, change password, email and profile, and end sessions (devices)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.types import Info
from tortoise.exceptions import IntegrityError

from access.context import Context
from access.errors import LocalizedError, not_found
from access.passwords import PasswordsBusy, hash_password, verify_password
from access.ratelimit import client_key, private_key
from models import clock
from models.accounts import AccessToken, Account, EmailToken, EmailTokenPurpose
from resolvers.account_mails import (
    INVALID_TOKEN_MESSAGE,
    do_use_email_token,
    notify_email_changed,
    notify_email_verification,
    notify_password_changed,
    notify_password_reset,
)
from resolvers.accounts import (
    LOCALES,
    TAKEN_MESSAGE,
    auth_payload,
    busy_errors,
    check_email,
    check_password,
    do_issue_token,
    scope_of,
)
from resolvers.mutations import check_account_rate, check_rate, run_in_transaction
from resolvers.validation import Checks, is_clean
from schema.accounts import (
    AuthPayload,
    ChangeEmailInput,
    ChangePasswordInput,
    RequestPasswordResetInput,
    ResetPasswordInput,
    RevokeSessionInput,
    UpdateProfileInput,
    VerifyEmailInput,
    Viewer,
)
from schema.errors import Refusal, UserError, UserErrorCode
from schema.relay import decode_id_of


def rate_limited_error(errors: list[UserError]) -> GraphQLError:
    """A Boolean mutation over its limit: a top-level RATE_LIMITED error."""
    return LocalizedError(
        errors[0].message, "RATE_LIMITED", errors[0].arguments, retryAfterSeconds=errors[0].retry_after_seconds
    )


async def hashed(password: str) -> str:
    """The password's hash, or a RATE_LIMITED refusal when the password pool is full."""
    try:
        return await hash_password(password)
    except PasswordsBusy as busy:
        raise Refusal(busy_errors(busy)) from busy


async def check_current_password(ctx: Context, account: Account, password: str, field: str) -> None:
    """BAD_CREDENTIALS unless `password` is the account's; counted, so a stolen session
    cannot guess the password it lacks."""
    limited = await check_account_rate(ctx, "password_check", "password attempts")
    if limited:
        raise Refusal(limited)
    try:
        matches = await verify_password(account, password)
    except PasswordsBusy as busy:
        raise Refusal(busy_errors(busy)) from busy
    if not matches:
        raise Refusal.of(UserErrorCode.BAD_CREDENTIALS, "The password is wrong.", field)


async def do_revoke_sessions(account_id: int, keep: AccessToken | None) -> None:
    """End every session of the account but `keep` (the request's own, if any)."""
    query = AccessToken.filter(account_id=account_id, revoked_at__isnull=True)
    if keep is not None:
        query = query.exclude(id=keep.id)
    await query.update(revoked_at=clock.now())


def viewer_payload(account: Account | None, errors: list[UserError]) -> AuthPayload:
    """AuthPayload without a new token: the request's own stays valid."""
    viewer = Viewer.from_model(account) if account is not None else None
    return AuthPayload(token=None, viewer=viewer, user_errors=errors)


@strawberry.type
class CredentialsMutation:
    @strawberry.mutation(
        description="Confirm an email with the token of the link mailed to it (single-use, expires after 48 hours)."
    )
    async def verify_email(self, info: Info[Context, None], input: VerifyEmailInput) -> AuthPayload:
        ctx = info.context

        async def work() -> Account:
            used = await do_use_email_token(input.token, EmailTokenPurpose.VERIFY_EMAIL, "token")
            account = used.account
            # A token confirms the address it was sent to, not one the account moved to since.
            if account.email != used.email:
                raise Refusal.of(UserErrorCode.INVALID_TOKEN, INVALID_TOKEN_MESSAGE, "token")
            if account.email_verified_at is None:
                account.email_verified_at = clock.now()
                await Account.filter(id=account.id).update(email_verified_at=account.email_verified_at)
            return account

        account, errors = await run_in_transaction(ctx, work)
        return viewer_payload(account, errors)

    @strawberry.mutation(
        description="Mail the viewer's address a new confirmation link; false when it is already confirmed."
    )
    async def resend_email_verification(self, info: Info[Context, None]) -> bool:
        ctx = info.context
        account = ctx.require_account()
        if account.email_verified_at is not None or account.email is None:
            return False
        limited = await check_account_rate(ctx, "verify_resend", "confirmation mails")
        if limited:
            raise rate_limited_error(limited)
        email = account.email
        await run_in_transaction(ctx, lambda: notify_email_verification(account, email))
        return True

    @strawberry.mutation(
        description=(
            "Mail a password reset link to the address if it has an account. Same answer (true) "
            "whether or not it has one; limited per address and per client."
        )
    )
    async def request_password_reset(self, info: Info[Context, None], input: RequestPasswordResetInput) -> bool:
        ctx = info.context
        email = input.email.strip().lower()
        limited = await check_rate(ctx.limiter, "reset_ip", client_key(scope_of(ctx)), "reset requests")
        if not limited:
            limited = await check_rate(ctx.limiter, "reset_email", private_key(email), "reset requests")
        if limited:
            raise rate_limited_error(limited)

        # The same insert whether or not the address has an account: the worker finds out
        # after commit, outside the request, so the answer's time tells nothing either.
        if is_clean(email) and len(email) <= 254:
            await run_in_transaction(ctx, lambda: notify_password_reset(email))
        return True

    @strawberry.mutation(
        description=(
            "Choose a new password with the token of the emailed reset link. Every session of "
            "the account ends; the answer carries a new token."
        )
    )
    async def reset_password(self, info: Info[Context, None], input: ResetPasswordInput) -> AuthPayload:
        ctx = info.context
        checks = Checks()
        check_password(checks, input.new_password, "newPassword")
        if checks.errors:
            return AuthPayload(token=None, viewer=None, user_errors=checks.errors)
        try:
            password_hash = await hashed(input.new_password)
        except Refusal as busy:
            return AuthPayload(token=None, viewer=None, user_errors=busy.errors)

        async def work() -> tuple[Account, str]:
            used = await do_use_email_token(input.token, EmailTokenPurpose.RESET_PASSWORD, "token")
            account = used.account
            if account.email != used.email:
                raise Refusal.of(UserErrorCode.INVALID_TOKEN, INVALID_TOKEN_MESSAGE, "token")
            changes: dict[str, object] = {"password_hash": password_hash}
            # Following the link proved the address.
            if account.email_verified_at is None:
                changes["email_verified_at"] = clock.now()
            await Account.filter(id=account.id).update(**changes)
            await account.refresh_from_db()
            await do_revoke_sessions(account.id, keep=None)
            # Other reset links of the account die with this one.
            await EmailToken.filter(
                account_id=account.id, purpose=EmailTokenPurpose.RESET_PASSWORD, used_at__isnull=True
            ).update(used_at=clock.now())
            await notify_password_changed(account)
            return account, await do_issue_token(ctx, account)

        result, errors = await run_in_transaction(ctx, work)
        return auth_payload(result, errors)

    @strawberry.mutation(
        description="Change the viewer's password (the current one is required); their other sessions end."
    )
    async def change_password(self, info: Info[Context, None], input: ChangePasswordInput) -> AuthPayload:
        ctx = info.context
        account = ctx.require_account()
        checks = Checks()
        check_password(checks, input.new_password, "newPassword")
        if checks.errors:
            return viewer_payload(None, checks.errors)

        # Checked and hashed before the transaction: no write lock held while argon2 works.
        try:
            await check_current_password(ctx, account, input.current_password, "currentPassword")
        except Refusal as refusal:
            return viewer_payload(None, refusal.errors)
        try:
            password_hash = await hashed(input.new_password)
        except Refusal as busy:
            return viewer_payload(None, busy.errors)

        async def work() -> Account:
            await Account.filter(id=account.id).update(password_hash=password_hash)
            await do_revoke_sessions(account.id, keep=ctx.token)
            await notify_password_changed(account)
            return await Account.get(id=account.id)

        changed, errors = await run_in_transaction(ctx, work)
        return viewer_payload(changed, errors)

    @strawberry.mutation(
        description=(
            "Change the viewer's email (the password is required): the new address must be "
            "confirmed again, and the old one is told."
        )
    )
    async def change_email(self, info: Info[Context, None], input: ChangeEmailInput) -> AuthPayload:
        ctx = info.context
        account = ctx.require_account()
        checks = Checks()
        email = check_email(checks, input.new_email, "newEmail")
        if checks.errors:
            return viewer_payload(None, checks.errors)

        try:
            await check_current_password(ctx, account, input.password, "password")
        except Refusal as refusal:
            return viewer_payload(None, refusal.errors)

        async def work() -> Account:
            if email == account.email:
                return account
            if await Account.filter(email=email).exists():
                raise Refusal.of(UserErrorCode.TAKEN, TAKEN_MESSAGE, "newEmail")
            old = account.email
            try:
                await Account.filter(id=account.id).update(email=email, email_verified_at=None)
            except IntegrityError as exc:  # another account took the address meanwhile
                raise Refusal.of(UserErrorCode.TAKEN, TAKEN_MESSAGE, "newEmail") from exc
            changed = await Account.get(id=account.id)
            await notify_email_verification(changed, email)
            if old is not None:
                await notify_email_changed(changed, old, email)
            return changed

        changed, errors = await run_in_transaction(ctx, work)
        return viewer_payload(changed, errors)

    @strawberry.mutation(description="Change the viewer's public name or language.")
    async def update_profile(self, info: Info[Context, None], input: UpdateProfileInput) -> AuthPayload:
        ctx = info.context
        account = ctx.require_account()
        checks = Checks()
        changes: dict[str, object] = {}
        if input.display_name is not None:
            changes["display_name"] = checks.text(input.display_name, "displayName", max_length=100)
        if input.locale is not None:
            if input.locale not in LOCALES:
                checks.fail("Must be one of: {choices}.", "locale", choices=", ".join(LOCALES))
            changes["locale"] = input.locale
        if checks.errors:
            return viewer_payload(None, checks.errors)

        async def work() -> Account:
            if changes:
                await Account.filter(id=account.id).update(**changes)
            return await Account.get(id=account.id)

        changed, errors = await run_in_transaction(ctx, work)
        return viewer_payload(changed, errors)

    @strawberry.mutation(
        description=(
            "End one of the viewer's sessions (viewer.sessions): its token stops working at once. "
            "NOT_FOUND for an unknown id, as for another account's session."
        )
    )
    async def revoke_session(self, info: Info[Context, None], input: RevokeSessionInput) -> bool:
        ctx = info.context
        account = ctx.require_account()
        pk = decode_id_of(input.session_id, "Session")
        revoked = 0
        if pk is not None:
            revoked = await AccessToken.filter(id=pk, account_id=account.id, revoked_at__isnull=True).update(
                revoked_at=clock.now()
            )
        if not revoked:
            raise not_found("No such session.")
        return True
