"""Players for every kind, the sandboxed zip server and SCORM run-time state."""

from django.urls import URLPattern

app_name = "players"
urlpatterns: list[URLPattern] = []
