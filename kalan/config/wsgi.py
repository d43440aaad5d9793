"""WSGI entry point used by `kalan start`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalan.config.settings.base")
application = get_wsgi_application()


def _checkpoint_in_background() -> None:
    from django.conf import settings

    from kalan.core.sqlite import checkpoint

    checkpoint.start_for(settings.DATABASES["default"])


_checkpoint_in_background()  # a server process's writers never wait for a checkpoint
