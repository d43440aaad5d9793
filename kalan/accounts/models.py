"""People and how they sign in.

A username is unique within its school, not across the country: hubs create
accounts offline and two schools may both have an "amina". District and
national staff have no school; their usernames are unique among themselves.
The school is held as a plain id (the scope), since schools sit above accounts.
"""

import unicodedata
import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kalan.core.models import SyncableModel, SyncableQuerySet


def normalize_username(username: str) -> str:
    """Usernames compare without regard to case or Unicode composition."""
    return unicodedata.normalize("NFKC", username).strip().casefold()


class UserQuerySet(SyncableQuerySet):
    def for_school(self, school_id: uuid.UUID | str) -> "UserQuerySet":
        return self.filter(school_id=school_id)

    def active(self) -> "UserQuerySet":
        return self.filter(is_active=True)


class UserManager(BaseUserManager["User"]):
    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def for_school(self, school_id: uuid.UUID | str) -> UserQuerySet:
        return self.get_queryset().for_school(school_id)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(username=normalize_username(username or ""), school_id__isnull=True)

    def create_user(self, username: str, password: str | None = None, **extra: Any) -> "User":
        user = self.model(username=normalize_username(username), **extra)
        user.set_password(password) if password else user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **extra: Any) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin, SyncableModel):
    username = models.CharField(
        _("username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    full_name = models.CharField(_("full name"), max_length=200)
    school_id = models.UUIDField(_("school"), null=True, blank=True, db_index=True)
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("technical staff"),
        default=False,
        help_text=_("May use the technical administration site."),
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    source_id = models.CharField(
        _("roster id"),
        max_length=255,
        blank=True,
        help_text=_("The person's id in the roster they were imported from (OneRoster sourcedId)."),
    )

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["full_name"]
    sync_scope_field: ClassVar[str | None] = "school_id"

    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                fields=["school_id", "username"],
                condition=Q(school_id__isnull=False),
                name="accounts_user_username_unique_in_school",
            ),
            models.UniqueConstraint(
                fields=["username"],
                condition=Q(school_id__isnull=True),
                name="accounts_user_username_unique_without_school",
            ),
            models.UniqueConstraint(
                fields=["school_id", "source_id"],
                condition=~Q(source_id=""),
                name="accounts_user_source_id_unique_in_school",
            ),
        ]
        indexes = [
            models.Index(fields=["school_id", "full_name"], name="accounts_user_school_name")
        ]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.username


class ApiToken(models.Model):
    """A bearer token for the JSON API. Only its SHA-256 is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return self.name


class SignInFailures(models.Model):
    """Failed sign-ins per account or address, for throttling. Local, never synced."""

    key = models.CharField(max_length=255, unique=True)
    failures = models.PositiveIntegerField(default=0)
    window_started_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("failed sign-ins")
        verbose_name_plural = _("failed sign-ins")

    def __str__(self) -> str:
        return self.key
