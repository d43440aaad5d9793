"""Library pages: channels, topics, resources, search (kalan/content/views/library.py)."""

from django.urls import path

from kalan.content.views import library as views

app_name = "library"
urlpatterns = [
    path("", views.index, name="index"),
    path("search/", views.search, name="search"),
    path("channel/<uuid:channel_id>/", views.channel, name="channel"),
    path("topic/<uuid:node_id>/", views.topic, name="topic"),
    path("resource/<uuid:node_id>/", views.resource, name="resource"),
]
