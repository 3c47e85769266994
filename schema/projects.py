"""Projects officials publish, with their budget, documents, ideas and polls."""

from __future__ import annotations

import datetime as dt
import decimal

import strawberry
from strawberry.types import Info

from access.context import Context
from models import ideas as mi
from models import polls as mp
from models import projects as mpr
from reads.documents import sees_drafts
from schema.activity import Followable
from schema.comments import Commentable
from schema.documents import Document, DocumentKind
from schema.errors import UserError
from schema.ideas import Idea
from schema.placement import InTerritory
from schema.polls import Poll
from schema.relay import Connection, Node, encode_id, paginate, register_node


@strawberry.type(description="An exact amount of money in a currency.")
class Money:
    amount: decimal.Decimal = strawberry.field(description='The amount with 2 decimals, e.g. "1250000.00".')
    currency: str = strawberry.field(description="The ISO 4217 currency code, e.g. EUR.")


@strawberry.type(description="A project of the territory: what it is, what it costs, its documents.")
class Project(Commentable, Followable, InTerritory, Node):
    id: strawberry.ID = strawberry.field(description="The project's global id.")
    title: str = strawberry.field(description="The project's name.")
    description: str = strawberry.field(description="What the project is about.")
    budget: Money | None = strawberry.field(description="The project's budget; null when none was given.")
    created_at: dt.datetime = strawberry.field(description="When the project was published.")
    pk: strawberry.Private[int]
    territory_pk: strawberry.Private[int]

    @classmethod
    def from_model(cls, row: mpr.Project) -> Project:
        budget = None
        if row.budget_amount is not None and row.budget_currency is not None:
            budget = Money(amount=row.budget_amount, currency=row.budget_currency)
        return cls(
            id=strawberry.ID(encode_id("Project", row.id)),
            title=row.title,
            description=row.description,
            budget=budget,
            created_at=row.created_at,
            pk=row.id,
            territory_pk=row.territory_id,
        )

    @strawberry.field(description="The project's documents, in the order they were added (drafts for its editors and moderators only).")
    async def documents(self, info: Info[Context, None]) -> list[Document]:
        rows = await info.context.loaders.documents_by_project.load(self.pk)
        if any(row.draft for row in rows) and not await sees_drafts(info.context.loaders, self.territory_pk):
            rows = [row for row in rows if not row.draft]
        return [Document.from_model(row) for row in rows]

    @strawberry.field(description="Ideas proposed for this project, newest first.")
    async def ideas(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Idea]:

        query = await info.context.visible(mi.Idea.filter(project_id=self.pk), self.territory_pk)
        return await paginate(
            query, Idea.from_model, first=first, after=after, last=last, before=before
        )

    @strawberry.field(description="Polls held about this project, newest first.")
    async def polls(
        self,
        info: Info[Context, None],
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Poll]:

        query = await info.context.visible(mp.Poll.filter(project_id=self.pk), self.territory_pk)
        return await paginate(
            query, Poll.from_model, first=first, after=after, last=last, before=before
        )


@strawberry.input(description="An exact amount of money in a currency.")
class MoneyInput:
    amount: decimal.Decimal = strawberry.field(
        description='Zero or more, with at most 2 decimals, as a string, e.g. "1250000.00".'
    )
    currency: str = strawberry.field(description="An ISO 4217 currency code, e.g. EUR.")


@strawberry.input(description="A document to publish with a project.")
class DocumentInput:
    title: str = strawberry.field(description="The document's title (1 to 200 characters).")
    url: str = strawberry.field(description="Where to read it: an http or https URL.")
    kind: DocumentKind = strawberry.field(description="What the document is.")


@strawberry.input(description="A new project of a territory.")
class CreateProjectInput:
    territory_id: strawberry.ID = strawberry.field(description="The territory the project belongs to.")
    title: str = strawberry.field(description="The project's name (1 to 200 characters).")
    description: str = strawberry.field(description="What the project is about (1 to 20,000 characters).")
    budget: MoneyInput | None = strawberry.field(default=None, description="The project's budget, if any.")
    documents: list[DocumentInput] | None = strawberry.field(
        default=None, description="Documents to publish with the project (at most 50)."
    )


@strawberry.input(description="A document to add to an existing project.")
class AddDocumentInput:
    project_id: strawberry.ID = strawberry.field(description="The project's global id.")
    document: DocumentInput = strawberry.field(description="The document to add.")


@strawberry.type(description="The result of a mutation on a project.")
class ProjectPayload:
    project: Project | None = strawberry.field(
        description="The project as it now stands; null on failure."
    )
    user_errors: list[UserError] = strawberry.field(description="Why the mutation failed; empty on success.")


register_node("Project", Project.from_model)
