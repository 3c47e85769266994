"""submitSurvey's statements and the folds that count sealed responses (docs/adr/0021).

The member's transaction records who submitted (the unique (survey, member) row takes one
submission per member), counts one more submission under the survey's row lock (which
re-checks the open window), stores every answer SEALED and padded to the survey's fixed size
under a random id with no timestamp, and deletes the member's draft. Nothing it writes holds
an answer in the clear. A fold, in a transaction of its own, takes the survey's row lock,
deletes a batch of at least K sealed responses (the lowest random ids: a random batch), opens
them, adds their sums to the survey's tally and releases them as SurveyResponse rows (random
ids, shuffled, no member, no time): text answers and exports read those. The batch rules are
the polls' (resolvers/tally.py: fold_for_open_poll).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from access.context import Context
from access.sealing import Keys, keys_for, open_padded, seal_padded
from events.envelopes import Event, survey_channel
from models import clock
from models.accounts import Member
from models.surveys import QuestionKind
from models.surveys import Survey as SurveyRow
from models.surveys import SurveyQuestion as QuestionRow
from models.surveys import SurveyResponse as ResponseRow
from models.territories import Territory as TerritoryRow
from reads import sql
from resolvers.mutations import run_in_transaction
from resolvers.survey_answers import check_answers, sealed_size
from resolvers.tally import Fold, fold_at_close, fold_for_open_poll
from resolvers.validation import Checks
from schema.errors import Refusal, UserErrorCode
from schema.relay import decode_id_of
from schema.surveys.inputs import SurveyAnswersInput
from schema.surveys.kinds import draft_label, response_label
from schema.surveys.survey import already_submitted, check_may_answer, may_see

log = logging.getLogger("parvis.surveys")

_TAKE_PART = 'INSERT INTO "survey_participation" ("survey_id", "member_id") VALUES ($1, $2)'
_WINDOW = (
    'UPDATE "survey" SET "total_submissions" = "total_submissions" + 1 '
    'WHERE "id" = $1 AND "published_at" IS NOT NULL AND "closed_at" IS NULL '
    'AND "opens_at" <= $2 AND "closes_at" > $2 RETURNING "total_submissions", "counted_submissions"'
)
# Tortoise's asyncpg client runs a statement starting with UPDATE without fetching: behind
# WITH its RETURNING rows come back (SQLite has no data-modifying WITH: the plain form).
_COUNT_POSTGRES = f"WITH c AS ({_WINDOW}) SELECT * FROM c"
_SEAL = 'INSERT INTO "survey_sealed_response" ("id", "survey_id", "sealed") VALUES ($1, $2, $3)'
_DROP_DRAFT = 'DELETE FROM "survey_draft" WHERE "survey_id" = $1 AND "member_id" = $2'
_SAVE_DRAFT = (
    'INSERT INTO "survey_draft" ("survey_id", "member_id", "sealed") VALUES ($1, $2, $3) '
    'ON CONFLICT ("survey_id", "member_id") DO UPDATE SET "sealed" = excluded."sealed"'
)

_LOCK_POSTGRES = (
    'SELECT "total_submissions", "counted_submissions" FROM "survey" WHERE "id" = $1 FOR NO KEY UPDATE'
)
_LOCK_SQLITE = 'SELECT "total_submissions", "counted_submissions" FROM "survey" WHERE "id" = $1'
_PICK = 'SELECT "id" FROM "survey_sealed_response" WHERE "survey_id" = $1 ORDER BY "id" LIMIT $2'
_TAKE_POSTGRES = (
    f'WITH gone AS (DELETE FROM "survey_sealed_response" WHERE "id" IN ({_PICK}) RETURNING "sealed") '
    'SELECT "sealed" FROM gone'
)
_TAKE_SQLITE = f'DELETE FROM "survey_sealed_response" WHERE "id" IN ({_PICK}) RETURNING "sealed"'


@dataclass
class Box:
    """A survey as the member acting on it sees it: the row, its questions, its territory's
    K, and the member."""

    survey: SurveyRow
    questions: list[QuestionRow]
    batch: int
    member: Member


async def check_survey(ctx: Context, global_id: str) -> SurveyRow:
    """The survey behind a global id, if the viewer may see it (drafts: the territory's
    officials, moderators and admins only), else NOT_FOUND."""
    pk = decode_id_of(global_id, "Survey")
    row = await SurveyRow.filter(id=pk).first() if pk is not None else None
    if row is None or not await may_see(ctx, row):
        raise Refusal.of(UserErrorCode.NOT_FOUND, "No such survey.", "surveyId")
    return row


async def check_box(ctx: Context, global_id: str, at: dt.datetime) -> Box:
    """The survey the member may answer now (schema/surveys.py check_may_answer), with its
    questions and its territory's K."""
    ctx.require_account()
    survey = await check_survey(ctx, global_id)
    member = await check_may_answer(ctx, survey, at)
    questions = await QuestionRow.filter(survey_id=survey.id).order_by("position")
    territory = await ctx.loaders.by_id(TerritoryRow).load(survey.territory_id)
    batch = int(territory.ballot_batch) if territory is not None else 1
    return Box(survey, list(questions), batch, member)


def encode_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


async def do_save_draft(ctx: Context, input: SurveyAnswersInput) -> tuple[Box, dict[str, Any]]:
    """saveSurveyDraft's work: the answers checked one by one (conditions and required
    questions wait for the submission), sealed to the survey and the member, replacing the
    member's previous draft."""
    box = await check_box(ctx, input.survey_id, clock.now())
    if await sql.fetchrow(
        'SELECT 1 AS "x" FROM "survey_participation" WHERE "survey_id" = $1 AND "member_id" = $2',
        box.survey.id, box.member.id,
    ):
        raise already_submitted()
    checks = Checks()
    payload = check_answers(checks, box.questions, input.answers, complete=False)
    checks.done()
    sealed = seal_padded(
        keys_for(ctx.settings.secret), draft_label(box.survey.id, box.member.id),
        encode_payload(payload), sealed_size(box.questions),
    )
    await sql.execute(_SAVE_DRAFT, box.survey.id, box.member.id, sealed)
    return box, payload


@dataclass
class Submitted:
    """A submission committed: the survey as read, the counts right after it, its K."""

    survey: SurveyRow
    total: int
    counted: int
    batch: int


async def do_submit(ctx: Context, input: SurveyAnswersInput) -> Submitted:
    """submitSurvey's work, inside the mutation's transaction."""
    now = clock.now()
    box = await check_box(ctx, input.survey_id, now)
    checks = Checks()
    payload = check_answers(checks, box.questions, input.answers, complete=True)
    checks.done()
    survey = box.survey
    try:
        await sql.execute(_TAKE_PART, survey.id, box.member.id)
    except IntegrityError as exc:
        raise already_submitted() from exc
    counts = await sql.fetchrow(_COUNT_POSTGRES if sql.postgres() else _WINDOW, survey.id, now)
    if counts is None:
        raise Refusal.of(UserErrorCode.SURVEY_CLOSED, "This survey has closed.", "surveyId")
    await do_seal_response(keys_for(ctx.settings.secret), survey.id, box.questions, payload)
    # The draft was the author's; it goes with the submission, in the same transaction.
    await sql.execute(_DROP_DRAFT, survey.id, box.member.id)
    # Says a submission was made, never by whom nor what (the total moved, nothing else).
    ctx.queue(Event(channel=survey_channel(survey.id), type="submission", data={"survey": survey.id}))
    return Submitted(survey, int(counts["total_submissions"]), int(counts["counted_submissions"]), box.batch)


def fold_after(done: Submitted) -> Fold | None:
    """The fold this submission's commit makes due, if any (the polls' batch rule)."""
    return fold_for_open_poll(done.survey.id, done.total, done.total - done.counted, done.batch)


def _add(tally: dict[str, Any], questions: list[QuestionRow], payload: dict[str, Any]) -> None:
    """One opened response's answers into the tally."""
    for row in questions:
        key = str(row.position)
        value = payload.get(key)
        if value is None:
            continue
        kind = QuestionKind(getattr(row.kind, "value", row.kind))
        entry = tally.setdefault(key, {"answered": 0})
        entry["answered"] += 1
        count = len(row.options or [])
        if kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE):
            counts = entry.setdefault("counts", [0] * count)
            for choice in value:
                counts[choice] += 1
        elif kind == QuestionKind.RANKING:
            ranks = entry.setdefault("ranks", [0] * count)
            borda = entry.setdefault("borda", [0] * count)
            for rank, choice in enumerate(value):
                ranks[choice] += rank + 1
                borda[choice] += count - 1 - rank
        elif kind == QuestionKind.SCALE:
            values = entry.setdefault("values", {})
            values[str(value)] = values.get(str(value), 0) + 1


async def do_fold(ctx: Context, fold: Fold) -> bool:
    """Count a batch of the survey's sealed responses, inside the caller's transaction;
    False when there was nothing (or too little) to count."""
    return await do_fold_with(keys_for(ctx.settings.secret), ctx.queue, fold)


async def do_seal_response(keys: Keys, survey_pk: int, questions: list[QuestionRow], payload: dict[str, Any]) -> None:
    """One submission's answers (checked: check_answers), sealed and padded to the survey's
    fixed size under a random id, with no member and no time."""
    sealed = seal_padded(keys, response_label(survey_pk), encode_payload(payload), sealed_size(questions))
    response_id = uuid.uuid4()
    await sql.execute(_SEAL, response_id if sql.postgres() else str(response_id), survey_pk, sealed)


async def do_fold_with(keys: Keys, queue: Callable[[Event], None], fold: Fold) -> bool:
    """do_fold with the keys the responses were sealed under, and where its event goes (the
    demo seeds and counts its survey's answers through here)."""
    survey_pk = fold.poll_id
    postgres = sql.postgres()
    locked = await sql.fetchrow(_LOCK_POSTGRES if postgres else _LOCK_SQLITE, survey_pk)
    if locked is None:
        return False
    batch = int(locked["total_submissions"]) - int(locked["counted_submissions"]) - fold.keep
    if batch < fold.at_least:
        return False
    taken = await sql.fetch(_TAKE_POSTGRES if postgres else _TAKE_SQLITE, survey_pk, batch)
    payloads = [json.loads(open_padded(keys, response_label(survey_pk), bytes(r["sealed"]))) for r in taken]
    questions = list(await QuestionRow.filter(survey_id=survey_pk).order_by("position"))
    survey = await SurveyRow.get(id=survey_pk)
    tally: dict[str, Any] = dict(survey.tally or {})
    for payload in payloads:
        _add(tally, questions, payload)
    # Released in random order under random ids, in one statement of the fold's transaction.
    random.SystemRandom().shuffle(payloads)
    await ResponseRow.bulk_create([ResponseRow(id=uuid.uuid4(), survey_id=survey_pk, answers=p) for p in payloads])
    await SurveyRow.filter(id=survey_pk).update(
        counted_submissions=F("counted_submissions") + len(payloads), tally=tally
    )
    queue(Event(channel=survey_channel(survey_pk), type="tally", data={"survey": survey_pk}))
    return True


async def do_fold_after_commit(ctx: Context, fold: Fold) -> None:
    """A fold in a transaction of its own, after a submission committed. A failure is logged
    and costs nothing: the responses stay sealed for the next fold (or the close)."""
    async def work() -> bool:
        return await do_fold(ctx, fold)

    try:
        await run_in_transaction(ctx, work)
    except Exception:  # noqa: BLE001 - the submission is committed; counting waits
        log.exception("counting sealed responses of survey %s failed; they wait for the next fold", fold.poll_id)


async def do_close(ctx: Context, survey: SurveyRow, now: dt.datetime) -> None:
    """Close the survey (once) and count every sealed response left."""
    if survey.closed_at is None:
        closed_at = min(now, clock.as_utc(survey.closes_at))
        await SurveyRow.filter(id=survey.id, closed_at__isnull=True).update(closed_at=closed_at, updated_at=now)
        ctx.queue(Event(channel=survey_channel(survey.id), type="closed", data={"survey": survey.id}))
    await do_fold(ctx, fold_at_close(survey.id))
    # Drafts can no longer be submitted: they go (they were their authors' only).
    await sql.execute('DELETE FROM "survey_draft" WHERE "survey_id" = $1', survey.id)


async def do_close_due_surveys(ctx: Context, now: dt.datetime | None = None) -> int:
    """Count the tails of surveys closed by the clock with responses still sealed, so their
    results become final, and delete their drafts. Safe from every process at once (the fold
    locks the survey)."""
    now = now or clock.now()
    due = await sql.fetch(
        'SELECT "id" FROM "survey" WHERE "published_at" IS NOT NULL AND "closes_at" <= $1 '
        'AND ("counted_submissions" < "total_submissions" '
        'OR EXISTS (SELECT 1 FROM "survey_draft" d WHERE d."survey_id" = "survey"."id")) ORDER BY "id" LIMIT 100',
        now,
    )
    for row in due:
        survey = await SurveyRow.get(id=row["id"])

        async def work(survey: SurveyRow = survey) -> None:
            await do_close(ctx, survey, now)

        await run_in_transaction(ctx, work)
    return len(due)
