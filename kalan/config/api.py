"""The JSON API at /api/v1/: one NinjaAPI assembled from the apps' routers.

Callers authenticate by bearer token or by their Django session (with CSRF on
unsafe methods). Errors answer {"detail": message} and, for refused input,
"problems": every reason. The docs page is served from ninja's own static
files (ninja is an installed app), never from an outside host.
"""

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from kalan.accounts import api as accounts_api
from kalan.core.errors import KalanError, NotFound, PermissionDenied, ValidationFailed
from kalan.schools import api as schools_api


class LocalSwagger(Swagger):
    """Swagger UI from ninja's own files, always served by this instance.

    ninja falls back to a CDN page unless it is an installed app; Kalan keeps it
    out of INSTALLED_APPS so that pydantic loads only with the API (see urls.py).
    """

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            "add_csrf": True,
        }
        return render(request, self.template, context)


api = NinjaAPI(
    title="Kalan API",
    version="1",
    urls_namespace="api",
    auth=[accounts_api.bearer_auth, accounts_api.session_auth],
    # No validator badge: Swagger UI would fetch it from an outside host.
    docs=LocalSwagger(settings={"validatorUrl": None}),
)


def _error(request: HttpRequest, status: int, detail: str, **extra: Any) -> HttpResponse:
    return api.create_response(request, {"detail": detail, **extra}, status=status)


@api.exception_handler(ValidationFailed)
def _validation_failed(request: HttpRequest, exc: ValidationFailed) -> HttpResponse:
    return _error(request, 400, str(exc), problems=exc.problems or [str(exc)])


@api.exception_handler(NinjaValidationError)
def _bad_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    problems = [
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', '')}"
        for error in exc.errors
    ]
    return _error(request, 400, _("The request is not valid."), problems=problems)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _error(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def _denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, _("You are not allowed to do this."))


@api.exception_handler(KalanError)
def _conflict(request: HttpRequest, exc: KalanError) -> HttpResponse:
    """Any other refusal is about the state of things (e.g. records exist): 409."""
    return _error(request, 409, str(exc))


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, _("Sign in or send an API token."))


api.add_router("/tokens", accounts_api.router)
for prefix, router in schools_api.ROUTERS:
    api.add_router(prefix, router)
