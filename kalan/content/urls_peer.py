"""What a hub offers other hubs on the LAN: its channel index, manifests and files."""

from django.urls import URLPattern

app_name = "peer"
urlpatterns: list[URLPattern] = []
