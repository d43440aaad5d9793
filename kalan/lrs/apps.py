from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LrsConfig(AppConfig):
    name = "kalan.lrs"
    label = "lrs"
    verbose_name = _("Learning records")

    def ready(self) -> None:
        from kalan.content import runtime_hooks
        from kalan.lrs.cmi5 import record_launch
        from kalan.lrs.scorm_records import record_commit

        runtime_hooks.listen(record_commit)
        runtime_hooks.listen_cmi5(record_launch)
        _register_syncable()


def _register_syncable() -> None:
    from kalan.lrs.models import Statement
    from kalan.lrs.received import receive_statements
    from kalan.sync.registry import Kind, register

    # After the people and schools they are about (accounts 30, schools 10-70).
    register(
        Statement,
        kind=Kind.IMMUTABLE,
        order=100,
        travelling=("body",),
        receive=receive_statements,
    )
