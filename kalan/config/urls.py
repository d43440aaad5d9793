from django.contrib import admin
from django.urls import include, path

from kalan.config.api import api

urlpatterns = [
    path("", include("kalan.accounts.urls")),
    path("", include("kalan.schools.urls")),
    path("manage/import/", include("kalan.schools.urls_imports", namespace="imports")),
    path("manage/", include("kalan.schools.urls_manage")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]
