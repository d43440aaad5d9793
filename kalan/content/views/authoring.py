"""The page builder: school admins and teachers make, publish and export local channels.

Every view finds the draft through kalan.content.authoring_permissions: a
draft of another school is reported as not found, so ids do not leak, and
learners, parents and area viewers get a 404 everywhere. Uploads are written
to a temporary file while they arrive (never held in memory), refused past the
size limit, and inspected before anything is stored.
"""

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language_info
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kalan.accounts.models import User
from kalan.content import authoring, authoring_publish
from kalan.content.authoring_forms import (
    CaptionForm,
    DraftForm,
    ExportForm,
    MoveIntoForm,
    NewDraftForm,
    ResourceForm,
    TopicEditForm,
    TopicForm,
    UploadForm,
    show_service_error,
)
from kalan.content.authoring_permissions import (
    access_draft_by_id,
    access_draft_node_by_id,
    authoring_schools,
    can_author,
    visible_drafts,
)
from kalan.content.kinds import Kind
from kalan.content.models import Draft, DraftNode
from kalan.content.upload_handlers import SizeLimit, stream_to_disk, upload_path
from kalan.core.errors import KalanError, NotFound, ValidationFailed

GET_AND_POST = ["GET", "POST"]


# ---------------------------------------------------------------- access


def _author(request: HttpRequest) -> User:
    """The signed-in person, if they may author for some school; anyone else gets a 404."""
    user = request.user
    if not isinstance(user, User) or not can_author(user):
        raise Http404
    return user


def _draft(request: HttpRequest, draft_id: uuid.UUID) -> Draft:
    try:
        return access_draft_by_id(_author(request), draft_id)
    except NotFound as error:
        raise Http404 from error


def _node(request: HttpRequest, draft: Draft, node_id: uuid.UUID) -> DraftNode:
    try:
        return access_draft_node_by_id(_author(request), draft.id, node_id)
    except NotFound as error:
        raise Http404 from error


def _topic(draft: Draft, topic_id: uuid.UUID | None) -> DraftNode | None:
    if topic_id is None:
        return None
    topic = DraftNode.objects.filter(draft=draft, id=topic_id, kind=Kind.TOPIC).first()
    if topic is None:
        raise ValidationFailed(_("That topic is no longer in the channel."))
    return topic


def _draft_url(draft: Draft, node: DraftNode | None = None) -> str:
    url = reverse("authoring:draft", args=[draft.id])
    return f"{url}#node-{node.id}" if node else url


def _node_url(node: DraftNode) -> str:
    return reverse("authoring:node", args=[node.draft_id, node.id])


def library_url(channel_id: uuid.UUID) -> str | None:
    """The channel's page in the library, when the library pages are installed."""
    for name, args in (("library:channel", [channel_id]), ("library:index", [])):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    return None


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, f"content/authoring/{template}", context, status=status)


# ---------------------------------------------------------------- the list of drafts


def _school_choices(user: User) -> list[tuple[uuid.UUID, str]]:
    return list(authoring_schools(user).values_list("id", "name"))


def _home(request: HttpRequest, form: NewDraftForm | None = None) -> HttpResponse:
    user = _author(request)
    rows = authoring.list_drafts(visible_drafts(user))
    form = form or NewDraftForm(schools=_school_choices(user))
    show_school = len({row.school for row in rows}) > 1
    linked = [(row, library_url(row.id) if row.version else None) for row in rows]
    context = {"rows": linked, "form": form, "show_school": show_school}
    return _render(request, "home.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _home(request)


@login_required
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    user = _author(request)
    form = NewDraftForm(request.POST, schools=_school_choices(user))
    if not form.is_valid():
        return _home(request, form)
    draft = authoring.create_draft(
        school_id=form.cleaned_data["school"], title=form.cleaned_data["title"], created_by=user
    )
    messages.success(request, _("“%(title)s” was created. Add files to it.") % {"title": draft})
    return redirect("authoring:draft", draft.id)


# ---------------------------------------------------------------- one draft


def _draft_page(
    request: HttpRequest,
    draft: Draft,
    *,
    upload_form: UploadForm | None = None,
    topic_form: TopicForm | None = None,
) -> HttpResponse:
    outline = authoring.get_outline(draft)
    channel = authoring.published_channel(draft)
    context = {
        "draft": draft,
        "outline": outline,
        "channel": channel,
        "changed": channel is not None and draft.updated_at > channel.imported_at,
        "library_url": library_url(draft.id) if channel else None,
        "upload_form": upload_form or UploadForm(topics=outline.topics),
        "topic_form": topic_form or TopicForm(topics=outline.topics, prefix="topic"),
        "max_upload": authoring.max_upload_bytes(),
    }
    failed = any(f is not None and f.errors for f in (upload_form, topic_form))
    return _render(request, "draft.html", context, status=400 if failed else 200)


@login_required
@require_GET
def draft_page(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    return _draft_page(request, _draft(request, draft_id))


@login_required
@require_http_methods(GET_AND_POST)
def draft_edit(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    initial = {name: getattr(draft, name) for name in DraftForm.base_fields}
    form = DraftForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        authoring.update_draft(draft=draft, **form.cleaned_data)
        messages.success(request, _("The details of the channel were saved."))
        return redirect("authoring:draft", draft.id)
    context = {"draft": draft, "form": form}
    return _render(request, "draft_form.html", context, status=400 if form.errors else 200)


@login_required
@require_http_methods(GET_AND_POST)
def draft_delete(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    if request.method == "POST":
        authoring.delete_draft(draft=draft)
        messages.success(request, _("“%(title)s” was deleted.") % {"title": draft.title})
        return redirect("authoring:home")
    ask = {
        "title": _("Delete “%(title)s”") % {"title": draft.title},
        "question": _(
            "Delete this draft and the files only it uses? A published channel stays in"
            " the library."
        ),
        "button": _("Delete the draft"),
        "back": _draft_url(draft),
    }
    return _render(request, "confirm.html", {"draft": draft, "ask": ask})


@login_required
@require_POST
def topic_add(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    form = TopicForm(request.POST, topics=authoring.list_topics(draft), prefix="topic")
    if form.is_valid():
        try:
            node = authoring.add_topic(
                draft=draft,
                title=form.cleaned_data["title"],
                parent=_topic(draft, form.cleaned_data["parent"]),
            )
        except ValidationFailed as error:
            form.add_error("parent", str(error))
        else:
            messages.success(request, _("The topic “%(title)s” was added.") % {"title": node})
            return redirect(_draft_url(draft, node))
    return _draft_page(request, draft, topic_form=form)


# ---------------------------------------------------------------- uploads


@csrf_exempt  # the CSRF check runs in _upload, once the upload handlers are in place
@login_required
@require_POST
def upload(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)  # before the body is read: others send nothing to disk
    return _upload(request, draft, stream_to_disk(request, authoring.max_upload_bytes()))


@csrf_protect
def _upload(request: HttpRequest, draft: Draft, limit: SizeLimit) -> HttpResponse:
    files = request.FILES  # reads the body: the size limit is known after this
    too_large = limit.limit if limit.refused else 0
    form = UploadForm(request.POST, files, topics=authoring.list_topics(draft), too_large=too_large)
    if not form.is_valid():
        return _draft_page(request, draft, upload_form=form)
    upload_file = form.cleaned_data["file"]
    try:
        with upload_path(upload_file) as path:
            node = authoring.upload_resource(
                draft=draft,
                path=path,
                file_name=upload_file.name or "",
                parent=_topic(draft, form.cleaned_data["parent"]),
            )
    except KalanError as error:
        form.add_error("file", str(error))
        return _draft_page(request, draft, upload_form=form)
    messages.success(
        request,
        _("“%(name)s” was added. Describe it, then publish the channel.")
        % {"name": node.file_name},
    )
    return redirect(_node_url(node))


# ---------------------------------------------------------------- one topic or resource


def _node_form(node: DraftNode, data: Any = None) -> forms.Form:
    if node.kind == Kind.TOPIC:
        initial = {"title": node.title, "description": node.description}
        return TopicEditForm(data, initial=initial)
    initial = {name: getattr(node, name) for name in ResourceForm.base_fields}
    return ResourceForm(data, initial=initial)


def _node_page(
    request: HttpRequest,
    draft: Draft,
    node: DraftNode,
    *,
    form: forms.Form | None = None,
    caption_form: CaptionForm | None = None,
) -> HttpResponse:
    topics = [t for t in authoring.list_topics(draft) if t[0] != node.id]
    move_form = MoveIntoForm(
        topics=topics, initial={"parent": str(node.parent_id or "")}, prefix="move"
    )
    context = {
        "draft": draft,
        "node": node,
        "form": form or _node_form(node),
        "move_form": move_form,
        "caption_form": caption_form or CaptionForm(),
        "can_caption": node.kind in authoring.CAPTION_KINDS,
        "facts": node.inspection or {},
        "ext": authoring.file_ext(node.file_name),
    }
    failed = any(f is not None and f.errors for f in (form, caption_form))
    return _render(request, "node.html", context, status=400 if failed else 200)


@login_required
@require_http_methods(GET_AND_POST)
def node_page(request: HttpRequest, draft_id: uuid.UUID, node_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    node = _node(request, draft, node_id)
    if request.method != "POST":
        return _node_page(request, draft, node)
    form = _node_form(node, request.POST)
    if form.is_valid():
        try:
            authoring.update_node(node=node, **form.cleaned_data)
        except ValidationFailed as error:
            show_service_error(form, error)
        else:
            messages.success(request, _("“%(title)s” was saved.") % {"title": node.title})
            return redirect(_draft_url(draft, node))
    return _node_page(request, draft, node, form=form)


@login_required
@require_POST
def node_move(request: HttpRequest, draft_id: uuid.UUID, node_id: uuid.UUID) -> HttpResponse:
    """Up or down among its siblings (`direction`), or into a topic (`move-parent`)."""
    draft = _draft(request, draft_id)
    node = _node(request, draft, node_id)
    direction = request.POST.get("direction", "")
    try:
        if direction:
            authoring.move_node(node=node, direction=direction)
        else:
            topics = [t for t in authoring.list_topics(draft) if t[0] != node.id]
            form = MoveIntoForm(request.POST, topics=topics, prefix="move")
            if not form.is_valid():
                raise ValidationFailed(_("Choose a topic of this channel."))
            authoring.move_node_into(node=node, topic=_topic(draft, form.cleaned_data["parent"]))
            messages.success(request, _("“%(title)s” was moved.") % {"title": node.title})
    except ValidationFailed as error:
        messages.error(request, str(error))
    return redirect(_draft_url(draft, node))


@login_required
@require_http_methods(GET_AND_POST)
def node_delete(request: HttpRequest, draft_id: uuid.UUID, node_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    node = _node(request, draft, node_id)
    if request.method == "POST":
        authoring.delete_node(node=node)
        messages.success(request, _("“%(title)s” was removed.") % {"title": node.title})
        return redirect("authoring:draft", draft.id)
    question = (
        _("Remove the topic “%(title)s” and everything in it from the channel?")
        if node.kind == Kind.TOPIC
        else _("Remove “%(title)s” from the channel?")
    )
    ask = {
        "title": _("Remove “%(title)s”") % {"title": node.title},
        "question": question % {"title": node.title},
        "button": _("Remove"),
        "back": _node_url(node),
    }
    return _render(request, "confirm.html", {"draft": draft, "ask": ask})


@csrf_exempt  # the CSRF check runs in _caption_add, once the upload handlers are in place
@login_required
@require_POST
def caption_add(request: HttpRequest, draft_id: uuid.UUID, node_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    node = _node(request, draft, node_id)
    if node.kind not in authoring.CAPTION_KINDS:
        messages.error(request, _("Only videos and audio recordings can have captions."))
        return redirect(_node_url(node))
    return _caption_add(request, draft, node, stream_to_disk(request, authoring.max_upload_bytes()))


@csrf_protect
def _caption_add(
    request: HttpRequest, draft: Draft, node: DraftNode, limit: SizeLimit
) -> HttpResponse:
    form = CaptionForm(request.POST, request.FILES)  # reads the body, then the limit is known
    if limit.refused:
        form.add_error("caption_file", _("The file is too large."))
    if not form.is_valid():
        return _node_page(request, draft, node, caption_form=form)
    data = form.cleaned_data
    try:
        with upload_path(data["caption_file"]) as path:
            authoring.attach_caption(
                node=node,
                path=path,
                file_name=data["caption_file"].name or "",
                language=data["caption_language"],
                label=data["caption_label"] or _language_name(data["caption_language"]),
            )
    except KalanError as error:
        form.add_error("caption_file", str(error))
        return _node_page(request, draft, node, caption_form=form)
    messages.success(request, _("The captions were added."))
    return redirect(_node_url(node))


def _language_name(code: str) -> str:
    """The language's own name for itself (français, русский), else the code."""
    try:
        return str(get_language_info(code)["name_local"])
    except KeyError:
        return code


@login_required
@require_POST
def caption_remove(
    request: HttpRequest, draft_id: uuid.UUID, node_id: uuid.UUID, language: str
) -> HttpResponse:
    draft = _draft(request, draft_id)
    node = _node(request, draft, node_id)
    authoring.remove_caption(node=node, language=language)
    messages.success(request, _("The captions were removed."))
    return redirect(_node_url(node))


# ---------------------------------------------------------------- publish and export


@login_required
@require_http_methods(GET_AND_POST)
def publish(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    problems = authoring.check_draft(draft)
    error = ""
    if request.method == "POST" and not problems:
        try:
            report = authoring_publish.publish_draft(draft=draft)
        except authoring_publish.DraftNotReady:
            problems = authoring.check_draft(draft)
        except KalanError as failure:
            error = str(failure)
        else:
            messages.success(request, _published(report))
            return redirect("authoring:draft", draft.id)
    context = {
        "draft": draft,
        "problems": problems,
        "error": error,
        "channel": authoring.published_channel(draft),
    }
    failed = request.method == "POST"
    return _render(request, "publish.html", context, status=400 if failed else 200)


def _published(report: authoring_publish.PublishReport) -> str:
    return _(
        "Version %(version)s is published: %(resources)s resources,"
        " %(new)s new files of %(files)s. It is in the library now."
    ) % {
        "version": report.version,
        "resources": report.resources,
        "new": report.new_files,
        "files": report.files,
    }


@login_required
@require_http_methods(GET_AND_POST)
def export(request: HttpRequest, draft_id: uuid.UUID) -> HttpResponse:
    draft = _draft(request, draft_id)
    channel = authoring.published_channel(draft)
    if channel is None:
        messages.error(request, _("Publish the channel before exporting it."))
        return redirect("authoring:draft", draft.id)
    form = ExportForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        destination = form.cleaned_data["destination"]
        try:
            report = authoring_publish.export_draft(draft=draft, destination=destination)
        except ValidationFailed as error:
            show_service_error(form, error)
        else:
            messages.success(
                request,
                _(
                    "Version %(version)s was exported to %(path)s: %(copied)s files copied,"
                    " %(present)s already there."
                )
                % {
                    "version": report.version,
                    "path": destination,
                    "copied": report.files_copied,
                    "present": report.files_present,
                },
            )
            return redirect("authoring:draft", draft.id)
    context = {
        "draft": draft,
        "channel": channel,
        "form": form,
        "mounted": authoring_publish.mounted_folders(),
    }
    return _render(request, "export.html", context, status=400 if form.errors else 200)
