"""Mutations on projects: create one (with budget and documents), add a document."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from access.context import Context
from models.accounts import Role
from models.projects import Document as DocumentRow
from models.projects import DocumentKind as DocumentKindRow
from models.projects import Project as ProjectRow
from reads.nodes import load_row
from resolvers.feed import do_add_to_feed
from resolvers.mutations import mutate
from resolvers.validation import Checks
from schema.errors import Refusal, UserError, UserErrorCode
from schema.projects import (
    AddDocumentInput,
    CreateProjectInput,
    DocumentInput,
    Project,
    ProjectPayload,
)
from schema.relay import decode_id_of

PROJECT_EDITORS = (Role.OFFICIAL, Role.ADMIN)
DOCUMENTS_MAX = 50


def check_document(checks: Checks, document: DocumentInput, *field: str) -> DocumentRow:
    """An unsaved document row from its input; failures are collected in `checks`."""
    return DocumentRow(
        title=checks.title(document.title, *field, "title"),
        url=checks.url(document.url, *field, "url"),
        kind=DocumentKindRow(document.kind.name),
    )


def payload(row: ProjectRow | None, errors: list[UserError]) -> ProjectPayload:
    return ProjectPayload(project=Project.from_model(row) if row else None, user_errors=errors)


@strawberry.type
class ProjectsMutation:
    @strawberry.mutation(
        description=(
            "Publish a project of a territory with its budget and documents (officials and "
            "admins of the territory). The project enters the territory's feed."
        )
    )
    async def create_project(self, info: Info[Context, None], input: CreateProjectInput) -> ProjectPayload:
        ctx = info.context

        async def work() -> ProjectRow:
            ctx.require_account()
            territory_id = decode_id_of(input.territory_id, "Territory")
            if territory_id is None or await load_row(ctx, "Territory", territory_id) is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such territory.", "territoryId")
            member = await ctx.check_role(territory_id, *PROJECT_EDITORS)
            checks = Checks()
            title = checks.title(input.title, "title")
            description = checks.body(input.description, "description")
            amount = currency = None
            if input.budget is not None:
                amount = checks.amount(input.budget.amount, "budget", "amount")
                currency = checks.currency(input.budget.currency, "budget", "currency")
            documents: list[DocumentRow] = []
            if input.documents is not None:
                if len(input.documents) > DOCUMENTS_MAX:
                    checks.fail("At most {max} documents.", "documents", max=DOCUMENTS_MAX)
                else:
                    documents = [
                        check_document(checks, document, "documents", str(i))
                        for i, document in enumerate(input.documents)
                    ]
            checks.done()
            project = await ProjectRow.create(
                territory_id=territory_id,
                created_by_id=member.id,
                title=title,
                description=description,
                budget_amount=amount,
                budget_currency=currency,
            )
            for document in documents:
                document.project_id = project.id
            if documents:
                await DocumentRow.bulk_create(documents)
            await do_add_to_feed(ctx, territory_id, "Project", project.id)
            return project

        return await mutate(ctx, work, payload)

    @strawberry.mutation(
        description="Add a document to a project (officials and admins of the project's territory)."
    )
    async def add_document(self, info: Info[Context, None], input: AddDocumentInput) -> ProjectPayload:
        ctx = info.context

        async def work() -> ProjectRow:
            ctx.require_account()
            project_id = decode_id_of(input.project_id, "Project")
            project = await load_row(ctx, "Project", project_id) if project_id else None
            if project is None:
                raise Refusal.of(UserErrorCode.NOT_FOUND, "No such project.", "projectId")
            await ctx.check_role(project.territory_id, *PROJECT_EDITORS)
            checks = Checks()
            document = check_document(checks, input.document, "document")
            checks.done()
            document.project_id = project.id
            await document.save()
            return project  # type: ignore[no-any-return]

        return await mutate(ctx, work, payload)
