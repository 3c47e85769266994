"""Expected failures of mutations (userErrors) and top-level error codes."""

from __future__ import annotations

from enum import Enum

import strawberry
from graphql import GraphQLError


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
        "POLL_NOT_OPEN", description="The poll is scheduled or closed."
    )
    ALREADY_ANSWERED = strawberry.enum_value(
        "ALREADY_ANSWERED", description="The question already has its reply."
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Too many actions of this kind; retry later."
    )


@strawberry.type(description="An expected failure of a mutation, with the input field it concerns.")
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field at fault (e.g. [\"input\", \"title\"]); null when none."
    )
    message: str = strawberry.field(description="What went wrong, for people.")
    code: UserErrorCode = strawberry.field(description="What went wrong, for programs.")


class Refusal(Exception):
    """Raised inside a mutation's transaction: rolls it back and becomes userErrors."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors

    @classmethod
    def of(cls, code: UserErrorCode, message: str, *field: str) -> Refusal:
        path = ["input", *field] if field else None
        return cls([UserError(field=path, message=message, code=code)])


def unauthenticated(message: str = "Authentication required.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def forbidden(message: str = "Your role may not do this.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})
