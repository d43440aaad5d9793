"""Players for every kind, the sandboxed zip server and SCORM run-time state."""

from django.urls import URLPattern, path, re_path

from kalan.content.views import players, zim, zipcontent

app_name = "players"
urlpatterns: list[URLPattern] = [
    path("<uuid:node_id>/", players.play, name="play"),
    re_path(
        r"^zip/(?P<sha256>[0-9a-f]{64})/(?P<path>.*)$", zipcontent.zip_member, name="zip-member"
    ),
    re_path(r"^scorm/(?P<token>[^/]+)/(?P<path>.*)$", zipcontent.scorm_member, name="scorm-member"),
    path("scorm-state/<str:token>/", zipcontent.runtime_state, name="scorm-state"),
    re_path(r"^h5p/(?P<sha256>[0-9a-f]{64})/$", players.h5p_host, name="h5p-host"),
    path("cmi5-fetch/<str:ticket>/", players.cmi5_fetch, name="cmi5-fetch"),
    re_path(r"^zim/(?P<sha256>[0-9a-f]{64})/(?P<path>.*)$", zim.zim_entry, name="zim-entry"),
]
