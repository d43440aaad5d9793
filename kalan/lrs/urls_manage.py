"""The admins' pages of the LRS, under /manage/xapi/."""

from django.urls import path

from kalan.lrs.views import manage

app_name = "lrs-manage"

urlpatterns = [
    path("", manage.credentials, name="credentials"),
    path("new/", manage.credential_create, name="credential-create"),
    path("<int:credential_id>/revoke/", manage.credential_revoke, name="credential-revoke"),
]
