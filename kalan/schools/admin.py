from django.contrib import admin

from kalan.schools.models import (
    AdminArea,
    AreaViewer,
    Classroom,
    Enrolment,
    GroupMembership,
    GuardianLink,
    LearnerGroup,
    School,
    SchoolRole,
)

READ_ONLY = ("hlc", "origin", "created_at", "updated_at")


@admin.register(AdminArea)
class AdminAreaAdmin(admin.ModelAdmin[AdminArea]):
    list_display = ("name", "kind", "code", "parent")
    list_filter = ("kind",)
    search_fields = ("name", "code")
    readonly_fields = READ_ONLY


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin[School]):
    list_display = ("name", "code", "government_id", "area", "status")
    list_filter = ("status", "area")
    search_fields = ("name", "code", "government_id")
    readonly_fields = READ_ONLY


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin[Classroom]):
    list_display = ("name", "grade", "school", "is_active")
    list_filter = ("is_active", "school")
    search_fields = ("name",)
    readonly_fields = READ_ONLY


for model in (SchoolRole, GuardianLink, AreaViewer, Enrolment, LearnerGroup, GroupMembership):
    admin.site.register(model, readonly_fields=READ_ONLY)
