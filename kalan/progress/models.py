"""Per learner and resource: status, progress, time spent, resume point.

A projection of the learner's statements (see projector.py and
docs/architecture/learning-records.md): never written by anything else, and
rebuilt from the statements alone by `kalan manage rebuild_progress`. Each
instance keeps its own; sync moves the statements, not these rows.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.IntegerChoices):
    NOT_STARTED = 0, _("not started")
    IN_PROGRESS = 1, _("in progress")
    COMPLETED = 2, _("completed")
    MASTERED = 3, _("mastered")


class ResourceProgress(models.Model):
    # uuid5 of (learner, resource): rows are found and written by key, in batches.
    id = models.UUIDField(primary_key=True)
    user_id = models.UUIDField()
    node_id = models.UUIDField()
    school_id = models.UUIDField(null=True, blank=True)
    status = models.PositiveSmallIntegerField(choices=Status.choices, default=Status.NOT_STARTED)
    progress = models.FloatField(default=0.0)  # 0..1, rounded to 4 places
    time_spent_ms = models.BigIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    # {"time": 12.5} (media) or {"location": "page=4" or an EPUB CFI}
    resume = models.JSONField(default=dict, blank=True)
    # What progress is computed from: watched segments, media length, pages seen,
    # reported progress, the resume point's (timestamp, statement id), best score.
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("progress")
        verbose_name_plural = _("progress")
        indexes = [
            models.Index(fields=["user_id", "last_at"], name="progress_user_recent"),
            models.Index(fields=["node_id"], name="progress_node"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "node_id"], name="progress_user_node")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.node_id} {self.get_status_display()}"
