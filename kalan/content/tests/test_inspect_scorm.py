"""SCORM packages: every ADL SCORM 2004 4th Ed. test-suite manifest, SCORM 1.2, and breakage."""

import re

import pytest
from lxml import etree  # type: ignore[import-untyped]

from kalan.content.inspect import InvalidFile, check_offline, detect_kind, inspect_file
from kalan.content.tests.corpus import corpus_files, corpus_path, write_zip

CP = {"cp": "http://www.imsglobal.org/xsd/imscp_v1p1"}
MANIFESTS = "adl-scorm2004-4ed-cts/LMSTestPackage-manifests"


def dummy_files(manifest):
    """A placeholder for every href, under every xml:base the manifest uses (and none).

    Placing each file under all the bases keeps this independent of how bases
    combine; the exact resolution is checked on known manifests below.
    """
    text = manifest.decode()
    hrefs = set(re.findall(r'\bhref\s*=\s*"([^"]+)"', text))
    bases = {""} | set(re.findall(r'xml:base\s*=\s*"([^"]*)"', text))
    return {f"{base}{href}": b"<html></html>" for href in hrefs for base in bases}


def package(tmp_path, manifest, files=None, name="course.zip"):
    members = {"imsmanifest.xml": manifest}
    members.update(dummy_files(manifest) if files is None else files)
    return write_zip(tmp_path / name, members)


def launchable_count(manifest):
    """Items with an identifierref in the default organization, counted with XPath."""
    tree = etree.fromstring(manifest)
    default = tree.xpath("string(cp:organizations/@default)", namespaces=CP).strip()
    organizations = tree.xpath("cp:organizations/cp:organization", namespaces=CP)
    chosen = [o for o in organizations if o.get("identifier").strip() == default] or organizations
    return len(chosen[0].xpath(".//cp:item[@identifierref]", namespaces=CP))


@pytest.mark.parametrize("manifest_path", corpus_files("scorm", f"{MANIFESTS}/*.xml"))
def test_every_adl_test_package_manifest_imports(tmp_path, manifest_path):
    manifest = manifest_path.read_bytes()
    path = package(tmp_path, manifest)
    assert detect_kind(path) == "scorm"
    inspection = inspect_file(path)
    options = inspection.options
    assert inspection.kind == "scorm"
    assert options["scorm_version"] == "2004"
    assert options["offline"] is True
    assert len(options["scos"]) == launchable_count(manifest) > 0
    assert inspection.title
    launch_files = {sco["href"].split("?")[0] for sco in options["scos"]}
    assert launch_files <= set(dummy_files(manifest))
    scos = [sco for sco in options["scos"] if sco["scorm_type"] == "sco"]
    assert inspection.entry == (scos or options["scos"])[0]["href"]


def test_known_manifests_resolve_bases_parameters_and_nesting(tmp_path):
    folder = corpus_path("scorm") / MANIFESTS
    cm01 = inspect_file(package(tmp_path, (folder / "CM-01.imsmanifest.xml").read_bytes()))
    assert cm01.title == "LMS Test Content Package CM-01"
    assert cm01.entry == "resources/SequencingTest.htm?tc=CM-01&act=1"
    assert [(sco["identifier"], sco["title"]) for sco in cm01.options["scos"]] == [
        ("activity_1", "Activity 1"),
        ("activity_2", "Activity 2"),
        ("activity_3", "Activity 3"),
    ]
    nested = inspect_file(package(tmp_path, (folder / "CM-07b.imsmanifest.xml").read_bytes()))
    numbers = [int(sco["identifier"].split("_")[1]) for sco in nested.options["scos"]]
    assert numbers == [2, 3, 6, 7, 8, 11, 12, 15, 16, 17, 19, 20, 21]
    hrefs = {sco["identifier"]: sco["href"] for sco in nested.options["scos"]}
    # Identifiers are case-sensitive: "Seq01" is another resource than "SEQ01".
    assert hrefs["activity_12"] == "resources/SequencingTestFail.htm?tc=CM-07b&act=12"
    assert hrefs["activity_11"] == "resources/SequencingTest.htm?tc=CM-07b&act=11"
    # Identifiers padded with spaces still match (xs:ID whitespace rules).
    padded = inspect_file(package(tmp_path, (folder / "OB-02b.imsmanifest.xml").read_bytes()))
    assert len(padded.options["scos"]) == 3
    # Every resource an asset: the first launchable item is the entry.
    assets = inspect_file(package(tmp_path, (folder / "SX-08a.imsmanifest.xml").read_bytes()))
    assert {sco["scorm_type"] for sco in assets.options["scos"]} == {"asset"}
    assert assets.entry == assets.options["scos"][0]["href"]


SCORM_12 = b"""<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="com.example.fractions" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Les fractions</title>
      <item identifier="intro" identifierref="r-intro" isvisible="true">
        <title>Introduction</title>
      </item>
      <item identifier="quiz" identifierref="r-quiz"><title>Quiz</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r-intro" type="webcontent" adlcp:scormtype="asset"
      href="intro/index.html"/>
    <resource identifier="r-quiz" type="webcontent" adlcp:scormtype="sco"
      href="quiz%20final/index.html">
      <file href="quiz final/index.html"/>
    </resource>
  </resources>
</manifest>
"""
SCORM_12_FILES = {"intro/index.html": b"<html/>", "quiz final/index.html": b"<html/>"}


def test_a_scorm_12_package(tmp_path):
    inspection = inspect_file(package(tmp_path, SCORM_12, SCORM_12_FILES))
    assert inspection.options["scorm_version"] == "1.2"
    assert inspection.title == "Les fractions"
    # The entry is the first SCO, even after an asset.
    assert inspection.entry == "quiz%20final/index.html"
    assert [sco["scorm_type"] for sco in inspection.options["scos"]] == ["asset", "sco"]
    assert "Introduction" in inspection.text


def test_version_comes_from_namespaces_without_a_schemaversion(tmp_path):
    without = SCORM_12.replace(b"<schemaversion>1.2</schemaversion>", b"")
    assert (
        inspect_file(package(tmp_path, without, SCORM_12_FILES)).options["scorm_version"] == "1.2"
    )
    cm01 = (corpus_path("scorm") / MANIFESTS / "CM-01.imsmanifest.xml").read_bytes()
    cm01 = re.sub(rb"<schemaversion>.*?</schemaversion>", b"", cm01)
    assert inspect_file(package(tmp_path, cm01)).options["scorm_version"] == "2004"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE manifest [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<manifest identifier="x"><organizations/><resources/>&b;</manifest>
"""


@pytest.mark.parametrize(
    ("manifest", "files", "reason"),
    [
        (SCORM_12[: len(SCORM_12) // 2], SCORM_12_FILES, "imsmanifest.xml is not well-formed XML"),
        (
            re.sub(rb'<resource identifier="r-quiz".*?</resource>', b"", SCORM_12, flags=re.S),
            SCORM_12_FILES,
            "item quiz refers to resource r-quiz, which the manifest does not have",
        ),
        (SCORM_12, {"intro/index.html": b""}, "quiz final/index.html named in the manifest is not"),
        (
            SCORM_12.replace(b'href="intro/index.html"', b'href="../intro/index.html"'),
            SCORM_12_FILES,
            "outside the package",
        ),
        (
            SCORM_12.replace(b' href="intro/index.html"', b"").replace(
                b' href="quiz%20final/index.html"', b""
            ),
            SCORM_12_FILES,
            "no item that can be launched",
        ),
        (BILLION_LAUGHS, {}, "declares a document type"),
        (b"<html><body>not a manifest</body></html>", {}, "not a content package manifest"),
    ],
    ids=["truncated", "missing-resource", "missing-file", "climbs-out", "no-href", "dtd", "not-cp"],
)
def test_broken_packages_are_refused(tmp_path, manifest, files, reason):
    with pytest.raises(InvalidFile, match=re.escape(reason)):
        inspect_file(package(tmp_path, manifest, files))


def test_zips_without_a_manifest_or_unsafe_paths_are_refused(tmp_path):
    no_manifest = write_zip(tmp_path / "a.zip", {"course/imsmanifest.xml": SCORM_12})
    with pytest.raises(InvalidFile, match=r"no imsmanifest\.xml at its top"):
        inspect_file(no_manifest, "scorm")
    unsafe = package(tmp_path, SCORM_12, {**SCORM_12_FILES, "../../etc/evil.sh": b"x"})
    assert detect_kind(unsafe) == "scorm"
    with pytest.raises(InvalidFile, match="path that is not allowed"):
        inspect_file(unsafe)
    not_zip = tmp_path / "b.zip"
    not_zip.write_bytes(b"PK\x03\x04 but nothing more")
    with pytest.raises(InvalidFile, match="not a zip archive"):
        inspect_file(not_zip, "scorm")


def test_launch_urls_on_another_host_are_recorded_and_refused_by_check_offline(tmp_path):
    remote = SCORM_12.replace(
        b'href="quiz%20final/index.html"', b'href="https://lms.example.org/quiz"'
    )
    inspection = inspect_file(package(tmp_path, remote, SCORM_12_FILES))
    assert inspection.options["offline"] is False
    assert inspection.entry == "https://lms.example.org/quiz"
    with pytest.raises(
        InvalidFile, match=r"https://lms\.example\.org/quiz points to an outside host"
    ):
        check_offline(inspection)
    check_offline(inspect_file(package(tmp_path, SCORM_12, SCORM_12_FILES, "local.zip")))
