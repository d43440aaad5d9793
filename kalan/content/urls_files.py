"""Stored files by SHA-256 (media, documents, captions, thumbnails)."""

from django.urls import path, re_path

from kalan.content.views.files import stored_file

app_name = "files"
urlpatterns = [
    re_path(r"^files/(?P<sha256>[0-9a-f]{64})\.(?P<ext>[a-z0-9]{1,8})$", stored_file, name="file"),
    path("files/<str:sha256>", stored_file, name="file-bare"),
]
