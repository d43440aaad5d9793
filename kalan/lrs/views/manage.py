"""The admins' page of xAPI credentials: create (the secret is shown once) and revoke."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kalan.accounts.models import User
from kalan.lrs.auth import new_credentials
from kalan.lrs.models import Credential
from kalan.schools.roles import is_admin


class CredentialForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("What are they for?"),
        max_length=100,
        help_text=gettext_lazy("For example: ministry dashboard, or the district's LRS."),
    )


def _admin(request: HttpRequest) -> User:
    """The signed-in school admin or superuser; anyone else gets a 404."""
    user = request.user
    assert isinstance(user, User)
    if not is_admin(user):
        raise Http404
    return user


def _context(form: CredentialForm, **extra: Any) -> dict[str, Any]:
    credentials = Credential.objects.order_by("-is_active", "-created_at").values(
        "id", "name", "key", "created_at", "last_used_at", "is_active"
    )
    return {"credentials": list(credentials), "form": form, **extra}


@login_required
@require_GET
def credentials(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "lrs/credentials.html", _context(CredentialForm()))


@login_required
@require_POST
def credential_create(request: HttpRequest) -> HttpResponse:
    admin = _admin(request)
    form = CredentialForm(request.POST)
    if not form.is_valid():
        return render(request, "lrs/credentials.html", _context(form), status=400)
    credential, secret = new_credentials(name=form.cleaned_data["name"], created_by=admin)
    # Shown in this answer only: the secret is not kept and never goes in a URL.
    context = _context(CredentialForm(), created=credential, secret=secret)
    response = render(request, "lrs/credentials.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def credential_revoke(request: HttpRequest, credential_id: int) -> HttpResponse:
    _admin(request)
    credential = get_object_or_404(Credential, id=credential_id)
    Credential.objects.filter(id=credential.id).update(is_active=False)
    messages.success(request, _("The credentials no longer open the learning records."))
    return redirect("lrs-manage:credentials")
