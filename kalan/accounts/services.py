"""Every write to accounts. Keyword-only arguments; one transaction each."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kalan.accounts import throttle
from kalan.accounts.backends import SchoolUsernameBackend
from kalan.accounts.directory import has_learning_records
from kalan.accounts.models import ApiToken, User, normalize_username
from kalan.core.errors import KalanError, NotFound, ValidationFailed

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationFailed(" ".join(error.messages), list(error.messages)) from error


def create_user(
    *,
    username: str,
    full_name: str,
    school_id: uuid.UUID | None,
    password: str | None = None,
    language: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
    user_id: uuid.UUID | None = None,
    source_id: str = "",
) -> User:
    """Create a person. No password means they cannot sign in with one.

    Raises ValidationFailed when the username is taken in the school or a field is invalid.
    """
    user = User(
        id=user_id or uuid.uuid4(),
        username=normalize_username(username),
        full_name=full_name.strip(),
        school_id=school_id,
        language=language,
        is_staff=is_staff,
        is_superuser=is_superuser,
        source_id=source_id.strip(),
    )
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    _validate(user)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as error:
        raise ValidationFailed(_("This username is already taken in this school.")) from error
    return user


def _validate(user: User) -> None:
    try:
        user.full_clean(exclude=["password"], validate_constraints=False)
    except ValidationError as error:
        problems = [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
        raise ValidationFailed("; ".join(problems), problems) from error
    taken = User.objects.filter(username=user.username, school_id=user.school_id).exclude(
        id=user.id
    )
    if taken.exists():
        raise ValidationFailed(_("This username is already taken in this school."))


def update_user(
    *,
    user: User,
    full_name: str | None = None,
    username: str | None = None,
    language: str | None = None,
    password: str | None = None,
    source_id: str | None = None,
) -> User:
    """Change a person's details; a given password replaces the old one."""
    if source_id is not None:
        user.source_id = source_id.strip()
    if full_name is not None:
        user.full_name = full_name.strip()
    if username is not None:
        user.username = normalize_username(username)
    if language is not None:
        user.language = language
    if password:
        _check_password(password, user)
        user.set_password(password)
    _validate(user)
    with transaction.atomic():
        user.save()
    return user


def set_user_language(*, user: User, language: str) -> None:
    if language not in LANGUAGE_CODES:
        raise ValidationFailed(_("Unknown language."))
    user.language = language
    user.save(update_fields=["language"])


def deactivate_user(*, user: User) -> None:
    """Keep the person and their records, but they can no longer sign in."""
    with transaction.atomic():
        user.is_active = False
        user.deactivated_at = timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        ApiToken.objects.filter(user=user).delete()


def reactivate_user(*, user: User) -> None:
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])


def delete_user(*, user: User) -> None:
    """Delete a person who has no learning records.

    Raises KalanError when they have records: deactivate them instead.
    """
    if has_learning_records(user.id):
        raise KalanError(_("This person has learning records: deactivate them instead."))
    user.delete()


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    locked_until: object | None = None


def sign_in(
    *, request: HttpRequest, username: str, password: str, school_id: uuid.UUID | None
) -> SignInResult:
    """Check the password, count failures, and open a session on success."""
    address = request.META.get("REMOTE_ADDR", "")
    name = normalize_username(username)
    keys = throttle.sign_in_keys(school_id, name, address)
    lock = throttle.get_lock(keys)
    if lock:
        return SignInResult(None, lock.until)
    user = SchoolUsernameBackend().authenticate(
        request, username=name, password=password, school_id=school_id
    )
    if user is None:
        throttle.record_failure(keys)
        lock = throttle.get_lock(keys)
        return SignInResult(None, lock.until if lock else None)
    throttle.clear_failures(keys[0][0])
    open_session(request=request, user=user)
    return SignInResult(user)


def open_session(*, request: HttpRequest, user: User) -> None:
    login(request, user, backend="kalan.accounts.backends.SchoolUsernameBackend")


def create_api_token(*, user: User, name: str) -> str:
    """Create a token and return its secret, which is shown once and never stored."""
    secret = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(secret))
    return secret


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def user_for_token(secret: str) -> User | None:
    """The active user a token belongs to, or None."""
    token = ApiToken.objects.select_related("user").filter(key_hash=hash_token(secret)).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(id=token.id).update(last_used_at=timezone.now())
    return token.user


def revoke_api_token(*, user: User, token_id: uuid.UUID) -> None:
    """Delete one of the person's tokens. Raises NotFound for anyone else's."""
    deleted, _rows = ApiToken.objects.filter(id=token_id, user=user).delete()
    if not deleted:
        raise NotFound(_("No such token."))
