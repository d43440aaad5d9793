from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "kalan.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from kalan.accounts.models import User
        from kalan.sync.registry import Kind, register

        # Password hashes travel (never passwords); the time of the last sign-in stays here.
        register(User, kind=Kind.MUTABLE, order=30, excluded=("last_login",))
