from django.apps import AppConfig
from django.contrib.staticfiles.apps import StaticFilesConfig
from django.utils.translation import gettext_lazy as _


class UiConfig(AppConfig):
    name = "kalan.ui"
    label = "ui"
    verbose_name = _("Interface")


class KalanStaticFilesConfig(StaticFilesConfig):
    """Collect what is served, not the API docs' unused viewer and its source maps.

    Brotli-compressing those 5 MB took most of a minute on a small board.
    """

    ignore_patterns = [
        *StaticFilesConfig.ignore_patterns,
        "redoc.standalone.js*",
        "swagger-ui-bundle.js.map",
    ]
