"""School admin pages, under /manage/."""

from django.urls import path

from kalan.schools.views import manage

app_name = "manage"
urlpatterns = [
    path("", manage.home, name="home"),
]
