"""Import and export pages for admins, with progress, and the peers list."""

from django.urls import path

from kalan.content.views import transfers

app_name = "transfers"
urlpatterns = [
    path("", transfers.home, name="home"),
    path("browse/", transfers.browse, name="browse"),
    path("browse/<uuid:channel_id>/", transfers.browse_topics, name="browse-channel"),
    path("import/", transfers.start_import, name="import"),
    path("channels/<uuid:channel_id>/export/", transfers.export, name="export"),
    path("channels/<uuid:channel_id>/delete/", transfers.delete, name="delete"),
    path("transfers/<uuid:transfer_id>/", transfers.transfer, name="transfer"),
    path("peers/", transfers.peer_add, name="peer-add"),
    path("peers/discover/", transfers.peer_discover, name="peer-discover"),
    path("peers/<int:peer_id>/remove/", transfers.peer_remove, name="peer-remove"),
]
