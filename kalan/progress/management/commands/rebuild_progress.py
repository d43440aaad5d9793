"""`kalan manage rebuild_progress`: compute every progress row again from the statements."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from kalan.lrs import projections


class Command(BaseCommand):
    help = "Empty the progress projections and compute them again from every statement."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            count = projections.rebuild()
        self.stdout.write(f"Projected {count} statements.")
