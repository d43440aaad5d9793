from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kalan.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from kalan.core import i18n

        i18n.install_language_fallbacks()
