"""The xAPI request pipeline shared by every resource under /xapi/.

`xapi_endpoint(handler)` turns a handler of `XapiRequest` into a Django view
that answers CORS preflights, reads the alternate request syntax (xAPI 1.0.3
only: a POST with ?method=... whose headers, parameters and content are form
fields), checks the X-Experience-API-Version header, authenticates the caller,
and turns `XapiError` into the status code and one-line reason the
specification requires. HEAD is answered as GET without a body.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from kalan.lrs.auth import NOBODY, Caller, caller_of
from kalan.lrs.validation import Version

VERSION_HEADER: Final = "X-Experience-API-Version"
SUPPORTED_VERSIONS: Final = ("2.0.0", "1.0.3")
# The version an answer names when the request named none the LRS speaks: the oldest
# one, whose clients may not know the newer (the conformance suites expect it).
UNVERSIONED_ANSWER: Final = "1.0.3"
# Headers the alternate request syntax carries as form fields (xAPI 1.0.3, Communication 1.3).
_FORM_HEADERS: Final = {
    "authorization": "Authorization",
    "x-experience-api-version": VERSION_HEADER,
    "content-type": "Content-Type",
    "content-length": "Content-Length",
    "if-match": "If-Match",
    "if-none-match": "If-None-Match",
}
_ALTERNATE_METHODS: Final = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
_CORS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "HEAD, GET, POST, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, If-Match, If-None-Match, X-Experience-API-Version, "
        "X-CSRFToken"
    ),
    "Access-Control-Expose-Headers": (
        "ETag, Last-Modified, Content-Type, X-Experience-API-Version, "
        "X-Experience-API-Consistent-Through"
    ),
    "Access-Control-Max-Age": "86400",
}


class XapiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> XapiError:
    return XapiError(400, message)


@dataclass
class XapiRequest:
    method: str
    params: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    content_type: str  # media type only, lower case ("application/json")
    content_type_header: str  # the whole header, with its parameters
    version: Version
    caller: Caller
    django: HttpRequest
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    def json_body(self) -> Any:
        try:
            return json.loads(self.body)
        except (UnicodeDecodeError, ValueError) as error:
            raise bad_request(f"the request body is not valid JSON: {error}") from None


Handler = Callable[[XapiRequest], HttpResponse]


def negotiate_version(value: str) -> Version:
    value = value.strip()
    if not value:
        raise bad_request(f"the {VERSION_HEADER} header is required")
    parts = value.split(".")
    if parts[:2] == ["1", "0"] and len(parts) <= 3 and all(p.isdigit() for p in parts):
        return "1.0.3"
    if parts[:2] == ["2", "0"] and len(parts) <= 3 and all(p.isdigit() for p in parts):
        return "2.0.0"
    raise bad_request(f"xAPI version {value!r} is not supported (supported: 2.0.0, 1.0.3)")


def error_response(status: int, message: str) -> HttpResponse:
    return JsonResponse({"error": message}, status=status)


@dataclass
class _Raw:
    method: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    alternate: bool = False


def _single_values(pairs: list[tuple[str, str]], what: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        if name in values:
            raise bad_request(f"the {what} {name!r} is given more than once")
        values[name] = value
    return values


def _raw_request(request: HttpRequest) -> _Raw:
    headers = {name.lower(): value for name, value in request.headers.items()}
    query = request.META.get("QUERY_STRING", "")
    params = _single_values(parse_qsl(query, keep_blank_values=True), "parameter")
    try:
        body = request.body
    except RequestDataTooBig:
        raise XapiError(
            413, f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"
        ) from None
    raw = _Raw(request.method or "GET", params, headers, body)
    if "method" in params:
        return _alternate(raw)
    return raw


def _alternate(raw: _Raw) -> _Raw:
    """The request an alternate-syntax POST stands for (Communication 1.3 of xAPI 1.0.3)."""
    method = raw.params.pop("method").upper()
    if raw.method != "POST":
        raise bad_request("an alternate request syntax request must be a POST")
    if method not in _ALTERNATE_METHODS:
        raise bad_request(f"method={method!r} is not an xAPI method")
    if raw.params:
        raise bad_request("an alternate request syntax request takes only 'method' in its URL")
    media = raw.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise bad_request(
            "an alternate request syntax request must be application/x-www-form-urlencoded"
        )
    try:
        text = raw.body.decode("utf-8")
    except UnicodeDecodeError:
        raise bad_request("the form is not UTF-8") from None
    form = _single_values(parse_qsl(text, keep_blank_values=True), "form field")
    # Headers sent as headers count too (clients send credentials so); the form's win, and
    # the form's own type and length are not the inner request's.
    headers = {
        key: value
        for key, value in raw.headers.items()
        if key not in {"content-type", "content-length"}
    }
    for field_name in list(form):
        if field_name.lower() in _FORM_HEADERS:
            headers[field_name.lower()] = form.pop(field_name)
    content = form.pop("content", "")
    if content and "content-type" not in headers:
        headers["content-type"] = "application/json"
    return _Raw(method, form, headers, content.encode("utf-8"), alternate=True)


def _check_csrf(request: HttpRequest) -> None:
    """Kalan's own pages write with the session cookie: they must send the CSRF token."""

    def accepted(_request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    rejected = CsrfViewMiddleware(accepted).process_view(request, accepted, (), {})
    if rejected is not None:
        raise XapiError(403, "the CSRF token is missing or wrong")


def _build(request: HttpRequest, *, versioned: bool, public: bool) -> XapiRequest:
    raw = _raw_request(request)
    version_header = raw.headers.get(VERSION_HEADER.lower(), "")
    version = negotiate_version(version_header) if versioned or version_header else "2.0.0"
    if raw.alternate and version == "2.0.0":
        raise bad_request("xAPI 2.0 has no alternate request syntax (the 'method' parameter)")
    caller = NOBODY if public else caller_of(request, raw.headers.get("authorization", ""))
    if caller is None:
        raise XapiError(401, "valid xAPI credentials are required")
    if caller.by_session and raw.method not in {"GET", "HEAD"}:
        _check_csrf(request)
    content_type_header = raw.headers.get("content-type", "")
    return XapiRequest(
        method=raw.method,
        params=raw.params,
        headers=raw.headers,
        body=raw.body,
        content_type=content_type_header.split(";")[0].strip().lower(),
        content_type_header=content_type_header,
        version=version,
        caller=caller,
        django=request,
    )


def _finish(response: HttpResponse, version: str | None, method: str) -> HttpResponse:
    for name, value in _CORS.items():
        response[name] = value
    if version:
        response[VERSION_HEADER] = version
    if method == "HEAD":
        response["Content-Length"] = str(len(response.content))
        response.content = b""
    return response


def xapi_endpoint(
    handler: Handler,
    *,
    versioned: bool = True,
    public: bool = False,
    methods: str = "",
    every_answer: Callable[[HttpResponse], None] | None = None,
) -> Callable[..., HttpResponse]:
    """A Django view running `handler` through the xAPI pipeline (see the module docstring).

    `versioned=False` accepts requests without the version header; `public`
    ones need no credentials (their handler gets `auth.NOBODY`); a method not in
    `methods` ("HEAD, GET", ...) is refused with 405 before the credentials are
    looked at; `every_answer` completes every response, refusals included.
    """
    allowed = {name.strip() for name in methods.split(",") if name.strip()}

    @csrf_exempt
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        if request.method == "OPTIONS":
            return _finish(HttpResponse(status=200), None, "OPTIONS")
        version: str | None = None
        method = request.method or "GET"
        if allowed and method not in allowed and "method" not in request.GET:
            response = error_response(405, f"{method} is not allowed here (allowed: {methods})")
            response["Allow"] = methods
            if every_answer is not None:
                every_answer(response)
            return _finish(response, _answer_version(request), method)
        try:
            xapi_request = _build(request, versioned=versioned, public=public)
            xapi_request.extra.update(kwargs)
            version, method = xapi_request.version, xapi_request.method
            response = handler(xapi_request)
        except XapiError as error:
            response = error_response(error.status, error.message)
            if error.status == 401:
                response["WWW-Authenticate"] = 'Basic realm="xAPI"'
        if every_answer is not None:
            every_answer(response)
        return _finish(response, version or UNVERSIONED_ANSWER, method)

    view.__name__ = getattr(handler, "__name__", "xapi_view").lstrip("_")
    return view


def _answer_version(request: HttpRequest) -> str:
    try:
        return negotiate_version(request.headers.get(VERSION_HEADER, ""))
    except XapiError:
        return UNVERSIONED_ANSWER


def method_not_allowed(request: XapiRequest, allowed: str) -> HttpResponse:
    response = error_response(405, f"{request.method} is not allowed here (allowed: {allowed})")
    response["Allow"] = allowed
    return response


def check_params(
    request: XapiRequest, allowed: frozenset[str], required: tuple[str, ...] = ()
) -> None:
    unknown = sorted(set(request.params) - allowed)
    if unknown:
        raise bad_request(f"unexpected parameter(s): {', '.join(unknown)}")
    for name in required:
        if not request.params.get(name):
            raise bad_request(f"the '{name}' parameter is required")


def parse_bool(request: XapiRequest, name: str) -> bool:
    value = request.params.get(name, "false").lower()
    if value not in {"true", "false"}:
        raise bad_request(f"'{name}' must be true or false")
    return value == "true"


def parse_json_param(request: XapiRequest, name: str) -> Any:
    try:
        return json.loads(request.params[name])
    except ValueError:
        raise bad_request(f"the '{name}' parameter is not valid JSON") from None
