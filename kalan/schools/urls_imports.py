"""Importing and exporting a school's people, under /manage/import/<school id>/."""

from django.urls import path

from kalan.schools.views import imports

app_name = "imports"
urlpatterns = [
    path("<uuid:school_id>/", imports.home, name="home"),
    path("<uuid:school_id>/people/", imports.import_people, name="people"),
    path("<uuid:school_id>/oneroster/", imports.import_bundle, name="oneroster"),
    path("<uuid:school_id>/template.csv", imports.template, name="template"),
    path("<uuid:school_id>/export.csv", imports.export, name="export"),
]
