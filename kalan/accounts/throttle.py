"""Throttling of failed sign-ins, kept in the database (no cache server on a hub).

After KALAN_SIGNIN_MAX_FAILURES failures within the window, the account is
locked until the window ends; an address gets ten times that allowance, so a
classroom behind one Wi-Fi router is not locked out by one child's typos.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kalan.accounts.models import SignInFailures


@dataclass(frozen=True)
class Lock:
    until: datetime


def _window() -> timedelta:
    return timedelta(seconds=settings.KALAN_SIGNIN_WINDOW_SECONDS)


def get_lock(keys: list[tuple[str, int]]) -> Lock | None:
    """The latest lock in force on any of the keys, or None."""
    now = timezone.now()
    until = (
        SignInFailures.objects.filter(key__in=[key for key, _ in keys], locked_until__gt=now)
        .order_by("-locked_until")
        .values_list("locked_until", flat=True)
        .first()
    )
    return Lock(until) if until else None


def record_failure(keys: list[tuple[str, int]]) -> None:
    """Count one failure against each (key, allowance); lock keys that exceed theirs."""
    now = timezone.now()
    with transaction.atomic():
        for key, allowance in keys:
            row, _ = SignInFailures.objects.select_for_update().get_or_create(
                key=key, defaults={"window_started_at": now}
            )
            if row.window_started_at + _window() < now:
                row.failures, row.window_started_at, row.locked_until = 0, now, None
            row.failures += 1
            if row.failures >= allowance:
                row.locked_until = now + _window()
            row.save()


def clear_failures(key: str) -> None:
    SignInFailures.objects.filter(key=key).delete()


def sign_in_keys(school_id: object, username: str, address: str) -> list[tuple[str, int]]:
    allowance = settings.KALAN_SIGNIN_MAX_FAILURES
    return [(f"user:{school_id or '-'}:{username}", allowance), (f"addr:{address}", allowance * 10)]
