"""setIdeaStatus: officials, moderators and admins move an idea along; its author hears of it,
and an idea reaching REALIZED enters the territory's feed, once."""

from __future__ import annotations

import asyncio

from events.envelopes import account_channel, territory_channel
from models.accounts import Role
from models.feed import FeedEntry
from models.ideas import Idea as IdeaRow
from models.notifications import Notification, NotificationKind
from tests.factories import make_person, make_territory
from tests.ideas.stories import idea_row, pk_of, proposed, recorded, set_status, top_code


def changed(result: dict) -> dict:
    assert not result.get("errors"), result
    payload = result["data"]["setIdeaStatus"]
    assert payload["userErrors"] == [], payload
    return payload["idea"]  # type: ignore[no-any-return]


async def feed_rows(territory_id: int, idea_pk: int) -> list[FeedEntry]:
    return await FeedEntry.filter(territory_id=territory_id, subject_type="Idea", subject_id=idea_pk)


async def test_odile_accepts_alices_idea_and_alice_is_notified(gql, app_broker):
    # Given alice's idea and odile, an official of the territory
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    idea = await proposed(gql, alice.token, territory, title="A shared garden")

    # When odile accepts it with a note
    channels = (account_channel(alice.account.id), territory_channel(territory.id))
    async with recorded(app_broker, *channels) as events:
        accepted = changed(
            await set_status(gql, odile.token, idea["id"], "ACCEPTED", "  Planned for spring.  ")
        )

    # Then the idea is accepted with her note
    assert (accepted["status"], accepted["statusNote"]) == ("ACCEPTED", "Planned for spring.")
    row = await idea_row(idea["id"])
    assert (row.status, row.status_note, row.realized_at) == ("ACCEPTED", "Planned for spring.", None)

    # And alice has a stored notification, published live after commit
    notes = await Notification.filter(account_id=alice.account.id)
    assert [(n.kind, n.subject_type, n.subject_id, n.read) for n in notes] == [
        (NotificationKind.IDEA_STATUS_CHANGED, "Idea", row.id, False)
    ]
    assert notes[0].message == "Your idea “A shared garden” is now accepted. Planned for spring."
    assert [(e.channel, e.type, e.data) for e in events] == [
        (account_channel(alice.account.id), "notification", {"id": notes[0].id})
    ]

    # And an accepted idea is not a feed item
    assert await feed_rows(territory.id, row.id) == []


async def test_a_realized_idea_enters_the_feed_once(gql, app_broker):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    idea = await proposed(gql, alice.token, territory)
    pk = pk_of(idea["id"], "Idea")

    # When odile marks it realized
    async with recorded(app_broker, territory_channel(territory.id)) as events:
        realized = changed(await set_status(gql, odile.token, idea["id"], "REALIZED"))

    # Then it is realized, dated, in the feed, and the feed event went out
    assert (realized["status"], realized["statusNote"]) == ("REALIZED", None)
    row = await idea_row(idea["id"])
    assert row.realized_at is not None
    entries = await feed_rows(territory.id, pk)
    assert len(entries) == 1
    assert [(e.type, e.data) for e in events] == [
        ("feed", {"entry": entries[0].id, "kind": "Idea", "id": pk})
    ]
    first_realized_at = row.realized_at

    # When it goes back in progress and is realized again (and again)
    changed(await set_status(gql, odile.token, idea["id"], "IN_PROGRESS", "A second phase."))
    changed(await set_status(gql, odile.token, idea["id"], "REALIZED"))
    changed(await set_status(gql, odile.token, idea["id"], "REALIZED", "Second phase done."))

    # Then it is still in the feed once, realized when it first was
    assert len(await feed_rows(territory.id, pk)) == 1
    assert (await idea_row(idea["id"])).realized_at == first_realized_at

    # And the feed shows it
    feed = await gql(
        """query($slug: String!) { territory(slug: $slug) { feed(first: 10) {
             edges { node { __typename ... on Idea { id status } } } } } }""",
        {"slug": territory.slug},
    )
    assert feed["data"]["territory"]["feed"]["edges"] == [
        {"node": {"__typename": "Idea", "id": idea["id"], "status": "REALIZED"}}
    ]


async def test_concurrent_realizations_enter_the_feed_once(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    adam = await make_person("adam", territory, role=Role.ADMIN)
    idea = await proposed(gql, alice.token, territory)

    results = await asyncio.gather(
        *(set_status(gql, who.token, idea["id"], "REALIZED") for who in (odile, adam) * 5)
    )

    for result in results:
        changed(result)
    assert len(await feed_rows(territory.id, pk_of(idea["id"], "Idea"))) == 1


async def test_moderators_and_admins_may_set_the_status_too(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    adam = await make_person("adam", territory, role=Role.ADMIN)
    idea = await proposed(gql, alice.token, territory)

    assert changed(await set_status(gql, mona.token, idea["id"], "UNDER_REVIEW"))["status"] == "UNDER_REVIEW"
    rejected = changed(await set_status(gql, adam.token, idea["id"], "REJECTED", "Outside our remit."))
    assert (rejected["status"], rejected["statusNote"]) == ("REJECTED", "Outside our remit.")
    assert await Notification.filter(account_id=alice.account.id).count() == 2


async def test_an_author_who_sets_her_own_status_is_not_notified(gql):
    territory = await make_territory()
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    idea = await proposed(gql, odile.token, territory)

    changed(await set_status(gql, odile.token, idea["id"], "IN_PROGRESS"))

    assert await Notification.filter(account_id=odile.account.id).count() == 0


async def test_setting_the_same_status_and_note_again_notifies_nobody(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    idea = await proposed(gql, alice.token, territory)

    changed(await set_status(gql, odile.token, idea["id"], "ACCEPTED", "Yes."))
    changed(await set_status(gql, odile.token, idea["id"], "ACCEPTED", "Yes."))
    # An empty note clears the previous one (and that is a change)
    cleared = changed(await set_status(gql, odile.token, idea["id"], "ACCEPTED", "   "))

    assert cleared["statusNote"] is None
    assert await Notification.filter(account_id=alice.account.id).count() == 2


async def test_citizens_are_forbidden_and_anonymous_visitors_unauthenticated(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    bob = await make_person("bob", territory)
    otto = await make_person("otto", await make_territory(), role=Role.OFFICIAL)
    idea = await proposed(gql, alice.token, territory)

    assert top_code(await set_status(gql, None, idea["id"], "ACCEPTED")) == "UNAUTHENTICATED"
    for who in (alice, bob, otto):  # the author, another citizen, an official elsewhere
        result = await set_status(gql, who.token, idea["id"], "REALIZED")
        assert top_code(result) == "FORBIDDEN"
        assert result["data"] is None

    row = await idea_row(idea["id"])
    assert (row.status, row.realized_at) == ("SUBMITTED", None)
    assert await feed_rows(territory.id, row.id) == []
    assert await Notification.filter(account_id=alice.account.id).count() == 0


async def test_the_note_is_at_most_2000_characters(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    idea = await proposed(gql, alice.token, territory)

    result = await set_status(gql, odile.token, idea["id"], "REJECTED", "n" * 2001)

    payload = result["data"]["setIdeaStatus"]
    assert payload["idea"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID", ["input", "note"])]
    assert (await idea_row(idea["id"])).status == "SUBMITTED"
    assert await Notification.filter(account_id=alice.account.id).count() == 0
    longest = changed(await set_status(gql, odile.token, idea["id"], "REJECTED", "n" * 2000))
    assert longest["statusNote"] == "n" * 2000


async def test_a_hidden_idea_is_not_found_for_officials_but_moderators_see_it(gql):
    territory = await make_territory()
    alice = await make_person("alice", territory)
    odile = await make_person("odile", territory, role=Role.OFFICIAL)
    mona = await make_person("mona", territory, role=Role.MODERATOR)
    idea = await proposed(gql, alice.token, territory)
    await IdeaRow.filter(id=pk_of(idea["id"], "Idea")).update(hidden=True)

    payload = (await set_status(gql, odile.token, idea["id"], "ACCEPTED"))["data"]["setIdeaStatus"]
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("NOT_FOUND", ["input", "ideaId"])]

    assert changed(await set_status(gql, mona.token, idea["id"], "REJECTED"))["status"] == "REJECTED"
