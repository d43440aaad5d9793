"""What accounts needs to know of schools, supplied by the schools app.

Schools sit above accounts, so accounts cannot import them; the schools app
registers these providers when it starts.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class SchoolChoice:
    id: uuid.UUID
    name: str
    passwordless_signin: bool


_school_choices: Callable[[], list[SchoolChoice]] = list
_record_checks: list[Callable[[uuid.UUID], bool]] = []


def set_school_choices(provider: Callable[[], list[SchoolChoice]]) -> None:
    global _school_choices
    _school_choices = provider


def list_school_choices() -> list[SchoolChoice]:
    """Open schools a person may sign in to on this instance, by name."""
    return _school_choices()


def register_learning_record_check(check: Callable[[uuid.UUID], bool]) -> None:
    """Apps that keep learning records say whether a user has any."""
    if check not in _record_checks:
        _record_checks.append(check)


def has_learning_records(user_id: uuid.UUID) -> bool:
    return any(check(user_id) for check in _record_checks)
