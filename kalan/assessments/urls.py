"""Practising exercises, under /practice/."""

from django.urls import path

from kalan.assessments import views

app_name = "assessments"

urlpatterns = [
    path("<uuid:node_id>/", views.practice, name="practice"),
]
