"""Library pages: channels, topics, resources, search (kalan/content/views/library.py)."""

from django.urls import URLPattern

app_name = "library"
urlpatterns: list[URLPattern] = []
