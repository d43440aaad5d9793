"""What a hub offers other hubs on the LAN: its channel index, manifests and files."""

from django.urls import path, re_path

from kalan.content.views import peer
from kalan.content.views.files import stored_file

app_name = "peer"
urlpatterns = [
    path("index.json", peer.index, name="index"),
    path("channels/<uuid:channel_id>.json", peer.manifest, name="manifest"),
    path("channels/<uuid:channel_id>.sig", peer.signature, name="signature"),
    path("channels/<uuid:channel_id>/files.txt", peer.channel_files, name="channel-files"),
    re_path(r"^files/(?P<sha256>[0-9a-f]{64})$", stored_file, name="file"),
]
