"""School admin pages, under /manage/."""

from django.urls import URLPattern, URLResolver, include, path

from kalan.schools.views import manage, manage_classes

person_patterns: list[URLPattern | URLResolver] = [
    path("", manage.person_edit, name="person"),
    path("deactivate/", manage.person_deactivate, name="person-deactivate"),
    path("reactivate/", manage.person_reactivate, name="person-reactivate"),
    path("delete/", manage.person_delete, name="person-delete"),
    path("children/", manage.person_link_child, name="person-link-child"),
    path(
        "children/<uuid:child_id>/unlink/",
        manage.person_unlink_child,
        name="person-unlink-child",
    ),
]
group_patterns: list[URLPattern | URLResolver] = [
    path("", manage_classes.group_detail, name="group"),
    path("add/", manage_classes.group_add, name="group-add"),
    path("delete/", manage_classes.group_delete, name="group-delete"),
    path("members/<uuid:user_id>/remove/", manage_classes.group_remove, name="group-remove"),
]
class_patterns: list[URLPattern | URLResolver] = [
    path("", manage_classes.class_detail, name="class"),
    path("edit/", manage_classes.class_edit, name="class-edit"),
    path("enrol/<str:kind>/", manage_classes.class_enrol, name="class-enrol"),
    path(
        "enrolments/<uuid:enrolment_id>/remove/",
        manage_classes.enrolment_remove,
        name="enrolment-remove",
    ),
    path("groups/new/", manage_classes.group_create, name="group-create"),
    path("groups/<uuid:group_id>/", include(group_patterns)),
]
school_patterns: list[URLPattern | URLResolver] = [
    path("", manage.school_overview, name="school"),
    path("settings/", manage.school_edit, name="school-edit"),
    path("close/", manage.school_close, name="school-close"),
    path("reopen/", manage.school_reopen, name="school-reopen"),
    path("people/", manage.people, name="people"),
    path("people/new/", manage.person_create, name="person-create"),
    path("people/<uuid:user_id>/", include(person_patterns)),
    path("classes/", manage_classes.classes, name="classes"),
    path("classes/new/", manage_classes.class_create, name="class-create"),
    path("classes/<uuid:classroom_id>/", include(class_patterns)),
]

app_name = "manage"
urlpatterns = [
    path("", manage.home, name="home"),
    path("<uuid:school_id>/", include(school_patterns)),
]
