"""Every answer a learner gave to an exercise item: a projection of "answered" statements.

Kept by projector.py from the statements alone (and rebuilt with the progress
projections), so mastery follows from the learning records wherever they were
made. One row per statement: nothing else writes here.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Answer(models.Model):
    class Outcome(models.TextChoices):
        CORRECT = "correct", _("correct")
        PARTLY = "partly", _("partly correct")
        INCORRECT = "incorrect", _("incorrect")
        NEEDS_TEACHER = "needs_teacher", _("waiting for the teacher")

    statement_id = models.UUIDField(primary_key=True)
    user_id = models.UUIDField()
    node_id = models.UUIDField()
    item_id = models.CharField(max_length=64)
    answered_at = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    score = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [
            models.Index(fields=["user_id", "node_id", "answered_at"], name="assessments_answers")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.node_id} {self.item_id} {self.outcome}"
