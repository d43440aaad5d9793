"""cmi5 courses: every course structure of the corpus, zipped or bare, and breakage."""

import html
import re
from urllib.parse import urlsplit

import pytest

from kalan.content.inspect import InvalidFile, check_offline, detect_kind, inspect_file
from kalan.content.tests.corpus import corpus_files, corpus_path, write_zip

CATAPULT = "catapult-course-examples-cmi5xml"


def urls(structure):
    found = re.findall(r"<url>(.*?)</url>", structure.decode(), re.S)
    return [html.unescape(url.strip()) for url in found]


def zipped(tmp_path, structure, extra=None, name="course.zip"):
    """cmi5.xml plus a placeholder for every relative AU url's file."""
    files = {urlsplit(url).path: b"<html></html>" for url in urls(structure) if "://" not in url}
    return write_zip(tmp_path / name, {"cmi5.xml": structure, **files, **(extra or {})})


ALL_STRUCTURES = [
    *corpus_files("cmi5", f"{CATAPULT}/*.xml"),
    *corpus_files("cmi5", "spec/*.xml"),
    *corpus_files("cmi5", "spec-site-samples/Sample-Course-Files/*.xml"),
]


@pytest.mark.parametrize("path", ALL_STRUCTURES)
def test_every_corpus_course_structure_imports_in_a_zip(tmp_path, path):
    structure = path.read_bytes()
    package = zipped(tmp_path, structure)
    assert detect_kind(package) == "cmi5"
    inspection = inspect_file(package)
    aus = inspection.options["aus"]
    assert [au["url"] for au in aus] == urls(structure)
    assert len(aus) == structure.count(b"<au ") + structure.count(b"<au\n")
    assert inspection.entry == aus[0]["url"]
    assert inspection.title
    assert all(au["title"] and au["id"] for au in aus)
    assert inspection.options["offline"] == all("://" not in url for url in urls(structure))


@pytest.mark.parametrize("path", ALL_STRUCTURES)
def test_bare_structures_import_only_when_every_au_is_a_full_url(path):
    assert detect_kind(path) == "cmi5"
    if all("://" in url for url in urls(path.read_bytes())):
        inspection = inspect_file(path)
        assert inspection.options["offline"] is False
        with pytest.raises(
            InvalidFile, match="points to an outside host; Kalan plays only packaged AUs"
        ):
            check_offline(inspection)
    else:
        with pytest.raises(
            InvalidFile, match=r"is a relative url, but a cmi5\.xml alone has no files"
        ):
            inspect_file(path)


def test_known_courses(tmp_path):
    folder = corpus_path("cmi5")
    multi = inspect_file(
        zipped(tmp_path, (folder / CATAPULT / "multi_au_framed.cmi5.xml").read_bytes())
    )
    assert multi.title == "Introduction to Geology - Multi AU at Root"
    assert multi.language == "en-US"
    assert multi.description.startswith(
        "This course will introduce you into the basics of geology."
    )
    assert multi.options["course_id"] == (
        "https://w3id.org/xapi/cmi5/catapult/lts/course/geology-intro-multi-au-framed"
    )
    titles = [au["title"] for au in multi.options["aus"]]
    assert titles[:2] == ["Introduction to Geology", "Geological Materials"]
    assert titles[-1] == "Quiz"
    assert len(titles) == 8
    assert multi.options["aus"][-1]["move_on"] == "CompletedAndPassed"
    assert multi.options["aus"][0]["launch_method"] == "AnyWindow"
    assert multi.entry == "index.html?pages=1&complete=launch"
    assert multi.options["offline"] is True
    check_offline(multi)

    mastery = inspect_file(
        zipped(
            tmp_path,
            (folder / CATAPULT / "masteryscore_responsive.cmi5.xml").read_bytes(),
            name="m.zip",
        )
    )
    (au,) = mastery.options["aus"]
    assert (au["mastery_score"], au["launch_method"], au["move_on"]) == (
        0.3,
        "OwnWindow",
        "CompletedOrPassed",
    )

    prepost = inspect_file(
        zipped(
            tmp_path,
            (folder / CATAPULT / "pre_post_test_framed.cmi5.xml").read_bytes(),
            name="p.zip",
        )
    )
    blocks = [block["id"].rsplit("/", 1)[1] for block in prepost.options["blocks"]]
    assert blocks == ["block1", "block2"]
    assert [au["block"].rsplit("/", 1)[1] for au in prepost.options["aus"]] == ["block1"] * 3 + [
        "block2"
    ] * 3
    assert [au["url"] for au in prepost.options["aus"]][:3] == [
        "pre1.html",
        "index.html?pages=1",
        "post1.html",
    ]

    complex_course = inspect_file(folder / "spec" / "complex-cmi5.xml")
    assert complex_course.title == "Geology"
    assert len(complex_course.options["aus"]) == 14
    assert len(complex_course.options["blocks"]) == 6
    nested = {b["id"].rsplit("/", 1)[1]: b["parent"] for b in complex_course.options["blocks"]}
    assert nested["003-001-001"].endswith("/003-001")
    first = complex_course.options["aus"][0]
    assert (first["mastery_score"], first["move_on"]) == (1.0, "CompletedOrPassed")
    assert first["activity_type"] == "http://adlnet.gov/expapi/activities/lesson"
    assert first["launch_parameters"] == "{'initialSpeed':3.0,'mode':1}"
    last = complex_course.options["aus"][-1]
    assert (last["title"], last["block"], last["mastery_score"]) == ("Quiz", None, 0.7)
    defaults = next(au for au in complex_course.options["aus"] if au["title"] == "Mesoproterozoic")
    assert (defaults["move_on"], defaults["mastery_score"]) == ("NotApplicable", None)


COURSE = b"""<?xml version="1.0" encoding="utf-8"?>
<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">
  <course id="https://example.org/courses/fractions">
    <title><langstring lang="fr">Les fractions</langstring></title>
    <description><langstring lang="fr">Un cours court.</langstring></description>
  </course>
  <au id="https://example.org/courses/fractions/au/1" moveOn="Passed" masteryScore="0.8">
    <title><langstring lang="fr">Partie 1</langstring></title>
    <url>au1/index.html</url>
  </au>
</courseStructure>
"""


def _replaced(old, new):
    return COURSE.replace(old, new)


DUPLICATE_AU = COURSE.replace(b"</courseStructure>", COURSE[COURSE.index(b"  <au ") :])
TRUNCATED = COURSE.replace(b"</courseStructure>", b"").replace(b"</au>", b"</au><au")
WITH_DTD = _replaced(
    b'<?xml version="1.0" encoding="utf-8"?>', b'<!DOCTYPE x SYSTEM "file:///etc/passwd">'
)
NO_COURSE_ID = _replaced(b'<course id="https://example.org/courses/fractions">', b"<course>")


@pytest.mark.parametrize(
    ("structure", "reason"),
    [
        pytest.param(
            _replaced(b"<url>au1/index.html</url>", b""),
            "every AU needs an id and a url",
            id="no-url",
        ),
        pytest.param(
            _replaced(b'moveOn="Passed"', b'moveOn="Done"'),
            "unknown moveOn value Done",
            id="move-on",
        ),
        pytest.param(
            _replaced(b'masteryScore="0.8"', b'masteryScore="1.5"'),
            "masteryScore that is not",
            id="high",
        ),
        pytest.param(
            _replaced(b'masteryScore="0.8"', b'masteryScore="x"'),
            "masteryScore that is not",
            id="text",
        ),
        pytest.param(
            _replaced(b'moveOn="Passed"', b'launchMethod="Popup"'),
            "launchMethod value Popup",
            id="launch",
        ),
        pytest.param(re.sub(rb"<au .*</au>", b"", COURSE, flags=re.S), "has no AU", id="no-au"),
        pytest.param(TRUNCATED, "not well-formed XML", id="truncated"),
        pytest.param(NO_COURSE_ID, "course has no id", id="no-course-id"),
        pytest.param(
            _replaced(b"courseStructure", b"manifest"), "not a cmi5 course structure", id="root"
        ),
        pytest.param(
            DUPLICATE_AU,
            "two AUs have the id https://example.org/courses/fractions/au/1",
            id="twice",
        ),
        pytest.param(WITH_DTD, "declares a document type", id="dtd"),
    ],
)
def test_broken_course_structures_are_refused(tmp_path, structure, reason):
    with pytest.raises(InvalidFile, match=re.escape(reason)):
        inspect_file(write_zip(tmp_path / "c.zip", {"cmi5.xml": structure, "au1/index.html": b""}))


def test_au_files_must_be_in_the_zip(tmp_path):
    good = inspect_file(write_zip(tmp_path / "ok.zip", {"cmi5.xml": COURSE, "au1/index.html": b""}))
    assert (good.title, good.language, good.entry) == ("Les fractions", "fr", "au1/index.html")
    missing = write_zip(tmp_path / "c.zip", {"cmi5.xml": COURSE, "au2/index.html": b""})
    with pytest.raises(InvalidFile, match=r"names au1/index\.html, which is not in the zip"):
        inspect_file(missing)
    climbing = COURSE.replace(b"au1/index.html", b"../au1/index.html")
    with pytest.raises(InvalidFile, match="points outside the package"):
        inspect_file(write_zip(tmp_path / "d.zip", {"cmi5.xml": climbing}))
