"""The page builder: drafts, uploads, topics, publishing a local channel."""

from django.urls import URLPattern

app_name = "authoring"
urlpatterns: list[URLPattern] = []
