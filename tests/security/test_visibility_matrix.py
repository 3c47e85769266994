"""Hidden means hidden, on every path: a matrix generated from the schema (ADR 0014).

Every field of the schema that can return content a moderator may hide, or content that sits
under it (a reply under its question, a comment under its subject, a document under its
project), or what points at such content (a notification, a report), is a *path*. The test
finds the paths in the schema itself, so a new type or field is either reached here or named
by `test_every_path_is_covered` as not covered. Each path is then walked by five personas of
the territory (anonymous, alice the citizen, bob the author of the hidden content, odile the
official, mona the moderator) and a moderator of another territory who is a citizen here.

The world: every hidden row, and every row under one, carries a marker (`SECRET-...`) in
its text; the rest reads "open". No marker may reach anyone but the territory's staff, but
for the one exception the rules keep: a CONTENT_HIDDEN notification shows its recipient the
content of theirs that was hidden. Staff must meet every marker on some path, which proves
the queries reach what they claim to. The anonymous answers are computed once before the
content is hidden, so a cached answer or shared page that survived the hiding shows up too.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    get_nullable_type,
    is_non_null_type,
)

from access.context import Context
from app.api import schema
from events.envelopes import Event, territory_channel
from models.accounts import AccessToken, Member, Role
from models.comments import Comment
from models.consultations import (
    Consultation,
    ConsultationPhase,
    ConsultationStatus,
    Outcome,
    OutcomeItem,
    PhaseItem,
    PhaseKind,
)
from models.feed import FeedEntry
from models.ideas import Idea, Support
from models.moderation import Report, ReportStatus
from models.news import NewsPost
from models.notifications import Notification, NotificationKind
from models.polls import Poll, PollOption, PollParticipation
from models.projects import Document, DocumentKind, Project
from models.questions import Question, Reply
from models.reach import Follow
from models.surveys import Survey
from reads.paging import encode_cursor
from schema.relay import decode_id, encode_id
from tests.factories import Persona, make_person, make_territory

GRAPH = schema._schema
# Types moderation hides, or that sit under them.
CONTENT = frozenset({
    "Question", "Reply", "Idea", "Poll", "Project", "Document", "NewsPost", "Comment",
    # A consultation's draft, and what sits under it, is the staff's and its officials' (see `drafts`).
    "Consultation", "ConsultationPhase", "Outcome",
})
# Types that point at content: their subject is a path of its own.
POINTERS = frozenset({"Notification", "Report"})
MARKER = re.compile(r"SECRET-[a-z-]+")
ALLOWED_ERRORS = {"NOT_FOUND", "UNAUTHENTICATED", "FORBIDDEN"}
PERSONAS = ("anonymous", "alice", "bob", "odile", "mona", "olga")
STAFF = "mona"


# -- the paths, from the schema ---------------------------------------------------------------


def reached(type_: Any) -> frozenset[str]:
    """The content or pointer types a field of this type can return (through lists,
    connections, edges, interfaces and unions)."""
    named = get_named_type(type_)
    if named.name in CONTENT | POINTERS:
        return frozenset({named.name})
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return frozenset(t.name for t in GRAPH.get_possible_types(named)) & (CONTENT | POINTERS)
    if isinstance(named, GraphQLObjectType) and named.name.endswith(("Connection", "Edge")):
        inner = named.fields.get("edges") or named.fields.get("node")
        return reached(inner.type) if inner is not None else frozenset()
    return frozenset()


def paths() -> dict[tuple[str, str], frozenset[str]]:
    """(parent type, field) -> the content types it reaches, for every such field."""
    found: dict[tuple[str, str], frozenset[str]] = {}
    for name, type_ in GRAPH.type_map.items():
        if name.startswith("__") or not isinstance(type_, GraphQLObjectType | GraphQLInterfaceType):
            continue
        if name.endswith(("Connection", "Edge")):
            continue
        for field_name, field_def in type_.fields.items():
            kinds = reached(field_def.type)
            if kinds:
                found[(name, field_name)] = kinds
    return found


def text_fields(type_name: str) -> list[str]:
    """The String fields (no required arguments) of a type: where markers would show."""
    type_ = GRAPH.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    return [
        name for name, f in type_.fields.items()
        if get_named_type(f.type).name == "String" and not isinstance(get_nullable_type(f.type), GraphQLList)
        and not any(is_non_null_type(a.type) for a in f.args.values())
    ]


def selection(type_: Any) -> str:
    """What to ask of a field's value: every content type's id and text, through connections."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLObjectType) and "edges" in named.fields and named.name.endswith("Connection"):
        return "{ edges " + selection(named.fields["edges"].type) + " }"
    if isinstance(named, GraphQLObjectType) and named.name.endswith("Edge") and "node" in named.fields:
        return "{ cursor node " + selection(named.fields["node"].type) + " }"
    possible: list[GraphQLNamedType] = (
        list(GRAPH.get_possible_types(named))
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType) else [named]
    )
    parts = [
        f"... on {t.name} {{ id {' '.join(text_fields(t.name))} }}"
        for t in possible if t.name in CONTENT | POINTERS
    ]
    return "{ __typename " + " ".join(parts) + " }"


def arguments(parent: str, field_name: str) -> str:
    field_def = GRAPH.type_map[parent].fields[field_name]  # type: ignore[attr-defined]
    required = [name for name, a in field_def.args.items() if is_non_null_type(a.type)]
    assert not required, f"{parent}.{field_name} needs {required}: give it a route in ROUTES"
    return "(first: 50)" if "first" in field_def.args else ""


# -- the world --------------------------------------------------------------------------------


@dataclass
class World:
    slug: str
    territory_id: str
    people: dict[str, Persona]
    # Global ids of every row, by API type name.
    ids: dict[str, list[str]] = field(default_factory=dict)
    # Rows to hide once the anonymous answers are cached: (model, pk).
    to_hide: list[tuple[Any, int]] = field(default_factory=list)
    markers: set[str] = field(default_factory=set)
    # (persona, marker) a CONTENT_HIDDEN notification may show its recipient.
    told: set[tuple[str, str]] = field(default_factory=set)
    # (persona, list, marker): an author's own lists (Viewer.questions, .ideas, .comments) show their
    # own content, hidden or not (marked `hidden`), to them alone.
    own: set[tuple[str, str, str]] = field(default_factory=set)
    hidden_ids: list[str] = field(default_factory=list)
    poll_options: dict[str, list[str]] = field(default_factory=dict)
    reply_ids: dict[str, int] = field(default_factory=dict)
    # Human references (Q-2026-0042) of every question and idea, hidden ones included.
    references: dict[str, list[str]] = field(default_factory=dict)
    # Markers and ids of a consultation's draft: shown to the territory's officials (odile)
    # too, who write it; hidden from everyone else as hidden content is.
    drafts: set[str] = field(default_factory=set)
    draft_ids: set[str] = field(default_factory=set)
    draft_id: str = ""

    def add(self, kind: str, pk: int, text: str = "") -> str:
        """Note a row's global id; `text` with a marker: it is hidden, or under hidden content."""
        gid = encode_id(kind, pk)
        self.ids.setdefault(kind, []).append(gid)
        if MARKER.search(text):
            self.hidden_ids.append(gid)
        return gid

    def secret(self, name: str) -> str:
        marker = f"SECRET-{name}"
        self.markers.add(marker)
        return marker


def due() -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=15)


async def build_world() -> World:
    t = await make_territory()
    elsewhere = await make_territory()
    people = {
        "alice": await make_person("alice", t),
        "bob": await make_person("bob", t),
        "odile": await make_person("odile", t, Role.OFFICIAL),
        "mona": await make_person("mona", t, Role.MODERATOR),
        "olga": await make_person("olga", elsewhere, Role.MODERATOR),
    }
    await Member.create(account=people["olga"].account, territory=t, role=Role.CITIZEN)
    w = World(slug=t.slug, territory_id=encode_id("Territory", t.id), people=people)
    w.add("Territory", t.id)
    bob, odile, alice = (people[n].member for n in ("bob", "odile", "alice"))
    assert bob is not None and odile is not None and alice is not None

    async def question(name: str, hide: bool) -> Question:
        text = w.secret(name) if hide else "open question"
        row = await Question.create(territory=t, author=bob, official=odile, title=text, body=text, due_at=due())
        w.add("Question", row.id, text)
        if MARKER.search(text):
            w.own.add(("bob", "questions", text))
        if hide:
            w.to_hide.append((Question, row.id))
        return row

    async def reply(q: Question, text: str, hide: bool = False) -> Reply:
        row = await Reply.create(question=q, official=odile, territory=t, body=text, on_time=True, reply_seconds=9)
        w.add("Reply", row.id, text)
        if hide:
            w.to_hide.append((Reply, row.id))
        return row

    async def comment(kind: str, pk: int, text: str, hide: bool = False) -> Comment:
        row = await Comment.create(territory=t, author=alice, subject_type=kind, subject_id=pk, body=text)
        w.add("Comment", row.id, text)
        if hide:
            w.to_hide.append((Comment, row.id))
        return row

    async def poll(text: str, hide: bool, project: Project | None = None) -> Poll:
        row = await Poll.create(
            territory=t, created_by=odile, question=text, project=project, total_votes=3,
            opens_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2), closes_at=due(),
        )
        gid = w.add("Poll", row.id, text)
        for position, label in enumerate(("Yes", "No")):
            option = await PollOption.create(poll=row, label=label, position=position, votes=position + 1)
            w.poll_options.setdefault(gid, []).append(encode_id("PollOption", option.id))
        if hide:
            w.to_hide.append((Poll, row.id))
        return row

    async def project(text: str, hide: bool) -> Project:
        row = await Project.create(territory=t, created_by=odile, title=text, description=text)
        w.add("Project", row.id, text)
        if hide:
            w.to_hide.append((Project, row.id))
        return row

    async def news(text: str, hide: bool, about: Project | None = None) -> NewsPost:
        row = await NewsPost.create(territory=t, author=odile, title=text, body=text, project=about)
        w.add("NewsPost", row.id, text)
        if hide:
            w.to_hide.append((NewsPost, row.id))
        return row

    async def idea(text: str, hide: bool, about: Project | None = None) -> Idea:
        row = await Idea.create(territory=t, author=bob, title=text, body=text, project=about)
        w.add("Idea", row.id, text)
        if MARKER.search(text):
            w.own.add(("bob", "ideas", text))
        if hide:
            w.to_hide.append((Idea, row.id))
        return row

    # A hidden question: its reply and comment go with it.
    q_hidden = await question("question-hidden", hide=True)
    under = await reply(q_hidden, w.secret("reply-under-question"))
    await comment("Question", q_hidden.id, w.secret("comment-under-question"))
    # A visible question: its hidden reply and hidden comment; an open one.
    q_open = await question("open", hide=False)
    r_hidden = await reply(q_open, w.secret("reply-hidden"), hide=True)
    await comment("Question", q_open.id, w.secret("comment-hidden"), hide=True)
    await comment("Question", q_open.id, "open comment")
    r_open = await reply(await question("open", hide=False), "open reply")
    r_last = await reply(await question("open", hide=False), "open last reply")
    w.reply_ids = {"under": under.id, "hidden": r_hidden.id, "open": r_open.id, "last": r_last.id}
    # A hidden idea, a hidden poll, a hidden news post, each with a comment under it.
    i_hidden = await idea(w.secret("idea-hidden"), hide=True)
    await comment("Idea", i_hidden.id, w.secret("comment-under-idea"))
    p_hidden = await poll(w.secret("poll-hidden"), hide=True)
    n_hidden = await news(w.secret("news-hidden"), hide=True)
    await comment("NewsPost", n_hidden.id, w.secret("comment-under-news"))
    # A hidden project: its document and comment go with it; open content about it stays.
    pr_hidden = await project(w.secret("project-hidden"), hide=True)
    doc = await Document.create(
        project=pr_hidden, title=w.secret("document-under-project"),
        url="https://example.org/" + w.secret("document-url"), kind=list(DocumentKind)[0],
    )
    w.add("Document", doc.id, doc.title)
    comment_under_project = await comment("Project", pr_hidden.id, w.secret("comment-under-project"))
    await idea("open idea", hide=False, about=pr_hidden)
    await poll("open poll", hide=False, project=pr_hidden)
    await news("open news", hide=False, about=pr_hidden)
    for about in (pr_hidden, None):
        await Survey.create(
            territory=t, created_by=odile, title="open survey", project=about, tally={},
            opens_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2), closes_at=due(),
            published_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2),
        )
    pr_open = await project("open project", hide=False)
    w.add("Document", (await Document.create(
        project=pr_open, title="open document", url="https://example.org/open", kind=list(DocumentKind)[0],
    )).id)

    # Alice's activity: she wrote every comment (her own hidden one shows in her list, those
    # under hidden content do not), voted in, supports and follows hidden and open content.
    w.own.add(("alice", "comments", "SECRET-comment-hidden"))
    p_open = await poll("open voted poll", hide=False)
    i_open = await idea("open supported idea", hide=False)
    for voted_in in (p_hidden, p_open):
        await PollParticipation.create(poll=voted_in, member=alice)
    for supported in (i_hidden, i_open):
        await Support.create(idea=supported, member=alice)
    for kind, pk in (("Question", q_hidden.id), ("Idea", i_hidden.id), ("Project", pr_hidden.id),
                     ("Poll", p_hidden.id), ("Project", pr_open.id), ("Question", q_open.id)):
        await Follow.create(account=people["alice"].account, subject_type=kind, subject_id=pk)
    # Consultations: a draft, with everything under it marked (odile, who writes it, sees it);
    # a published one whose phase holds the hidden idea and the hidden poll, and whose
    # outcome answers them, beside open ones.
    async def consultation(text: str, status: ConsultationStatus) -> None:
        now = dt.datetime.now(dt.UTC)
        draft = status is ConsultationStatus.DRAFT
        row = await Consultation.create(territory=t, created_by=odile, title=text, summary=text, status=status)
        gids = [w.add("Consultation", row.id, text)]
        phase = await ConsultationPhase.create(
            consultation=row, kind=PhaseKind.DEBATE, title=text, description=text, accepts_ideas=True,
            starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=9),
        )
        gids.append(w.add("ConsultationPhase", phase.id, text))
        doc_text = w.secret("phase-document-under-draft") if draft else "open phase document"
        # A phase's document is a Document owned by the phase (a link here): under the draft, it is the draft's.
        document = await Document.create(phase=phase, title=doc_text, url="https://example.org/d",
                                          kind=list(DocumentKind)[0])
        gids.append(w.add("Document", document.id, doc_text))
        outcome_text = w.secret("outcome-under-draft") if draft else "open outcome"
        outcome = await Outcome.create(phase=phase, published_by=odile, summary=outcome_text)
        gids.append(w.add("Outcome", outcome.id, outcome_text))
        held = [] if draft else [
            ("Idea", i_hidden.id), ("Poll", p_hidden.id), ("Question", q_hidden.id), ("Idea", i_open.id),
        ]
        for kind, pk in held:
            await PhaseItem.create(phase=phase, subject_type=kind, subject_id=pk)
            await OutcomeItem.create(outcome=outcome, subject_type=kind, subject_id=pk)
        if draft:
            # The draft's outcome answers an open idea: the idea shows it only to whom sees the draft.
            await OutcomeItem.create(outcome=outcome, subject_type="Idea", subject_id=i_open.id)
            w.drafts |= {text, doc_text, outcome_text}
            w.draft_ids |= set(gids)
            w.draft_id = gids[0]

    i_open = await idea("open idea in a phase", hide=False)
    await consultation(w.secret("consultation-draft"), ConsultationStatus.DRAFT)
    await consultation("open consultation", ConsultationStatus.PUBLISHED)

    # The feed: its entries' own flags follow the subject as moderation sets them, but one
    # (the hidden idea's) lags: the rule must not trust the entry.
    for kind, pk, flag in (
        ("Reply", under.id, False), ("Reply", r_hidden.id, True), ("Reply", r_open.id, False),
        ("Idea", i_hidden.id, False), ("Poll", p_hidden.id, True), ("NewsPost", n_hidden.id, True),
        ("Project", pr_hidden.id, True), ("Project", pr_open.id, False),
    ):
        entry = await FeedEntry.create(territory=t, subject_type=kind, subject_id=pk)
        if flag:
            w.to_hide.append((FeedEntry, entry.id))

    # Notifications about hidden content, and the CONTENT_HIDDEN exception.
    def told(who: str, kind: NotificationKind, subject: str, pk: int) -> Notification:
        return Notification(
            account_id=people[who].account.id, kind=kind, subject_type=subject, subject_id=pk,
            message="open message",
        )

    notes = [
        told("bob", NotificationKind.POLL_CLOSED, "Poll", p_hidden.id),
        told("bob", NotificationKind.QUESTION_ANSWERED, "Question", q_hidden.id),
        told("bob", NotificationKind.IDEA_STATUS_CHANGED, "Idea", i_hidden.id),
        told("bob", NotificationKind.NEW_COMMENT, "Idea", i_hidden.id),
        told("bob", NotificationKind.NEW_COMMENT, "Question", q_open.id),
        told("bob", NotificationKind.CONTENT_HIDDEN, "Question", q_hidden.id),
        told("odile", NotificationKind.CONTENT_HIDDEN, "Reply", r_hidden.id),
        told("odile", NotificationKind.NEW_COMMENT, "NewsPost", n_hidden.id),
        told("odile", NotificationKind.NEW_COMMENT, "Project", pr_hidden.id),
        told("alice", NotificationKind.POLL_CLOSED, "Poll", p_hidden.id),
        told("mona", NotificationKind.POLL_CLOSED, "Poll", p_hidden.id),
        # No kind points at these today; the listing's SQL must still agree with node().
        told("alice", NotificationKind.NEW_COMMENT, "Reply", under.id),
        told("alice", NotificationKind.NEW_COMMENT, "Document", doc.id),
        told("alice", NotificationKind.NEW_COMMENT, "Comment", comment_under_project.id),
    ]
    # Everyone's last notification is about open content: a stream replayed up to it is whole.
    for who in people:
        last = told(who, NotificationKind.NEW_COMMENT, "Question", q_open.id)
        last.message = "open last"
        notes.append(last)
    for note in notes:
        await note.save()
        w.add("Notification", note.id)
    w.told = {("bob", "SECRET-question-hidden"), ("odile", "SECRET-reply-hidden")}
    for reporter, kind, pk in (("alice", "Question", q_hidden.id), ("bob", "Comment", 0)):
        row = await Report.create(
            territory=t, reporter=people[reporter].member, subject_type=kind,
            subject_id=pk or int(decode_id(w.ids["Comment"][1])[1]),  # type: ignore[index]
            reason="open reason", status=ReportStatus.HIDDEN,
        )
        w.add("Report", row.id)
    for kind, model in (("Question", Question), ("Idea", Idea)):
        w.references[kind] = [
            ref for ref in await model.filter(territory_id=t.id).values_list("reference", flat=True)
        ]
    return w


async def hide_all(w: World) -> None:
    for model, pk in w.to_hide:
        await model.filter(id=pk).update(hidden=True)


# -- asking ------------------------------------------------------------------------------------


# Where `fill` wants a file: `ask` sends it as a part of a multipart request (a small PDF).
UPLOAD = "<upload>"


def upload_paths(value: Any, path: str = "variables") -> list[str]:
    """The paths of UPLOAD in `value`, each replaced by null as the multipart spec wants."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if item == UPLOAD:
                value[key] = None
                found.append(f"{path}.{key}")
            else:
                found += upload_paths(item, f"{path}.{key}")
    return found


async def ask(http: httpx.AsyncClient, w: World, who: str, query: str,
              variables: dict[str, Any] | None = None) -> dict[str, Any]:
    token = w.people[who].token if who != "anonymous" else None
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    variables = json.loads(json.dumps(variables or {}))
    files = upload_paths(variables)
    if files:
        headers["Apollo-Require-Preflight"] = "true"
        response = await http.post(
            "/graphql", headers=headers,
            data={"operations": json.dumps({"query": query, "variables": variables}),
                  "map": json.dumps({str(i): [path] for i, path in enumerate(files)})},
            files={str(i): ("sweep.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf") for i in range(len(files))},
        )
    else:
        response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


# Parents that are not reached through node(id): how to reach them (%s: the field asked).
ROUTES = {
    "Query": "%s",
    "Viewer": "viewer { %s }",
    "Official": 'territory(slug: "{slug}") { officials(first: 50) { edges { node { %s } } } }',
    "PollResults": "{polls}",
    # The viewer's activity lists ("my activity"): items that point at content.
    "PollParticipation": "viewer { votes(first: 50) { edges { node { %s } } } }",
    "IdeaSupport": "viewer { supports(first: 50) { edges { node { %s } } } }",
    "Following": "viewer { follows(first: 50) { edges { node { %s } } } }",
    # Surveys are read through Query.survey / Query.surveys (not node): the list route.
    "Survey": 'surveys(territoryId: "{territory}", first: 50) { edges { node { %s } } }',
}
# Lookups by a human reference: walked with the reference of every question and idea.
BY_REFERENCE = {("Territory", "questionByReference"): "Question", ("Territory", "ideaByReference"): "Idea"}
# Covered by their own tests below (mutations' payloads, subscriptions).
ELSEWHERE = ("Mutation", "Subscription")
# What only a subscription returns: walked by the subscription sweep below.
STREAMED = ("ConsultationEvent",)


# Aliases per query: the field limit (schema/limits.py) holds for the widest selection.
CHUNK = 6


def aliased(parts: list[str]) -> list[str]:
    """Queries asking `parts` (one alias each), a few per query."""
    return [
        "query { " + " ".join(f"n{i}: {part}" for i, part in enumerate(parts[start:start + CHUNK])) + " }"
        for start in range(0, len(parts), CHUNK)
    ]


def queries(w: World) -> dict[tuple[str, str], list[str]]:
    """The queries that walk each path from every parent the world has."""
    found: dict[tuple[str, str], list[str]] = {}
    every = [gid for gids in w.ids.values() for gid in gids]
    for (parent, field_name), _ in sorted(paths().items()):
        if parent.endswith("Payload") or parent in ELSEWHERE or parent in STREAMED:
            continue
        field_def = GRAPH.type_map[parent].fields[field_name]  # type: ignore[attr-defined]
        if parent == "Query":
            if field_name == "node":
                found[(parent, field_name)] = aliased(
                    [f'node(id: "{gid}") {selection(field_def.type)}' for gid in every]
                )
            else:
                found[(parent, field_name)] = aliased([
                    f"{field_name}(ids: {json.dumps(every[start:start + CHUNK])}) {selection(field_def.type)}"
                    for start in range(0, len(every), CHUNK)
                ])
            continue
        if (parent, field_name) in BY_REFERENCE:
            references = w.references[BY_REFERENCE[(parent, field_name)]]
            assert references, f"the world has no reference to walk {parent}.{field_name} with"
            found[(parent, field_name)] = aliased([
                f'territory(slug: "{w.slug}") {{ {field_name}(reference: "{ref.lower()}") '
                f"{selection(field_def.type)} }}"
                for ref in references
            ])
            continue
        asked = f"{field_name}{arguments(parent, field_name)} {selection(field_def.type)}"
        if parent == "PollResults":
            found[(parent, field_name)] = aliased(
                [f'node(id: "{gid}") {{ ... on Poll {{ results {{ {asked} }} }} }}' for gid in w.ids["Poll"]]
            )
        elif parent in ROUTES:
            found[(parent, field_name)] = aliased([ROUTES[parent].replace("{slug}", w.slug).replace("{territory}", w.territory_id) % asked])
        else:
            owners = (
                [t.name for t in GRAPH.get_possible_types(GRAPH.type_map[parent])]  # type: ignore[arg-type]
                if isinstance(GRAPH.type_map[parent], GraphQLInterfaceType) else [parent]
            )
            ids = [gid for owner in owners for gid in w.ids.get(owner, [])]
            assert ids, f"the world has no {parent} to reach {parent}.{field_name} through"
            found[(parent, field_name)] = aliased(
                [f'node(id: "{gid}") {{ ... on {parent} {{ {asked} }} }}' for gid in ids]
            )
    return found


def markers_in(answer: Any) -> set[str]:
    return set(MARKER.findall(json.dumps(answer)))


def check_errors(answer: dict[str, Any], where: str) -> None:
    for error in answer.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code in ALLOWED_ERRORS, f"{where}: {error}"


def allowed(w: World, who: str, parent: str, field_name: str) -> set[str]:
    if who == STAFF:
        return set(w.markers)
    drafts = {m for m in w.markers if any(m in text for text in w.drafts)} if who == "odile" else set()
    if (parent, field_name) == ("Notification", "subject"):
        return drafts | {marker for person, marker in w.told if person == who}
    if parent == "Viewer":
        return drafts | {marker for person, kind, marker in w.own if person == who and kind == field_name}
    return drafts


# -- the tests ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def world(db: None) -> World:
    return await build_world()


def test_every_path_is_covered() -> None:
    """Every field that reaches content or a pointer to it is walked by a route here, or by the
    mutation and subscription sweeps below: a new one fails here until it is."""
    uncovered = []
    for (parent, field_name) in paths():
        if parent.endswith("Payload") or parent in ELSEWHERE or parent in ROUTES or parent in STREAMED:
            continue
        node_like = isinstance(GRAPH.type_map[parent], GraphQLInterfaceType) or parent in CONTENT | POINTERS | {
            "Territory", "Member",
        }
        if not node_like:
            uncovered.append(f"{parent}.{field_name}")
    assert uncovered == []
    streams = GRAPH.subscription_type.fields  # type: ignore[union-attr]
    assert set(SUBSCRIPTIONS) | set(FIGURES_ONLY) | set(NO_CONTENT) == set(streams)
    for name in NO_CONTENT:
        results = get_named_type(streams[name].type)
        assert isinstance(results, GraphQLObjectType)
        assert not any(reached(f.type) for f in results.fields.values()), name
    for name in FIGURES_ONLY:
        figures = get_named_type(streams[name].type)
        assert isinstance(figures, GraphQLObjectType)
        assert all(get_named_type(f.type).name in ("Int", "Float") for f in figures.fields.values()), name
    payloads = {p for p, _ in paths() if p.endswith("Payload")}
    swept = {get_named_type(f.type).name for f in GRAPH.mutation_type.fields.values()}  # type: ignore[union-attr]
    assert payloads <= swept


async def test_no_query_path_shows_hidden_content_but_to_staff(http: httpx.AsyncClient, world: World) -> None:
    w = world
    walks = queries(w)
    # Given every anonymous answer computed (and cached) while the content was visible
    for chunks in walks.values():
        for query in chunks:
            check_errors(await ask(http, w, "anonymous", query), "before hiding")
    # When moderation hides it
    await hide_all(w)
    # Then on every path, each persona sees only what the rule lets them
    seen_by_staff: set[str] = set()
    leaks = []
    met: dict[str, set[str]] = {who: set() for who in PERSONAS}
    for (parent, field_name), chunks in walks.items():
        for who in PERSONAS:
            answers = [await ask(http, w, who, query) for query in chunks]
            for answer in answers:
                check_errors(answer, f"{parent}.{field_name} as {who}")
                # (a CONTENT_HIDDEN notification's subject, and an author's own lists, show their
                # recipient what node() hides from them: the exceptions `allowed` names)
                if (parent, field_name) not in OWN_EXCEPTIONS:
                    met[who] |= {gid for gid in ids_in(answer) if _kind(gid) in CONTENT | POINTERS}
            shown = markers_in(answers)
            if who == STAFF:
                seen_by_staff |= shown
            extra = shown - allowed(w, who, parent, field_name)
            if extra:
                leaks.append(f"{parent}.{field_name} as {who}: {sorted(extra)}")
    assert leaks == []
    # And staff met every marker somewhere: the walks reach what they claim to
    assert w.markers - seen_by_staff == set()
    # And one rule: what a persona meets on any path resolves for them through node(id) (but
    # a CONTENT_HIDDEN notification's subject, shown to its recipient alone, left out above):
    # the notifications their listing filters in SQL are those node() lets through in Python
    for who, gids in met.items():
        batch = sorted(gids)
        assert 0 < len(batch) <= 100
        answer = await ask(http, w, who, "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": batch})
        missing = [gid for gid, found in zip(batch, answer["data"]["nodes"], strict=True) if found is None]
        assert missing == [], f"{who} meets {missing} on some path, but node() hides them"


# Paths that show their reader what node() hides from them: a CONTENT_HIDDEN notification's
# subject, and an author's own lists (hidden items of theirs included).
OWN_EXCEPTIONS = {
    ("Notification", "subject"), ("Viewer", "questions"), ("Viewer", "ideas"), ("Viewer", "comments"),
}


def ids_in(answer: Any) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "id" and isinstance(inner, str):
                    found.add(inner)
                walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    walk(answer.get("data"))
    return found


def _kind(gid: str) -> str | None:
    decoded = decode_id(gid)
    return decoded[0] if decoded is not None else None


# -- mutations: no payload shows hidden content, and none acts on it ----------------------------

# Inputs' id fields that name no content (filled with the world's territory and people).
NOT_CONTENT = {"territoryId": "territory", "memberId": "member", "officialId": "official"}
# Mutations whose ids are not content: what covers them instead.
NOT_SWEPT = {
    "moderateContent": "reportId names a report: staff only (tests/moderation)",
    "markNotificationsRead": "ids name the viewer's own notifications; returns a count",
}
# Idempotent releases: they accept any id of their kinds (a subject hidden since it was followed
# can still be let go), so for a hidden row they must answer exactly as for an id naming nothing.
RELEASES = {"unfollow"}


def fill(type_: Any, w: World, target: str, field_name: str = "") -> Any:
    """A value for an input of this type, with `target` in every content id."""
    nullable = get_nullable_type(type_)
    if isinstance(nullable, GraphQLList):
        if field_name == "optionIds":
            return w.poll_options.get(target, [target])
        return [fill(nullable.of_type, w, target, field_name)]
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        return {
            name: fill(f.type, w, target, name)
            for name, f in named.fields.items() if is_non_null_type(f.type) or name.endswith("Id")
        }
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if named.name == "ID":
        if field_name == "territoryId":
            return w.territory_id
        if field_name in NOT_CONTENT:
            return w.people["odile"].member_gid
        return target
    if named.name == "Upload":
        return UPLOAD  # sent as a file part of a multipart request (ask)
    return {"String": "open sweep", "Int": 1, "Boolean": False, "Float": 1.0,
            "DateTime": (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()}.get(named.name, "1")


def content_ids(input_type: Any) -> list[str]:
    named = get_named_type(input_type)
    if not isinstance(named, GraphQLInputObjectType):
        return []
    return [
        name for name, f in named.fields.items()
        if get_named_type(f.type).name == "ID" and name not in NOT_CONTENT and name != "optionIds"
    ]


# Input id fields whose name is not their kind's.
ID_KINDS = {"phase": "ConsultationPhase"}


def targets(w: World, id_field: str) -> list[str]:
    kind = id_field[: -len("Id")]
    kind = ID_KINDS.get(kind, kind)
    if kind == "subject":
        return w.hidden_ids
    return [gid for gid in w.hidden_ids if (_kind(gid) or "").lower() == kind.lower()]


async def test_no_mutation_acts_on_or_shows_hidden_content(http: httpx.AsyncClient, world: World) -> None:
    """Every mutation naming content, given each hidden row (or row under one) by each
    persona but staff, is refused as if the content did not exist, and shows none of it."""
    w = world
    await hide_all(w)
    mutation_type = GRAPH.mutation_type
    assert mutation_type is not None
    swept = 0
    for name, field_def in mutation_type.fields.items():
        if name in NOT_SWEPT or "input" not in field_def.args:
            continue
        input_type = field_def.args["input"].type
        for id_field in content_ids(input_type):
            for target in targets(w, id_field):
                payload = get_named_type(field_def.type)
                returned = get_named_type(payload.fields[next(iter(payload.fields))].type) if isinstance(
                    payload, GraphQLObjectType) else None
                asked = selection(returned) if isinstance(
                    returned, GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType) else ""
                errors = " userErrors { code }" if isinstance(payload, GraphQLObjectType) and \
                    "userErrors" in payload.fields else ""
                first = next(iter(payload.fields)) if isinstance(payload, GraphQLObjectType) else ""
                doc = (f"mutation($input: {input_type}) {{ {name}(input: $input) "
                       + (f"{{ {first} {asked}{errors} }}" if first else "") + " }")
                for who in PERSONAS:
                    if who == STAFF or (who == "odile" and target in w.draft_ids):
                        continue  # (odile writes the drafts: tests/security/test_consultations.py)
                    value = {"input": fill(input_type, w, target)}
                    answer = await ask(http, w, who, doc, value)
                    check_errors(answer, f"{name}({id_field}={target}) as {who}")
                    assert markers_in(answer) == set(), f"{name} as {who} shows {markers_in(answer)}"
                    if name in RELEASES:
                        kind = _kind(target)
                        assert kind is not None
                        nothing = {"input": fill(input_type, w, encode_id(kind, 10**6))}
                        same = await ask(http, w, who, doc, nothing)
                        assert answer.get("data") == same.get("data"), f"{name} tells hidden {target} apart"
                        swept += 1
                        continue
                    result = (answer.get("data") or {}).get(name)
                    # (a payload's first field is the content, or a flag such as FollowPayload.following)
                    refused = result is None or bool(result.get("userErrors")) and result.get(first) in (None, False)
                    assert refused, f"{name}({id_field}) on hidden {target} as {who} was accepted: {answer}"
                    swept += 1
    assert swept > 100


# -- subscriptions ------------------------------------------------------------------------------


async def context_of(w: World, who: str, broker: Any, settings: Any) -> Context:
    if who == "anonymous":
        return Context(request=None, response=None, broker=broker, settings=settings)
    account = w.people[who].account
    token = await AccessToken.filter(account_id=account.id).first()
    return Context(request=None, response=None, broker=broker, settings=settings, account=account, token=token)


async def collect(stream: Any, until: str | None = None, idle: float = 0.3) -> list[Any]:
    """Messages of a subscription until `until` shows in one, or (without `until`) until none
    came for `idle` s after the first (which may take seconds on a loaded machine)."""
    got: list[Any] = []
    if not hasattr(stream, "__anext__"):
        return [plain(stream)]
    try:
        while True:
            wait = 10 if until is not None or not got else idle
            result = await asyncio.wait_for(stream.__anext__(), wait)
            got.append(plain(result))
            if until is not None and until in json.dumps(got[-1]):
                return got
    except (TimeoutError, StopAsyncIteration):
        return got
    finally:
        await stream.aclose() if hasattr(stream, "aclose") else None


def plain(result: Any) -> dict[str, Any]:
    """A subscription's message as JSON-able data: its data and its errors' codes and messages."""
    errors = [
        {"message": e.message, "code": (e.extensions or {}).get("code")} for e in result.errors or []
    ]
    for error in errors:
        assert error["code"] in ALLOWED_ERRORS, error
    return {"data": result.data, "errors": errors}


async def subscribe(query: str, variables: dict[str, Any], ctx: Context) -> AsyncIterator[Any]:
    return await schema.subscribe(query, variable_values=variables, context_value=ctx)  # type: ignore[return-value]


def sub_selection(name: str) -> str:
    return selection(GRAPH.subscription_type.fields[name].type)  # type: ignore[union-attr]


SUBSCRIPTIONS = ("feed", "notifications", "pollResults", "officialReplies", "consultationUpdates")
# Streams that reach no hideable content (no path to a Question, Project, ...: a survey's
# results hold counts, labels and, for its staff, text answers; a draft survey is NOT_FOUND
# to anyone but its staff, tests/surveys/test_survey_live.py).
NO_CONTENT = ("surveyResults",)
# Streams of figures only (no id, no text): nothing hideable can pass through them.
FIGURES_ONLY = ("territoryStats",)


async def test_no_subscription_streams_hidden_content_but_to_staff(
    world: World, app_broker: Any, settings: Any
) -> None:
    w = world
    await hide_all(w)
    start = encode_cursor([0])
    hidden_poll = next(gid for gid in w.ids["Poll"] if (model_pk := decode_id(gid)) and
                       (Poll, model_pk[1]) in w.to_hide)
    streamed: dict[str, set[str]] = {}
    channel = territory_channel(int(decode_id(w.territory_id)[1]))  # type: ignore[index]

    async def announce(*keys: str) -> None:
        for key in keys:
            await app_broker.publish(Event(channel, "reply", {"reply": w.reply_ids[key]}))

    for who in PERSONAS:
        ctx = await context_of(w, who, app_broker, settings)
        got: list[Any] = []
        # feed: replayed from the start (public for all, staff included)
        feed = await collect(await subscribe(
            f"subscription($t: ID!, $a: String) {{ feed(territoryId: $t, after: $a) {sub_selection('feed')} }}",
            {"t": w.territory_id, "a": start}, ctx,
        ), until="open project")
        assert "open project" in json.dumps(feed), feed
        assert markers_in(feed) == set(), (who, feed)
        # notifications: replayed from the start, subjects and all
        if who != "anonymous":
            ctx.fresh_loaders()
            notes = await collect(await subscribe(
                "subscription($a: String) { notifications(after: $a) "
                "{ node { id kind message subject " + selection(GRAPH.type_map["Node"]) + " } } }",
                {"a": start}, ctx,
            ), until="open last")
            assert "open last" in json.dumps(notes), (who, notes)
            got += notes
            told = {marker for person, marker in w.told if person == who}
            assert markers_in(notes) - told == set() or who == STAFF, (who, notes)
        # pollResults of the hidden poll
        ctx.fresh_loaders()
        results = await collect(await subscribe(
            "subscription($p: ID!) { pollResults(pollId: $p) { totalVotes poll { id question } } }",
            {"p": hidden_poll}, ctx,
        ))
        got += results
        # officialReplies: the reply under the hidden question, the hidden reply, then an open one
        ctx.fresh_loaders()
        replies = await schema.subscribe(
            f"subscription($t: ID!) {{ officialReplies(territoryId: $t) {sub_selection('officialReplies')} }}",
            variable_values={"t": w.territory_id}, context_value=ctx,
        )
        # The subscriber joins its hub asynchronously: the open reply is announced until it
        # is heard; then the reply under the hidden question, the hidden reply, and a last one.
        ready = asyncio.ensure_future(replies.__anext__())  # type: ignore[union-attr]
        while not ready.done():
            await announce("open")
            await asyncio.wait([ready], timeout=0.2)
        assert "open reply" in json.dumps(plain(ready.result())), who
        await announce("under", "hidden", "last")
        heard = await collect(replies, until="open last reply")
        assert "open last reply" in json.dumps(heard), (who, heard)
        got += heard
        # consultationUpdates of the draft: NOT_FOUND but for its officials and staff
        ctx.fresh_loaders()
        got += await collect(await subscribe(
            "subscription($c: ID!) { consultationUpdates(consultationId: $c) "
            "{ change consultation { id title summary } currentPhase { id title description } } }",
            {"c": w.draft_id}, ctx,
        ))
        streamed[who] = markers_in(got)
    drafts = {m for m in w.markers if any(m in text for text in w.drafts)}
    assert "SECRET-consultation-draft" in streamed["odile"]
    for who, shown in streamed.items():
        if who == STAFF:
            continue
        assert shown - {m for p, m in w.told if p == who} - (drafts if who == "odile" else set()) == set(), (who, shown)
    assert {"SECRET-poll-hidden", "SECRET-reply-under-question", "SECRET-reply-hidden",
            "SECRET-consultation-draft"} <= streamed[STAFF]
