"""The exercise page (/practice/<node id>/): one item at a time, feedback, mastery.

GET shows the next item (items answered correctly wait until every other one
has been); `?item=<id>&hints=<n>` shows an item with its first n hints (a
link, so hints work without a script). POST grades and records the answer
(services.answer_item) and shows the feedback, the right answers' marks and a
link to the next item. Below the question, the learner's latest free
responses show their teacher's grade and comment, or that they wait for one.
Everything is a plain form: keyboard and screen reader first, no script
needed.
"""

import time
import uuid
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from kalan.assessments import selectors, services
from kalan.assessments.exercises import InstalledExercise, installed_exercise, seed_for
from kalan.assessments.grading import GradeStatus, InvalidResponse
from kalan.assessments.item_views import filled, item_view
from kalan.assessments.mastery import next_item
from kalan.assessments.responses import form_values, response_from_form
from kalan.content import permissions
from kalan.content.exercises.model import Exercise, Item, MOfN, NInARow
from kalan.content.kinds import Kind
from kalan.core.errors import NotFound

MAX_SECONDS = 3600  # an answer's time is counted up to an hour


def _exercise_or_404(request: HttpRequest, node_id: uuid.UUID) -> InstalledExercise:
    try:
        node = permissions.access_node_by_id(request.user, node_id)
        if node.kind != Kind.EXERCISE:
            raise Http404
        return installed_exercise(node)
    except NotFound as error:
        raise Http404 from error


def _rule_text(exercise: Exercise) -> str:
    rule = exercise.mastery
    if isinstance(rule, MOfN):
        return ngettext(
            "Answer %(m)d of the last %(n)d question right.",
            "Answer %(m)d of the last %(n)d questions right.",
            rule.n,
        ) % {"m": rule.m, "n": rule.n}
    if isinstance(rule, NInARow):
        return ngettext(
            "Answer %(n)d question right in a row.",
            "Answer %(n)d questions right in a row.",
            rule.n,
        ) % {"n": rule.n}
    return ngettext(
        "Answer %(percent)d %% of at least %(minimum)d question right.",
        "Answer %(percent)d %% of at least %(minimum)d questions right.",
        rule.minimum,
    ) % {"percent": rule.percent, "minimum": rule.minimum}


def _shown_item(
    request: HttpRequest, exercise: Exercise, seed: str, answers: list[tuple[str, bool | None]]
) -> Item:
    wanted = request.GET.get("item", "")
    if wanted:
        try:
            return exercise.item(wanted)
        except KeyError:
            raise Http404 from None
    right = {item_id for item_id, correct in answers if correct}
    previous = request.GET.get("after") or None
    return next_item(exercise, seed=seed, answered_correctly=right, previous=previous)


def _count(value: str, limit: int) -> int:
    return min(int(value), limit) if value.isdigit() else 0


def _seconds(value: str) -> float | None:
    try:
        shown = float(value)
    except ValueError:
        return None
    spent = time.time() - shown
    return spent if 0 <= spent <= MAX_SECONDS else None


def _context(
    installed: InstalledExercise, item: Item, seed: str, hints: int, **extra: Any
) -> dict[str, Any]:
    exercise = installed.exercise
    view = item_view(
        item, seed=seed, urls=installed.media, hints_shown=hints, language=exercise.language
    )
    values = extra.get("values") or {}
    checked = values.get("choice", [])
    return {
        "node": installed.node,
        "exercise": exercise,
        "item": filled(view, values) if values else view,
        "checked": checked if isinstance(checked, list) else [],
        "answer": values.get("answer", ""),
        "rule": _rule_text(exercise),
        "positions": range(1, len(view.steps) + 1),
        "shown_at": f"{time.time():.1f}",
        "hints_shown": hints,
        "percent": round(extra["mastery"].progress * 100),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def practice(request: HttpRequest, node_id: uuid.UUID) -> HttpResponse:
    installed = _exercise_or_404(request, node_id)
    exercise = installed.exercise
    user_id = request.user.pk
    assert isinstance(user_id, uuid.UUID)
    seed = seed_for(user_id, node_id)
    if request.method == "POST":
        return _answer(request, installed, seed)
    rows = services.answers_of(user_id, node_id)
    answers = services.as_past(rows)
    item = _shown_item(request, exercise, seed, answers)
    hints = _count(request.GET.get("hints", ""), len(item.hints))
    mastery = services.current_mastery(user_id, node_id, exercise, answers)
    feedback = selectors.teacher_feedback(rows, exercise)
    context = _context(installed, item, seed, hints, mastery=mastery, feedback=feedback)
    return render(request, "assessments/practice.html", context)


def _answer(request: HttpRequest, installed: InstalledExercise, seed: str) -> HttpResponse:
    exercise = installed.exercise
    try:
        item = exercise.item(request.POST.get("item", ""))
    except KeyError:
        raise Http404 from None
    hints = _count(request.POST.get("hints", ""), len(item.hints))
    user_id = request.user.pk
    assert isinstance(user_id, uuid.UUID)
    try:
        response = response_from_form(item, request.POST)
        result = services.answer_item(
            user_id=user_id,
            node_id=installed.node.id,
            exercise=exercise,
            item=item,
            response=response,
            hints_used=hints,
            seconds=_seconds(request.POST.get("shown_at", "")),
        )
    except InvalidResponse as error:
        answers = services.past_answers(user_id, installed.node.id)
        mastery = services.current_mastery(user_id, installed.node.id, exercise, answers)
        context = _context(
            installed,
            item,
            seed,
            hints,
            mastery=mastery,
            error=str(error),
            values=form_values(item, request.POST),
        )
        return render(request, "assessments/practice.html", context, status=400)
    context = _context(
        installed,
        item,
        seed,
        hints,
        mastery=result.after,
        result=result,
        waiting=result.grade.status is GradeStatus.NEEDS_TEACHER,
        values=form_values(item, request.POST),
        parts=dict(result.grade.parts),
        feedback=selectors.teacher_feedback(
            services.answers_of(user_id, installed.node.id), exercise
        ),
    )
    return render(request, "assessments/practice.html", context)
