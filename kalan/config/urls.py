from django.contrib import admin
from django.urls import include, path

from kalan.config.lazy_urls import lazy_include

urlpatterns = [
    path("", include("kalan.accounts.urls")),
    path("", include("kalan.schools.urls")),
    path("manage/import/", include("kalan.schools.urls_imports", namespace="imports")),
    path("manage/library/author/", include("kalan.content.urls_authoring")),
    path("manage/library/", include("kalan.content.urls_transfers")),
    path("manage/xapi/", include("kalan.lrs.urls_manage")),
    path("manage/", include("kalan.schools.urls_manage")),
    path("library/", include("kalan.content.urls_library")),
    path("content/", include("kalan.content.urls_files")),
    path("content/library/", include("kalan.content.urls_peer")),
    path("play/", include("kalan.content.urls_players")),
    path("practice/", include("kalan.assessments.urls")),
    path("xapi/", include("kalan.lrs.urls")),
    path("admin/", admin.site.urls),
    # Imported on the first request under /api/ or reverse() into "api": pages
    # never pay for django-ninja and pydantic (see lazy_urls.py).
    lazy_include("api/v1/", "kalan.config.api_urls", namespace="api"),
]
