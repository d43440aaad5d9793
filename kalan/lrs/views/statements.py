"""The statement resource: /xapi/statements (Communication 2.1) and its `more` pages."""

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, Final

from django.core import signing
from django.http import HttpResponse
from django.urls import reverse
from django.utils.http import http_date

from kalan.lrs import cmi5, formats
from kalan.lrs.attachments import (
    AttachmentsInvalid,
    Part,
    build_mixed,
    check_attachments,
    parse_mixed,
)
from kalan.lrs.http import (
    XapiError,
    XapiRequest,
    bad_request,
    check_params,
    method_not_allowed,
    parse_bool,
    parse_json_param,
    xapi_endpoint,
)
from kalan.lrs.selectors import MAX_PAGE, Page, StatementQuery, one_statement, statement_page
from kalan.lrs.signatures import SignatureInvalid, verify_signed_statement
from kalan.lrs.statements import (
    SCORED,
    VOIDED,
    AttachmentBytes,
    StatementConflict,
    StatementRefused,
    attachment_contents,
    epoch_us,
    iso,
    store_statements,
)
from kalan.lrs.validation import (
    StatementInvalid,
    agent_key,
    is_uuid,
    normalize_statement,
    parse_timestamp,
    validate_agent,
    validate_iri,
    validate_statement,
    validate_statements,
)

MORE_SALT: Final = "kalan.lrs.more"
MORE_MAX_AGE: Final = 60 * 60 * 24
# Statements committed within this long before a read may still be arriving.
CONSISTENCY_MARGIN: Final = dt.timedelta(seconds=2)
_QUERY_PARAMS: Final = frozenset(
    {
        "agent",
        "verb",
        "activity",
        "registration",
        "related_activities",
        "related_agents",
        "since",
        "until",
        "limit",
        "format",
        "attachments",
        "ascending",
    }
)
_SINGLE_PARAMS: Final = frozenset({"statementId", "voidedStatementId", "format", "attachments"})
_FORMATS: Final = frozenset({"exact", "ids", "canonical"})


# ---------------------------------------------------------------- writing


def _statements_and_parts(request: XapiRequest) -> tuple[Any, dict[str, Part]]:
    if request.content_type == "multipart/mixed":
        try:
            mixed = parse_mixed(request.body, request.content_type_header)
        except AttachmentsInvalid as error:
            raise bad_request(str(error)) from None
        try:
            return json.loads(mixed.statements_json), mixed.parts
        except (UnicodeDecodeError, ValueError) as error:
            raise bad_request(f"the statements part is not valid JSON: {error}") from None
    if request.content_type != "application/json":
        raise bad_request("Content-Type must be application/json or multipart/mixed")
    return request.json_body(), {}


def _actor_key(actor: dict[str, Any]) -> str | None:
    try:
        return agent_key(actor)
    except StatementInvalid:  # an anonymous group: no one's own statement
        return None


def _check_writer(request: XapiRequest, statements: Sequence[dict[str, Any]]) -> None:
    learner = request.caller.learner_actor
    if learner is None:
        return
    own = agent_key(learner)
    for statement in statements:
        if _actor_key(statement["actor"]) != own:
            raise XapiError(403, "these credentials record statements of their own learner only")
        if statement["verb"]["id"] == VOIDED:
            raise XapiError(403, "these credentials may not void statements")
        graded = statement["object"].get("objectType") == "StatementRef"
        if graded and statement["verb"]["id"] == SCORED:  # only teachers grade, through Kalan
            raise XapiError(403, "these credentials may not grade statements")


def _store(
    request: XapiRequest, statements: list[dict[str, Any]], parts: dict[str, Part]
) -> list[str]:
    try:
        check_attachments(statements, parts, version=request.version)
        for statement in statements:
            verify_signed_statement(statement, parts)
    except (AttachmentsInvalid, SignatureInvalid) as error:
        raise bad_request(str(error)) from None
    _check_writer(request, statements)
    normalized = [normalize_statement(s, version=request.version) for s in statements]
    try:
        # A cmi5 launch's statements follow the rules of cmi5 section 9 (cmi5.py).
        with cmi5.rules(request.caller.cmi5_session, normalized):
            return store_statements(
                normalized,
                version=request.version,
                authority=request.caller.authority,
                people=request.caller.known_people,
                attachments=[
                    AttachmentBytes(p.sha2, p.content_type, p.content) for p in parts.values()
                ],
            )
    except cmi5.Cmi5Refused as error:
        raise XapiError(403, str(error)) from None
    except StatementConflict as error:
        raise XapiError(409, str(error)) from None
    except StatementRefused as error:
        raise bad_request(str(error)) from None


def _put(request: XapiRequest) -> HttpResponse:
    check_params(request, frozenset({"statementId"}), required=("statementId",))
    statement_id = request.params["statementId"]
    if not is_uuid(statement_id):
        raise bad_request("statementId must be a UUID")
    payload, parts = _statements_and_parts(request)
    if not isinstance(payload, dict):
        raise bad_request("PUT takes one statement (a JSON object)")
    if "id" in payload and str(payload["id"]).lower() != statement_id.lower():
        raise bad_request("the statement's id differs from statementId")
    payload = {**payload, "id": statement_id}
    try:
        validate_statement(payload, version=request.version)
    except StatementInvalid as error:
        raise bad_request(str(error)) from None
    _store(request, [payload], parts)
    return HttpResponse(status=204)


def _post(request: XapiRequest) -> HttpResponse:
    check_params(request, frozenset())
    payload, parts = _statements_and_parts(request)
    try:
        statements = validate_statements(payload, version=request.version)
    except StatementInvalid as error:
        raise bad_request(str(error)) from None
    ids = _store(request, statements, parts)
    return HttpResponse(json.dumps(ids), content_type="application/json", status=200)


# ---------------------------------------------------------------- reading


def _timestamp_us(request: XapiRequest, name: str) -> int | None:
    value = request.params.get(name)
    if value is None:
        return None
    try:
        return epoch_us(parse_timestamp(value, version=request.version, path=name))
    except StatementInvalid as error:
        raise bad_request(str(error)) from None


def _limit(request: XapiRequest) -> int:
    value = request.params.get("limit", "0")
    if not value.isdigit():
        raise bad_request("limit must be a whole number, 0 or more")
    limit = int(value)
    return MAX_PAGE if limit == 0 else min(limit, MAX_PAGE)


def _agent_param(request: XapiRequest) -> str | None:
    if "agent" not in request.params:
        return None
    agent = parse_json_param(request, "agent")
    try:
        validate_agent(agent, version=request.version)
        return agent_key(agent)
    except StatementInvalid as error:
        raise bad_request(str(error)) from None


def _iri_param(request: XapiRequest, name: str) -> str | None:
    if name not in request.params:
        return None
    try:
        return validate_iri(request.params[name], path=name)
    except StatementInvalid as error:
        raise bad_request(str(error)) from None


def _query(request: XapiRequest) -> StatementQuery:
    registration = request.params.get("registration")
    if registration is not None and not is_uuid(registration):
        raise bad_request("registration must be a UUID")
    query = StatementQuery(
        agent=_agent_param(request),
        verb=_iri_param(request, "verb"),
        activity=_iri_param(request, "activity"),
        registration=registration.lower() if registration else None,
        related_agents=parse_bool(request, "related_agents"),
        related_activities=parse_bool(request, "related_activities"),
        since_us=_timestamp_us(request, "since"),
        until_us=_timestamp_us(request, "until"),
        ascending=parse_bool(request, "ascending"),
        limit=_limit(request),
        user_id=request.caller.learner_id,
    )
    return query


def _format(request: XapiRequest) -> str:
    value = request.params.get("format", "exact")
    if value not in _FORMATS:
        raise bad_request("format must be exact, ids or canonical")
    return value


def _formatted(request: XapiRequest, bodies: Sequence[str], statement_format: str) -> list[str]:
    if statement_format == "exact":
        return list(bodies)
    if statement_format == "ids":
        return [json.dumps(formats.ids_format(json.loads(body))) for body in bodies]
    accept = request.header("Accept-Language")
    return [json.dumps(formats.canonical_format(json.loads(body), accept)) for body in bodies]


def _with_attachments(document: str, bodies: Sequence[str]) -> HttpResponse:
    hashes: set[str] = set()
    for body in bodies:
        for attachment in json.loads(body).get("attachments") or ():
            if "fileUrl" not in attachment or attachment.get("sha2"):
                hashes.add(str(attachment["sha2"]))
    contents = attachment_contents(hashes)
    parts = [Part(c.sha2, c.content_type, c.content) for c in contents.values()]
    mixed, content_type = build_mixed(document.encode(), parts)
    return HttpResponse(mixed, content_type=content_type)


def _respond(
    request: XapiRequest, document: str, bodies: Sequence[str], attachments: bool
) -> HttpResponse:
    if attachments:
        response = _with_attachments(document, bodies)
    else:
        response = HttpResponse(document, content_type="application/json")
    return response


def _consistent_through(response: HttpResponse) -> None:
    """Every answer of the statements resource says up to when its results are complete."""
    response["X-Experience-API-Consistent-Through"] = iso(
        dt.datetime.now(dt.UTC) - CONSISTENCY_MARGIN
    )


def _get_one(request: XapiRequest) -> HttpResponse:
    check_params(request, _SINGLE_PARAMS)
    voided = "voidedStatementId" in request.params
    if voided and "statementId" in request.params:
        raise bad_request("statementId and voidedStatementId cannot be used together")
    statement_id = request.params["voidedStatementId" if voided else "statementId"]
    if not is_uuid(statement_id):
        raise bad_request("the statement id must be a UUID")
    statement_format = _format(request)
    attachments = parse_bool(request, "attachments")
    row = one_statement(statement_id, voided=voided)
    learner = request.caller.learner_id
    if row is None or (learner is not None and row.user_id != learner):
        raise XapiError(404, "no such statement")
    body = _formatted(request, [row.body], statement_format)[0]
    response = _respond(request, body, [row.body], attachments)
    response["Last-Modified"] = http_date(row.stored.timestamp())
    return response


def _page_response(
    request: XapiRequest,
    query: StatementQuery,
    page: Page,
    statement_format: str,
    attachments: bool,
) -> HttpResponse:
    bodies = [body for _id, _stored, body in page.rows]
    more = ""
    if page.more is not None:
        token = signing.dumps(
            {
                "q": {k: v for k, v in request.params.items() if k not in {"limit"}},
                "l": query.limit,
                "a": list(page.more),
                "u": query.until_us,
                "v": request.version,
                "p": str(query.user_id) if query.user_id else None,
            },
            salt=MORE_SALT,
            compress=True,
        )
        more = reverse("xapi:more", args=[token])
    document = (
        '{"statements":['
        + ",".join(_formatted(request, bodies, statement_format))
        + "],"
        + json.dumps({"more": more})[1:]
    )
    return _respond(request, document, bodies, attachments)


def _get(request: XapiRequest) -> HttpResponse:
    if "statementId" in request.params or "voidedStatementId" in request.params:
        return _get_one(request)
    check_params(request, _QUERY_PARAMS)
    statement_format = _format(request)
    attachments = parse_bool(request, "attachments")
    query = _query(request)
    if query.until_us is None:
        # Pin the first page's moment: later pages list what the first query saw.
        query = StatementQuery(**{**query.__dict__, "until_us": epoch_us(dt.datetime.now(dt.UTC))})
    return _page_response(request, query, statement_page(query), statement_format, attachments)


def _statements(request: XapiRequest) -> HttpResponse:
    if request.method in {"GET", "HEAD"}:
        return _get(request)
    if request.method == "PUT":
        return _put(request)
    if request.method == "POST":
        return _post(request)
    return method_not_allowed(request, "HEAD, GET, PUT, POST")


def _more(request: XapiRequest) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        return method_not_allowed(request, "HEAD, GET")
    try:
        data = signing.loads(request.extra["token"], salt=MORE_SALT, max_age=MORE_MAX_AGE)
    except signing.BadSignature:
        raise XapiError(404, "this 'more' link is not valid or has expired") from None
    request.params = dict(data["q"])
    query = _query(request)
    learner = request.caller.learner_id
    if data["p"] != (str(learner) if learner else None):
        raise XapiError(404, "this 'more' link belongs to other credentials")
    after = (int(data["a"][0]), str(data["a"][1]))
    query = StatementQuery(
        **{**query.__dict__, "limit": int(data["l"]), "until_us": data["u"], "after": after}
    )
    statement_format = _format(request)
    attachments = parse_bool(request, "attachments")
    return _page_response(request, query, statement_page(query), statement_format, attachments)


statements = xapi_endpoint(
    _statements, methods="HEAD, GET, PUT, POST", every_answer=_consistent_through
)
more = xapi_endpoint(_more, methods="HEAD, GET", every_answer=_consistent_through)
