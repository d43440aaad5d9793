"""The library: channels, their topic trees, the files each resource needs.

Channels arrive as signed packages (docs/architecture/content.md) and are
replaced whole by a newer version; they are not synced record by record, so
they are plain models. What a learner does inside a resource (SCORM run-time
data) is learner data and syncs with the school.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kalan.content.kinds import FileRole, Kind
from kalan.core.models import SyncableModel


class Channel(models.Model):
    """One installed version of a channel, as its signed manifest describes it."""

    id = models.UUIDField(primary_key=True)
    version = models.PositiveIntegerField()
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    publisher_name = models.CharField(_("publisher"), max_length=300, blank=True)
    # The publisher's Ed25519 key (base64), pinned at the first import.
    public_key = models.CharField(max_length=64)
    manifest_sha256 = models.CharField(max_length=64)
    created = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(auto_now=True)
    # Topics chosen at import (empty: the whole channel).
    included_topics = models.JSONField(default=list, blank=True)
    resource_count = models.PositiveIntegerField(default=0)
    total_size = models.BigIntegerField(default=0)
    # Set for a channel authored on this instance by a school.
    school_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("channel")

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ContentNode(models.Model):
    """A topic or a resource in a channel's tree.

    `path` is the materialized path of sibling positions ("0001.0003"): a
    subtree is a prefix, and ordering by it gives the tree in reading order.
    """

    id = models.UUIDField(primary_key=True)
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    path = models.CharField(max_length=255)
    depth = models.PositiveSmallIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices, db_index=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True, db_index=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    author = models.CharField(_("author"), max_length=300, blank=True)
    attribution = models.CharField(_("attribution"), max_length=500, blank=True)
    grade_levels = models.JSONField(default=list, blank=True)
    subjects = models.JSONField(default=list, blank=True)
    curriculum_codes = models.JSONField(default=list, blank=True)
    accessibility = models.JSONField(default=list, blank=True)
    duration = models.PositiveIntegerField(null=True, blank=True)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    size = models.BigIntegerField(default=0)
    thumbnail = models.CharField(max_length=64, blank=True)
    entry = models.CharField(max_length=500, blank=True)
    options = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["channel_id", "path"]
        indexes = [models.Index(fields=["channel", "path"], name="content_node_channel_path")]
        verbose_name = _("library item")

    def __str__(self) -> str:
        return self.title

    @property
    def is_topic(self) -> bool:
        return self.kind == Kind.TOPIC


class NodeTag(models.Model):
    """One grade level, subject or curriculum code of a resource, for filters."""

    class Facet(models.TextChoices):
        GRADE = "grade", _("Grade")
        SUBJECT = "subject", _("Subject")
        CURRICULUM = "curriculum", _("Curriculum code")

    node = models.ForeignKey(ContentNode, on_delete=models.CASCADE, related_name="tags")
    facet = models.CharField(max_length=16, choices=Facet.choices)
    value = models.CharField(max_length=100)

    class Meta:
        indexes = [models.Index(fields=["facet", "value"], name="content_tag_facet_value")]
        constraints = [
            models.UniqueConstraint(fields=["node", "facet", "value"], name="content_tag_unique")
        ]

    def __str__(self) -> str:
        return f"{self.facet}={self.value}"


class NodeFile(models.Model):
    """A file a resource needs, stored once by its SHA-256 (see store.py)."""

    node = models.ForeignKey(ContentNode, on_delete=models.CASCADE, related_name="files")
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField()
    role = models.CharField(max_length=16, choices=FileRole.choices)
    language = models.CharField(max_length=16, blank=True)
    ext = models.CharField(max_length=16, blank=True)
    mime = models.CharField(max_length=100, blank=True)
    label = models.CharField(max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["node_id", "role", "position"]

    def __str__(self) -> str:
        return f"{self.role} {self.sha256[:12]}"


class RuntimeState(SyncableModel):
    """What a learner's SCORM course saved (cmi data), one row per learner and resource."""

    school_id = models.UUIDField(null=True, blank=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="runtime_states"
    )
    # Not a foreign key: the resource may leave the library and come back.
    node_id = models.UUIDField()
    channel_id = models.UUIDField()
    data = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "node_id"], name="content_runtime_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.node_id}"


class Transfer(models.Model):
    """An import or export job, with the progress the pages and the CLI show."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("In progress")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    direction = models.CharField(max_length=8, default="import")
    source = models.CharField(max_length=1000)
    channel_ids = models.JSONField(default=list)
    topic_ids = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    bytes_total = models.BigIntegerField(default=0)
    bytes_done = models.BigIntegerField(default=0)
    files_total = models.PositiveIntegerField(default=0)
    files_done = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.direction} {self.source} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.bytes_total:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, int(self.bytes_done * 100 / self.bytes_total))


class Peer(models.Model):
    """Another hub on the LAN, found by mDNS or added by hand."""

    url = models.URLField(unique=True)
    name = models.CharField(max_length=200, blank=True)
    discovered = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "url"]

    def __str__(self) -> str:
        return self.name or self.url


class Draft(models.Model):
    """A channel a school is authoring in the page builder, before it is published."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    school_id = models.UUIDField(db_index=True)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_version = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class DraftNode(models.Model):
    """A topic or an uploaded resource in a draft; its file is already in the store."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft = models.ForeignKey(Draft, on_delete=models.CASCADE, related_name="nodes")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    author = models.CharField(_("author"), max_length=300, blank=True)
    attribution = models.CharField(_("attribution"), max_length=500, blank=True)
    grade_levels = models.JSONField(default=list, blank=True)
    subjects = models.JSONField(default=list, blank=True)
    curriculum_codes = models.JSONField(default=list, blank=True)
    accessibility = models.JSONField(default=list, blank=True)
    # The uploaded file and what inspecting it found (duration, pages, text, entry...).
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.BigIntegerField(default=0)
    inspection = models.JSONField(default=dict, blank=True)
    # [{"sha256", "size", "language", "label"}], already converted to WebVTT.
    captions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["draft_id", "position"]

    def __str__(self) -> str:
        return self.title
