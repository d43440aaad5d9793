"""The library pages: channels, topics, a resource, and search with filters.

Every page needs a signed-in person (anyone else is sent to sign in); what
they may see comes from kalan.content.permissions, and a thing they may not
see, or that does not exist, is a 404. Reads go through kalan.content.selectors
in a fixed number of queries. Search is a GET form that works without script;
htmx, where it loads, refreshes the results as the person types.
"""

import uuid
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from kalan.content import permissions, selectors
from kalan.content.kinds import Kind
from kalan.content.models import Channel, ContentNode
from kalan.core.errors import NotFound


def _channel_or_404(request: HttpRequest, channel_id: uuid.UUID) -> Channel:
    try:
        return permissions.access_channel_by_id(request.user, channel_id)
    except NotFound as error:
        raise Http404 from error


def _node_or_404(request: HttpRequest, node_id: uuid.UUID) -> ContentNode:
    try:
        return permissions.access_node_by_id(request.user, node_id)
    except NotFound as error:
        raise Http404 from error


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    channels = selectors.list_library_channels(permissions.visible_channels(request.user))
    return render(request, "content/library/index.html", {"channels": channels})


@login_required
@require_safe
def channel(request: HttpRequest, channel_id: uuid.UUID) -> HttpResponse:
    page = selectors.get_channel_page(
        _channel_or_404(request, channel_id), page_number=request.GET.get("page")
    )
    return render(request, "content/library/topic.html", {"page": page, "is_channel": True})


@login_required
@require_safe
def topic(request: HttpRequest, node_id: uuid.UUID) -> HttpResponse:
    node = _node_or_404(request, node_id)
    if node.kind != Kind.TOPIC:
        return redirect("library:resource", node.id)
    if node.path == selectors.ROOT_PATH:
        return redirect("library:channel", node.channel_id)
    page = selectors.get_topic_page(node, page_number=request.GET.get("page"))
    return render(request, "content/library/topic.html", {"page": page, "is_channel": False})


def _default_caption(captions: list[selectors.StoredFile]) -> selectors.StoredFile | None:
    """The caption track in the interface language, if the resource has one."""
    language = (get_language() or "").split("-")[0].lower()
    return next((c for c in captions if c.language.split("-")[0].lower() == language), None)


@login_required
@require_safe
def resource(request: HttpRequest, node_id: uuid.UUID) -> HttpResponse:
    node = _node_or_404(request, node_id)
    if node.kind == Kind.TOPIC:
        return redirect("library:topic", node.id)
    page = selectors.get_resource_page(node)
    context = {
        "page": page,
        # Video and audio play in the page; every other kind opens in its player.
        "play_url": None if page.is_media else reverse("players:play", args=[node.id]),
        "default_caption": _default_caption(page.captions),
    }
    return render(request, "content/library/resource.html", context)


# ---------------------------------------------------------------- search


class LibrarySearchForm(forms.Form):
    """Words and filters; every field is optional and every choice exists in the library."""

    q = forms.CharField(
        label=_("Words"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    grade = forms.ChoiceField(label=_("Grade"), required=False)
    subject = forms.ChoiceField(label=_("Subject"), required=False)
    language = forms.ChoiceField(label=_("Language"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False)

    def __init__(self, data: Any, *, facets: selectors.SearchFacets) -> None:
        super().__init__(data)
        self._set_choices("grade", gettext("Any grade"), [(g, g) for g in facets.grades])
        self._set_choices("subject", gettext("Any subject"), [(s, s) for s in facets.subjects])
        self._set_choices(
            "language",
            gettext("Any language"),
            [(code, selectors.language_name(code)) for code in facets.languages],
        )
        self._set_choices(
            "kind", gettext("Any kind"), [(k, selectors.kind_label(k)) for k in facets.kinds]
        )
        self._set_choices(
            "channel", gettext("Any channel"), [(str(id_), title) for id_, title in facets.channels]
        )

    def _set_choices(self, name: str, anything: str, choices: list[tuple[str, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", anything), *choices]

    def criteria(self) -> selectors.SearchCriteria:
        """What was asked, leaving out any field that did not validate."""
        if not self.is_bound:
            return selectors.SearchCriteria()
        self.is_valid()
        data = self.cleaned_data
        channel = data.get("channel")
        return selectors.SearchCriteria(
            q=data.get("q") or "",
            grade=data.get("grade") or "",
            subject=data.get("subject") or "",
            language=data.get("language") or "",
            kind=data.get("kind") or "",
            channel=uuid.UUID(channel) if channel else None,
        )


@login_required
@require_safe
def search(request: HttpRequest) -> HttpResponse:
    facets = selectors.get_search_facets(permissions.visible_channels(request.user))
    form = LibrarySearchForm(request.GET or None, facets=facets)
    criteria = form.criteria()
    results = None
    if not criteria.is_empty:
        results = selectors.search_resources(
            [channel_id for channel_id, _ in facets.channels],
            criteria,
            page_number=request.GET.get("page"),
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "results": results, "query": query.urlencode()}
    return render(request, "content/library/search.html", context)
