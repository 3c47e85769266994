"""A survey's questions, and the answers of the viewer's own draft."""

from __future__ import annotations

from typing import Any

import strawberry

from models import surveys as ms
from schema.relay import encode_id
from schema.surveys.kinds import (
    SurveyQuestionKind,
)


@strawberry.type(description="One option of a choice or ranking question.")
class SurveyOption:
    position: int = strawberry.field(description="Its position (from 0): what answers' choices name.")
    label: str = strawberry.field(description="What the option says.")


@strawberry.type(description="When a question shows: the answer to an earlier question includes an option.")
class SurveyCondition:
    question_position: int = strawberry.field(description="Position of the earlier (choice) question.")
    option_position: int = strawberry.field(description="Position of the option its answer must include.")


@strawberry.type(description="A question of a survey.")
class SurveyQuestion:
    id: strawberry.ID = strawberry.field(description="The question's global id, to answer it.")
    position: int = strawberry.field(description="Its place in the survey, from 0.")
    kind: SurveyQuestionKind = strawberry.field(description="What an answer holds.")
    prompt: str = strawberry.field(description="What the question asks.")
    help: str = strawberry.field(description="More explanation; may be empty.")
    required: bool = strawberry.field(description="Whether a submission must answer it when it shows.")
    options: list[SurveyOption] = strawberry.field(description="The options (choice and ranking questions).")
    min_choices: int | None = strawberry.field(description="MULTIPLE_CHOICE: the fewest options to choose.")
    max_choices: int | None = strawberry.field(description="MULTIPLE_CHOICE: the most options to choose.")
    scale_min: int | None = strawberry.field(description="SCALE: the lowest value.")
    scale_max: int | None = strawberry.field(description="SCALE: the highest value.")
    min_label: str | None = strawberry.field(description="SCALE: what the lowest value means.")
    max_label: str | None = strawberry.field(description="SCALE: what the highest value means.")
    show_if: SurveyCondition | None = strawberry.field(
        description="Shown only when this condition holds; null: always shown."
    )

    @classmethod
    def from_model(cls, row: ms.SurveyQuestion) -> SurveyQuestion:
        kind: Any = row.kind
        condition = None
        if row.shown_if_position is not None and row.shown_if_option is not None:
            condition = SurveyCondition(question_position=row.shown_if_position, option_position=row.shown_if_option)
        return cls(
            id=strawberry.ID(encode_id("SurveyQuestion", row.id)),
            position=row.position,
            kind=SurveyQuestionKind(getattr(kind, "value", kind)),
            prompt=row.prompt,
            help=row.help,
            required=row.required,
            options=[SurveyOption(position=i, label=label) for i, label in enumerate(row.options or [])],
            min_choices=row.min_choices,
            max_choices=row.max_choices,
            scale_min=row.scale_min,
            scale_max=row.scale_max,
            min_label=row.min_label,
            max_label=row.max_label,
            show_if=condition,
        )


@strawberry.type(description="An answer to one question (in the viewer's own draft).")
class SurveyAnswer:
    question_id: strawberry.ID = strawberry.field(description="The question answered.")
    choices: list[int] | None = strawberry.field(description="Option positions (ranking: best first).")
    value: int | None = strawberry.field(description="SCALE: the value chosen.")
    text: str | None = strawberry.field(description="Text questions: the text.")


@strawberry.type(description="The viewer's saved, unsubmitted answers to a survey: theirs alone.")
class SurveyDraft:
    answers: list[SurveyAnswer] = strawberry.field(description="The answers saved, in question order.")


def answers_of(payload: dict[str, Any], questions: list[ms.SurveyQuestion]) -> list[SurveyAnswer]:
    """The API answers of a stored payload (question position -> value)."""
    answers = []
    for row in questions:
        value = payload.get(str(row.position))
        if value is None:
            continue
        answers.append(
            SurveyAnswer(
                question_id=strawberry.ID(encode_id("SurveyQuestion", row.id)),
                choices=list(value) if isinstance(value, list) else None,
                value=value if isinstance(value, int) and not isinstance(value, bool) else None,
                text=value if isinstance(value, str) else None,
            )
        )
    return answers
