"""Top-level GraphQL errors about who is asking: not authenticated, not allowed, not there."""

from __future__ import annotations

from graphql import GraphQLError


def unauthenticated(message: str = "Authentication required.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "UNAUTHENTICATED"})


def forbidden(message: str = "Your role may not do this.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": "FORBIDDEN"})


def not_found(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "NOT_FOUND"})
