"""The page builder: a school makes a local channel from files it uploads.

A draft (Draft, DraftNode) holds topics and resources. An uploaded file is
inspected first, from the upload's temporary file, with the same checks as
`kalan content build`; only a file that passes enters the hub's store, so a
refused upload leaves nothing behind. A file leaves the store when nothing
uses it any more (no draft, no installed channel). Publishing and exporting
are in authoring_publish.

Inspection loads heavy libraries (pypdf, PDFium, ebooklib): it is imported
inside the functions that need it, so pages never pay for it.
"""

import re
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kalan.accounts.models import User
from kalan.content.importer import remove_unused_files
from kalan.content.kinds import Accessibility, Kind
from kalan.content.models import Channel, Draft, DraftNode
from kalan.content.store import Installed, LibraryFolder, hub_library
from kalan.core.errors import ValidationFailed
from kalan.schools.models import School

if TYPE_CHECKING:
    from kalan.content.inspect import Inspection

# Uploads larger than this are refused while they arrive (KALAN_UPLOAD_MAX_BYTES).
DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024
CAPTION_KINDS = frozenset({Kind.VIDEO, Kind.AUDIO})
CAPTION_SUFFIXES = frozenset({".vtt", ".srt"})
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
# Licences offered in the page; the value is written into the manifest as is.
LICENCES = [
    ("CC BY 4.0", gettext_lazy("CC BY 4.0 (attribution)")),
    ("CC BY-SA 4.0", gettext_lazy("CC BY-SA 4.0 (attribution, share alike)")),
    ("CC BY-NC 4.0", gettext_lazy("CC BY-NC 4.0 (attribution, non-commercial)")),
    ("CC BY-NC-SA 4.0", gettext_lazy("CC BY-NC-SA 4.0 (attribution, non-commercial, share alike)")),
    ("CC BY-ND 4.0", gettext_lazy("CC BY-ND 4.0 (attribution, no changes)")),
    ("CC BY-NC-ND 4.0", gettext_lazy("CC BY-NC-ND 4.0 (attribution, non-commercial, no changes)")),
    ("CC0 1.0", gettext_lazy("CC0 1.0 (no rights reserved)")),
    ("Public domain", gettext_lazy("Public domain")),
    ("All rights reserved", gettext_lazy("All rights reserved (used with permission)")),
]
LIST_FIELDS = ("grade_levels", "subjects", "curriculum_codes", "accessibility")
TEXT_FIELDS = ("title", "description", "language", "licence", "author", "attribution")


def max_upload_bytes() -> int:
    return int(getattr(settings, "KALAN_UPLOAD_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def _touch(draft_id: uuid.UUID) -> None:
    """Record that the draft changed (pages compare it with the last publication)."""
    Draft.objects.filter(id=draft_id).update(updated_at=timezone.now())


def _files_of(nodes: Iterable[DraftNode]) -> set[str]:
    """Every stored file the nodes use: main files, captions, thumbnails."""
    shas: set[str] = set()
    for node in nodes:
        if node.file_sha256:
            shas.add(node.file_sha256)
        shas |= {str(c["sha256"]) for c in node.captions or [] if c.get("sha256")}
        if thumbnail := (node.inspection or {}).get("thumbnail"):
            shas.add(str(thumbnail))
    return shas


def _drop_unused(shas: set[str]) -> None:
    if shas:
        remove_unused_files(shas, hub_library())


# ---------------------------------------------------------------- drafts


def create_draft(
    *,
    school_id: uuid.UUID,
    title: str,
    created_by: User | None,
    description: str = "",
    language: str = "",
    licence: str = "",
) -> Draft:
    return Draft.objects.create(
        school_id=school_id,
        title=title.strip(),
        description=description.strip(),
        language=language,
        licence=licence,
        created_by=created_by,
    )


def update_draft(
    *, draft: Draft, title: str, description: str = "", language: str = "", licence: str = ""
) -> Draft:
    draft.title, draft.description = title.strip(), description.strip()
    draft.language, draft.licence = language, licence
    draft.save(update_fields=["title", "description", "language", "licence", "updated_at"])
    return draft


def delete_draft(*, draft: Draft) -> None:
    """Delete the draft and the files only it used; a published channel stays installed."""
    shas = _files_of(draft.nodes.all())
    draft.delete()
    _drop_unused(shas)


# ---------------------------------------------------------------- topics and resources


def _check_parent(draft_id: uuid.UUID, parent: DraftNode | None) -> None:
    if parent is not None and (parent.draft_id != draft_id or parent.kind != Kind.TOPIC):
        raise ValidationFailed(_("Files and topics can only go into a topic of this channel."))


def _next_position(draft_id: uuid.UUID, parent_id: uuid.UUID | None) -> int:
    last = DraftNode.objects.filter(draft_id=draft_id, parent_id=parent_id).aggregate(
        last=Max("position")
    )["last"]
    return 0 if last is None else last + 1


def add_topic(
    *, draft: Draft, title: str, parent: DraftNode | None = None, description: str = ""
) -> DraftNode:
    """A new topic at the end of `parent` (None: the top level). Raises ValidationFailed."""
    _check_parent(draft.id, parent)
    parent_id = parent.id if parent else None
    with transaction.atomic():
        node = DraftNode.objects.create(
            draft=draft,
            parent=parent,
            position=_next_position(draft.id, parent_id),
            kind=Kind.TOPIC,
            title=title.strip(),
            description=description.strip(),
        )
        _touch(draft.id)
    return node


def _safe_name(file_name: str) -> str:
    """The uploaded file's own name, without folders or control characters, <= 200 chars."""
    name = "".join(c for c in Path(file_name.replace("\\", "/")).name if c.isprintable()).strip()
    if not name or name.startswith("."):
        name = f"upload{name}"
    if len(name) > 200:
        suffix = "".join(Path(name).suffixes)[-40:]
        name = name[: 200 - len(suffix)] + suffix
    return name


@contextmanager
def _under_name(path: Path, name: str) -> Iterator[Path]:
    """`path` seen under the name it was uploaded with: kinds are told apart by names."""
    with tempfile.TemporaryDirectory(prefix="kalan-upload-") as folder:
        named = Path(folder) / name
        named.symlink_to(path.resolve())
        yield named


def _inspect_upload(path: Path, name: str) -> "Inspection":
    """What the file is, with the checks of `kalan content build`. Raises InvalidFile."""
    from kalan.content.inspect import InvalidFile, detect_kind, inspect_file

    with _under_name(path, name) as named:
        kind = detect_kind(named)
        if kind is None and named.suffix.lower() not in CAPTION_SUFFIXES:
            raise InvalidFile(
                _(
                    "%(name)s: Kalan cannot play this kind of file (videos, audio, PDF, EPUB,"
                    " HTML5, H5P, SCORM and cmi5 packages, ZIM archives and exercises)."
                )
                % {"name": name}
            )
        try:
            return inspect_file(named, kind)
        except InvalidFile as error:
            message = _("%(name)s: %(reason)s") % {"name": name, "reason": error}
            raise InvalidFile(message) from error


def _install(library: LibraryFolder, installed: list[Installed], data: Path | bytes) -> Installed:
    done = library.install_bytes(data) if isinstance(data, bytes) else library.install_path(data)
    installed.append(done)
    return done


def upload_resource(
    *, draft: Draft, path: Path, file_name: str, parent: DraftNode | None = None
) -> DraftNode:
    """Inspect the file at `path`, store it and add it to the draft as a resource.

    The title, description, language, author and accessibility features found
    in the file are the resource's first description. Raises InvalidFile (a
    kind Kalan cannot play, or a file inspection refuses: nothing is stored),
    ValidationFailed (a parent outside the draft), StoreError (disk full).
    """
    from kalan.content.builder import _title_from_name

    _check_parent(draft.id, parent)
    name = _safe_name(file_name)
    from kalan.content.inspect import InvalidFile

    inspection = _inspect_upload(path, name)
    stored: Path | bytes = path
    conversion = inspection.conversion
    if conversion is not None:  # a QTI package: kept as the exercise it becomes
        if conversion.files:
            raise InvalidFile(
                _(
                    "%(name)s: its items show pictures or play sounds, which a page of the"
                    " builder cannot carry yet. Put the package in a channel's folder and"
                    " build the channel (kalan content build)."
                )
                % {"name": name}
            )
        stored, name = conversion.data, f"{Path(name).stem}.exercise.{conversion.ext}"
    library = hub_library()
    installed: list[Installed] = []
    try:
        main = _install(library, installed, stored)
        thumbnail = (
            _install(library, installed, inspection.thumbnail) if inspection.thumbnail else None
        )
        with transaction.atomic():
            node = DraftNode.objects.create(
                draft=draft,
                parent=parent,
                position=_next_position(draft.id, parent.id if parent else None),
                kind=inspection.kind,
                title=(inspection.title or _title_from_name(Path(name).stem))[:300],
                description=inspection.description,
                language=inspection.language[:16],
                author=inspection.author[:300],
                accessibility=sorted(set(inspection.accessibility)),
                file_sha256=main.sha256,
                file_name=name,
                file_size=main.size,
                inspection=_inspection_json(inspection, thumbnail),
            )
            _touch(draft.id)
    except BaseException:
        _drop_unused({done.sha256 for done in installed if done.new})
        raise
    return node


def _inspection_json(inspection: "Inspection", thumbnail: Installed | None) -> dict[str, Any]:
    return {
        "kind": inspection.kind,
        "duration": inspection.duration,
        "page_count": inspection.page_count,
        "text": inspection.text,
        "entry": inspection.entry,
        "options": inspection.options,
        "thumbnail": thumbnail.sha256 if thumbnail else None,
        "thumbnail_ext": (inspection.thumbnail_ext or "png") if thumbnail else "",
    }


def attach_caption(
    *, node: DraftNode, path: Path, file_name: str, language: str, label: str = ""
) -> DraftNode:
    """Add (or replace) the captions of a video or audio in one language.

    SRT is converted to WebVTT; the captions are stored as WebVTT. Raises
    ValidationFailed (not a video or audio, not a .vtt or .srt file, a bad
    language code) and InvalidFile (captions that cannot be read).
    """
    from kalan.content.inspect import InvalidFile, caption_to_vtt

    if node.kind not in CAPTION_KINDS:
        raise ValidationFailed(_("Only videos and audio recordings can have captions."))
    if not LANGUAGE_CODE.match(language):
        raise ValidationFailed(_("Give the language of the captions as a code, e.g. fr or bm."))
    name = _safe_name(file_name)
    if Path(name).suffix.lower() not in CAPTION_SUFFIXES:
        raise ValidationFailed(
            _("%(name)s: captions must be a WebVTT (.vtt) or SubRip (.srt) file.") % {"name": name}
        )
    with _under_name(path, name) as named:
        try:
            vtt = caption_to_vtt(named)
        except InvalidFile as error:
            message = _("%(name)s: %(reason)s") % {"name": name, "reason": error}
            raise InvalidFile(message) from error
    stored = hub_library().install_bytes(vtt)
    replaced = {str(c["sha256"]) for c in node.captions if c.get("language") == language}
    entry = {"sha256": stored.sha256, "size": stored.size, "language": language, "label": label}
    node.captions = [c for c in node.captions if c.get("language") != language] + [entry]
    if Accessibility.CAPTIONS not in node.accessibility:
        node.accessibility = sorted({*node.accessibility, Accessibility.CAPTIONS})
    with transaction.atomic():
        node.save(update_fields=["captions", "accessibility"])
        _touch(node.draft_id)
    _drop_unused(replaced - {stored.sha256})
    return node


def remove_caption(*, node: DraftNode, language: str) -> DraftNode:
    removed = {str(c["sha256"]) for c in node.captions if c.get("language") == language}
    node.captions = [c for c in node.captions if c.get("language") != language]
    with transaction.atomic():
        node.save(update_fields=["captions"])
        _touch(node.draft_id)
    _drop_unused(removed)
    return node


def clean_list(values: Iterable[str]) -> list[str]:
    """Texts stripped, without blanks or repeats, each at most 100 characters."""
    return list(dict.fromkeys(v.strip()[:100] for v in values if v.strip()))


def update_node(*, node: DraftNode, **fields: Any) -> DraftNode:
    """Describe a topic (title, description) or a resource (every field of the manifest).

    Raises ValidationFailed for a field a topic does not have, an unknown
    accessibility feature or a blank title.
    """
    allowed = {"title", "description"} if node.kind == Kind.TOPIC else {*TEXT_FIELDS, *LIST_FIELDS}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(_("A topic has only a title and a description."))
    if "title" in fields and not str(fields["title"]).strip():
        raise ValidationFailed(_("Give it a title."), [_("title: Give it a title.")])
    for name in LIST_FIELDS:
        if name in fields:
            fields[name] = clean_list(fields[name])
    if set(fields.get("accessibility", [])) - set(Accessibility.values):
        raise ValidationFailed(_("Choose accessibility features from the list."))
    for name, value in fields.items():
        setattr(node, name, value.strip() if isinstance(value, str) else value)
    with transaction.atomic():
        node.save(update_fields=list(fields))
        _touch(node.draft_id)
    return node


def _siblings(node: DraftNode) -> list[DraftNode]:
    return list(
        DraftNode.objects.filter(draft_id=node.draft_id, parent_id=node.parent_id)
        .only("id", "position")
        .order_by("position", "id")
    )


def _renumber(nodes: list[DraftNode]) -> None:
    for position, sibling in enumerate(nodes):
        sibling.position = position
    DraftNode.objects.bulk_update(nodes, ["position"])


def move_node(*, node: DraftNode, direction: str) -> bool:
    """Move the node one place "up" or "down" among its siblings; False at either end."""
    if direction not in {"up", "down"}:
        raise ValidationFailed(_("A node moves up or down."))
    with transaction.atomic():
        siblings = _siblings(node)
        index = next(i for i, sibling in enumerate(siblings) if sibling.id == node.id)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(siblings):
            return False
        siblings[index], siblings[other] = siblings[other], siblings[index]
        _renumber(siblings)
        _touch(node.draft_id)
    return True


def move_node_into(*, node: DraftNode, topic: DraftNode | None) -> DraftNode:
    """Move the node to the end of `topic` (None: the top level).

    Raises ValidationFailed for a topic of another draft, a resource, or the
    node itself or one of its own subtopics.
    """
    draft_id = node.draft_id
    _check_parent(draft_id, topic)
    if topic is not None:
        parents = dict(DraftNode.objects.filter(draft_id=draft_id).values_list("id", "parent_id"))
        ancestor: uuid.UUID | None = topic.id
        while ancestor is not None:
            if ancestor == node.id:
                raise ValidationFailed(_("A topic cannot go into itself or one of its subtopics."))
            ancestor = parents.get(ancestor)
    target = topic.id if topic else None
    if node.parent_id == target:
        return node
    with transaction.atomic():
        node.parent_id = target
        node.position = _next_position(draft_id, target)
        node.save(update_fields=["parent", "position"])
        _touch(draft_id)
    return node


def delete_node(*, node: DraftNode) -> int:
    """Delete the node and, for a topic, everything in it; returns how many nodes went.

    Files nothing else uses (another draft, an installed channel) leave the store.
    """
    rows = list(DraftNode.objects.filter(draft_id=node.draft_id))
    children: dict[uuid.UUID | None, list[DraftNode]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    subtree, stack = [], [node]
    while stack:
        current = stack.pop()
        subtree.append(current)
        stack.extend(children.get(current.id, []))
    ids = {n.id for n in subtree}
    shas = _files_of(row for row in rows if row.id in ids)
    with transaction.atomic():
        DraftNode.objects.filter(id__in=ids).delete()
        _touch(node.draft_id)
    _drop_unused(shas)
    return len(subtree)


# ---------------------------------------------------------------- reading a draft


@dataclass(frozen=True)
class DraftRow:
    """A draft in the list of a person's local channels."""

    id: uuid.UUID
    title: str
    school: str
    resources: int
    version: int  # of the installed channel; 0 when it is not published


def list_drafts(drafts: QuerySet[Draft]) -> list[DraftRow]:
    """The drafts by title, with their school, resource count and published version.

    Three queries, whatever the number of drafts.
    """
    rows = list(
        drafts.annotate(resources=Count("nodes", filter=~Q(nodes__kind=Kind.TOPIC)))
        .order_by("title")
        .values_list("id", "title", "school_id", "resources")
    )
    schools = dict(School.objects.filter(id__in={row[2] for row in rows}).values_list("id", "name"))
    versions = dict(
        Channel.objects.filter(id__in=[row[0] for row in rows]).values_list("id", "version")
    )
    return [
        DraftRow(id, title, schools.get(school_id, ""), resources, versions.get(id, 0))
        for id, title, school_id, resources in rows
    ]


@dataclass
class TreeItem:
    """A topic or resource of a draft, with what is in it, as the draft page shows it."""

    node: DraftNode
    depth: int
    first: bool
    last: bool
    children: list["TreeItem"] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Outline:
    """A draft read in one query: its tree, its topics for choices, what stops publishing."""

    items: list[TreeItem]
    topics: list[tuple[uuid.UUID, str]]  # (id, title indented by depth)
    problems: list["Problem"]


def _nest(nodes: list[DraftNode]) -> list[TreeItem]:
    children: dict[uuid.UUID | None, list[DraftNode]] = {}
    for node in sorted(nodes, key=lambda n: (n.position, str(n.id))):
        children.setdefault(node.parent_id, []).append(node)

    def items(parent_id: uuid.UUID | None, depth: int) -> list[TreeItem]:
        siblings = children.get(parent_id, [])
        return [
            TreeItem(node, depth, i == 0, i == len(siblings) - 1, items(node.id, depth + 1))
            for i, node in enumerate(siblings)
        ]

    return items(None, 0)


def _walk(items: list[TreeItem]) -> Iterator[TreeItem]:
    for item in items:
        yield item
        yield from _walk(item.children)


def _topic_choices(items: list[TreeItem]) -> list[tuple[uuid.UUID, str]]:
    return [
        (item.node.id, "\u2014 " * item.depth + item.node.title)
        for item in _walk(items)
        if item.node.kind == Kind.TOPIC
    ]


def get_outline(draft: Draft) -> Outline:
    """The whole draft for its page (the inspection text is left out)."""
    nodes = list(DraftNode.objects.filter(draft=draft).defer("inspection"))
    items = _nest(nodes)
    problems = check_draft(draft, nodes)
    by_node = {item.node.id: item for item in _walk(items)}
    for problem in problems:
        if problem.node_id in by_node:
            by_node[problem.node_id].problems.append(problem.message)
    return Outline(items, _topic_choices(items), problems)


def list_topics(draft: Draft) -> list[tuple[uuid.UUID, str]]:
    """(id, title indented by depth) of every topic, for "put it in" choices."""
    topics = DraftNode.objects.filter(draft=draft, kind=Kind.TOPIC)
    return _topic_choices(_nest(list(topics.only("id", "parent_id", "position", "title"))))


@dataclass(frozen=True)
class Problem:
    """Something to complete before publishing; `node_id` names the resource concerned."""

    message: str
    node_id: uuid.UUID | None = None


def check_draft(draft: Draft, nodes: list[DraftNode] | None = None) -> list[Problem]:
    """What stops the draft from being published: no resource, no title, no licence."""
    if nodes is None:
        nodes = list(DraftNode.objects.filter(draft=draft).defer("inspection"))
    resources = [node for node in nodes if node.kind != Kind.TOPIC]
    problems: list[Problem] = []
    if not draft.title.strip():
        problems.append(Problem(_("The channel has no title.")))
    if not resources:
        problems.append(Problem(_("Add at least one file.")))
    library = hub_library()
    for node in resources:
        label = node.title or node.file_name
        if not node.title.strip():
            problems.append(
                Problem(_("%(file)s has no title.") % {"file": node.file_name}, node.id)
            )
        if not (node.licence or draft.licence):
            problems.append(
                Problem(
                    _("“%(title)s” has no licence: choose one for it or for the whole channel.")
                    % {"title": label},
                    node.id,
                )
            )
        if not library.has(node.file_sha256):
            problems.append(
                Problem(
                    _("The file of “%(title)s” is no longer on this hub: upload it again.")
                    % {"title": label},
                    node.id,
                )
            )
    return problems


def file_ext(file_name: str) -> str:
    return Path(file_name).suffix.lstrip(".").lower()


def published_channel(draft: Draft) -> Channel | None:
    return Channel.objects.filter(id=draft.id).first()
