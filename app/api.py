"""The served schema: Query, Mutation and Subscription bound from each domain's root fields,
with the extensions every operation goes through (metrics, error codes, caches, limits)."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError, GraphQLInterfaceType, GraphQLObjectType
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.extension_hooks import OnceWrappedRunner
from app.observability import OperationMetrics
from app.validation_cache import DocumentValidationCache
from resolvers.accounts import AccountsMutation, AccountsQuery
from resolvers.comments import CommentsMutation
from resolvers.consultations.mutations import ConsultationsMutation
from resolvers.consultations.outcomes import OutcomesMutation
from resolvers.credentials import CredentialsMutation
from resolvers.documents import DocumentsMutation
from resolvers.ideas import IdeasMutation
from resolvers.moderation import ModerationMutation
from resolvers.news import NewsMutation
from resolvers.nodes import NodesQuery
from resolvers.notifications import NotificationsMutation
from resolvers.polls import PollsMutation
from resolvers.projects import ProjectsMutation
from resolvers.questions import QuestionsMutation
from resolvers.ratelimits import RateLimitQuery
from resolvers.reach import ReachMutation, ReachQuery
from resolvers.surveys import SurveysMutation, SurveysQuery
from resolvers.territories import TerritoriesMutation, TerritoriesQuery
from schema.accounts import Citizen, Official
from schema.errors import ErrorCodes
from schema.execution import FastExecutionContext
from schema.limits import QueryCost, QueryLimits
from schema.scalars import SCALARS
from subscriptions.consultations import ConsultationsSubscription
from subscriptions.feed import FeedSubscription
from subscriptions.notifications import NotificationsSubscription
from subscriptions.polls import PollsSubscription
from subscriptions.questions import QuestionsSubscription
from subscriptions.stats import StatsSubscription
from subscriptions.surveys import SurveysSubscription


@strawberry.type(description="What anyone can read: territories, their content, and the viewer.")
class Query(NodesQuery, AccountsQuery, TerritoriesQuery, ReachQuery, RateLimitQuery, SurveysQuery):
    pass


@strawberry.type(
    description=(
        "Every write. Each takes one `input` and returns a payload whose `userErrors` carry "
        "expected failures; missing credentials are UNAUTHENTICATED, a role that may not act FORBIDDEN."
    )
)
class Mutation(
    AccountsMutation,
    CredentialsMutation,
    TerritoriesMutation,
    QuestionsMutation,
    IdeasMutation,
    ProjectsMutation,
    DocumentsMutation,
    PollsMutation,
    NewsMutation,
    CommentsMutation,
    ModerationMutation,
    NotificationsMutation,
    ReachMutation,
    SurveysMutation,
    ConsultationsMutation,
    OutcomesMutation,
):
    pass


# Arguments that mean the same everywhere are described once, here.
ARGUMENT_DESCRIPTIONS = {
    "first": "How many items from the start (or after `after`), 0 to 100; 20 when neither first nor last.",
    "after": "A cursor: items after it.",
    "last": "How many items from the end (or before `before`), 0 to 100.",
    "before": "A cursor: items before it.",
    "input": "The mutation's input.",
    "id": "A global object id.",
    "ids": "Global object ids, at most 100.",
    "slug": "The territory's slug.",
    "status": "Only items with this status.",
    "role": "Only members with this role.",
    "verified": "Only verified (true) or unverified (false) members.",
    "officialId": "Only questions addressed to this official (a member id).",
    "orderBy": "NEWEST (default) or MOST_SUPPORTED first.",
    "unreadOnly": "Only unread notifications.",
    "pollId": "The poll's global id.",
    "territoryId": "The territory's global id.",
    "surveyId": "The survey's global id.",
    "consultationId": "The consultation's global id.",
}


def describe_arguments(built: strawberry.Schema) -> strawberry.Schema:
    for name, gql_type in built._schema.type_map.items():
        if name.startswith("__") or not isinstance(gql_type, (GraphQLObjectType, GraphQLInterfaceType)):
            continue
        for field in gql_type.fields.values():
            for arg_name, arg in field.args.items():
                if not arg.description and arg_name in ARGUMENT_DESCRIPTIONS:
                    arg.description = ARGUMENT_DESCRIPTIONS[arg_name]
    return built


@strawberry.type(
    description=(
        "Live streams over a websocket (graphql-transport-ws): poll results, official replies, "
        "the territory feed and stats, survey results, and the viewer's notifications."
    )
)
class Subscription(
    PollsSubscription,
    QuestionsSubscription,
    FeedSubscription,
    NotificationsSubscription,
    StatsSubscription,
    SurveysSubscription,
    ConsultationsSubscription,
):
    pass


class ParvisSchema(strawberry.Schema):
    """Strawberry's schema, without Strawberry's error log."""

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        """Strawberry logs every error as lines of text with the document's source and a
        traceback: a `logIn` whose selection fails validation put its password in the logs.
        Here the operation's one JSON line carries its error codes (OperationMetrics), and an
        unexpected error is logged once, with its errorId and traceback (ErrorCodes)."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Hooks wrapped once per extension class, not per request (app/extension_hooks.py)."""
        return OnceWrappedRunner(execution_context=execution_context, extensions=extensions)


def build_schema(execution_context_class: type = FastExecutionContext) -> strawberry.Schema:
    return describe_arguments(ParvisSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Member is an interface: both concrete types must be in the schema.
        types=[Citizen, Official],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=execution_context_class,
        extensions=[
            OperationMetrics,
            ErrorCodes,
            lambda: ParserCache(maxsize=256),
            lambda: DocumentValidationCache(maxsize=256),
            QueryLimits,
            QueryCost,
        ],
    ))


schema = build_schema()
