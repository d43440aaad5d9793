"""The Learning Record Store's tables.

A statement is stored once, as the JSON the LRS returns for it (`body`), with
the few columns its queries need. Statements never change: voiding marks the
target (`voided`), which every instance derives again from the voiding
statement, so sync only ever moves statements.

The filters of GET /xapi/statements (agent, activity, verb, registration, and
their "related" forms) are answered by `StatementIndex`: one row per value a
statement can be found by, as a 64-bit key (`keys.index_key`), with the
statement's stored time so one index range is already in order. A statement
that targets another (a StatementRef object) carries its target's rows too, as
the specification's filter rule for StatementRefs asks.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kalan.core.models import SyncableModel


class Statement(SyncableModel):
    """One xAPI statement, immutable. `id` is the statement's own id."""

    school_id = models.UUIDField(null=True, blank=True)  # found by the feed index
    # A statement never changes: no clock of its own, only the version id that sync
    # moves it by (ADR 0009): `origin`, the instance that stored it first, and `seq`,
    # that instance's counter value when it did.
    hlc = models.BigIntegerField(default=0, editable=False)
    seq = models.BigIntegerField(default=0, editable=False)
    # The Kalan person the actor stands for, when it is one of ours.
    user_id = models.UUIDField(null=True, blank=True)
    stored = models.DateTimeField()  # found by stored_us
    # Microseconds since the epoch: the order of results and of `more` pages.
    stored_us = models.BigIntegerField()
    timestamp = models.DateTimeField()
    verb_id = models.CharField(max_length=2048)
    # The object's activity id when the object is an Activity, else "".
    activity_id = models.CharField(max_length=2048, blank=True, default="")
    registration = models.UUIDField(null=True, blank=True)
    # The statement id the object refers to, when it is a StatementRef.
    target_id = models.UUIDField(null=True, blank=True)
    voided = models.BooleanField(default=False)
    # Statement ids of every attachment's content, space-separated SHA-256s.
    attachment_hashes = models.TextField(blank=True, default="")
    body = models.TextField()

    class Meta:
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        indexes = [
            models.Index(fields=["stored_us"], name="lrs_statement_stored_us"),
            models.Index(fields=["user_id", "stored_us"], name="lrs_statement_user"),
            # What sync sends: a school's statements above an origin's position.
            models.Index(fields=["school_id", "origin", "seq"], name="lrs_statement_feed"),
            # Only the few statements that refer to another are indexed by their target.
            models.Index(
                fields=["target_id"],
                name="lrs_statement_target",
                condition=models.Q(target_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return str(self.id)


class StatementIndex(models.Model):
    """A value a statement can be found by (see the module's docstring)."""

    id = models.BigAutoField(primary_key=True)
    # Found by statement through the unique (statement, key) index: no index of its own.
    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.BigIntegerField()
    stored_us = models.BigIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["key", "stored_us"], name="lrs_index_key_stored"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["statement", "key"], name="lrs_index_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.statement_id} {self.key}"


class AttachmentContent(models.Model):
    """The bytes of a statement attachment, stored once by SHA-256."""

    sha2 = models.CharField(max_length=64, primary_key=True)
    content_type = models.CharField(max_length=255)
    content = models.BinaryField()

    def __str__(self) -> str:
        return self.sha2


class Document(SyncableModel):
    """A state, activity profile or agent profile document."""

    class Kind(models.TextChoices):
        STATE = "state", _("state")
        ACTIVITY_PROFILE = "activity_profile", _("activity profile")
        AGENT_PROFILE = "agent_profile", _("agent profile")

    school_id = models.UUIDField(null=True, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    activity_id = models.CharField(max_length=2048, blank=True, default="")
    # keys.agent_key() of the agent, "" for activity profiles.
    agent = models.CharField(max_length=2048, blank=True, default="")
    # "" when the state has no registration, and for profiles.
    registration = models.CharField(max_length=36, blank=True, default="")
    document_id = models.CharField(max_length=2048)
    # One 64-bit key of (kind, activity, agent, registration): the documents of
    # one state or profile set, found by one index whatever the ids' lengths.
    set_key = models.BigIntegerField()
    # The same with the document id: the row's identity.
    document_key = models.BigIntegerField(unique=True)
    content_type = models.CharField(max_length=255)
    content = models.BinaryField()
    etag = models.CharField(max_length=64)
    # The document's own time (ISO 8601), as "Last-Modified" and `since` read it.
    modified = models.DateTimeField()

    class Meta:
        verbose_name = _("xAPI document")
        verbose_name_plural = _("xAPI documents")
        indexes = [models.Index(fields=["set_key", "modified"], name="lrs_document_set")]

    def __str__(self) -> str:
        return f"{self.kind} {self.document_id}"


class Credential(models.Model):
    """HTTP Basic credentials of an outside xAPI tool. Only the secret's SHA-256 is kept."""

    id = models.BigAutoField(primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=40, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("xAPI credential")
        verbose_name_plural = _("xAPI credentials")

    def __str__(self) -> str:
        return self.name


class Activity(models.Model):
    """An activity's canonical definition: the latest one its statements carried.

    Derived from statements (each instance keeps its own); the activities
    resource and the "canonical" format read it.
    """

    key = models.BigIntegerField(primary_key=True)  # keys.index_key(keys.ACTIVITY, activity_id)
    activity_id = models.CharField(max_length=2048)
    definition = models.TextField(default="{}")  # JSON

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return self.activity_id


class Cmi5Session(models.Model):
    """One launch of a cmi5 AU for a learner: what the rules of cmi5 section 9 need to know.

    Made when the AU fetches its token (the session's start, see cmi5.py). The
    facts of a registration (an AU completed or passed, the course satisfied)
    are read from the statements themselves, which travel by sync; a session
    lives on the instance it was launched from.
    """

    class Mode(models.TextChoices):
        NORMAL = "Normal", _("normal")
        BROWSE = "Browse", _("browse")
        REVIEW = "Review", _("review")

    session_id = models.UUIDField(primary_key=True)
    user_id = models.UUIDField()
    node_id = models.UUIDField()
    registration = models.UUIDField()
    # The AU's activity id, generated by Kalan, and its id in the course structure.
    activity_id = models.CharField(max_length=2048)
    publisher_id = models.CharField(max_length=2048)
    move_on = models.CharField(max_length=24)
    mastery_score = models.FloatField(null=True, blank=True)
    launch_mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.NORMAL)
    launched_at = models.DateTimeField()
    initialized_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)
    abandoned_at = models.DateTimeField(null=True, blank=True)
    # When the LRS stored the AU's latest statement (the end of an abandoned session).
    last_statement_at = models.DateTimeField(null=True, blank=True)
    # The cmi5 defined verbs the AU used in this session, in order.
    verbs = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("cmi5 session")
        verbose_name_plural = _("cmi5 sessions")
        indexes = [
            models.Index(fields=["user_id", "registration"], name="lrs_cmi5_registration"),
        ]

    def __str__(self) -> str:
        return str(self.session_id)

    @property
    def ended(self) -> bool:
        return self.terminated_at is not None or self.abandoned_at is not None
