"""The page builder: drafts, uploads, topics, publishing a local channel."""

from django.urls import path

from kalan.content.views import authoring as views

app_name = "authoring"
NODE = "<uuid:draft_id>/items/<uuid:node_id>/"
urlpatterns = [
    path("", views.home, name="home"),
    path("new/", views.create, name="create"),
    path("<uuid:draft_id>/", views.draft_page, name="draft"),
    path("<uuid:draft_id>/edit/", views.draft_edit, name="draft-edit"),
    path("<uuid:draft_id>/delete/", views.draft_delete, name="draft-delete"),
    path("<uuid:draft_id>/topics/", views.topic_add, name="topic-add"),
    path("<uuid:draft_id>/upload/", views.upload, name="upload"),
    path("<uuid:draft_id>/publish/", views.publish, name="publish"),
    path("<uuid:draft_id>/export/", views.export, name="export"),
    path(NODE, views.node_page, name="node"),
    path(f"{NODE}move/", views.node_move, name="node-move"),
    path(f"{NODE}delete/", views.node_delete, name="node-delete"),
    path(f"{NODE}captions/", views.caption_add, name="caption-add"),
    path(f"{NODE}captions/<str:language>/remove/", views.caption_remove, name="caption-remove"),
]
