"""No N+1: a representative nested page costs the same number of SQL queries
whether it shows 3 items or 30."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from models.accounts import Role
from models.comments import Comment
from models.ideas import Idea, Support
from models.polls import Poll, PollOption, PollParticipation
from models.projects import Project
from models.questions import Question, Reply
from models.reach import Follow
from schema.relay import encode_id
from tests.factories import make_person, make_territory

HOME = """query($s: String!, $n: Int!) { territory(slug: $s) {
  name
  questions(first: $n) { totalCount edges { cursor node {
    id title status overdue dueAt author { displayName } official { displayName title repliesCount }
    reply { body createdAt official { displayName } } } } }
  ideas(first: $n, orderBy: MOST_SUPPORTED) { edges { node {
    id title supportCount viewerSupports author { displayName ... on Official { title } } } } }
  polls(first: $n) { edges { node {
    id question status viewerHasVoted options { id label }
    results { totalVotes final options { votes share option { label } } } } } }
  feed(first: $n) { edges { cursor node { __typename ... on Poll { question } ... on Reply { body official { displayName } } } } }
} }"""


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")):
            self.queries.append(message)


@contextmanager
def count_queries() -> Iterator[_Counter]:
    logger = logging.getLogger("tortoise.db_client")
    counter = _Counter()
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(counter)
    try:
        yield counter
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous)


async def fill(territory, n: int) -> None:  # type: ignore[no-untyped-def]
    officials = [await make_person(f"odile{i}", territory, Role.OFFICIAL) for i in range(3)]
    citizens = [await make_person(f"alice{i}", territory) for i in range(3)]
    now = dt.datetime.now(dt.UTC)
    for i in range(n):
        official = officials[i % 3].member
        question = await Question.create(
            territory=territory, author=citizens[i % 3].member, official=official,
            title=f"Question {i}", body="Body", due_at=now + dt.timedelta(days=15),
        )
        if i % 2:
            await Reply.create(question=question, official=official, territory=territory, body="Reply",
                               on_time=True, reply_seconds=3600)
        idea = await Idea.create(territory=territory, author=citizens[i % 3].member, title=f"Idea {i}", body="B")
        await Support.create(idea=idea, member=citizens[0].member)
        poll = await Poll.create(territory=territory, created_by=official, question=f"Poll {i}",
                                 opens_at=now - dt.timedelta(days=1), closes_at=now + dt.timedelta(days=1))
        for position, label in enumerate(("Yes", "No")):
            await PollOption.create(poll=poll, position=position, label=label, votes=position)
        from models.feed import FeedEntry

        await FeedEntry.create(territory=territory, subject_type="Poll", subject_id=poll.id)


async def test_a_nested_home_page_costs_a_constant_number_of_queries(gql):
    small, large = await make_territory(), await make_territory()
    await fill(small, 3)
    await fill(large, 30)
    viewer = await make_person("viewer", small)

    with count_queries() as few:
        small_page = await gql(HOME, {"s": small.slug, "n": 30}, token=viewer.token)
    with count_queries() as many:
        large_page = await gql(HOME, {"s": large.slug, "n": 30}, token=viewer.token)

    assert "errors" not in small_page and "errors" not in large_page, large_page
    assert len(large_page["data"]["territory"]["questions"]["edges"]) == 30
    assert len(large_page["data"]["territory"]["polls"]["edges"]) == 30
    # Ten times the items, the same queries: DataLoader batches may split into one more
    # wave depending on when resolvers run, never one query per item.
    assert abs(len(many.queries) - len(few.queries)) <= 2, "\n".join(["FEW", *few.queries, "MANY", *many.queries])
    assert len(many.queries) <= 25, "\n".join(many.queries)


FILTERED = """query($s: String!, $n: Int!, $author: ID, $since: DateTime) { territory(slug: $s) {
  questions(first: $n, authorId: $author, since: $since, status: OPEN) { totalCount edges { node {
    id title author { displayName } official { displayName } reply { body } } } }
  ideas(first: $n, authorId: $author, since: $since, orderBy: MOST_SUPPORTED) { totalCount edges { node {
    id title supportCount viewerSupports author { displayName } } } }
} }"""


async def test_filtered_lists_cost_a_constant_number_of_queries(gql):
    small, large = await make_territory(), await make_territory()
    await fill(small, 3)
    await fill(large, 30)
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).isoformat()
    pages = []
    for territory in (small, large):
        viewer = await make_person("viewer", territory)
        author = await Question.filter(territory_id=territory.id).order_by("id").first().values("author_id")
        variables = {"s": territory.slug, "n": 30, "author": encode_id("Member", author["author_id"]), "since": since}
        with count_queries() as counted:
            page = await gql(FILTERED, variables, token=viewer.token)
        assert "errors" not in page, page
        pages.append((page, counted.queries))
    (_, few), (large_page, many) = pages
    assert len(large_page["data"]["territory"]["questions"]["edges"]) == 10  # one author in three
    assert len(large_page["data"]["territory"]["ideas"]["edges"]) == 10
    assert abs(len(many) - len(few)) <= 2, "\n".join(["FEW", *few, "MANY", *many])


ACTIVITY = """query { viewer {
  comments(first: 50) { totalCount edges { node { id body hidden author { displayName }
    subject { __typename id ... on Question { title } ... on Idea { title } ... on Project { title } } } } }
  votes(first: 50) { totalCount edges { node { poll { id question status viewerHasVoted results { totalVotes } } } } }
  supports(first: 50) { totalCount edges { node { supportedAt idea { id title supportCount viewerSupports
    author { displayName } } } } }
  follows(first: 50) { totalCount edges { node { followedAt subject { __typename id
    ... on Question { title } ... on Idea { title } ... on Poll { question } } } } }
} }"""


async def test_my_activity_costs_a_constant_number_of_queries(gql):
    answers = []
    for n in (3, 30):
        territory = await make_territory()
        await fill(territory, n)
        me = await make_person("me", territory)
        official = await Question.filter(territory_id=territory.id).first()
        project = await Project.create(territory=territory, created_by_id=official.official_id, title="P", description="d")
        questions = await Question.filter(territory_id=territory.id)
        ideas = await Idea.filter(territory_id=territory.id)
        polls = await Poll.filter(territory_id=territory.id)
        for i, (question, idea, poll) in enumerate(zip(questions, ideas, polls, strict=True)):
            subject = ("Question", question.id) if i % 3 == 0 else ("Idea", idea.id) if i % 3 == 1 else ("Project", project.id)
            await Comment.create(territory=territory, author=me.member, subject_type=subject[0],
                                 subject_id=subject[1], body="c", hidden=i % 4 == 0)
            await PollParticipation.create(poll=poll, member=me.member)
            await Support.create(idea=idea, member=me.member)
            followed = ("Question", question.id) if i % 3 == 0 else ("Idea", idea.id) if i % 3 == 1 else ("Poll", poll.id)
            await Follow.create(account=me.account, subject_type=followed[0], subject_id=followed[1])
        with count_queries() as counted:
            page = await gql(ACTIVITY, token=me.token)
        assert "errors" not in page, page
        answers.append((page, counted.queries))
    (_, few), (large_page, many) = answers
    for name in ("comments", "votes", "supports", "follows"):
        assert len(large_page["data"]["viewer"][name]["edges"]) == 30, name
    assert abs(len(many) - len(few)) <= 2, "\n".join(["FEW", *few, "MANY", *many])
    assert len(many) <= 30, "\n".join(many)
