import uuid
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from kalan.accounts.models import User, normalize_username
from kalan.core import sql

_USERS = sql.ModelRows(User)


class SchoolUsernameBackend(ModelBackend):
    """Username and password within one school (or among staff without a school)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        school_id: uuid.UUID | str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not username or not password:
            return None
        users = User.objects.filter(username=normalize_username(username))
        if school_id:
            # The school's own account first; district and national staff have none.
            users = users.filter(Q(school_id=school_id) | Q(school_id__isnull=True))
            candidates = sorted(users[:2], key=lambda u: u.school_id is None)[:1]
        else:
            candidates = list(users[:2])
        if len(candidates) != 1:
            # Unknown, or ambiguous without a school: hash anyway so that the
            # answer takes as long as for a real account.
            User().set_password(password)
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id: Any) -> User | None:
        """The signed-in person of a session (by one hand-written query: every request asks)."""
        try:
            key = sql.uuid_param(user_id)
        except (TypeError, ValueError, AttributeError):
            return None
        found = _USERS.where(f"{sql.quote('id')} = %s", [key])
        if found and self.user_can_authenticate(found[0]):
            return found[0]
        return None
