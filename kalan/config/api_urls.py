"""URL patterns of the JSON API, loaded lazily by kalan/config/urls.py."""

from kalan.config.api import api

urlpatterns = api.urls[0]
