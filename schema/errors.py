"""Expected failures of mutations (userErrors) and top-level error codes."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import field as dataclass_field
from enum import Enum
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import FieldExtension, MaskErrors
from strawberry.types import Info

from access.errors import LocalizedError
from access.i18n import DEFAULT_LOCALE, translate

_log = logging.getLogger("parvis.errors")


@strawberry.enum(description="Why a mutation refused its input.")
class UserErrorCode(Enum):
    INVALID = strawberry.enum_value("INVALID", description="A field fails validation.")
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="An id does not resolve, or is hidden from the viewer."
    )
    TAKEN = strawberry.enum_value("TAKEN", description="A unique value (an email) is already used.")
    BAD_CREDENTIALS = strawberry.enum_value(
        "BAD_CREDENTIALS", description="The email and password do not match an account."
    )
    NOT_A_MEMBER = strawberry.enum_value(
        "NOT_A_MEMBER", description="The viewer has not joined the territory."
    )
    NOT_VERIFIED = strawberry.enum_value(
        "NOT_VERIFIED", description="The action needs a verified resident."
    )
    ALREADY_VOTED = strawberry.enum_value(
        "ALREADY_VOTED", description="The viewer already voted in this poll."
    )
    POLL_NOT_OPEN = strawberry.enum_value(
        "POLL_NOT_OPEN",
        description="The poll is scheduled: not open yet (a closed poll answers POLL_CLOSED).",
    )
    POLL_CLOSED = strawberry.enum_value("POLL_CLOSED", description="The poll has closed.")
    ALREADY_ANSWERED = strawberry.enum_value(
        "ALREADY_ANSWERED", description="The question already has its reply."
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many actions of this kind; retry later."
    )
    INVALID_TOKEN = strawberry.enum_value(
        "INVALID_TOKEN", description="An emailed link's token is unknown, used or expired."
    )
    EMAIL_NOT_VERIFIED = strawberry.enum_value(
        "EMAIL_NOT_VERIFIED", description="The territory requires a verified email for this action."
    )
    EDIT_WINDOW_CLOSED = strawberry.enum_value(
        "EDIT_WINDOW_CLOSED",
        description="The content can no longer be edited by its author (replied to, reviewed, past a "
        "comment's edit window, or hidden by a moderator).",
    )
    NOT_THE_AUTHOR = strawberry.enum_value(
        "NOT_THE_AUTHOR",
        description="Permission hints only: only the content's author may edit or delete it (the mutations "
        "answer a top-level FORBIDDEN whose extensions.reason is NOT_THE_AUTHOR).",
    )
    ALREADY_REVIEWED = strawberry.enum_value(
        "ALREADY_REVIEWED", description="The idea's review began: its author may no longer delete it."
    )
    ALREADY_DELETED = strawberry.enum_value(
        "ALREADY_DELETED", description="Its author already deleted this content."
    )
    NOT_A_MODERATOR = strawberry.enum_value(
        "NOT_A_MODERATOR",
        description="Permission hints only: moderating needs the territory's MODERATOR or ADMIN role "
        "(moderation mutations answer a top-level FORBIDDEN).",
    )
    UNSUPPORTED_TYPE = strawberry.enum_value(
        "UNSUPPORTED_TYPE",
        description="The file's content is not of an accepted type (PDF, PNG, JPEG, WebP, office documents).",
    )
    FILE_TOO_LARGE = strawberry.enum_value(
        "FILE_TOO_LARGE", description="The file is larger than the territory accepts (see maxBytes)."
    )
    ALT_TEXT_REQUIRED = strawberry.enum_value(
        "ALT_TEXT_REQUIRED", description="An image needs its text alternative (altText)."
    )
    SURVEY_NOT_DRAFT = strawberry.enum_value(
        "SURVEY_NOT_DRAFT", description="The survey is published: its title, dates and questions no longer change."
    )
    SURVEY_NOT_OPEN = strawberry.enum_value(
        "SURVEY_NOT_OPEN", description="The survey is scheduled: not open yet (a closed one answers SURVEY_CLOSED)."
    )
    SURVEY_CLOSED = strawberry.enum_value("SURVEY_CLOSED", description="The survey has closed.")
    ALREADY_SUBMITTED = strawberry.enum_value(
        "ALREADY_SUBMITTED", description="The viewer already submitted this survey (one submission per member)."
    )
    ANSWER_HIDDEN = strawberry.enum_value(
        "ANSWER_HIDDEN",
        description="An answer to a question the submission's own answers hide (its condition is not met); "
        "the field path ends with the question's id.",
    )
    ANSWER_REQUIRED = strawberry.enum_value(
        "ANSWER_REQUIRED",
        description="A required question the submission shows has no answer; the field path ends with the "
        "question's id.",
    )
    PHASE_CLOSED = strawberry.enum_value(
        "PHASE_CLOSED",
        description="The consultation phase is not current (upcoming or past, or its consultation is "
        "not published): it takes no contribution now.",
    )
    PHASE_DOES_NOT_ACCEPT = strawberry.enum_value(
        "PHASE_DOES_NOT_ACCEPT",
        description="The consultation phase never takes this kind of contribution (ideas, questions).",
    )
    PHASES_OVERLAP = strawberry.enum_value(
        "PHASES_OVERLAP", description="The phase's dates overlap another phase of the consultation."
    )
    PHASE_STARTED = strawberry.enum_value(
        "PHASE_STARTED", description="The phase of a published consultation has started: it cannot be removed."
    )
    # Mutations answer these two as top-level errors (extensions.code); a Permission's
    # reason names them so an app can tell "sign in" and "not your role" from the rest.
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED",
        description="Permission hints only: the viewer must sign in (mutations answer it as a top-level error).",
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN",
        description="Permission hints only: the viewer's role may not do this (mutations answer it as a "
        "top-level error).",
    )


@strawberry.type(description="A machine-readable parameter of a userError (e.g. min, max, retryAfterSeconds), "
                  "so an app can write its own text.")
class UserErrorParam:
    name: str = strawberry.field(description="The parameter's name, e.g. \"min\".")
    value: str = strawberry.field(description="Its value as text, e.g. \"3\".")


def locale_of(info: Info) -> str:
    """The request's negotiated language (access/context.py), French for a bare context."""
    return str(getattr(info.context, "locale", DEFAULT_LOCALE))


class Localized(FieldExtension):
    """Puts a userError's message (a catalogue msgid) in the reader's language, when it is read:
    the error itself holds no language, so it cannot be served to the wrong reader."""

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        msgid = next_(source, info, **kwargs)
        code = getattr(source, "code", None)
        return translate(locale_of(info), getattr(code, "value", None), msgid, getattr(source, "arguments", None))


@strawberry.type(description="An expected failure of a mutation, with the input field it concerns.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field at fault (e.g. [\"input\", \"title\"]); null when none."
    )
    message: str = strawberry.field(
        description="What went wrong, for people, in the request's language (Accept-Language, else the "
        "viewer's account locale, else the territory's).",
        extensions=[Localized()],
    )
    code: UserErrorCode = strawberry.field(description="What went wrong, for programs.")
    retry_after_seconds: int | None = strawberry.field(
        default=None,
        description="With RATE_LIMITED: seconds to wait before trying again; null otherwise.",
    )
    max_bytes: int | None = strawberry.field(
        default=None,
        description="With FILE_TOO_LARGE: the largest file the territory accepts, in bytes; null otherwise.",
    )
    # The message's parameters (min, max, retryAfterSeconds...), by name.
    arguments: strawberry.Private[dict[str, Any]] = dataclass_field(default_factory=dict)

    @strawberry.field(description="The message's parameters, machine-readable, the same in every language "
                      "(e.g. min and max of a length, retryAfterSeconds), so an app can write its own text.")
    def params(self) -> list[UserErrorParam]:
        return [UserErrorParam(name=name, value=str(value)) for name, value in self.arguments.items()]


class Refusal(Exception):
    """Raised inside a mutation's transaction: rolls it back and becomes userErrors."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def of(cls, code: UserErrorCode, message: str, *field: str, **params: Any) -> Refusal:
        """One userError: `message` is the catalogue's msgid (English, `{name}` placeholders),
        `params` its machine-readable parameters."""
        path = ["input", *field] if field else None
        return cls([UserError(field=path, message=message, code=code, arguments=params)])


class ErrorCodes(MaskErrors):
    """Every error leaves with a code in `extensions.code`.

    Parse and validation failures get GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED unless a
    rule gave a more precise code. An unexpected exception becomes INTERNAL_SERVER_ERROR with an
    `errorId` that is also logged with the traceback; in production its message is replaced, so
    no exception text or stack trace reaches a client. Expected errors (userErrors, permission
    errors, limits) keep their messages and codes.
    """

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: True, error_message="Internal server error.")

    def _process_result(self, result: object) -> None:
        # In place: a parse failure's result shares its list with pre_execution_errors.
        errors = getattr(result, "errors", None) or getattr(result, "pre_execution_errors", None)
        if errors:
            errors[:] = self._process_errors(errors)

    def on_operation(self) -> Iterator[None]:
        yield from super().on_operation()
        if self.execution_context.pre_execution_errors:
            self._process_result(self.execution_context)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        extensions = dict(error.extensions or {})
        if "code" in extensions:
            return self.localized(error, str(extensions["code"]))
        original = error.original_error
        if isinstance(error, GraphQLSyntaxError):
            code = "GRAPHQL_PARSE_FAILED"
        elif original is None and error.path is None:
            code = "GRAPHQL_VALIDATION_FAILED"
        elif isinstance(original, GraphQLError):
            code = (original.extensions or {}).get("code", "BAD_USER_INPUT")
        else:
            error_id = uuid.uuid4().hex[:16]
            _log.error(
                "unexpected error %s at %s", error_id, ".".join(map(str, error.path or ())),
                exc_info=(type(original), original, original.__traceback__) if original else None,
            )
            production = getattr(getattr(self.execution_context.context, "settings", None), "production", False)
            return GraphQLError(
                self.error_message if production else error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                original_error=None,
                extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
            )
        return self.localized(GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=original,
            extensions={**extensions, "code": code},
        ), code)

    def localized(self, error: GraphQLError, code: str) -> GraphQLError:
        """The error with its message in the request's language: a LocalizedError's msgid and
        parameters, or a fixed message that is itself a msgid of the catalogue."""
        source = next((e for e in (error, error.original_error) if isinstance(e, LocalizedError)), None)
        msgid, params = (source.msgid, source.params) if source is not None else (error.message, {})
        locale = str(getattr(self.execution_context.context, "locale", DEFAULT_LOCALE))
        message = translate(locale, code, msgid, params, quiet=source is None)
        if message == error.message:
            return error
        # A copy that keeps its msgid: the error may be shared (a cached validation result)
        # with readers of another language.
        return LocalizedError.located(error, msgid, params, message)
