"""Practising exercises, under /practice/, and grading the answers a teacher reads."""

from django.urls import path

from kalan.assessments import grading_views, views

app_name = "assessments"

urlpatterns = [
    path("grading/", grading_views.grading, name="grading"),
    path("grading/<uuid:answer_id>/", grading_views.grade, name="grade"),
    path("<uuid:node_id>/", views.practice, name="practice"),
]
