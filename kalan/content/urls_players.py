"""Players for every kind, the sandboxed zip server and SCORM run-time state."""

from django.urls import URLPattern, path, re_path

from kalan.content.views import zipcontent

app_name = "players"
urlpatterns: list[URLPattern] = [
    re_path(
        r"^zip/(?P<sha256>[0-9a-f]{64})/(?P<path>.*)$", zipcontent.zip_member, name="zip-member"
    ),
    re_path(r"^scorm/(?P<token>[^/]+)/(?P<path>.*)$", zipcontent.scorm_member, name="scorm-member"),
    path("scorm-state/<str:token>/", zipcontent.runtime_state, name="scorm-state"),
]
