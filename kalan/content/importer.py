"""Import a channel from a source into this instance's library.

The order of work is what makes an import safe to interrupt:
1. the manifest is verified (signature, shape, publisher key pinned at the first
   import, no downgrade) before anything is written;
2. free disk space is checked against the files still missing;
3. each missing file is copied into the store through `LibraryFolder.install`
   (hashed, then renamed into place), so a kill leaves no damaged file;
4. the database rows and the manifest are written in one transaction;
5. files that no channel needs any more are removed.
A rerun after a kill finds the files already copied and copies only the rest.
A damaged file (wrong digest) stops the import and removes what this run
copied; a source that goes away keeps it, so the rerun resumes.
"""

import fcntl
import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from kalan.content import search
from kalan.content.kinds import Kind
from kalan.content.manifest import Manifest, ManifestError, key_fingerprint, parse_signed
from kalan.content.models import Channel, ContentNode, DraftNode, NodeFile, NodeTag
from kalan.content.sources import Source, TransferInterrupted
from kalan.content.store import LibraryFolder, StoreError, hub_library
from kalan.core.bulk import insert_rows
from kalan.core.errors import KalanError
from kalan.core.progress import human_size as _size

log = logging.getLogger(__name__)
# Kept free after an import, so the hub's database and logs can still grow.
SPACE_MARGIN = 50 * 1024 * 1024
# Nodes written to the database at once (with their files, tags and search entries).
ROW_BATCH = 500
# Files copied at once: hashing and copying release the GIL (measured: two cores).
COPY_THREADS = 3

Progress = Callable[[int, int, int, int], None]  # bytes done, bytes total, files done, total


@dataclass
class ImportReport:
    channel_id: uuid.UUID
    title: str
    version: int
    previous_version: int | None = None
    resources: int = 0
    files_copied: int = 0
    bytes_copied: int = 0
    files_present: int = 0
    skipped: list[str] = field(default_factory=list)  # titles of resources left out
    files_removed: int = 0

    def summary(self) -> str:
        change = (
            f"v{self.version}"
            if self.previous_version in (None, self.version)
            else f"v{self.previous_version} -> v{self.version}"
        )
        text = (
            f"{self.title} ({change}): {self.resources} resources, {self.files_copied} files"
            f" copied ({_size(self.bytes_copied)}), {self.files_present} already here"
        )
        if self.skipped:
            text += f"; {len(self.skipped)} resources skipped (their files are not in the source)"
        return text


class ImportBusy(KalanError):
    """Another import or export is running on this instance."""


@contextmanager
def library_lock(library: LibraryFolder) -> Iterator[None]:
    """One import at a time per store (a lock file, released if the process dies)."""
    library.root.mkdir(parents=True, exist_ok=True)
    with (library.root / "import.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ImportBusy(
                _("another content import is running; try again when it ends")
            ) from error
        yield


# ---------------------------------------------------------------- selection


def selected_nodes(manifest: Manifest, topic_ids: set[uuid.UUID]) -> list[dict[str, Any]]:
    """The nodes of the manifest to install, annotated with parent, path and depth.

    With no topic ids, the whole tree; otherwise those subtrees and their ancestors.
    Raises ManifestError when a topic id is not in the channel.
    """
    rows: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for node, parent, path in manifest.nodes():
        # Annotated in place: a copy of every node would double the manifest in memory.
        node["_parent"] = parent["id"] if parent else None
        node["_path"] = path
        rows.append(node)
        by_id[node["id"]] = node
    if not topic_ids:
        return rows
    wanted = {str(topic) for topic in topic_ids}
    unknown = wanted - by_id.keys()
    if unknown:
        raise ManifestError(f"topic {sorted(unknown)[0]} is not in channel {manifest.title!r}")
    keep: set[str] = set()
    for topic in wanted:
        node_id: str | None = topic
        while node_id is not None and node_id not in keep:  # ancestors
            keep.add(node_id)
            node_id = by_id[node_id]["_parent"]
    prefixes = tuple(by_id[topic]["_path"] + "." for topic in wanted)
    return [row for row in rows if row["id"] in keep or row["_path"].startswith(prefixes)]


# ---------------------------------------------------------------- import


def import_channel(
    source: Source,
    channel_id: uuid.UUID,
    *,
    topic_ids: Sequence[uuid.UUID] = (),
    progress: Progress | None = None,
    library: LibraryFolder | None = None,
) -> ImportReport:
    """Import (or update, or complete) one channel from `source`.

    Raises ManifestError (bad signature, shape, key or version), SourceError,
    StoreError (damaged file, disk full), TransferInterrupted, ImportBusy.
    """
    library = library or hub_library()
    raw, signature = source.read_manifest(channel_id)
    manifest = parse_signed(raw, signature)
    if manifest.id != channel_id:
        raise ManifestError(f"the manifest of {channel_id} describes another channel")
    existing = Channel.objects.filter(id=channel_id).first()
    _check_upgrade(manifest, existing)
    topics = set(topic_ids)
    if existing and existing.included_topics and topics:
        topics |= {uuid.UUID(topic) for topic in existing.included_topics}
    elif existing and not existing.included_topics:
        topics = set()  # the whole channel is installed: an update keeps it whole
    rows = selected_nodes(manifest, topics)
    with library_lock(library):
        library.clean_tmp()
        report = ImportReport(
            channel_id=channel_id,
            title=manifest.title,
            version=manifest.version,
            previous_version=existing.version if existing else None,
        )
        rows = _copy_files(source, rows, library, report, progress)
        report.resources = sum(1 for row in rows if row["kind"] != Kind.TOPIC)
        if _is_installed(existing, manifest, topics, report, library):
            return report  # a rerun of a finished import: nothing to write
        old_files = set(
            NodeFile.objects.filter(node__channel_id=channel_id).values_list("sha256", flat=True)
        )
        with transaction.atomic():
            _write_rows(manifest, rows, topics)
            library.write_manifest(channel_id, raw, signature)
        report.files_removed = remove_unused_files(old_files, library)
    refresh_statistics()
    return report


def _is_installed(
    existing: Channel | None,
    manifest: Manifest,
    topics: set[uuid.UUID],
    report: ImportReport,
    library: LibraryFolder,
) -> bool:
    """True when the library already holds exactly this manifest, these topics and every
    file: the rows were written with the manifest in one transaction, so they are whole."""
    return (
        existing is not None
        and manifest.id in library.channel_ids()
        and existing.manifest_sha256 == _sha256(manifest.raw)
        and existing.included_topics == sorted(str(topic) for topic in topics)
        and report.files_copied == 0
        and not report.skipped
    )


def refresh_statistics() -> None:
    """Let the query planner see the new rows at once (PostgreSQL chose bad plans for a minute)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ANALYZE content_contentnode, content_nodetag, content_nodefile, content_search"
            )
        else:
            cursor.execute("PRAGMA optimize")


def _check_upgrade(manifest: Manifest, existing: Channel | None) -> None:
    if existing is None:
        return
    if existing.public_key != manifest.public_key:
        raise ManifestError(
            _(
                "channel “%(title)s” is signed by another publisher key (%(new)s) than the"
                " installed one (%(old)s); refusing it"
            )
            % {
                "title": manifest.title,
                "new": key_fingerprint(manifest.public_key),
                "old": key_fingerprint(existing.public_key),
            }
        )
    if manifest.version < existing.version:
        raise ManifestError(
            _("channel “%(title)s” v%(new)d is older than the installed v%(old)d")
            % {"title": manifest.title, "new": manifest.version, "old": existing.version}
        )


def _copy_files(
    source: Source,
    rows: list[dict[str, Any]],
    library: LibraryFolder,
    report: ImportReport,
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """Copy what is missing; returns the rows whose files are all here now."""
    needed = {f["sha256"]: f["size"] for row in rows for f in row.get("files", [])}
    missing = {sha: size for sha, size in needed.items() if not library.has(sha)}
    report.files_present = len(needed) - len(missing)
    available = source.available(set(missing)) if missing else set()
    rows = _drop_unavailable(rows, set(missing) - available, report)
    to_copy = {sha: missing[sha] for sha in sorted(available)}
    _check_space(library, sum(to_copy.values()))
    copier = _Copier(source, library, to_copy, progress)
    try:
        copier.run()
    except TransferInterrupted:
        raise  # keep what was copied: the rerun resumes from here
    except (StoreError, OSError) as error:
        _discard(copier.copied, library)
        if isinstance(error, StoreError):
            raise
        raise StoreError(_("the import stopped: %(error)s") % {"error": error}) from error
    finally:
        report.files_copied = len(copier.copied)
        report.bytes_copied = sum(to_copy[sha] for sha in copier.copied)
    return rows


class _Copier:
    """Copies files with a few threads: reading, hashing and writing release the GIL,
    so two cores hash and copy two files at once. The first error stops the rest."""

    def __init__(
        self,
        source: Source,
        library: LibraryFolder,
        files: dict[str, int],
        progress: Progress | None,
    ) -> None:
        self.source, self.library, self.files, self.progress = source, library, files, progress
        self.total = sum(files.values())
        self.done_bytes = 0
        self.copied: list[str] = []
        self.lock = threading.Lock()
        self.failed = threading.Event()
        # Errors raised in the copying threads speak the language of whoever started the import.
        self.language = translation.get_language()

    def tick(self, count: int) -> None:
        with self.lock:
            self.done_bytes += count

    def copy(self, sha: str) -> None:
        if self.failed.is_set():
            return
        with translation.override(self.language), self.source.open(sha) as stream:
            self.library.install(stream, sha256=sha, size=self.files[sha], progress=self.tick)
        with self.lock:
            self.copied.append(sha)

    def report(self) -> None:
        """Progress is reported from the calling thread only (it may write to the database)."""
        if self.progress:
            with self.lock:
                done_bytes, done_files = self.done_bytes, len(self.copied)
            self.progress(done_bytes, self.total, done_files, len(self.files))

    def run(self) -> None:
        with ThreadPoolExecutor(max_workers=COPY_THREADS) as pool:
            pending = {pool.submit(self.copy, sha) for sha in self.files}
            try:
                while pending:
                    done, pending = wait(pending, timeout=0.25, return_when=FIRST_EXCEPTION)
                    for future in done:
                        future.result()
                    self.report()
            except BaseException:
                self.failed.set()
                for future in pending:
                    future.cancel()
                raise
        self.report()


def _drop_unavailable(
    rows: list[dict[str, Any]], unavailable: set[str], report: ImportReport
) -> list[dict[str, Any]]:
    if not unavailable:
        return rows
    kept = []
    for row in rows:
        if row["kind"] != Kind.TOPIC and any(f["sha256"] in unavailable for f in row["files"]):
            report.skipped.append(row["title"])
        else:
            kept.append(row)
    if not any(row["kind"] != Kind.TOPIC for row in kept):
        raise StoreError(_("the source holds none of the files of the chosen resources"))
    return kept


def _check_space(library: LibraryFolder, needed: int) -> None:
    free = library.free_bytes()
    if needed + SPACE_MARGIN > free:
        raise StoreError(
            _(
                "not enough free disk space: the import needs %(needed)s more"
                " (plus %(margin)s kept free), %(free)s is free"
            )
            % {"needed": _size(needed), "margin": _size(SPACE_MARGIN), "free": _size(free)}
        )


def _discard(copied: list[str], library: LibraryFolder) -> None:
    in_use = referenced_files(set(copied))
    for sha in copied:
        if sha not in in_use:
            library.remove(sha)


def referenced_files(candidates: set[str]) -> set[str]:
    """Which of these files something in the database still needs."""
    found: set[str] = set()
    items = sorted(candidates)
    for start in range(0, len(items), 500):
        chunk = items[start : start + 500]
        found |= set(NodeFile.objects.filter(sha256__in=chunk).values_list("sha256", flat=True))
        found |= set(
            DraftNode.objects.filter(file_sha256__in=chunk).values_list("file_sha256", flat=True)
        )
    for captions, inspection in DraftNode.objects.values_list("captions", "inspection"):
        found |= {c.get("sha256") for c in captions or []} & candidates
        if (thumb := (inspection or {}).get("thumbnail")) in candidates:
            found.add(thumb)
    return found


def remove_unused_files(candidates: set[str], library: LibraryFolder) -> int:
    """Delete those of `candidates` that nothing references any more."""
    unused = candidates - referenced_files(candidates)
    for sha in unused:
        library.remove(sha)
    return len(unused)


# ---------------------------------------------------------------- rows


def _write_rows(manifest: Manifest, rows: list[dict[str, Any]], topics: set[uuid.UUID]) -> None:
    data = manifest.data
    created = parse_datetime(str(data.get("created") or "")) if data.get("created") else None
    resources = [row for row in rows if row["kind"] != Kind.TOPIC]
    channel, _ = Channel.objects.update_or_create(
        id=manifest.id,
        defaults={
            "version": manifest.version,
            "title": data["title"][:300],
            "description": str(data.get("description", "")),
            "language": str(data.get("language", ""))[:16],
            "licence": str(data.get("licence", ""))[:200],
            "publisher_name": str(data["publisher"].get("name", ""))[:300],
            "public_key": manifest.public_key,
            "manifest_sha256": _sha256(manifest.raw),
            "created": created,
            "included_topics": sorted(str(topic) for topic in topics),
            "resource_count": len(resources),
            "total_size": sum(int(row.get("size") or 0) for row in resources),
        },
    )
    keep_ids = {uuid.UUID(row["id"]) for row in rows}
    existing_ids = set(ContentNode.objects.filter(channel=channel).values_list("id", flat=True))
    vanished = sorted(existing_ids - keep_ids)
    for start in range(0, len(vanished), 500):  # bounded: SQLite limits query parameters
        ContentNode.objects.filter(id__in=vanished[start : start + 500]).delete()
    NodeFile.objects.filter(node__channel=channel).delete()
    NodeTag.objects.filter(node__channel=channel).delete()
    search.remove_channel(channel.id)
    # A batch at a time, parents first: memory stays flat however large the channel.
    for start in range(0, len(rows), ROW_BATCH):
        batch = rows[start : start + ROW_BATCH]
        # Nodes of an earlier version keep their ids (and the progress kept against them).
        insert_rows([_node(channel, row) for row in batch], update_on_conflict=True)
        insert_rows(list(_files(batch)))
        insert_rows(list(_tags(batch)))
        search.index_entries(_search_entries(channel.id, batch))


def _sha256(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


def _text(row: dict[str, Any], name: str, limit: int) -> str:
    return str(row.get(name) or "")[:limit]


def _number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _node(channel: Channel, row: dict[str, Any]) -> ContentNode:
    path: str = row["_path"]
    return ContentNode(
        id=uuid.UUID(row["id"]),
        channel=channel,
        parent_id=uuid.UUID(row["_parent"]) if row["_parent"] else None,
        path=path,
        depth=path.count("."),
        position=int(path.rsplit(".", 1)[-1]),
        kind=row["kind"],
        title=_text(row, "title", 300),
        description=_text(row, "description", 20_000),
        language=_text(row, "language", 16),
        licence=_text(row, "licence", 200),
        author=_text(row, "author", 300),
        attribution=_text(row, "attribution", 500),
        grade_levels=list(row.get("grade_levels") or []),
        subjects=list(row.get("subjects") or []),
        curriculum_codes=list(row.get("curriculum_codes") or []),
        accessibility=list(row.get("accessibility") or []),
        duration=_number(row.get("duration")),
        page_count=_number(row.get("page_count")),
        size=_number(row.get("size")) or 0,
        thumbnail=_text(row, "thumbnail", 64),
        entry=_text(row, "entry", 500),
        options=row.get("options") if isinstance(row.get("options"), dict) else {},
    )


def _files(rows: list[dict[str, Any]]) -> Iterator[NodeFile]:
    for row in rows:
        for position, entry in enumerate(row.get("files", [])):
            yield NodeFile(
                node_id=uuid.UUID(row["id"]),
                sha256=entry["sha256"],
                size=entry["size"],
                role=entry["role"],
                language=_text(entry, "language", 16),
                ext=_text(entry, "ext", 16),
                mime=_text(entry, "mime", 100),
                label=_text(entry, "label", 100),
                position=position,
            )


def _tags(rows: list[dict[str, Any]]) -> Iterator[NodeTag]:
    facets = (
        ("grade_levels", NodeTag.Facet.GRADE),
        ("subjects", NodeTag.Facet.SUBJECT),
        ("curriculum_codes", NodeTag.Facet.CURRICULUM),
    )
    for row in rows:
        for name, facet in facets:
            for value in _tag_values(row, name):
                yield NodeTag(node_id=uuid.UUID(row["id"]), facet=facet, value=value)


def _tag_values(row: dict[str, Any], name: str) -> list[str]:
    """A list field's values as tags keep them: at most 100 characters, each once."""
    return list(dict.fromkeys(str(v)[:100] for v in row.get(name) or []))


def _search_entries(channel_id: uuid.UUID, rows: list[dict[str, Any]]) -> Iterator[search.Entry]:
    for row in rows:
        if row["kind"] == Kind.TOPIC:
            continue  # only resources are searched
        words = [
            str(row.get("description") or ""),
            " ".join(row.get("subjects") or []),
            " ".join(row.get("curriculum_codes") or []),
            str(row.get("author") or ""),
            str(row.get("text") or ""),
        ]
        yield search.Entry(
            node_id=uuid.UUID(row["id"]),
            channel_id=channel_id,
            title=str(row["title"]),
            body=" ".join(words),
            kind=row["kind"],
            language=_text(row, "language", 16),
            grades=_tag_values(row, "grade_levels"),
            subjects=_tag_values(row, "subjects"),
        )


# ---------------------------------------------------------------- removal


def delete_channel(channel_id: uuid.UUID, *, library: LibraryFolder | None = None) -> int:
    """Remove a channel and the files no other channel needs; returns files removed."""
    library = library or hub_library()
    files = set(
        NodeFile.objects.filter(node__channel_id=channel_id).values_list("sha256", flat=True)
    )
    with library_lock(library), transaction.atomic():
        search.remove_channel(channel_id)
        deleted, _ = Channel.objects.filter(id=channel_id).delete()
        if not deleted:
            raise KalanError(f"channel {channel_id} is not installed")
        library.remove_manifest(channel_id)
    log.info("channel %s removed", channel_id)
    return remove_unused_files(files, library)
