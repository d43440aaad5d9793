"""The optional metadata file of `kalan content build`: kalan.yaml or kalan.csv.

YAML:
    channel: {id, title, description, language, licence, publisher, version}
    resources:
      "Numbers/counting.pdf": {title, description, language, grade_levels: [..], subjects,
                               curriculum_codes, licence, author, attribution,
                               accessibility, duration}
      "Numbers": {title, description}          # a folder: its topic
CSV: a header row, then one row per path; the path "/" holds the channel's
fields; lists are separated by ";".
Paths are relative to the source folder, with "/" between folders.
"""

import csv
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kalan.content.kinds import Accessibility
from kalan.core.errors import KalanError

NAMES = ("kalan.yaml", "kalan.yml", "kalan.csv")
CHANNEL_FIELDS = {"id", "title", "description", "language", "licence", "publisher", "version"}
TEXT_FIELDS = {"title", "description", "language", "licence", "author", "attribution"}
LIST_FIELDS = {"grade_levels", "subjects", "curriculum_codes", "accessibility"}
NUMBER_FIELDS = {"duration"}


class MetadataError(KalanError):
    """The metadata file cannot be used; nothing was built."""


@dataclass
class Metadata:
    channel: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    source_name: str = ""

    @property
    def channel_id(self) -> uuid.UUID | None:
        raw = self.channel.get("id")
        return uuid.UUID(str(raw)) if raw else None

    @property
    def version(self) -> int | None:
        version = self.channel.get("version")
        return int(version) if version else None

    def for_path(self, rel: str) -> dict[str, Any]:
        return self.resources.get(rel, {})

    def unknown_paths(self, source: Path) -> list[str]:
        """One problem per path the file names that is not in the source folder."""
        return [
            f"{self.source_name}: names {path!r}, which is not a file or folder of the channel"
            for path in sorted(self.resources)
            if not (source / path).exists()
        ]


def is_metadata(path: Path) -> bool:
    return path.name.lower() in NAMES


def load(source: Path) -> Metadata:
    """The metadata file at the top of `source`, checked; empty Metadata when there is none."""
    for name in NAMES:
        path = source / name
        if path.is_file():
            break
    else:
        return Metadata()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise MetadataError(f"{name}: cannot read it as UTF-8 text ({error})") from error
    raw = _from_csv(text, name) if name.endswith(".csv") else _from_yaml(text, name)
    return _checked(raw, name)


def _from_yaml(text: str, name: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        where = getattr(error, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise MetadataError(f"{name}: not valid YAML{line}") from error
    if not isinstance(data, dict) or not set(data) <= {"channel", "resources"}:
        raise MetadataError(f"{name}: the top level must have only `channel` and `resources`")
    return data


def _from_csv(text: str, name: str) -> dict[str, Any]:
    reader = csv.DictReader(text.splitlines())
    if not reader.fieldnames or "path" not in reader.fieldnames:
        raise MetadataError(f"{name}: the first row must name the columns, including `path`")
    channel: dict[str, Any] = {}
    resources: dict[str, dict[str, Any]] = {}
    for row in reader:
        path = (row.pop("path") or "").strip()
        values: dict[str, Any] = {}
        for key, value in row.items():
            if key is None or value is None or not value.strip():
                continue
            key = key.strip()
            values[key] = (
                [v.strip() for v in value.split(";") if v.strip()]
                if key in LIST_FIELDS
                else value.strip()
            )
        if path in {"/", ""}:
            channel.update(values)
        else:
            resources[path.strip("/")] = values
    return {"channel": channel, "resources": resources}


def _checked(raw: dict[str, Any], name: str) -> Metadata:
    channel = raw.get("channel") or {}
    resources = raw.get("resources") or {}
    if not isinstance(channel, dict) or not isinstance(resources, dict):
        raise MetadataError(f"{name}: `channel` and `resources` must be mappings")
    unknown = set(channel) - CHANNEL_FIELDS
    if unknown:
        raise MetadataError(f"{name}: unknown channel field {sorted(unknown)[0]!r}")
    if channel.get("id"):
        try:
            uuid.UUID(str(channel["id"]))
        except ValueError as error:
            raise MetadataError(f"{name}: the channel id is not a UUID") from error
    if channel.get("version") is not None and not str(channel["version"]).isdigit():
        raise MetadataError(f"{name}: the channel version must be a whole number")
    checked = {}
    for path, values in resources.items():
        checked[str(path).strip("/")] = _check_resource(str(path), values, name)
    return Metadata(
        channel={k: v if k == "version" else str(v) for k, v in channel.items()},
        resources=checked,
        source_name=name,
    )


def _check_resource(path: str, values: object, name: str) -> dict[str, Any]:
    if not isinstance(values, dict):
        raise MetadataError(f"{name}: the entry for {path!r} must be a mapping")
    result: dict[str, Any] = {}
    for key, value in values.items():
        if key in TEXT_FIELDS:
            result[key] = str(value)
        elif key in LIST_FIELDS:
            items = value if isinstance(value, list) else [value]
            result[key] = [str(item) for item in items]
        elif key in NUMBER_FIELDS:
            if not str(value).isdigit():
                raise MetadataError(f"{name}: {path!r}: {key} must be a whole number of seconds")
            result[key] = int(value)
        else:
            raise MetadataError(f"{name}: {path!r}: unknown field {key!r}")
    bad = set(result.get("accessibility", [])) - set(Accessibility.values)
    if bad:
        raise MetadataError(
            f"{name}: {path!r}: unknown accessibility feature {sorted(bad)[0]!r}"
            f" (known: {', '.join(Accessibility.values)})"
        )
    return result
