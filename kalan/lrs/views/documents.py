"""The state, activity profile and agent profile resources (Communication 2.2-2.7).

/xapi/activities/state takes activityId, agent, registration (optional) and
stateId; /xapi/activities/profile takes activityId and profileId;
/xapi/agents/profile takes agent and profileId. Without the document id, GET
lists the ids of the context's documents (since a time, if asked) and, for
the state resource only, DELETE deletes them all; a context without a
registration then spans every registration. Every other request names one
document. Unknown or missing parameters, an agent that is not an Agent or
identified Group, an activityId that is not an IRI, a registration that is
not a UUID and a since that is not a timestamp are refused with 400.

Concurrency (documents.py keeps the rules): If-Match and If-None-Match are
honoured on every write. A PUT with neither header is refused with 409 over
an existing profile document and with 400 for a new one, in both versions;
for a state document it replaces the document in xAPI 1.0.3 and is refused
with 409 over an existing one in xAPI 2.0.

A caller acting for one learner reads and writes only that learner's state
and agent profile documents, and reads activity profiles without changing
them (403 otherwise). Before any write, cmi5's two documents are guarded
(cmi5_documents.py): LMS.LaunchData is the LMS's (cmi5 10) and
cmi5LearnerPreferences has the form of cmi5 11.
"""

from dataclasses import dataclass, replace
from typing import Any, Final

from django.http import HttpResponse, JsonResponse
from django.utils.http import http_date

from kalan.lrs import cmi5
from kalan.lrs.documents import (
    Body,
    ConditionRequired,
    Conditions,
    DocumentConflict,
    DocumentError,
    DocumentIds,
    DocumentRef,
    DocumentRefused,
    DocumentSet,
    PreconditionFailed,
    UnconditionalPut,
    delete_document,
    delete_documents,
    etag_of,
    get_document,
    list_document_ids,
    merge_document,
    put_document,
    school_of,
)
from kalan.lrs.http import (
    XapiError,
    XapiRequest,
    bad_request,
    check_params,
    method_not_allowed,
    parse_json_param,
    xapi_endpoint,
)
from kalan.lrs.models import Document
from kalan.lrs.validation import (
    StatementInvalid,
    agent_key,
    is_uuid,
    parse_timestamp,
    validate_agent,
    validate_iri,
)

_ALLOWED_METHODS: Final = "HEAD, GET, PUT, POST, DELETE"
# The longest activity id, agent identifier and document id the table keeps.
_MAX_ID_LENGTH: Final = 2048
_MAX_CONTENT_TYPE_LENGTH: Final = 255
_DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"
_STATUS: Final[dict[type[DocumentError], int]] = {
    PreconditionFailed: 412,
    DocumentConflict: 409,
    ConditionRequired: 400,
    DocumentRefused: 400,
    cmi5.Cmi5DocumentRefused: 403,
}


@dataclass(frozen=True)
class _Resource:
    kind: Document.Kind
    id_param: str
    context: tuple[str, ...]  # required in every request
    optional: tuple[str, ...] = ()
    deletes_many: bool = False


_STATE: Final = _Resource(
    Document.Kind.STATE,
    "stateId",
    ("activityId", "agent"),
    optional=("registration",),
    deletes_many=True,
)
_ACTIVITY_PROFILE: Final = _Resource(Document.Kind.ACTIVITY_PROFILE, "profileId", ("activityId",))
_AGENT_PROFILE: Final = _Resource(Document.Kind.AGENT_PROFILE, "profileId", ("agent",))


@dataclass(frozen=True)
class _Target:
    """What a request names: a set of documents, one of them, and the agent's JSON."""

    document_set: DocumentSet
    ref: DocumentRef | None
    agent: dict[str, Any] | None


# ---------------------------------------------------------------- parsing


def _check_params(request: XapiRequest, resource: _Resource, method: str) -> None:
    allowed = {*resource.context, *resource.optional, resource.id_param}
    if method == "GET":
        allowed.add("since")
    required = resource.context
    if method in {"PUT", "POST"} or (method == "DELETE" and not resource.deletes_many):
        required = (*required, resource.id_param)
    check_params(request, frozenset(allowed), required)


def _invalid(error: StatementInvalid) -> XapiError:
    return bad_request(str(error))


def _checked_length(value: str, name: str) -> str:
    if len(value) > _MAX_ID_LENGTH:
        raise bad_request(f"'{name}' is longer than {_MAX_ID_LENGTH} characters")
    return value


def _activity_id(request: XapiRequest) -> str:
    try:
        activity_id = validate_iri(request.params["activityId"], path="activityId")
    except StatementInvalid as error:
        raise _invalid(error) from None
    return _checked_length(activity_id, "activityId")


def _agent(request: XapiRequest) -> tuple[dict[str, Any], str]:
    """The agent parameter and its identifier key."""
    agent = parse_json_param(request, "agent")
    if not isinstance(agent, dict):
        raise bad_request("'agent' must be a JSON object: an Agent or an identified Group")
    try:
        validate_agent(agent, version=request.version, path="agent")
        key = agent_key(agent)
    except StatementInvalid as error:
        raise _invalid(error) from None
    return agent, _checked_length(key, "agent")


def _registration(request: XapiRequest) -> str | None:
    value = request.params.get("registration")
    if value is None:
        return None
    if not is_uuid(value):
        raise bad_request("'registration' must be a UUID")
    return value.lower()


def _target(request: XapiRequest, resource: _Resource) -> _Target:
    activity_id = _activity_id(request) if "activityId" in resource.context else ""
    agent, key = _agent(request) if "agent" in resource.context else (None, "")
    registration = _registration(request) if resource.optional else ""
    document_set = DocumentSet(
        kind=resource.kind, activity_id=activity_id, agent=key, registration=registration
    )
    document_id = request.params.get(resource.id_param)
    if document_id is None:
        return _Target(document_set=document_set, ref=None, agent=agent)
    if not document_id:
        raise bad_request(f"'{resource.id_param}' must not be empty")
    ref = DocumentRef(
        set=replace(document_set, registration=registration or ""),
        document_id=_checked_length(document_id, resource.id_param),
    )
    return _Target(document_set=ref.set, ref=ref, agent=agent)


def _conditions(request: XapiRequest) -> Conditions:
    return Conditions(
        if_match=request.header("If-Match").strip() or None,
        if_none_match=request.header("If-None-Match").strip() or None,
    )


def _body(request: XapiRequest) -> Body:
    content_type = request.content_type_header.strip() or _DEFAULT_CONTENT_TYPE
    if len(content_type) > _MAX_CONTENT_TYPE_LENGTH:
        raise bad_request(
            f"the Content-Type header is longer than {_MAX_CONTENT_TYPE_LENGTH} characters"
        )
    return Body(content=request.body, content_type=content_type)


def _check_access(request: XapiRequest, resource: _Resource, target: _Target, method: str) -> None:
    learner = request.caller.learner_actor
    if learner is None:
        return
    if resource.kind == Document.Kind.ACTIVITY_PROFILE:
        if method != "GET":
            raise XapiError(
                403, "a caller acting for one learner may read activity profiles, not change them"
            )
        return
    if target.document_set.agent != agent_key(learner):
        raise XapiError(
            403, "a caller acting for one learner may only use that learner's own documents"
        )


# ---------------------------------------------------------------- answering


def _quoted(etag: str) -> str:
    return f'"{etag}"'


def _get(request: XapiRequest, target: _Target) -> HttpResponse:
    since_text = request.params.get("since")
    try:
        since = (
            parse_timestamp(since_text, version=request.version, path="since")
            if since_text is not None
            else None
        )
    except StatementInvalid as error:
        raise _invalid(error) from None
    if target.ref is None:
        return _ids(list_document_ids(target.document_set, since=since))
    document = get_document(target.ref)
    if document is None:
        raise XapiError(404, f"there is no document with this {_id_name(target)}")
    response = HttpResponse(document.content, content_type=document.content_type)
    response["ETag"] = _quoted(document.etag)
    response["Last-Modified"] = http_date(document.modified.timestamp())
    return response


def _ids(found: DocumentIds) -> HttpResponse:
    response = JsonResponse(found.ids, safe=False)
    response["ETag"] = _quoted(etag_of(response.content))
    if found.last_modified is not None:
        response["Last-Modified"] = http_date(found.last_modified.timestamp())
    return response


def _id_name(target: _Target) -> str:
    return "stateId" if target.document_set.kind == Document.Kind.STATE else "profileId"


def _unconditional(request: XapiRequest, resource: _Resource) -> UnconditionalPut:
    if resource.kind != Document.Kind.STATE:
        return UnconditionalPut.REFUSE
    return UnconditionalPut.OVERWRITE if request.version == "1.0.3" else UnconditionalPut.CREATE


def _write(request: XapiRequest, resource: _Resource, target: _Target) -> HttpResponse:
    assert target.ref is not None  # PUT and POST require the document id
    body = _body(request)
    school_id = school_of(target.agent) if target.agent is not None else None
    if request.method == "PUT":
        stored = put_document(
            ref=target.ref,
            body=body,
            conditions=_conditions(request),
            unconditional=_unconditional(request, resource),
            school_id=school_id,
        )
    else:
        stored = merge_document(
            ref=target.ref, body=body, conditions=_conditions(request), school_id=school_id
        )
    response = HttpResponse(status=204)
    response["ETag"] = _quoted(stored.etag)
    return response


def _delete(request: XapiRequest, target: _Target) -> HttpResponse:
    if target.ref is None:
        delete_documents(document_set=target.document_set)
    else:
        delete_document(ref=target.ref, conditions=_conditions(request))
    return HttpResponse(status=204)


def _handle(request: XapiRequest, resource: _Resource) -> HttpResponse:
    method = "GET" if request.method == "HEAD" else request.method
    if method not in {"GET", "PUT", "POST", "DELETE"}:
        return method_not_allowed(request, _ALLOWED_METHODS)
    _check_params(request, resource, method)
    target = _target(request, resource)
    _check_access(request, resource, target, method)
    try:
        if method == "GET":
            return _get(request, target)
        cmi5.check_document_write(
            caller=request.caller,
            document_set=target.document_set,
            ref=target.ref,
            body=None if method == "DELETE" else _body(request),
        )
        if method == "DELETE":
            return _delete(request, target)
        return _write(request, resource, target)
    except DocumentError as error:
        raise XapiError(_STATUS[type(error)], error.message) from None


def _state(request: XapiRequest) -> HttpResponse:
    return _handle(request, _STATE)


def _activity_profile(request: XapiRequest) -> HttpResponse:
    return _handle(request, _ACTIVITY_PROFILE)


def _agent_profile(request: XapiRequest) -> HttpResponse:
    return _handle(request, _AGENT_PROFILE)


state = xapi_endpoint(_state, methods=_ALLOWED_METHODS)
activity_profile = xapi_endpoint(_activity_profile, methods=_ALLOWED_METHODS)
agent_profile = xapi_endpoint(_agent_profile, methods=_ALLOWED_METHODS)
