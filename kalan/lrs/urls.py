"""The xAPI resources under /xapi/ (the LRS's base endpoint)."""

from django.urls import path

from kalan.lrs.views import documents, resources, statements

app_name = "xapi"

urlpatterns = [
    path("statements", statements.statements, name="statements"),
    path("statements/more/<str:token>", statements.more, name="more"),
    path("activities/state", documents.state, name="state"),
    path("activities/profile", documents.activity_profile, name="activity-profile"),
    path("agents/profile", documents.agent_profile, name="agent-profile"),
    path("activities", resources.activities, name="activities"),
    path("agents", resources.agents, name="agents"),
    path("about", resources.about, name="about"),
]
