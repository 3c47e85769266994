"""Binds the root types (Query, Mutation) from each domain and builds the schema."""

from __future__ import annotations

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from resolvers.accounts import AccountsMutation, AccountsQuery
from resolvers.comments import CommentsMutation
from resolvers.ideas import IdeasMutation
from resolvers.inbox import NotificationsMutation
from resolvers.moderation import ModerationMutation
from resolvers.news import NewsMutation
from resolvers.nodes import NodesQuery
from resolvers.polls import PollsMutation
from resolvers.projects import ProjectsMutation
from resolvers.questions import QuestionsMutation
from resolvers.territories import TerritoriesMutation, TerritoriesQuery
from schema.accounts import Citizen, Official

Query = merge_types("Query", (NodesQuery, AccountsQuery, TerritoriesQuery))
Mutation = merge_types(
    "Mutation",
    (
        AccountsMutation,
        TerritoriesMutation,
        QuestionsMutation,
        IdeasMutation,
        ProjectsMutation,
        PollsMutation,
        NewsMutation,
        CommentsMutation,
        ModerationMutation,
        NotificationsMutation,
    ),
)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        # Member is an interface: both concrete types must be in the schema.
        types=[Citizen, Official],
        extensions=[
            lambda: ParserCache(maxsize=256),
            lambda: ValidationCache(maxsize=256),
        ],
    )


schema = build_schema()
