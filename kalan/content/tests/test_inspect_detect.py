"""detect_kind, inspect_file's dispatch, and the promise that bad input only gives InvalidFile."""

import io
import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.content.inspect import INSPECTORS, Inspection, InvalidFile, detect_kind, inspect_file
from kalan.content.tests.corpus import write_zip


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Leçon 1.PDF", "document"),
        ("livre.epub", "epub"),
        ("cours.mp4", "video"),
        ("cours.WEBM", "video"),
        ("cours.ogv", "video"),
        ("cours.m4v", "video"),
        ("chanson.mp3", "audio"),
        ("chanson.ogg", "audio"),
        ("chanson.oga", "audio"),
        ("chanson.m4a", "audio"),
        ("chanson.wav", "audio"),
        ("chanson.opus", "audio"),
        ("wikipedia_fr.zim", "zim"),
        ("quiz.h5p", "h5p"),
        ("fractions.exercise.json", "exercise"),
        ("Fractions.Exercise.JSON", "exercise"),
        ("cours.fr.vtt", None),
        ("cours.srt", None),
        ("cours.png", None),
        ("notes.json", None),
        ("notes.docx", None),
        ("README", None),
    ],
)
def test_kinds_by_name(tmp_path, name, kind):
    path = tmp_path / name
    path.write_bytes(b"")
    assert detect_kind(path) == kind


def test_xml_files_are_cmi5_only_when_they_hold_a_course_structure(tmp_path):
    course = tmp_path / "course.xml"
    course.write_text(
        '<?xml version="1.0"?>\n<courseStructure xmlns="https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd">'
    )
    other = tmp_path / "data.xml"
    other.write_text("<data><courseStructures/></data>")
    assert (detect_kind(course), detect_kind(other)) == ("cmi5", None)


def test_zip_kinds_by_content(tmp_path):
    scorm = write_zip(tmp_path / "a.zip", {"imsmanifest.xml": "", "cmi5.xml": "", "index.html": ""})
    cmi5 = write_zip(tmp_path / "b.zip", {"cmi5.xml": "", "index.html": ""})
    html5 = write_zip(tmp_path / "c.zip", {"index.html": ""})
    nested = write_zip(tmp_path / "d.zip", {"sub/imsmanifest.xml": "", "sub/x.html": ""})
    assert [detect_kind(p) for p in (scorm, cmi5, html5, nested)] == [
        "scorm",
        "cmi5",
        "html5",
        None,
    ]


def test_inspect_file_detects_the_kind_and_refuses_what_it_cannot_inspect(tmp_path):
    exercise = tmp_path / "a.exercise.json"
    exercise.write_text(
        json.dumps(
            {
                "title": "A",
                "items": [
                    {"id": "q1", "type": "true_false", "prompt": "<p>?</p>", "correct": True}
                ],
            }
        )
    )
    assert inspect_file(exercise).kind == "exercise"
    unknown = tmp_path / "notes.docx"
    unknown.write_bytes(b"PK")
    with pytest.raises(InvalidFile, match="Kalan does not know this kind of file"):
        inspect_file(unknown)
    with pytest.raises(InvalidFile, match="topic is not a kind of resource a file can be"):
        inspect_file(exercise, "topic")
    with pytest.raises(InvalidFile, match="the file does not exist"):
        inspect_file(tmp_path / "gone.pdf")
    with pytest.raises(InvalidFile, match="a folder, not a file"):
        inspect_file(tmp_path, "document")


def test_every_kind_of_inspection_is_json_serialisable_apart_from_the_thumbnail(tmp_path):
    exercise = tmp_path / "a.exercise.json"
    exercise.write_text(
        json.dumps(
            {
                "title": "A",
                "items": [
                    {"id": "q1", "type": "true_false", "prompt": "<p>?</p>", "correct": True}
                ],
            }
        )
    )
    inspection = inspect_file(exercise)
    assert isinstance(inspection, Inspection)
    json.dumps({**vars(inspection), "thumbnail": None})


def _zip_bytes(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


SUFFIXES = {
    "document": ".pdf", "epub": ".epub", "video": ".mp4", "audio": ".wav", "scorm": ".zip",
    "cmi5": ".zip", "h5p": ".h5p", "html5": ".zip", "zim": ".zim", "exercise": ".exercise.json",
}  # fmt: skip
MANIFESTS = {
    "scorm": "imsmanifest.xml", "cmi5": "cmi5.xml", "h5p": "h5p.json", "html5": "index.html",
    "epub": "META-INF/container.xml",
}  # fmt: skip
_xml_ish = st.text(
    alphabet="<>/=\"' abcdefghijklmnopqrstuvwxyzASCOIRMNT:.-?&#;0123456789\n", max_size=300
)


@st.composite
def candidate_files(draw):
    """A kind and bytes: random, or a zip whose manifest for that kind is random."""
    kind = draw(st.sampled_from(sorted(INSPECTORS)))
    if kind in MANIFESTS and draw(st.booleans()):
        manifest = draw(st.one_of(st.binary(max_size=300), _xml_ish.map(str.encode)))
        members = {MANIFESTS[kind]: manifest}
        if kind == "h5p":
            members["content/content.json"] = draw(st.sampled_from([b"{}", b"[", b""]))
        return kind, _zip_bytes(members)
    prefix = draw(
        st.sampled_from([b"", b"%PDF-1.4\n", b"ZIM\x04", b"RIFF\x00\x00\x00\x00WAVE", b"{"])
    )
    return kind, prefix + draw(st.binary(max_size=400))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(candidate=candidate_files())
def test_any_bytes_give_an_inspection_or_a_one_line_refusal(candidate):
    kind, data = candidate
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"resource{SUFFIXES[kind]}"
        path.write_bytes(data)
        try:
            inspection = inspect_file(path, kind)
        except InvalidFile as error:
            refusal: InvalidFile | None = error
        else:
            refusal = None
    if refusal is not None:
        assert str(refusal)
        assert "\n" not in str(refusal)
        assert refusal.problems == [str(refusal)]
        return
    assert inspection.kind == kind
    assert len(inspection.text) <= 20_000
