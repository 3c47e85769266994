""""My activity" keeps the secret ballot and stays the viewer's own.

The attacker here is anyone with an account: they read their own lists and try to make them
say what a ballot chose (theirs or another's), or to read someone else's lists. The votes list
is a list of polls taken part in; the proof that no choice reaches it through any field is an
answer generated from the schema (every field reachable from `Viewer.votes`) that is the same,
byte for byte, for two voters who chose differently.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType, get_named_type, is_non_null_type

from app.api import schema
from schema.relay import encode_id
from tests.polls.stories import created, option_ids, town, voted

GRAPH = schema._schema


# Where a poll sits (its territory's lists, its project) says nothing of a ballot, and some of
# it is staff only: left out of the walk.
ELSEWHERE = ("territory", "project")


def everything(type_: Any, depth: int = 6) -> str:
    """A selection of every field without required arguments, `depth` levels down."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    parts = []
    for name, field in named.fields.items():
        if name in ELSEWHERE or any(is_non_null_type(arg.type) for arg in field.args.values()):
            continue
        inner = get_named_type(field.type)
        if isinstance(inner, GraphQLObjectType):
            if depth > 0:
                parts.append(f"{name} {{ {everything(inner, depth - 1)} }}")
        elif not hasattr(inner, "fields"):
            parts.append(name)
    return " ".join(parts) or "__typename"


def without_cursors(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_cursors(v) for k, v in value.items() if k not in ("cursor", "startCursor", "endCursor")}
    if isinstance(value, list):
        return [without_cursors(v) for v in value]
    return value


def votes_query() -> str:
    return "query { viewer { votes(first: 10) { " + everything(GRAPH.type_map["PollParticipationConnection"]) + " } } }"


def test_a_participation_is_a_poll_and_nothing_else() -> None:
    participation = GRAPH.type_map["PollParticipation"]
    assert isinstance(participation, GraphQLObjectType)
    # No choice, no time, no id to join on: only the poll, which everyone may read anyway
    assert set(participation.fields) == {"poll"}
    # And no output field anywhere names a choice or a ballot (multipleChoice is the poll's rule,
    # min/maxChoices a survey question's; SurveyAnswer is the viewer's own unsent draft, ADR 0021)
    named = [
        f"{type_name}.{field_name}"
        for type_name, type_ in GRAPH.type_map.items()
        if isinstance(type_, GraphQLObjectType) and not type_name.startswith("__")
        for field_name in type_.fields
        if any(word in field_name.lower() for word in ("choice", "chose", "ballot", "selected"))
    ]
    assert sorted(named) == [
        "Poll.multipleChoice", "SurveyAnswer.choices", "SurveyQuestion.maxChoices", "SurveyQuestion.minChoices",
    ]


async def test_two_voters_who_chose_differently_read_the_same_votes_list(gql: Any) -> None:
    # Given two polls in which alice and bob chose opposite options, in the same order
    t = await town()
    first = await created(gql, t.odile.token, t.gid, question="Tram colour?")
    second = await created(gql, t.odile.token, t.gid, question="Bus colour?")
    await voted(gql, t.alice.token, first["id"], option_ids(first)[0])
    await voted(gql, t.bob.token, first["id"], option_ids(first)[2])
    await voted(gql, t.alice.token, second["id"], option_ids(second)[2])
    await voted(gql, t.bob.token, second["id"], option_ids(second)[0])

    # When each reads every field the votes list reaches
    query = votes_query()
    mine = await gql(query, token=t.alice.token)
    theirs = await gql(query, token=t.bob.token)

    # Then the answers are the same (but for the opaque cursors of each one's own list): no
    # field, order or count tells what either chose
    assert "errors" not in mine, mine
    assert [e["node"]["poll"]["id"] for e in mine["data"]["viewer"]["votes"]["edges"]] == [second["id"], first["id"]]
    assert without_cursors(mine) == without_cursors(theirs)


async def test_nobody_reads_another_persons_activity(gql: Any) -> None:
    # Given alice's vote, support, follow and comment
    t = await town()
    poll = await created(gql, t.odile.token, t.gid)
    await voted(gql, t.alice.token, poll["id"], option_ids(poll)[1])
    follow = await gql(
        "mutation($i: FollowInput!) { follow(input: $i) { following } }", {"i": {"subjectId": poll["id"]}},
        token=t.alice.token,
    )
    assert follow["data"]["follow"]["following"] is True
    lists = "votes(first: 10) { totalCount } follows(first: 10) { totalCount } " \
            "supports(first: 10) { totalCount } comments(first: 10) { totalCount }"
    # When bob, the moderator and the admin ask for "the viewer's" lists
    for who in (t.bob, t.mona, t.adam):
        answer = await gql("query { viewer { " + lists + " } }", token=who.token)
        # Then each gets their own, empty ones
        assert [v["totalCount"] for v in answer["data"]["viewer"].values()] == [0, 0, 0, 0], answer
    # And there is no other way in: `viewer` takes no argument, and alice's account id is no node
    assert GRAPH.query_type.fields["viewer"].args == {}  # type: ignore[union-attr]
    alice_id = encode_id("Account", t.alice.account.id)
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": alice_id}, token=t.bob.token)
    assert node["data"]["node"] is None
    # While alice herself sees her vote and her follow
    own = await gql("query { viewer { " + lists + " } }", token=t.alice.token)
    assert [v["totalCount"] for v in own["data"]["viewer"].values()] == [1, 1, 0, 0]


async def test_anonymous_reads_of_activity_are_refused_quietly(gql: Any) -> None:
    answer = await gql("query { viewer { votes(first: 5) { totalCount } } }")
    assert answer["data"] == {"viewer": None} and "errors" not in answer
