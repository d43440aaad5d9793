"""/xapi/about, /xapi/activities and /xapi/agents (Communication 2.4, 2.5 and 2.8)."""

import json
from typing import Final

from django.http import HttpResponse, JsonResponse

from kalan.lrs.http import (
    SUPPORTED_VERSIONS,
    XapiRequest,
    bad_request,
    check_params,
    method_not_allowed,
    parse_json_param,
    xapi_endpoint,
)
from kalan.lrs.keys import ACTIVITY, index_key
from kalan.lrs.models import Activity
from kalan.lrs.validation import StatementInvalid, validate_agent, validate_iri

_IFIS: Final = ("mbox", "mbox_sha1sum", "openid", "account")


def _about(request: XapiRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        return method_not_allowed(request, "HEAD, GET")
    check_params(request, frozenset())
    # A 1.0.x client is told of the 1.0.x version only: its specification allows no other
    # values there (Communication 2.8, XAPI-00316).
    versions = list(SUPPORTED_VERSIONS) if request.version == "2.0.0" else ["1.0.3"]
    return JsonResponse({"version": versions, "extensions": {}})


def _activities(request: XapiRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        return method_not_allowed(request, "HEAD, GET")
    check_params(request, frozenset({"activityId"}), required=("activityId",))
    try:
        activity_id = validate_iri(request.params["activityId"], path="activityId")
    except StatementInvalid as error:
        raise bad_request(str(error)) from None
    row = Activity.objects.filter(
        key=index_key(ACTIVITY, activity_id), activity_id=activity_id
    ).first()
    activity: dict[str, object] = {"objectType": "Activity", "id": activity_id}
    if row is not None:
        definition = json.loads(row.definition)
        if definition:
            activity["definition"] = definition
    return JsonResponse(activity)


def _agents(request: XapiRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        return method_not_allowed(request, "HEAD, GET")
    check_params(request, frozenset({"agent"}), required=("agent",))
    agent = parse_json_param(request, "agent")
    try:
        validate_agent(agent, version=request.version)
    except StatementInvalid as error:
        raise bad_request(str(error)) from None
    if agent.get("objectType") == "Group":
        raise bad_request("the agents resource takes an Agent, not a Group")
    person: dict[str, object] = {"objectType": "Person"}
    if "name" in agent:
        person["name"] = [agent["name"]]
    for ifi in _IFIS:
        if ifi in agent:
            person[ifi] = [agent[ifi]]
    return JsonResponse(person)


about = xapi_endpoint(_about, versioned=False, public=True, methods="HEAD, GET")
activities = xapi_endpoint(_activities, methods="HEAD, GET")
agents = xapi_endpoint(_agents, methods="HEAD, GET")
