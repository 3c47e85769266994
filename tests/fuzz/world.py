"""The world the fuzzers act in, the input strategies, and what every answer must look like."""

from __future__ import annotations

import base64
import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from tortoise import connections

from models.accounts import Role
from models.comments import Comment
from models.ideas import Idea
from models.moderation import Report
from models.news import NewsPost
from models.notifications import Notification, NotificationKind
from models.polls import Poll, PollOption
from models.projects import Document, Project
from models.questions import Question
from models.territories import Territory
from schema.relay import decode_id, encode_id
from tests.factories import Persona, make_person, make_territory

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

KNOWN_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT"}
NOW = dt.datetime.now(dt.UTC)


@dataclass
class World:
    """Narbonne, its people and one of each thing; Béziers next door with its own poll."""

    territory: Territory
    other: Territory
    people: dict[str, Persona]
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def tokens(self) -> list[str | None]:
        return [None, "not-a-token", *(p.token for p in self.people.values())]


async def build_world() -> World:
    territory = await make_territory(name="Narbonne")
    other = await make_territory(name="Béziers")
    people = {
        "alice": await make_person("alice", territory),
        "vera": await make_person("vera", territory, verified=True),
        "odile": await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor"),
        "mona": await make_person("mona", territory, role=Role.MODERATOR),
        "adam": await make_person("adam", territory, role=Role.ADMIN),
        "olga": await make_person("olga", other, role=Role.ADMIN),
    }
    alice, odile, olga = people["alice"].member, people["odile"].member, people["olga"].member
    assert alice and odile and olga
    question = await Question.create(
        territory=territory, author_id=alice.id, title="Bus at night?", body="When?",
        due_at=NOW + dt.timedelta(days=30),
    )
    idea = await Idea.create(territory=territory, author_id=alice.id, title="Benches", body="More.")
    project = await Project.create(territory=territory, created_by_id=odile.id, title="Tram", description="A line.")
    document = await Document.create(project=project, title="Plan", url="https://example.org/p.pdf", kind="MAP")
    polls, options = [], []
    for where, creator, multiple in ((territory, odile, False), (territory, odile, True), (other, olga, False)):
        poll = await Poll.create(
            territory=where, created_by_id=creator.id, question="Which colour?", multiple_choice=multiple,
            opens_at=NOW - dt.timedelta(days=1), closes_at=NOW + dt.timedelta(days=365),
        )
        polls.append(poll)
        options += [await PollOption.create(poll=poll, position=i, label=c) for i, c in enumerate(("Red", "Blue"))]
    news = await NewsPost.create(territory=territory, author_id=odile.id, title="Works", body="Soon.")
    comment = await Comment.create(
        territory=territory, author_id=alice.id, subject_type="Idea", subject_id=idea.id, body="Yes!"
    )
    report = await Report.create(
        territory=territory, reporter_id=alice.id, subject_type="Comment", subject_id=comment.id, reason="Spam"
    )
    notification = await Notification.create(
        account_id=alice.account_id, kind=NotificationKind.NEW_COMMENT, subject_type="Idea",
        subject_id=idea.id, message="Hello",
    )
    world = World(territory=territory, other=other, people=people)
    world.ids = {
        "territory": encode_id("Territory", territory.id),
        "other": encode_id("Territory", other.id),
        "question": encode_id("Question", question.id),
        "idea": encode_id("Idea", idea.id),
        "project": encode_id("Project", project.id),
        "document": encode_id("Document", document.id),
        "news": encode_id("NewsPost", news.id),
        "comment": encode_id("Comment", comment.id),
        "report": encode_id("Report", report.id),
        "notification": encode_id("Notification", notification.id),
        "odile": encode_id("Member", odile.id),
        "alice": encode_id("Member", alice.id),
        **{f"poll{i}": encode_id("Poll", p.id) for i, p in enumerate(polls)},
        **{f"option{i}": encode_id("PollOption", o.id) for i, o in enumerate(options)},
    }
    return world


# --- strategies ----------------------------------------------------------------------------

KINDS = ["Territory", "Member", "Question", "Reply", "Idea", "Project", "Document", "Poll", "PollOption",
         "NewsPost", "Comment", "Report", "Notification", "Account", "", "Bogus"]
BIG_INTS = st.sampled_from([0, -1, 1, 2**31 - 1, 2**31, 2**32, 2**40, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 10**30])

junk = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
odd_chars = st.sampled_from(["\x00", "\x07", "\x1b", "\x7f", "\u200b", "\u202e", "\ufeff", "\ud800", "\udfff",
                             "\U0001f600", "é", "\n", "\t", "\r\n", " "])
plain = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), min_size=1, max_size=40).filter(
    lambda t: t.strip() != ""
)
texts = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(plain, odd_chars), min_size=1, max_size=8).map("".join),
    st.lists(st.one_of(plain, odd_chars), min_size=1, max_size=8).map("".join),
    st.sampled_from(["", " ", "   \n\t", "a", "x" * 200, "x" * 201, "é" * 200, "é" * 201, "x" * 20_000,
                     "x" * 20_001]),
    st.integers(0, 250_000).map(lambda n: "y" * n),
)


def gids(world: World, *names: str) -> st.SearchStrategy[str]:
    """Global ids: the world's own (the named ones first), made-up ones, and garbage."""
    known = [world.ids[n] for n in names] if names else list(world.ids.values())
    return st.one_of(
        st.sampled_from(known),
        st.sampled_from(list(world.ids.values())),
        # the right kind, a pk no table holds (nor an int4 column could)
        st.builds(lambda g, n: encode_id(decode_id(g)[0], n), st.sampled_from(known), BIG_INTS),
        st.builds(lambda k, n: encode_id(k, n), st.sampled_from(KINDS), st.one_of(BIG_INTS, st.integers(-10, 10**6))),
        st.builds(lambda b: base64.urlsafe_b64encode(b).decode().rstrip("="), st.binary(max_size=20)),
        texts,
    )


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(None), strategy)


def sometimes_wrong(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly well typed, now and then a value of the wrong type."""
    return st.one_of(strategy, strategy, strategy, junk)


@st.composite
def shaped(
    draw: Any,
    fields: dict[str, st.SearchStrategy[Any]],
    optional: tuple[str, ...] = (),
    good: dict[str, st.SearchStrategy[Any]] | None = None,
) -> dict[str, Any]:
    """An input object aimed at one field: that one fuzzed, the others mostly well formed
    (from `good`, when given), so that the fuzzed value reaches the resolver's checks and
    its writes. Optional fields may be absent; now and then one is dropped or one added."""
    good = good or {}
    target = draw(st.sampled_from(sorted(fields)))
    value = {}
    for name, strategy in fields.items():
        if name in optional and name != target and draw(st.booleans()):
            continue
        if name == target or name not in good or draw(st.integers(0, 9)) == 0:
            value[name] = draw(st.one_of(strategy, strategy, strategy, strategy, junk))
        else:
            value[name] = draw(good[name])
    twist = draw(st.integers(0, 29))
    if twist == 0 and value:
        value.pop(draw(st.sampled_from(sorted(value))))
    elif twist == 1:
        value["unexpected"] = draw(junk)
    return value


# --- what every answer must look like -------------------------------------------------------


def outcome(result: dict[str, Any], mutation: str, object_field: str | None) -> str:
    """A short name for what happened, for hypothesis' statistics."""
    if result.get("errors"):
        code = (result["errors"][0].get("extensions") or {}).get("code")
        return f"top-level {code}" if code else "variables refused"
    payload = result["data"][mutation]
    if object_field is None or not payload["userErrors"]:
        return "done"
    return "userErrors " + ",".join(sorted({e["code"] for e in payload["userErrors"]}))


def check_answer(result: dict[str, Any], mutation: str, object_field: str | None) -> bool:
    """True when the mutation was carried out; False when it was refused, as it may be:
    a payload with userErrors, or a top-level error with a known code, or the variables
    refused by GraphQL's own coercion. Anything else (an internal error) fails the test."""
    errors = result.get("errors")
    if errors:
        for error in errors:
            code = (error.get("extensions") or {}).get("code")
            coercion = code is None and error["message"].startswith("Variable '$input'")
            assert code in KNOWN_CODES or coercion, result
            assert "Internal" not in error["message"] and "Traceback" not in error["message"], result
        assert not result.get("data"), result
        return False
    payload = result["data"][mutation]
    if object_field is None:  # markNotificationsRead: a count
        assert isinstance(payload, int) and payload >= 0, result
        return True
    if payload["userErrors"]:
        assert payload[object_field] is None, result
        for error in payload["userErrors"]:
            assert error["code"] and error["message"], result
        return False
    assert payload[object_field] is not None, result
    return True


STATE_QUERIES = {
    "territory": "SELECT name, population, charter, reply_deadline_days FROM territory WHERE id IN ({t})",
    "question": "SELECT id, status, title, body, updated_at, hidden FROM question WHERE territory_id IN ({t}) "
                "ORDER BY id",
    "reply": "SELECT id FROM reply WHERE territory_id IN ({t}) ORDER BY id",
    "idea": "SELECT id, status, status_note, title, body, updated_at, support_count, realized_at, hidden FROM idea "
            "WHERE territory_id IN ({t}) ORDER BY id",
    "support": "SELECT s.id FROM support s JOIN idea i ON i.id = s.idea_id WHERE i.territory_id IN ({t}) ORDER BY s.id",
    "project": "SELECT id, hidden FROM project WHERE territory_id IN ({t}) ORDER BY id",
    "document": "SELECT d.id FROM document d JOIN project p ON p.id = d.project_id "
                "WHERE p.territory_id IN ({t}) ORDER BY d.id",
    "poll": "SELECT id, total_votes, closed_at, hidden FROM poll WHERE territory_id IN ({t}) ORDER BY id",
    "poll_option": "SELECT o.id, o.votes FROM poll_option o JOIN poll p ON p.id = o.poll_id "
                   "WHERE p.territory_id IN ({t}) ORDER BY o.id",
    "poll_participation": "SELECT x.id FROM poll_participation x JOIN poll p ON p.id = x.poll_id "
                          "WHERE p.territory_id IN ({t}) ORDER BY x.id",
    "news_post": "SELECT id, hidden FROM news_post WHERE territory_id IN ({t}) ORDER BY id",
    "comment": "SELECT id, hidden FROM comment WHERE territory_id IN ({t}) ORDER BY id",
    "report": "SELECT id, status, decided_by_id, decision_reason FROM report WHERE territory_id IN ({t}) ORDER BY id",
    "feed_entry": "SELECT id, hidden FROM feed_entry WHERE territory_id IN ({t}) ORDER BY id",
    "member": "SELECT id, role, verified, title FROM member WHERE territory_id IN ({t}) ORDER BY id",
    "notification": "SELECT n.id, n.read FROM notification n WHERE n.account_id IN "
                    "(SELECT account_id FROM member WHERE territory_id IN ({t})) ORDER BY n.id",
    "accounts": "SELECT COUNT(*) AS n FROM account",
}


async def state(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every row the fuzzed mutations could write, for the world's two territories."""
    db = connections.get("default")
    scope = f"{world.territory.id}, {world.other.id}"
    found = {}
    for name, sql in STATE_QUERIES.items():
        rows = await db.execute_query_dict(sql.format(t=scope))
        found[name] = [tuple(str(v) for v in row.values()) for row in rows]
    return found


def changed(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> set[str]:
    return {name for name in before if before[name] != after[name]}
