"""What a survey may ask and what an answer may say: the checks of questions and answers.

An answer payload maps a question's position (as a string) to its value: option positions
(choice; ranking, best first), a whole number (scale) or a text. Conditions are evaluated
here, on the server: a question shows when the answer to the earlier choice question it
names includes its option (and that question shows too). A submission that answers a hidden
question is refused (ANSWER_HIDDEN), one that leaves a shown required question unanswered
too (ANSWER_REQUIRED); both name the question's id at the end of the error's field path.
"""

from __future__ import annotations

from typing import Any

from models.surveys import CHOICE_KINDS, TEXT_KINDS, QuestionKind
from models.surveys import SurveyQuestion as QuestionRow
from resolvers.validation import BODY_MAX, TITLE_MAX, Checks
from schema.errors import UserError, UserErrorCode
from schema.relay import decode_id_of, encode_id
from schema.surveys.inputs import SurveyAnswerInput, SurveyQuestionInput

MAX_QUESTIONS = 50
PROMPT_MAX = 500
HELP_MAX = 2000
LABEL_MAX = 100
TEXT_MAX = {QuestionKind.SHORT_TEXT: 300, QuestionKind.LONG_TEXT: 3000}
CHOICE_OPTIONS = (2, 20)
RANKING_OPTIONS = (2, 10)
SCALE_BOUNDS = (-10, 10)
SCALE_VALUES = 11


def check_questions(checks: Checks, questions: list[SurveyQuestionInput]) -> list[dict[str, Any]]:
    """The fields of each question row, in order (position = index), or errors in `checks`."""
    if not 1 <= len(questions) <= MAX_QUESTIONS:
        checks.fail("Give {min} to {max} questions.", "questions", min=1, max=MAX_QUESTIONS)
        if len(questions) > MAX_QUESTIONS:
            return []
    rows: list[dict[str, Any]] = []
    for index, q in enumerate(questions):
        at = ("questions", str(index))
        kind = QuestionKind(q.kind.name)
        row: dict[str, Any] = {
            "position": index,
            "kind": kind,
            "prompt": checks.text(q.prompt, *at, "prompt", max_length=PROMPT_MAX),
            "help": checks.text(q.help or "", *at, "help", max_length=HELP_MAX, min_length=0),
            "required": bool(q.required),
            "options": [],
        }
        if kind in CHOICE_KINDS or kind == QuestionKind.RANKING:
            low, high = CHOICE_OPTIONS if kind in CHOICE_KINDS else RANKING_OPTIONS
            labels = q.options or []
            if not low <= len(labels) <= high:
                checks.fail("Give {min} to {max} options.", *at, "options", min=low, max=high)
            seen: set[str] = set()
            for i, label in enumerate(labels[:high]):
                text = checks.text(label, *at, "options", str(i), max_length=TITLE_MAX)
                if text.casefold() in seen:
                    checks.fail("Options must differ from each other.", *at, "options", str(i))
                seen.add(text.casefold())
                row["options"].append(text)
        elif q.options:
            checks.fail("Only choice and ranking questions have options.", *at, "options")
        count = len(row["options"])
        if kind == QuestionKind.MULTIPLE_CHOICE:
            low = 1 if q.min_choices is None else q.min_choices
            high = count if q.max_choices is None else q.max_choices
            if not 0 <= low <= high or not 1 <= high <= max(count, 1):
                checks.fail("Need 0 <= minChoices <= maxChoices <= {max}, maxChoices >= 1.", *at, "maxChoices", max=count)
            row["min_choices"], row["max_choices"] = low, high
        elif q.min_choices is not None or q.max_choices is not None:
            checks.fail("Only multiple-choice questions have choice limits.", *at, "minChoices")
        if kind == QuestionKind.SCALE:
            low = 1 if q.scale_min is None else q.scale_min
            high = 5 if q.scale_max is None else q.scale_max
            if not SCALE_BOUNDS[0] <= low < high <= SCALE_BOUNDS[1] or high - low + 1 > SCALE_VALUES:
                checks.fail(
                    "Need {min} <= scaleMin < scaleMax <= {max}, at most {values} values.", *at, "scaleMax",
                    min=SCALE_BOUNDS[0], max=SCALE_BOUNDS[1], values=SCALE_VALUES,
                )
            row["scale_min"], row["scale_max"] = low, high
            for name, end in (("min_label", q.min_label), ("max_label", q.max_label)):
                if end is not None:
                    row[name] = checks.text(end, *at, name.replace("_l", "L"), max_length=LABEL_MAX)
        elif any(v is not None for v in (q.scale_min, q.scale_max, q.min_label, q.max_label)):
            checks.fail("Only scale questions have a scale.", *at, "scaleMin")
        if q.show_if is not None:
            ref, option = q.show_if.question_position, q.show_if.option_position
            if not 0 <= ref < index or QuestionKind(questions[ref].kind.name) not in CHOICE_KINDS:
                checks.fail("A condition names an earlier choice question.", *at, "showIf", "questionPosition")
            elif not 0 <= option < len(questions[ref].options or []):
                checks.fail("No such option in that question.", *at, "showIf", "optionPosition")
            else:
                row["shown_if_position"], row["shown_if_option"] = ref, option
        rows.append(row)
    return rows


def sealed_size(questions: list[QuestionRow]) -> int:
    """The most bytes an answer payload of these questions can take as JSON (UTF-8, a
    character at most 4 bytes, no control characters but tab and newlines, escaped in 2): every
    sealed response and draft of the survey is padded to it, so its length tells nothing."""
    size = 2
    for row in questions:
        kind = QuestionKind(getattr(row.kind, "value", row.kind))
        size += 8 + len(str(row.position))  # "12": and a comma
        if kind in TEXT_KINDS:
            size += 2 + 4 * TEXT_MAX[kind]
        elif kind == QuestionKind.SCALE:
            size += 4
        else:
            size += 2 + 3 * len(row.options or [])
    return size


def _error(code: UserErrorCode, message: str, *field: str, **params: Any) -> UserError:
    return UserError(field=["input", "answers", *field], message=message, code=code, arguments=params)


def check_answers(
    checks: Checks, questions: list[QuestionRow], answers: list[SurveyAnswerInput], *, complete: bool
) -> dict[str, Any]:
    """The answer payload, each answer checked against its question's kind. With `complete`
    (a submission), conditions are evaluated: answers to hidden questions are refused, and
    every shown required question must be answered."""
    by_pk = {row.id: row for row in questions}
    payload: dict[str, Any] = {}
    for index, answer in enumerate(answers):
        at = ("answers", str(index))
        pk = decode_id_of(answer.question_id, "SurveyQuestion")
        row = by_pk.get(pk) if pk is not None else None
        if row is None:
            checks.errors.append(
                UserError(field=["input", *at, "questionId"], message="No such question in this survey.",
                          code=UserErrorCode.NOT_FOUND)
            )
            continue
        key = str(row.position)
        if key in payload:
            checks.fail("A question may be answered only once.", *at, "questionId")
            continue
        value = _check_answer(checks, row, answer, at)
        if value is not None:
            payload[key] = value
    if not complete or checks.errors:
        return payload
    shown: set[int] = set()
    for row in questions:
        ref = row.shown_if_position
        visible = ref is None or (ref in shown and row.shown_if_option in (payload.get(str(ref)) or []))
        gid = encode_id("SurveyQuestion", row.id)
        if visible:
            shown.add(row.position)
            if row.required and str(row.position) not in payload:
                checks.errors.append(_error(
                    UserErrorCode.ANSWER_REQUIRED, "Question {number} needs an answer.", gid, number=row.position + 1))
        elif str(row.position) in payload:
            checks.errors.append(_error(
                UserErrorCode.ANSWER_HIDDEN,
                "Question {number} does not apply given your other answers: leave it out.", gid,
                number=row.position + 1))
    return payload


def _check_answer(checks: Checks, row: QuestionRow, answer: SurveyAnswerInput, at: tuple[str, ...]) -> Any:
    """One answer's value, or None when it says nothing (an empty choice or text) or fails."""
    kind = QuestionKind(getattr(row.kind, "value", row.kind))
    given = {"choices": answer.choices is not None, "value": answer.value is not None, "text": answer.text is not None}
    wanted = "text" if kind in TEXT_KINDS else "value" if kind == QuestionKind.SCALE else "choices"
    if any(v for name, v in given.items() if name != wanted):
        checks.fail("This question takes {wanted} only.", *at, wanted=wanted)
        return None
    if kind in TEXT_KINDS:
        if answer.text is None or not answer.text.strip():
            return None
        before = len(checks.errors)
        text = checks.text(answer.text, *at, "text", max_length=TEXT_MAX[kind])
        return text if len(checks.errors) == before else None
    if kind == QuestionKind.SCALE:
        if answer.value is None:
            return None
        if row.scale_min is None or row.scale_max is None or not row.scale_min <= answer.value <= row.scale_max:
            checks.fail("Give a value from {min} to {max}.", *at, "value", min=row.scale_min, max=row.scale_max)
            return None
        return answer.value
    choices = answer.choices or []
    if not choices:
        return None
    count = len(row.options or [])
    if any(not 0 <= c < count for c in choices) or len(set(choices)) != len(choices):
        checks.fail("Choose distinct option positions from 0 to {max}.", *at, "choices", max=count - 1)
        return None
    if kind == QuestionKind.SINGLE_CHOICE and len(choices) != 1:
        checks.fail("Choose exactly one option.", *at, "choices")
        return None
    if kind == QuestionKind.MULTIPLE_CHOICE:
        low, high = row.min_choices or 0, row.max_choices or count
        if not low <= len(choices) <= high:
            checks.fail("Choose {min} to {max} options.", *at, "choices", min=low, max=high)
            return None
    if kind == QuestionKind.RANKING and len(choices) != count:
        checks.fail("Rank every option, once each.", *at, "choices")
        return None
    return list(choices)


def check_body(checks: Checks, text: str | None) -> str:
    """A survey's description: up to BODY_MAX characters, may be empty."""
    return checks.text(text or "", "description", max_length=BODY_MAX, min_length=0)
