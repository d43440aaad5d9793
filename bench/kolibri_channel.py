"""Build a Kolibri 0.19.5 channel offline (no Studio, no ricecooker, no network) from a folder.

Writes the on-disk layout that `kolibri manage importchannel disk` and `importcontent disk` read:

    DRIVE/content/databases/<channel_id>.sqlite3      channel database, export content schema 5
    DRIVE/content/storage/<m0>/<m1>/<md5>.<ext>       every file, named by its MD5

The channel database is written with Kolibri's own SQLAlchemy definition of the export schema
(`kolibri.core.content.contentschema.versions.content_schema_5`, the schema Kolibri 0.19.5 maps
an imported channel from: CONTENT_SCHEMA_VERSION = "5"), so this script must run under the
Python of Kolibri's venv (bench/.venv-kolibri). It needs no Django setup and no KOLIBRI_HOME.

Folder -> channel: every directory is a topic node, every file a resource node with one file:

    .mp4 / .webm  -> kind "video",    preset "high_res_video"
    .pdf          -> kind "document", preset "document"
    .epub         -> kind "document", preset "epub"
    .zip          -> kind "html5",    preset "html5_zip"   (a zip with index.html)
    .mp3          -> kind "audio",    preset "audio"
    anything else -> skipped (listed in the summary)

Storage files are hard links to the source files when the drive is on the same file system
(no second copy of the bytes); otherwise copies. Node ids are derived from the channel id and
the relative path, so the same folder always gives the same channel.

Usage (from the repository root):
    bench/.venv-kolibri/bin/python bench/kolibri_channel.py SRC_DIR DRIVE_DIR \
        [--channel-id HEX32] [--name NAME] [--copy] [--metadata META.json]
Prints one line `CHANNEL {json}` (channel_id, nodes, resources, files, bytes, db path).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path

KINDS = {
    "mp4": ("video", "high_res_video", "watch"),
    "webm": ("video", "high_res_video", "watch"),
    "pdf": ("document", "document", "read"),
    "epub": ("document", "epub", "read"),
    "zip": ("html5", "html5_zip", "explore"),
    "mp3": ("audio", "audio", "listen"),
}
# Kolibri parses ChannelMetadata.last_updated with this exact format; another format makes
# importchannel crash after it has already written rows (see shared/anchors/kolibri.md).
LAST_UPDATED_FORMAT = "%Y-%m-%d %H:%M:%S.000000(UTC)"
# Kolibri's learning-activity labels (le_utils.constants.labels.learning_activities).
ACTIVITY_IDS = {
    "watch": "UD5UGM0z",
    "read": "wA01urpi",
    "explore": "#j8L0eq3",
    "listen": "mkA1R3NU",
}


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def place(src: Path, dest: Path, copy: bool) -> None:
    if dest.exists():
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not copy:
        try:
            os.link(src, dest)
            return
        except OSError:
            pass
    tmp = dest.with_name(dest.name + ".part")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


class Builder:
    def __init__(self, src: Path, drive: Path, channel_id: str, copy: bool, metadata=None):
        self.src, self.drive, self.cid, self.copy = src, drive, channel_id, copy
        self.metadata: dict[str, dict] = metadata or {}  # rel path -> title, description
        self.nodes: list[dict] = []
        self.files: list[dict] = []
        self.localfiles: dict[str, dict] = {}
        self.skipped: list[str] = []
        self.counter = 0

    def _ids(self, rel: str) -> tuple[str, str]:
        node_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kolibri-bench/{self.cid}/node/{rel}").hex
        content_id = uuid.uuid5(uuid.NAMESPACE_URL, f"kolibri-bench/{self.cid}/content/{rel}").hex
        return node_id, content_id

    def _node(self, rel: str, title: str, kind: str, parent: str | None, level: int, sort: int):
        node_id, content_id = self._ids(rel)
        self.counter += 1
        activity = "" if kind == "topic" else ACTIVITY_IDS[KINDS_BY_KIND[kind]]
        row = {
            "id": node_id,
            "license_name": "CC BY",
            "license_description": "",
            "title": title[:200],
            "coach_content": False,
            "content_id": content_id,
            "channel_id": self.cid,
            "description": self.metadata.get(rel, {}).get(
                "description", f"{title} (synthetic benchmark resource)"
            ),
            "sort_order": float(sort),
            "license_owner": "Kalan bench",
            "author": "Kalan bench",
            "kind": kind,
            "available": False,
            "options": "{}",
            "grade_levels": "",
            "resource_types": "",
            "learning_activities": activity,
            "accessibility_labels": "",
            "categories": "",
            "learner_needs": "",
            "duration": None,
            "lft": self.counter,
            "rght": 0,  # set once the subtree is done
            "tree_id": 1,
            "level": level,
            "lang_id": None,
            "parent_id": parent,
        }
        self.nodes.append(row)
        return row

    def _resource(self, path: Path, rel: str, parent: str, level: int, sort: int) -> None:
        ext = path.suffix.lower().lstrip(".")
        kind, preset, _ = KINDS[ext]
        title = self.metadata.get(rel, {}).get("title") or path.stem.replace("-", " ").replace(
            "_", " "
        )
        row = self._node(rel, title, kind, parent, level, sort)
        md5 = md5_of(path)
        size = path.stat().st_size
        place(
            path, self.drive / "content" / "storage" / md5[0] / md5[1] / f"{md5}.{ext}", self.copy
        )
        self.localfiles[md5] = {"id": md5, "extension": ext, "available": False, "file_size": size}
        self.files.append(
            {
                "id": uuid.uuid5(uuid.NAMESPACE_URL, f"kolibri-bench/{self.cid}/file/{rel}").hex,
                "preset": preset,
                "supplementary": False,
                "thumbnail": False,
                "priority": 1,
                "contentnode_id": row["id"],
                "lang_id": None,
                "local_file_id": md5,
            }
        )
        self.counter += 1
        row["rght"] = self.counter

    def topic(self, path: Path, rel: str, title: str, parent: str | None, level: int, sort: int):
        row = self._node(rel or ".", title, "topic", parent, level, sort)
        entries = sorted(path.iterdir(), key=lambda p: p.name)
        for i, child in enumerate(entries, 1):
            crel = f"{rel}/{child.name}" if rel else child.name
            if child.is_dir():
                self.topic(child, crel, child.name.replace("-", " "), row["id"], level + 1, i)
            elif child.suffix.lower().lstrip(".") in KINDS:
                self._resource(child, crel, row["id"], level + 1, i)
            else:
                self.skipped.append(crel)
        self.counter += 1
        row["rght"] = self.counter
        return row


KINDS_BY_KIND = {kind: activity for kind, _, activity in KINDS.values()}


def build(
    src: Path, drive: Path, channel_id: str, name: str, copy: bool = False, metadata=None
) -> dict:
    import kolibri  # noqa: F401  (puts Kolibri's bundled libraries, SQLAlchemy among them, on sys.path)
    from kolibri.core.content.contentschema.versions import content_schema_5 as schema
    from sqlalchemy import create_engine

    t0 = time.perf_counter()
    b = Builder(src, drive, channel_id, copy, metadata)
    root = b.topic(src, "", name, None, 0, 1)
    dbdir = drive / "content" / "databases"
    dbdir.mkdir(parents=True, exist_ok=True)
    dbpath = dbdir / f"{channel_id}.sqlite3"
    tmp = dbpath.with_name(dbpath.name + ".part")
    tmp.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{tmp}")
    schema.Base.metadata.create_all(engine)
    with engine.begin() as c:
        c.execute(schema.ContentContentnode.__table__.insert(), b.nodes)
        c.execute(schema.ContentLocalfile.__table__.insert(), list(b.localfiles.values()))
        c.execute(schema.ContentFile.__table__.insert(), b.files)
        c.execute(
            schema.ContentChannelmetadata.__table__.insert(),
            [
                {
                    "id": channel_id,
                    "name": name,
                    "description": "Synthetic channel built offline for the Kalan import benchmark",
                    "tagline": "",
                    "author": "Kalan bench",
                    "version": 1,
                    "thumbnail": "",
                    "last_updated": time.strftime(LAST_UPDATED_FORMAT, time.gmtime()),
                    "min_schema_version": "5",
                    "root_id": root["id"],
                }
            ],
        )
    engine.dispose()
    os.replace(tmp, dbpath)
    return {
        "channel_id": channel_id,
        "db": str(dbpath),
        "db_bytes": dbpath.stat().st_size,
        "nodes": len(b.nodes),
        "resources": len(b.files),
        "files": len(b.localfiles),
        "bytes": sum(f["file_size"] for f in b.localfiles.values()),
        "skipped": b.skipped[:20],
        "skipped_count": len(b.skipped),
        "build_s": round(time.perf_counter() - t0, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("src", type=Path, help="folder tree: directories are topics, files resources")
    ap.add_argument("drive", type=Path, help="output folder (gets content/databases + storage)")
    ap.add_argument("--channel-id", help="32 hex digits; default: MD5 of the source folder's path")
    ap.add_argument("--name", default="Kalan bench channel")
    ap.add_argument("--copy", action="store_true", help="copy files instead of hard-linking")
    ap.add_argument(
        "--metadata",
        type=Path,
        help="JSON {relative path: {title, description}} for resources (default: file names)",
    )
    a = ap.parse_args()
    src = a.src.resolve()
    if not src.is_dir():
        sys.exit(f"not a folder: {src}")
    cid = a.channel_id or hashlib.md5(str(src).encode()).hexdigest()
    if len(cid) != 32 or any(ch not in "0123456789abcdef" for ch in cid):
        sys.exit("--channel-id must be 32 lowercase hex digits")
    metadata = json.loads(a.metadata.read_text()) if a.metadata else None
    info = build(src, a.drive.resolve(), cid, a.name, a.copy, metadata)
    print("CHANNEL " + json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
