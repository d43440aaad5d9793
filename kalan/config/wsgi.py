"""WSGI entry point used by `kalan start`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kalan.config.settings.base")
application = get_wsgi_application()
