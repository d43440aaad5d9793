"""Answers to exercise items and teachers' grades of them: projections of statements.

Kept by projector.py from the statements alone (and rebuilt with the progress
projections), so mastery follows from the learning records wherever they were
made. One row per statement: nothing else writes here.

`Answer` is one "answered" statement. An answer whose statement leaves the
verdict to a teacher (a free response: no `result.success`) is `for_teacher`;
its `outcome` and `score` are those of its latest `TeacherGrade` (a "scored"
statement about it, see docs/architecture/grading.md), and "waiting for the
teacher" while it has none.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    CORRECT = "correct", _("correct")
    PARTLY = "partly", _("partly correct")
    INCORRECT = "incorrect", _("incorrect")
    NEEDS_TEACHER = "needs_teacher", _("waiting for the teacher")


class TeacherGrade(models.Model):
    """A teacher's verdict on one answer ("scored" statement whose object is the answer)."""

    statement_id = models.UUIDField(primary_key=True)
    answer_id = models.UUIDField(db_index=True)  # the "answered" statement graded
    teacher_id = models.UUIDField()
    graded_at = models.DateTimeField()  # the statement's timestamp
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    score = models.FloatField()
    comment = models.TextField(blank=True)

    class Meta:
        verbose_name = _("teacher's grade")
        verbose_name_plural = _("teachers' grades")

    def __str__(self) -> str:
        return f"{self.answer_id} {self.outcome} by {self.teacher_id}"


class Answer(models.Model):
    Outcome = Outcome

    statement_id = models.UUIDField(primary_key=True)
    user_id = models.UUIDField()
    node_id = models.UUIDField()
    item_id = models.CharField(max_length=64)
    answered_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    score = models.FloatField(null=True, blank=True)
    # The statement left the verdict to a teacher (it has no result.success).
    for_teacher = models.BooleanField(default=False)
    # The grade in effect: the latest (by timestamp, then statement id) of the answer's grades.
    grade = models.ForeignKey(
        TeacherGrade,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # a grade may arrive before its answer, and the reverse
        related_name="+",
    )

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(fields=["user_id", "node_id", "answered_at"], name="assessments_answers"),
            models.Index(
                fields=["answered_at", "statement_id"],
                condition=Q(for_teacher=True),
                name="assessments_for_teacher",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.node_id} {self.item_id} {self.outcome}"
