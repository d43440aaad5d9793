"""Reading answers for pages: the teacher's list of free responses, a learner's grades.

Each page costs a fixed number of queries, whatever the number of rows: the
answers (with their grade), then the learners, classes, exercises and the
answers' statements (for the learner's words and the prompt they saw) for the
whole page at once.
"""

import datetime as dt
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.safestring import SafeString, mark_safe

from kalan.accounts.models import User
from kalan.assessments.exercises import exercises_of
from kalan.assessments.models import Answer, Outcome
from kalan.assessments.permissions import gradable_answers, gradable_classrooms
from kalan.content.exercises.model import Exercise, FreeResponseItem
from kalan.content.models import ContentNode
from kalan.lrs.models import Statement
from kalan.schools.models import Enrolment

PER_PAGE = 20


@dataclass(frozen=True)
class CurrentGrade:
    correct: bool
    outcome: str
    comment: str
    graded_at: dt.datetime
    statement_id: uuid.UUID


@dataclass(frozen=True)
class AnswerShown:
    """One answer as a page shows it; `prompt` and `guidance` are safe item text or plain text."""

    answer_id: uuid.UUID
    node_id: uuid.UUID
    item_id: str
    exercise_title: str
    prompt: SafeString | str
    guidance: SafeString | str
    language: str
    response: str
    answered_at: dt.datetime
    grade: CurrentGrade | None
    learner_name: str = ""
    classes: str = ""


@dataclass(frozen=True)
class _Recorded:
    """What the answer's own statement says: the learner's words, the prompt, the title."""

    response: str = ""
    prompt: str = ""
    language: str = ""
    title: str = ""


def _first(language_map: object) -> tuple[str, str]:
    if isinstance(language_map, dict):
        for language, text in language_map.items():
            if isinstance(text, str):
                return ("" if language == "und" else str(language)), text
    return "", ""


def _recorded(body: str) -> _Recorded:
    statement: dict[str, Any] = json.loads(body)
    response = (statement.get("result") or {}).get("response")
    definition = statement["object"].get("definition") or {}
    language, prompt = _first(definition.get("description"))
    parents = ((statement.get("context") or {}).get("contextActivities") or {}).get("parent")
    title = ""
    if isinstance(parents, list) and parents and isinstance(parents[0], dict):
        title = _first((parents[0].get("definition") or {}).get("name"))[1]
    return _Recorded(response if isinstance(response, str) else "", prompt, language, title)


def _statements(answer_ids: list[uuid.UUID]) -> dict[uuid.UUID, _Recorded]:
    rows = Statement.objects.filter(id__in=answer_ids).values_list("id", "body")
    return {statement_id: _recorded(body) for statement_id, body in rows}


def _current_grade(answer: Answer) -> CurrentGrade | None:
    grade = answer.grade
    if grade is None:
        return None
    return CurrentGrade(
        correct=grade.outcome == Outcome.CORRECT,
        outcome=grade.outcome,
        comment=grade.comment,
        graded_at=grade.graded_at,
        statement_id=grade.statement_id,
    )


def _shown(
    answers: list[Answer], titles: dict[uuid.UUID, str], exercises: dict[uuid.UUID, Exercise]
) -> list[AnswerShown]:
    recorded = _statements([answer.statement_id for answer in answers])
    shown = []
    for answer in answers:
        said = recorded.get(answer.statement_id, _Recorded())
        exercise = exercises.get(answer.node_id)
        item = (
            next((i for i in exercise.items if i.id == answer.item_id), None) if exercise else None
        )
        prompt: SafeString | str = said.prompt
        guidance: SafeString | str = ""
        language = said.language
        if exercise is not None and item is not None:
            # Item text was cleaned against an allow-list when the exercise was read.
            prompt = mark_safe(item.prompt)  # noqa: S308
            if isinstance(item, FreeResponseItem) and item.guidance:
                guidance = mark_safe(item.guidance)  # noqa: S308
            language = item.language or exercise.language
        shown.append(
            AnswerShown(
                answer_id=answer.statement_id,
                node_id=answer.node_id,
                item_id=answer.item_id,
                exercise_title=titles.get(answer.node_id) or said.title,
                prompt=prompt,
                guidance=guidance,
                language=language,
                response=said.response,
                answered_at=answer.answered_at,
                grade=_current_grade(answer),
            )
        )
    return shown


def _titles(node_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    rows = ContentNode.objects.filter(id__in=set(node_ids)).values_list("id", "title")
    return dict(rows)


def _learners(
    user: User, learner_ids: set[uuid.UUID]
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """Names of the learners, and the names of their classes the grader sees."""
    names = dict(User.objects.filter(id__in=learner_ids).values_list("id", "full_name"))
    classes: dict[uuid.UUID, list[str]] = defaultdict(list)
    enrolments = (
        Enrolment.objects.filter(
            user_id__in=learner_ids,
            kind=Enrolment.Kind.LEARNER,
            classroom__in=gradable_classrooms(user),
        )
        .order_by("classroom__name")
        .values_list("user_id", "classroom__name")
    )
    for learner_id, name in enrolments:
        classes[learner_id].append(name)
    return names, {learner: ", ".join(found) for learner, found in classes.items()}


def responses_to_grade(user: User, *, graded: bool) -> QuerySet[Answer]:
    """Answers that wait for a teacher (or, with graded=True, that a teacher has graded)."""
    answers = gradable_answers(user).filter(for_teacher=True, grade__isnull=not graded)
    order = ("-answered_at", "-statement_id") if graded else ("answered_at", "statement_id")
    return answers.select_related("grade").order_by(*order)


@dataclass(frozen=True)
class ResponsesPage:
    page: Page[Answer]
    rows: list[AnswerShown]


def list_responses_to_grade(user: User, *, graded: bool, number: int | str) -> ResponsesPage:
    """One page of free responses for the grader, oldest waiting first (newest graded first)."""
    page = Paginator(responses_to_grade(user, graded=graded), PER_PAGE).get_page(number)
    answers = list(page.object_list)
    if not answers:
        return ResponsesPage(page, [])
    node_ids = {answer.node_id for answer in answers}
    shown = _shown(answers, _titles(node_ids), exercises_of(node_ids))
    names, classes = _learners(user, {answer.user_id for answer in answers})
    rows = [
        _with_learner(row, names.get(answer.user_id, ""), classes.get(answer.user_id, ""))
        for row, answer in zip(shown, answers, strict=True)
    ]
    return ResponsesPage(page, rows)


def _with_learner(row: AnswerShown, name: str, classes: str) -> AnswerShown:
    return replace(row, learner_name=name, classes=classes)


FEEDBACK_SHOWN = 5


def teacher_feedback(answers: list[Answer], exercise: Exercise) -> list[AnswerShown]:
    """The latest of a learner's answers to an exercise that were for their teacher, newest
    first, with the teacher's grade if any (`answers`: services.answers_of, oldest first)."""
    latest = [answer for answer in reversed(answers) if answer.for_teacher][:FEEDBACK_SHOWN]
    if not latest:
        return []
    return _shown(latest, {}, {latest[0].node_id: exercise})
