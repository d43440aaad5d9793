from django.contrib import admin
from django.urls import include, path

from kalan.config.lazy_urls import lazy_include

urlpatterns = [
    path("", include("kalan.accounts.urls")),
    path("", include("kalan.schools.urls")),
    path("manage/import/", include("kalan.schools.urls_imports", namespace="imports")),
    path("manage/", include("kalan.schools.urls_manage")),
    path("admin/", admin.site.urls),
    # Imported on the first request under /api/ or reverse() into "api": pages
    # never pay for django-ninja and pydantic (see lazy_urls.py).
    lazy_include("api/v1/", "kalan.config.api_urls", namespace="api"),
]
