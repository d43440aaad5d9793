"""Import and export pages for admins, with progress, and the peers list."""

from django.urls import URLPattern

app_name = "transfers"
urlpatterns: list[URLPattern] = []
