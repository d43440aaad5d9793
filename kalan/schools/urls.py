from django.urls import path

from kalan.schools.views import homes as views

app_name = "schools"
urlpatterns = [
    path("", views.home, name="home"),
    path("learn/", views.learner_home, name="learner-home"),
    path("teach/", views.teacher_home, name="teacher-home"),
    path("family/", views.family_home, name="family-home"),
    path("area/", views.area_home, name="area-home"),
    path("signin/school/<uuid:school_id>/", views.pick_class, name="pick-class"),
    path("signin/class/<uuid:classroom_id>/", views.pick_name, name="pick-name"),
    path("signin/class/<uuid:classroom_id>/go/", views.sign_in_by_name, name="sign-in-by-name"),
]
