"""EPUB inspection against the IDPF EPUB 3 samples and damaged copies of them."""

import io
import zipfile

import pytest
from PIL import Image

from kalan.content.inspect import InvalidFile, inspect_file
from kalan.content.tests.corpus import corpus_files, corpus_path, write_zip


@pytest.mark.parametrize("path", corpus_files("epub", "*.epub"))
def test_every_corpus_epub_has_a_title_a_thumbnail_and_pages(path):
    inspection = inspect_file(path)
    assert inspection.kind == "epub"
    assert inspection.title
    assert inspection.author
    assert inspection.language
    assert inspection.page_count
    assert inspection.thumbnail is not None
    with Image.open(io.BytesIO(inspection.thumbnail)) as image:
        assert 0 < image.width <= 480
        assert image.format == {"jpg": "JPEG", "png": "PNG"}[inspection.thumbnail_ext]


def test_metadata_spine_and_text_of_known_books():
    epub = corpus_path("epub")
    wasteland = inspect_file(epub / "wasteland.epub")
    assert (wasteland.title, wasteland.author, wasteland.language) == (
        "The Waste Land",
        "T.S. Eliot",
        "en-US",
    )
    assert wasteland.page_count == 1
    assert "April is the cruellest month" in wasteland.text
    assert wasteland.options["layout"] == "reflowable"
    children = inspect_file(epub / "childrens-literature.epub")
    assert children.author == "Charles Madison Curry, Erle Elsworth Clippinger"
    assert children.page_count == 3
    assert children.thumbnail_ext == "png"  # the cover is a PNG with transparency
    french = inspect_file(epub / "sous-le-vent.epub")
    assert (french.title, french.language, french.page_count) == ("Sous le vent", "fr", 13)
    assert french.options["layout"] == "pre-paginated"


@pytest.mark.parametrize("kept", [0.5, 0.9, 0.999])
def test_a_truncated_epub_is_refused(tmp_path, kept):
    whole = (corpus_path("epub") / "wasteland.epub").read_bytes()
    path = tmp_path / "wasteland.epub"
    path.write_bytes(whole[: int(len(whole) * kept)])
    with pytest.raises(InvalidFile, match="not a zip archive, or it is damaged"):
        inspect_file(path)


def _rewritten(source, path, change):
    """A copy of the EPUB `source` with its members passed through change(name, data)."""
    with zipfile.ZipFile(source) as original:
        members = {info.filename: original.read(info) for info in original.infolist()}
    kept = {}
    for name, data in members.items():
        result = change(name, data)
        if result is not None:
            kept[name] = result
    return write_zip(path, kept)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda name, data: None if name == "META-INF/container.xml" else data, "no META-INF"),
        (lambda name, data: None if name.endswith(".opf") else data, "package document"),
        (
            lambda name, data: data.replace(b"<spine", b"<spin") if name.endswith(".opf") else data,
            "package document",
        ),
        (
            lambda name, data: b"<package" if name.endswith(".opf") else data,
            "package document",
        ),
    ],
    ids=["no-container", "no-opf", "broken-opf", "truncated-opf"],
)
def test_epubs_missing_their_container_or_package_document_are_refused(tmp_path, change, reason):
    source = corpus_path("epub") / "wasteland.epub"
    path = _rewritten(source, tmp_path / "broken.epub", change)
    with pytest.raises(InvalidFile, match=reason):
        inspect_file(path)


def test_an_epub_with_a_path_escaping_its_folder_is_refused(tmp_path):
    source = corpus_path("epub") / "wasteland.epub"
    with zipfile.ZipFile(source) as original:
        members = {info.filename: original.read(info) for info in original.infolist()}
    members["../../evil.xhtml"] = b"<html/>"
    path = write_zip(tmp_path / "evil.epub", members)
    with pytest.raises(InvalidFile, match=r"path that is not allowed: \.\./\.\./evil\.xhtml"):
        inspect_file(path)


def test_accessibility_metadata_marks_a_book_for_screen_readers(tmp_path):
    source = corpus_path("epub") / "wasteland.epub"
    meta = b'<meta property="schema:accessModeSufficient">textual</meta></metadata>'

    def add_meta(name, data):
        return data.replace(b"</metadata>", meta) if name.endswith(".opf") else data

    path = _rewritten(source, tmp_path / "accessible.epub", add_meta)
    assert inspect_file(path).accessibility == ["screen_reader"]
    assert inspect_file(source).accessibility == []
