"""What surveys are made of: who runs them, their statuses and question kinds, the labels
sealed payloads are bound to (docs/adr/0021)."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from models import surveys as ms
from models.accounts import Role
from models.clock import as_utc, now

# Who reads a survey's drafts before publication, its text answers and its export.
SURVEY_STAFF = tuple(ms.SURVEY_STAFF)
# Who creates, edits, opens and closes surveys.
SURVEY_MANAGERS = (Role.OFFICIAL, Role.ADMIN)


@strawberry.enum(description="Where a survey stands: drafted by staff, then in time like a poll.")
class SurveyStatus(Enum):
    DRAFT = strawberry.enum_value("DRAFT", description="Being written: staff only, questions editable.")
    SCHEDULED = strawberry.enum_value("SCHEDULED", description="Published, not open yet: opensAt is ahead.")
    OPEN = strawberry.enum_value("OPEN", description="Members may answer.")
    CLOSED = strawberry.enum_value("CLOSED", description="Closed by staff, or past closesAt.")


@strawberry.enum(description="The kind of a survey question, which says what an answer holds.")
class SurveyQuestionKind(Enum):
    SINGLE_CHOICE = strawberry.enum_value("SINGLE_CHOICE", description="Exactly one option (choices).")
    MULTIPLE_CHOICE = strawberry.enum_value(
        "MULTIPLE_CHOICE", description="minChoices to maxChoices distinct options (choices)."
    )
    RANKING = strawberry.enum_value(
        "RANKING", description="Every option, once each, best first (choices, in order)."
    )
    SCALE = strawberry.enum_value("SCALE", description="A whole number from scaleMin to scaleMax (value).")
    SHORT_TEXT = strawberry.enum_value("SHORT_TEXT", description="Up to 300 characters (text).")
    LONG_TEXT = strawberry.enum_value("LONG_TEXT", description="Up to 3,000 characters (text).")


@strawberry.enum(description="The format of a survey export.")
class SurveyExportFormat(Enum):
    CSV = strawberry.enum_value("CSV", description="Comma-separated values, a header row of the questions.")
    JSON = strawberry.enum_value("JSON", description="A JSON document: the questions, then the responses.")


def survey_status(row: ms.Survey, at: dt.datetime | None = None) -> SurveyStatus:
    """DRAFT until published; then CLOSED once closed_at is set or closes_at reached,
    SCHEDULED before opens_at, OPEN in between (the clock moves it, nobody has to)."""
    if row.published_at is None:
        return SurveyStatus.DRAFT
    at = at or now()
    if row.closed_at is not None or at >= as_utc(row.closes_at):
        return SurveyStatus.CLOSED
    if at < as_utc(row.opens_at):
        return SurveyStatus.SCHEDULED
    return SurveyStatus.OPEN



def draft_label(survey_pk: int, member_pk: int) -> str:
    """A draft opens only for its survey and its author (associated data)."""
    return f"survey-draft:{survey_pk}:{member_pk}"


def response_label(survey_pk: int) -> str:
    """A sealed response opens only for its survey (associated data)."""
    return f"survey:{survey_pk}"
