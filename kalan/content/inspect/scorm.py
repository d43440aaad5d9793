"""SCORM 1.2 and 2004 packages: imsmanifest.xml read into launchable items.

The default organization (or the first) is walked depth-first; every item that
references a resource with an href is launchable, in that order. Its launch URL
is the resource href resolved against the xml:base of the manifest, the
resources and the resource, followed by the item's parameters as the content
packaging rules say. The entry is the first launchable item whose resource is a
SCO (the first launchable item when every resource is an asset).

A package is refused when the manifest is missing or malformed, when an item
refers to a resource the manifest does not have, when nothing is launchable,
or when a launch file is not in the zip. Identifiers are compared with
surrounding whitespace removed, as the schema's xs:ID type does. Launch URLs on
another host are recorded and the package marked offline=False (see offline.py).
"""

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from django.utils.translation import gettext as _

from kalan.content.inspect.inspection import Inspection, InvalidFile, clip_text
from kalan.content.inspect.offline import is_outside
from kalan.content.inspect.xml_reader import (
    XML_BASE,
    attribute,
    child,
    child_text,
    children,
    local_name,
    parse_xml,
)
from kalan.content.inspect.zip_package import ZipPackage, member_for_url

MANIFEST = "imsmanifest.xml"
NAMESPACES_2004 = ("http://www.adlnet.org/xsd/adlcp_v1p3", "http://www.imsglobal.org/xsd/imsss")


@dataclass(frozen=True)
class _Resource:
    href: str  # resolved against the xml:base chain; "" when the resource has none
    scorm_type: str


def inspect_scorm(path: Path) -> Inspection:
    """Version, organization title, launchable items and entry of a SCORM zip.

    Raises InvalidFile as the module docstring says.
    """
    with ZipPackage(path) as package:
        if not package.has(MANIFEST):
            raise InvalidFile(_("the zip has no imsmanifest.xml at its top: it is not SCORM"))
        manifest = parse_xml(package.read(MANIFEST), MANIFEST)
        if local_name(manifest.tag) != "manifest":
            raise InvalidFile(_("imsmanifest.xml is not a content package manifest"))
        resources = _resources(manifest, "")
        title, scos = _launchables(manifest, resources)
        for sco in scos:
            _check_launch_file(package, sco["href"])
    entry = next((sco for sco in scos if sco["scorm_type"] == "sco"), scos[0])["href"]
    options: dict[str, Any] = {
        "scorm_version": scorm_version(manifest),
        "scos": scos,
        "offline": not any(is_outside(sco["href"]) for sco in scos),
    }
    text = " ".join([title, *(sco["title"] for sco in scos)])
    return Inspection(kind="scorm", title=title, entry=entry, options=options, text=clip_text(text))


def scorm_version(manifest: ET.Element) -> str:
    """The SCORM version, "1.2" or "2004": from <schemaversion>, else the namespaces used."""
    metadata = child(manifest, "metadata")
    declared = child_text(metadata, "schemaversion") if metadata is not None else ""
    if declared == "1.2":
        return "1.2"
    if "2004" in declared or "1.3" in declared:
        return "2004"
    names = {key for element in manifest.iter() for key in [element.tag, *element.attrib]}
    if any(ns in name for name in names for ns in NAMESPACES_2004):
        return "2004"
    return "1.2"


def _resources(manifest: ET.Element, base: str) -> dict[str, _Resource]:
    """Every resource of the manifest and of its sub-manifests, by identifier."""
    found: dict[str, _Resource] = {}
    base = urljoin(base, manifest.get(XML_BASE, ""))
    for group in children(manifest, "resources"):
        group_base = urljoin(base, group.get(XML_BASE, ""))
        for resource in children(group, "resource"):
            resource_base = urljoin(group_base, resource.get(XML_BASE, ""))
            href = resource.get("href", "").strip()
            found[resource.get("identifier", "").strip()] = _Resource(
                href=urljoin(resource_base, href) if href else "",
                scorm_type=(attribute(resource, "scormType") or attribute(resource, "scormtype"))
                .strip()
                .lower(),
            )
    for sub in children(manifest, "manifest"):
        found.update(_resources(sub, base))
    return found


def _organization(manifest: ET.Element) -> ET.Element | None:
    group = child(manifest, "organizations")
    if group is None:
        return None
    organizations = children(group, "organization")
    default = group.get("default", "").strip()
    chosen = [org for org in organizations if org.get("identifier", "").strip() == default]
    return next(iter(chosen or organizations), None)


def _launchables(
    manifest: ET.Element, resources: dict[str, _Resource]
) -> tuple[str, list[dict[str, str]]]:
    organization = _organization(manifest)
    if organization is None:
        scos = [
            {"identifier": key, "title": "", "href": res.href, "scorm_type": res.scorm_type}
            for key, res in resources.items()
            if res.href
        ]
        title = ""
    else:
        scos = []
        _walk(organization, resources, scos)
        title = child_text(organization, "title")
    if not scos:
        raise InvalidFile(_("imsmanifest.xml has no item that can be launched (no resource href)"))
    return title, scos


def _walk(parent: ET.Element, resources: dict[str, _Resource], out: list[dict[str, str]]) -> None:
    for item in children(parent, "item"):
        reference = item.get("identifierref", "").strip()
        if reference:
            resource = resources.get(reference)
            if resource is None:
                raise InvalidFile(
                    _(
                        "imsmanifest.xml: item %(item)s refers to resource %(ref)s, which the"
                        " manifest does not have"
                    )
                    % {"item": item.get("identifier", "?").strip(), "ref": reference}
                )
            if resource.href:
                out.append(
                    {
                        "identifier": item.get("identifier", "").strip(),
                        "title": child_text(item, "title"),
                        "href": _with_parameters(resource.href, item.get("parameters", "")),
                        "scorm_type": resource.scorm_type,
                    }
                )
        _walk(item, resources, out)


def _with_parameters(href: str, parameters: str) -> str:
    """The launch URL: href plus the item's parameters (SCORM CAM, <item parameters>)."""
    parameters = parameters.strip()
    if not parameters:
        return href
    if parameters.startswith("#"):
        return href if "#" in href else href + parameters
    parameters = parameters.lstrip("?&")
    return f"{href}{'&' if '?' in href else '?'}{parameters}" if parameters else href


def _check_launch_file(package: ZipPackage, href: str) -> None:
    if is_outside(href):
        return
    member = member_for_url(href)
    if member is None:
        raise InvalidFile(_("the launch file %(href)s is outside the package") % {"href": href})
    if not package.has(member):
        raise InvalidFile(
            _("the launch file %(file)s named in the manifest is not in the zip") % {"file": member}
        )
