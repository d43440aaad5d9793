from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchoolsConfig(AppConfig):
    name = "kalan.schools"
    label = "schools"
    verbose_name = _("Schools")

    def ready(self) -> None:
        from kalan.accounts import directory
        from kalan.schools import selectors

        directory.set_school_choices(selectors.list_school_choices)
