"""Top-level GraphQL errors about who is asking: not authenticated, not allowed, not there.

Their messages are msgids of the catalogue (access/i18n.py) with their parameters: the error
extension (schema/errors.py) puts them in the reader's language.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

from access.i18n import N_, translate


class LocalizedError(GraphQLError):
    """A top-level error whose message is a catalogue msgid, with its parameters."""

    def __init__(self, msgid: str, code: str, params: dict[str, Any] | None = None,
                 **extensions: Any) -> None:
        self.msgid = msgid
        self.params = dict(params or {})
        super().__init__(translate("en", code, msgid, self.params), extensions={"code": code, **extensions})

    @classmethod
    def located(cls, error: GraphQLError, msgid: str, params: dict[str, Any], message: str) -> LocalizedError:
        """`error` (where it happened, its extensions) saying `message`, still knowing its msgid:
        an error shared between requests (a cached validation result) is translated again for
        each reader, never left in the language of the first."""
        copy = cls.__new__(cls)
        copy.msgid, copy.params = msgid, dict(params)
        GraphQLError.__init__(
            copy, message, nodes=error.nodes, source=error.source, positions=error.positions,
            path=error.path, original_error=error.original_error, extensions=error.extensions,
        )
        return copy


def unauthenticated(message: str = N_("Authentication required."), **params: Any) -> GraphQLError:
    return LocalizedError(message, "UNAUTHENTICATED", params)


def forbidden(message: str = N_("Your role may not do this."), **params: Any) -> GraphQLError:
    return LocalizedError(message, "FORBIDDEN", params)


def not_found(message: str, **params: Any) -> GraphQLError:
    return LocalizedError(message, "NOT_FOUND", params)
