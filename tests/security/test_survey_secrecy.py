"""Survey answers against the operator (docs/adr/0021, the ballot's design of ADR 0009).

The adversary holds the database (live and dead row versions with their xmin, the rows'
order), the public results and, as a citizen, the API; they replay the ballot attacks on a
survey: participations in the database's order matched with the results read after every
submission (choice counts, and the staff's text answers growing one at a time); the
transaction ids of every version of the survey's tally and of the released responses.
With batches of K submissions they learn batch sums only; with K = 1 (the control) the same
attack names every participant, which shows it works. And: one submission per member under
concurrent duplicates, answers to hidden questions refused, text answers and exports for
staff only, drafts sealed to their author and gone at submission.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise import connections

from access.sealing import keys_for, open_padded
from models.accounts import Role
from models.surveys import SealedSurveyResponse, SurveyDraft, SurveyParticipation, SurveyResponse
from models.surveys import Survey as SurveyRow
from schema.relay import encode_id
from schema.surveys.kinds import response_label
from tests.factories import Persona, make_person, make_territory
from tests.surveys.stories import (
    CLOSE,
    DRAFT,
    EXPORT,
    answers,
    codes,
    ok,
    opened_survey,
    pk_of,
    read,
    submit,
)

K = 5
QUESTIONS = [
    {"kind": "SINGLE_CHOICE", "prompt": "Which site for the new school?", "required": True,
     "options": ["North", "South", "East"]},
    {"kind": "SHORT_TEXT", "prompt": "Why?", "showIf": {"questionPosition": 0, "optionPosition": 0}},
    {"kind": "LONG_TEXT", "prompt": "Anything else?"},
]


def postgres() -> bool:
    return connections.get("default").capabilities.dialect == "postgres"


async def electorate(batch: int, people: int) -> tuple[str, Persona, list[Persona]]:
    territory = await make_territory(name="Nîmes Métropole", ballot_batch=batch)
    odile = await make_person("odile", territory, role=Role.OFFICIAL, title="Mayor")
    citizens = [await make_person(f"citizen{n}", territory) for n in range(people)]
    return encode_id("Territory", territory.id), odile, citizens


Snapshot = tuple[tuple[int, ...], frozenset[str]]


async def snapshot(gql: Any, odile: Persona, survey_id: str) -> Snapshot:
    """What the adversary reads after each submission: the public counts of question 1 and,
    as staff, the set of text answers released so far."""
    survey = await read(gql, odile.token, survey_id)
    assert survey is not None
    questions = survey["results"]["questions"]
    counts = tuple(o["count"] for o in questions[0]["options"])
    return counts, frozenset(questions[2]["textAnswers"] or ())


def attribute(order: list[int], snapshots: list[Snapshot]) -> dict[int, tuple[int, str]]:
    """The n-th participation against the n-th step of the results: a step that moved the
    counts by one submission and released one text names that participant's answers."""
    guesses: dict[int, tuple[int, str]] = {}
    for member, before, after in zip(order, snapshots, snapshots[1:], strict=False):
        moved = [b - a for a, b in zip(before[0], after[0], strict=True)]
        texts = after[1] - before[1]
        if sum(moved) == 1 and len(texts) == 1:
            guesses[member] = (moved.index(1), next(iter(texts)))
    return guesses


async def submit_all(gql: Any, odile: Persona, survey: dict[str, Any], people: list[Persona], seed: int
                     ) -> tuple[dict[int, tuple[int, str]], list[Snapshot]]:
    rng = random.Random(seed)
    chosen: dict[int, tuple[int, str]] = {}
    snapshots = [await snapshot(gql, odile, survey["id"])]
    for person in people:
        assert person.member is not None
        site, text = rng.randrange(3), f"note of {person.account.display_name}"
        chosen[person.member.id] = (site, text)
        given = answers(survey, q0={"choices": [site]}, q2={"text": text})
        assert (await submit(gql, person.token, survey["id"], given))["userErrors"] == []
        snapshots.append(await snapshot(gql, odile, survey["id"]))
    return chosen, snapshots


@pytest.mark.parametrize("batch", [1, K])
async def test_row_order_and_the_results_name_no_participant(gql, batch):
    # Given a survey of a territory counting by batches of `batch`, and 13 citizens
    gid, odile, people = await electorate(batch, 13)
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)

    # When each submits, the results (and the released text answers) read after every submission
    chosen, snapshots = await submit_all(gql, odile, survey, people, seed=batch)

    # And the adversary matches the participations, in the database's order, with them
    pk = pk_of(survey["id"], "Survey")
    order: list[Any] = await SurveyParticipation.filter(survey_id=pk).order_by("id").values_list("member_id", flat=True)
    guesses = attribute(list(order), snapshots)
    await ok(gql, CLOSE, "closeSurvey", {"input": {"surveyId": survey["id"]}}, odile.token)
    final = await snapshot(gql, odile, survey["id"])

    if batch == 1:
        # Then (control) with submissions counted one by one, the attack names everyone
        assert guesses == chosen
    else:
        # Then with batches it names nobody: counts and texts moved by K or more at a time
        assert guesses == {}
        seen = [*snapshots, final]
        moves = [sum(b[0]) - sum(a[0]) for a, b in zip(seen, seen[1:], strict=False)]
        assert [m for m in moves if m] and all(m >= K for m in moves if m), moves
    # And the final results hold every submission once
    assert final[0] == tuple(Counter(site for site, _ in chosen.values())[i] for i in range(3))
    assert final[1] == {text for _, text in chosen.values()}
    row = await SurveyRow.get(id=pk)
    assert (row.total_submissions, row.counted_submissions) == (13, 13)
    assert await SealedSurveyResponse.filter(survey_id=pk).count() == 0


async def every_version(table: str, *columns: str) -> list[dict[str, Any]]:
    """Every row version on the table's pages, live or dead, with its xmin and the named
    columns' raw bytes as stored (see tests/security/test_ballot_adversary.py)."""
    db = connections.get("default")
    attnums = {
        row["attname"]: row["attnum"]
        for row in await db.execute_query_dict(
            f"SELECT attname, attnum FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0"
        )
    }
    rows = await db.execute_query_dict(
        f"SELECT h.t_xmin::text AS xmin, tuple_data_split('{table}'::regclass, h.t_data, h.t_infomask, "
        "h.t_infomask2, h.t_bits) AS attrs "
        f"FROM generate_series(0, (pg_relation_size('{table}') / current_setting('block_size')::int)::int - 1) blk, "
        f"LATERAL heap_page_items(get_raw_page('{table}', blk)) h WHERE h.lp_flags = 1 AND h.t_data IS NOT NULL"
    )
    return [
        {"xmin": int(row["xmin"]), **{c: row["attrs"][attnums[c] - 1] for c in columns}} for row in rows
    ]


def as_int(raw: bytes) -> int:
    return int.from_bytes(raw, "little", signed=True)


async def test_no_row_version_of_the_results_carries_a_participants_transaction(gql, settings, database_url):
    if not postgres():
        pytest.skip("row versions and xmin are PostgreSQL's (SQLite keeps no dead versions to read)")
    db = connections.get("default")
    if not await db.execute_query_dict("SELECT 1 FROM pg_available_extensions WHERE name = 'pageinspect'"):
        pytest.skip("pageinspect is not installed on this PostgreSQL server")
    await db.execute_script("CREATE EXTENSION IF NOT EXISTS pageinspect")
    # Given 12 submissions in batches of 5, then the close, with an old snapshot held open so
    # page pruning keeps every dead version for the adversary
    gid, odile, people = await electorate(K, 12)
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)
    holder = await asyncpg.connect(urlunsplit(urlsplit(database_url)._replace(scheme="postgresql", query="")))
    try:
        await holder.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        await holder.fetchval("SELECT count(*) FROM survey")
        chosen, _ = await submit_all(gql, odile, survey, people, seed=12)
        await ok(gql, CLOSE, "closeSurvey", {"input": {"surveyId": survey["id"]}}, odile.token)
    finally:
        await holder.close()
    pk = pk_of(survey["id"], "Survey")

    # When the adversary reads every version of every row from the pages
    mine = [v for v in await every_version("survey_participation", "survey_id") if as_int(v["survey_id"]) == pk]
    voters = {v["xmin"] for v in mine}
    surveys = [v for v in await every_version("survey", "id", "counted_submissions", "tally") if as_int(v["id"]) == pk]
    released = [v for v in await every_version("survey_response", "survey_id") if as_int(v["survey_id"]) == pk]
    sealed = [v for v in await every_version("survey_sealed_response", "survey_id", "sealed")
              if as_int(v["survey_id"]) == pk]

    # Then the participants' transactions wrote 12 participations and 12 sealed responses
    assert len(voters) == 12
    assert {v["xmin"] for v in sealed} == voters
    # But no released response was written by a participant's transaction: only folds,
    # each releasing a batch of at least K (10 at the 2K-th submission, then the tail)
    assert not {v["xmin"] for v in released} & voters
    batches = sorted(Counter(v["xmin"] for v in released).values())
    assert sum(batches) == 12 and all(b >= K for b in batches), batches
    # And every tally a participant's version of the survey row carries is one a fold (or the
    # creation) wrote: a submission copies the tally, never moves it
    by_others = {bytes(v["tally"]) for v in surveys if v["xmin"] not in voters}
    assert all(bytes(v["tally"]) in by_others for v in surveys if v["xmin"] in voters)
    assert {as_int(v["counted_submissions"]) for v in surveys} <= {0, 5, 12}
    # And the sealed responses, dead now, all have one length whatever was written; the
    # deployment's secret opens them (see the ADR), another does not
    lengths = {len(bytes(v["sealed"])) - (1 if bytes(v["sealed"])[0] & 1 else 4) for v in sealed}
    assert len(lengths) == 1
    assert len(chosen) == 12


async def test_one_submission_per_member_under_concurrent_duplicates(gql):
    """Twelve submissions of one member at once: exactly one wins (the unique (survey,
    member) row), the rest answer ALREADY_SUBMITTED, and one sealed response is stored."""
    gid, odile, people = await electorate(1, 1)
    alice = people[0]
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)
    given = answers(survey, q0={"choices": [1]})
    results = await asyncio.gather(*(submit(gql, alice.token, survey["id"], given) for _ in range(12)))
    outcomes = Counter(tuple(codes(r)) for r in results)
    assert outcomes == {(): 1, ("ALREADY_SUBMITTED",): 11}, outcomes
    pk = pk_of(survey["id"], "Survey")
    row = await SurveyRow.get(id=pk)
    assert (row.total_submissions, await SurveyParticipation.filter(survey_id=pk).count()) == (1, 1)
    assert row.counted_submissions + await SealedSurveyResponse.filter(survey_id=pk).count() == 1


async def test_answers_to_hidden_questions_are_refused_and_nothing_is_stored(gql):
    gid, odile, people = await electorate(1, 1)
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)
    # "Why?" shows only after "North": answering it after "South" is refused
    refused = await submit(gql, people[0].token, survey["id"], answers(survey, q0={"choices": [1]}, q1={"text": "x"}))
    assert codes(refused) == ["ANSWER_HIDDEN"]
    assert refused["userErrors"][0]["field"] == ["input", "answers", survey["questions"][1]["id"]]
    pk = pk_of(survey["id"], "Survey")
    assert await SurveyParticipation.filter(survey_id=pk).count() == 0
    assert await SealedSurveyResponse.filter(survey_id=pk).count() == 0
    assert (await SurveyRow.get(id=pk)).total_submissions == 0


async def test_citizens_read_no_text_answer_and_export_nothing(gql):
    gid, odile, people = await electorate(1, 2)
    alice, bob = people
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)
    await submit(gql, alice.token, survey["id"], answers(survey, q0={"choices": [0]}, q1={"text": "near my home"}))
    for token in (alice.token, bob.token, None):
        seen = await read(gql, token, survey["id"])
        assert seen is not None
        assert [q["textAnswers"] for q in seen["results"]["questions"]] == [None, None, None]
        exported = await gql(EXPORT, {"input": {"surveyId": survey["id"], "format": "JSON"}}, token=token)
        assert exported["errors"][0]["extensions"]["code"] == ("UNAUTHENTICATED" if token is None else "FORBIDDEN")
        assert exported["data"] is None
    staff = await read(gql, odile.token, survey["id"])
    assert staff is not None and staff["results"]["questions"][1]["textAnswers"] == ["near my home"]


async def test_a_draft_is_sealed_to_its_author_and_gone_at_submission(gql, settings):
    gid, odile, people = await electorate(K, 2)
    alice, bob = people
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)
    pk = pk_of(survey["id"], "Survey")
    short = answers(survey, q0={"choices": [0]}, q1={"text": "secret-word"})
    long = answers(survey, q0={"choices": [0]}, q1={"text": "y" * 300}, q2={"text": "z" * 3000})
    await ok(gql, DRAFT, "saveSurveyDraft", {"input": {"surveyId": survey["id"], "answers": short}}, alice.token)
    await ok(gql, DRAFT, "saveSurveyDraft", {"input": {"surveyId": survey["id"], "answers": long}}, bob.token)
    # The database holds no draft in the clear, and a long draft is as long as a short one
    drafts = {d.member_id: bytes(d.sealed) for d in await SurveyDraft.filter(survey_id=pk)}
    assert alice.member is not None and bob.member is not None
    assert b"secret-word" not in drafts[alice.member.id]
    assert len(drafts[alice.member.id]) == len(drafts[bob.member.id])
    # Alice's draft opens only as hers (bound to survey and member), not as a response
    with pytest.raises(Exception, match="does not open"):
        open_padded(keys_for(settings.secret), response_label(pk), drafts[alice.member.id])
    # Submitting deletes it in the same transaction; a refused submission keeps it
    refused = await submit(gql, alice.token, survey["id"], answers(survey, q0={"choices": [1]}, q1={"text": "x"}))
    assert codes(refused) == ["ANSWER_HIDDEN"]
    assert await SurveyDraft.filter(survey_id=pk, member_id=alice.member.id).exists()
    assert (await submit(gql, alice.token, survey["id"], short))["userErrors"] == []
    assert not await SurveyDraft.filter(survey_id=pk, member_id=alice.member.id).exists()
    assert await SurveyDraft.filter(survey_id=pk, member_id=bob.member.id).exists()


async def test_what_links_nobody_has_no_time_and_no_member(gql):
    """The tables of answers have no column naming a member or a time."""
    columns = {
        model: set(model._meta.db_fields)
        for model in (SealedSurveyResponse, SurveyResponse, SurveyParticipation)
    }
    assert columns[SealedSurveyResponse] == {"id", "survey_id", "sealed"}
    assert columns[SurveyResponse] == {"id", "survey_id", "answers"}
    assert columns[SurveyParticipation] == {"id", "survey_id", "member_id"}


async def test_submissions_racing_folds_and_the_close_are_each_counted_once(gql):
    """Concurrency is proven on PostgreSQL (SQLite serializes): thirty members at once, folds
    racing each other and the submissions, odile closing half-way."""
    gid, odile, people = await electorate(K, 30)
    survey = await opened_survey(gql, odile.token, gid, questions=QUESTIONS)
    given = [answers(survey, q0={"choices": [i % 3]}, q2={"text": f"t{i}"}) for i in range(30)]
    racing = [submit(gql, p.token, survey["id"], given[i]) for i, p in enumerate(people)]
    close = ok(gql, CLOSE, "closeSurvey", {"input": {"surveyId": survey["id"]}}, odile.token)
    results = await asyncio.gather(*racing[:15], close, *racing[15:])
    submitted = [i for i, r in enumerate(results[:15] + results[16:]) if not r["userErrors"]]
    assert {c for r in results[:15] + results[16:] for c in codes(r)} <= {"SURVEY_CLOSED"}
    # Then every submission that committed is counted once, and nothing stays sealed
    pk = pk_of(survey["id"], "Survey")
    row = await SurveyRow.get(id=pk)
    assert (row.total_submissions, row.counted_submissions) == (len(submitted), len(submitted))
    assert await SealedSurveyResponse.filter(survey_id=pk).count() == 0
    assert await SurveyParticipation.filter(survey_id=pk).count() == len(submitted)
    final = await snapshot(gql, odile, survey["id"])
    assert final[0] == tuple(Counter(i % 3 for i in submitted)[k] for k in range(3))
    assert final[1] == {f"t{i}" for i in submitted}
