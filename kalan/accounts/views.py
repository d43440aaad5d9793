import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kalan.accounts import services
from kalan.accounts.directory import list_school_choices
from kalan.accounts.forms import LanguageForm, SignInForm
from kalan.accounts.models import User
from kalan.core.errors import ValidationFailed


def _school_id(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("/")
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        result = services.sign_in(
            request=request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
            school_id=_school_id(form.cleaned_data["school"]),
        )
        if result.user is not None:
            response = redirect(_next_url(request) or "/")
            if result.user.language:
                _set_language_cookie(response, result.user.language)
            return response
        if result.locked_until:
            local = timezone.localtime(result.locked_until)  # type: ignore[arg-type]
            form.add_error(
                None,
                _("Too many failed attempts. Wait until %(time)s, then try again.")
                % {"time": formats.time_format(local, "TIME_FORMAT")},
            )
        else:
            form.add_error(None, _("That username and password do not match."))
    passwordless = [s for s in list_school_choices() if s.passwordless_signin]
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "passwordless_schools": passwordless},
        status=status,
    )


def _next_url(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


def _set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        httponly=False,
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    response: HttpResponse = HttpResponseRedirect(_next_url(request) or "/")
    if not form.is_valid():
        return response
    language = form.cleaned_data["language"]
    try:
        if request.user.is_authenticated:
            assert isinstance(request.user, User)
            services.set_user_language(user=request.user, language=language)
        elif language not in services.LANGUAGE_CODES:
            raise ValidationFailed(_("Unknown language."))
    except ValidationFailed:
        return response
    _set_language_cookie(response, language)
    return response
