from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "kalan.sync"
    label = "sync"
    verbose_name = _("Sync")

    def ready(self) -> None:
        from kalan.sync import changes

        changes.connect()
