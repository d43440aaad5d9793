"""The library's admin pages: installed channels, imports, exports, peers, progress.

For school admins and superusers; anyone else signed in gets a 404, as on the
other /manage/ pages. Imports and exports run in the background
(kalan/content/transfers.py); these views parse input, call one service or
selector and render. A source (a folder, a USB stick, another hub) is browsed
first, from its verified manifests, so a person sees what they will get and can
choose topics before anything is copied.
"""

import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kalan.accounts.models import User
from kalan.content import discovery, transfers
from kalan.content.importer import delete_channel
from kalan.content.models import Channel, Peer, Transfer
from kalan.content.peers import HttpSource, library_url
from kalan.content.selectors import list_channels
from kalan.content.sources import SourceError, open_source
from kalan.content.transfers import browse_channel, browse_source, find_usb_libraries
from kalan.core.errors import KalanError
from kalan.schools.roles import is_admin

RECENT_TRANSFERS = 10
GET_AND_POST = ["GET", "POST"]


def library_admin(request: HttpRequest) -> User:
    """The signed-in school admin or superuser; anyone else gets a 404."""
    user = request.user
    assert isinstance(user, User)
    if not is_admin(user):
        raise Http404
    return user


# ---------------------------------------------------------------- forms


class FolderForm(forms.Form):
    source = forms.CharField(label=gettext_lazy("Folder or USB stick"), max_length=1000)


class HubForm(forms.Form):
    source = forms.CharField(label=gettext_lazy("Address of the hub"), max_length=1000)


class PeerForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=190,
        help_text=gettext_lazy("For example http://10.0.0.5:8000/"),
    )
    name = forms.CharField(label=gettext_lazy("Name (optional)"), max_length=200, required=False)

    def clean_url(self) -> str:
        try:
            return HttpSource(self.cleaned_data["url"]).label
        except SourceError as error:
            raise forms.ValidationError(
                _("This is not the address of a hub, such as http://10.0.0.5:8000/.")
            ) from error


class TopicsField(forms.Field):
    """Topic ids (any number); whether the channel has them is the importer's check."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[uuid.UUID]:
        try:
            return [uuid.UUID(str(item)) for item in value or []]
        except ValueError as error:
            raise forms.ValidationError(_("A topic id is not valid.")) from error


class ImportForm(forms.Form):
    source = forms.CharField(max_length=1000)
    channel = forms.UUIDField()
    topic = TopicsField(required=False)


class ExportForm(forms.Form):
    destination = forms.CharField(
        label=gettext_lazy("Folder to write to"),
        max_length=1000,
        help_text=gettext_lazy(
            "A folder on this hub, usually a USB stick (for example /media/usb). It is created"
            " if needed; files already there are not copied again."
        ),
    )

    def clean_destination(self) -> str:
        raw = self.cleaned_data["destination"].strip()
        path = Path(raw).expanduser()
        if not path.is_absolute():
            raise forms.ValidationError(_("Give the full path of the folder, starting with /."))
        home = Path(settings.KALAN_HOME).resolve()
        resolved = path.resolve()
        if resolved == home or home in resolved.parents:
            raise forms.ValidationError(_("This folder belongs to Kalan itself; choose another."))
        return str(path)


# ---------------------------------------------------------------- the library home


def _home_context() -> dict[str, Any]:
    return {
        "channels": list_channels(),
        "peers": list(Peer.objects.order_by("-discovered", "name", "url")),
        "transfers": list(Transfer.objects.order_by("-created_at")[:RECENT_TRANSFERS]),
        "usb_libraries": find_usb_libraries(),
        "discovery_enabled": discovery.enabled(),
        "folder_form": FolderForm(auto_id="folder_%s"),
        "hub_form": HubForm(auto_id="hub_%s"),
        "peer_form": PeerForm(),
    }


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    library_admin(request)
    return render(request, "content/transfers/home.html", _home_context())


@login_required
@require_POST
def peer_add(request: HttpRequest) -> HttpResponse:
    library_admin(request)
    form = PeerForm(request.POST)
    if not form.is_valid():
        context = {**_home_context(), "peer_form": form}
        return render(request, "content/transfers/home.html", context, status=400)
    Peer.objects.update_or_create(
        url=form.cleaned_data["url"], defaults={"name": form.cleaned_data["name"]}
    )
    messages.success(request, _("The hub was added to the list."))
    return redirect("transfers:home")


@login_required
@require_POST
def peer_remove(request: HttpRequest, peer_id: int) -> HttpResponse:
    library_admin(request)
    get_object_or_404(Peer, id=peer_id).delete()
    messages.success(request, _("The hub was removed from the list."))
    return redirect("transfers:home")


@login_required
@require_POST
def peer_discover(request: HttpRequest) -> HttpResponse:
    library_admin(request)
    try:
        found = discovery.discover_peers()
    except KalanError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Hubs that answered on the network: %(count)d.") % {"count": len(found)},
        )
    return redirect("transfers:home")


# ---------------------------------------------------------------- browsing a source


def _source_spec(request: HttpRequest) -> str:
    spec = (request.GET.get("source") or request.POST.get("source") or "").strip()
    if not spec or len(spec) > 1000:
        raise Http404
    return spec


def _remember_peer(spec: str, name: str) -> None:
    """A known peer that answered: when it was seen, and its name if nobody gave it one."""
    known = Peer.objects.filter(url=library_url(spec).removesuffix("content/library/"))
    known.update(last_seen_at=timezone.now())
    known.filter(name="").update(name=name[:200])


@login_required
@require_GET
def browse(request: HttpRequest) -> HttpResponse:
    library_admin(request)
    spec = _source_spec(request)
    try:
        listing = browse_source(open_source(spec))
    except KalanError as error:
        return render(
            request,
            "content/transfers/browse.html",
            {"spec": spec, "problem": str(error)},
            status=400,
        )
    if listing.peer_name:
        _remember_peer(spec, listing.peer_name)
    return render(request, "content/transfers/browse.html", {"spec": spec, "listing": listing})


@login_required
@require_GET
def browse_topics(request: HttpRequest, channel_id: uuid.UUID) -> HttpResponse:
    library_admin(request)
    spec = _source_spec(request)
    try:
        tree = browse_channel(open_source(spec), channel_id)
    except KalanError as error:
        return render(
            request,
            "content/transfers/channel.html",
            {"spec": spec, "problem": str(error), "channel_id": channel_id},
            status=400,
        )
    return render(
        request,
        "content/transfers/channel.html",
        {"spec": spec, "tree": tree, "channel_id": channel_id},
    )


@login_required
@require_POST
def start_import(request: HttpRequest) -> HttpResponse:
    user = library_admin(request)
    form = ImportForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a channel to import."))
        return redirect("transfers:home")
    transfer = transfers.start_import(
        source=form.cleaned_data["source"],
        channel_id=form.cleaned_data["channel"],
        topic_ids=form.cleaned_data["topic"],
        user=user,
    )
    return redirect("transfers:transfer", transfer_id=transfer.id)


# ---------------------------------------------------------------- one installed channel


@login_required
@require_http_methods(GET_AND_POST)
def export(request: HttpRequest, channel_id: uuid.UUID) -> HttpResponse:
    user = library_admin(request)
    channel = get_object_or_404(Channel, id=channel_id)
    form = ExportForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        transfer = transfers.start_export(
            channel_id=channel.id, destination=form.cleaned_data["destination"], user=user
        )
        return redirect("transfers:transfer", transfer_id=transfer.id)
    status = 400 if form.errors else 200
    return render(
        request, "content/transfers/export.html", {"channel": channel, "form": form}, status=status
    )


@login_required
@require_http_methods(GET_AND_POST)
def delete(request: HttpRequest, channel_id: uuid.UUID) -> HttpResponse:
    library_admin(request)
    channel = get_object_or_404(Channel, id=channel_id)
    if request.method == "POST":
        try:
            removed = delete_channel(channel.id)
        except KalanError as error:
            messages.error(request, str(error))
            return redirect("transfers:delete", channel_id=channel.id)
        messages.success(
            request,
            _("%(title)s was removed; %(count)d files no other channel needed were deleted.")
            % {"title": channel.title, "count": removed},
        )
        return redirect("transfers:home")
    return render(request, "content/transfers/delete.html", {"channel": channel})


# ---------------------------------------------------------------- progress


@login_required
@require_GET
def transfer(request: HttpRequest, transfer_id: uuid.UUID) -> HttpResponse:
    library_admin(request)
    row = transfers.recover_transfer(get_object_or_404(Transfer, id=transfer_id))
    context = {
        "transfer": row,
        "running": row.status in (Transfer.Status.QUEUED, Transfer.Status.RUNNING),
    }
    if request.headers.get("HX-Request"):
        return render(request, "content/transfers/_status.html", context)
    return render(request, "content/transfers/transfer.html", context)
