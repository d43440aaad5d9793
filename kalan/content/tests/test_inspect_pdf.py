"""PDF inspection against the py-pdf sample files and PDFs made here."""

import io
import json

import pypdf
import pytest
from fpdf import FPDF
from PIL import Image

from kalan.content.inspect import InvalidFile, inspect_file
from kalan.content.inspect.inspection import MAX_TEXT
from kalan.content.tests.corpus import corpus_path, corpus_root


def _files_json_entries():
    listing = corpus_root() / "pdf" / "files.json"
    if not listing.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {listing}"), id="no-corpus")]
    entries = json.loads(listing.read_text())["data"]
    params = []
    for entry in entries:
        present = (listing.parent / entry["path"]).is_file()
        marks = [] if present else [pytest.mark.skip(reason="not in this copy of the corpus")]
        params.append(pytest.param(entry, marks=marks, id=entry["path"]))
    return params


def assert_thumbnail(inspection):
    assert inspection.thumbnail_ext in {"jpg", "png"}
    with Image.open(io.BytesIO(inspection.thumbnail)) as image:
        assert image.format == {"jpg": "JPEG", "png": "PNG"}[inspection.thumbnail_ext]
        assert 0 < image.width <= 480
        assert image.height > 0


@pytest.mark.parametrize("entry", _files_json_entries())
def test_every_listed_pdf_gives_its_page_count_or_is_refused_as_encrypted(entry):
    path = corpus_path("pdf") / entry["path"]
    if entry["encrypted"]:
        with pytest.raises(InvalidFile, match="encrypted") as refused:
            inspect_file(path)
        assert "password" in str(refused.value)
        assert "\n" not in str(refused.value)
        return
    inspection = inspect_file(path)
    assert inspection.kind == "document"
    assert inspection.page_count == entry["pages"]
    assert_thumbnail(inspection)
    assert len(inspection.text) <= MAX_TEXT


def test_corpus_metadata_and_text_are_read():
    pdf = corpus_path("pdf")
    google = inspect_file(pdf / "011-google-doc-document/google-doc-document.pdf")
    assert google.title == "PDF Example Document"
    assert "Example document" in google.text
    lorem = inspect_file(pdf / "001-trivial/minimal-document.pdf")
    assert lorem.text.startswith("Lorem ipsum dolor sit amet")
    assert inspect_file(pdf / "012-libreoffice-form/libreoffice-form.pdf").language == "en-US"
    # Producers' placeholders and stray NUL bytes are not titles.
    assert inspect_file(pdf / "008-reportlab-inline-image/inline-image.pdf").title == ""
    assert inspect_file(pdf / "008-reportlab-inline-image/inline-image.pdf").author == ""
    lzw = inspect_file(pdf / "007-imagemagick-images/imagemagick-lzw.pdf")
    assert lzw.title == "imagemagick-lzw"


def _pdf_with_pages(pages, text="Les fractions et les nombres décimaux. "):
    document = FPDF()
    document.set_font("helvetica", size=10)
    for number in range(pages):
        document.add_page()
        document.multi_cell(0, 5, f"Page {number + 1}. " + text * 30)
    return bytes(document.output())


def test_text_is_capped_and_extraction_stops_early(tmp_path, monkeypatch):
    path = tmp_path / "livre.pdf"
    path.write_bytes(_pdf_with_pages(60))
    extracted = []
    original = pypdf.PageObject.extract_text

    def counting(page, *args, **kwargs):
        extracted.append(page)
        return original(page, *args, **kwargs)

    monkeypatch.setattr(pypdf.PageObject, "extract_text", counting)
    inspection = inspect_file(path)
    assert inspection.page_count == 60
    assert len(inspection.text) == MAX_TEXT
    assert inspection.text.startswith("Page 1. Les fractions")
    assert 1 < len(extracted) < 60


def test_owner_password_only_pdf_is_accepted_but_a_user_password_is_refused(tmp_path):
    for user_password, accepted in [("", True), ("secret", False)]:
        writer = pypdf.PdfWriter(clone_from=io.BytesIO(_pdf_with_pages(2)))
        writer.encrypt(user_password=user_password, owner_password="owner")
        path = tmp_path / f"locked-{accepted}.pdf"
        with path.open("wb") as handle:
            writer.write(handle)
        if accepted:
            assert inspect_file(path).page_count == 2
        else:
            with pytest.raises(InvalidFile, match=r"encrypted \(password-protected\)"):
                inspect_file(path)


def test_a_pdf_without_pages_is_refused(tmp_path):
    path = tmp_path / "vide.pdf"
    with path.open("wb") as handle:
        pypdf.PdfWriter().write(handle)
    with pytest.raises(InvalidFile, match="the PDF has no pages"):
        inspect_file(path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "not a PDF"),
        (b"Lesson plan, plain text saved as .pdf\n", "not a PDF"),
        (b"%PDF-1.7\n" + b"\x00garbage" * 100, "cannot be read"),
    ],
)
def test_files_that_are_not_readable_pdfs_are_refused(tmp_path, content, reason):
    path = tmp_path / "lesson.pdf"
    path.write_bytes(content)
    with pytest.raises(InvalidFile, match=reason):
        inspect_file(path)


@pytest.mark.parametrize("kept", [0.01, 0.5, 0.99])
def test_a_truncated_pdf_is_refused(tmp_path, kept):
    whole = (corpus_path("pdf") / "004-pdflatex-4-pages/pdflatex-4-pages.pdf").read_bytes()
    path = tmp_path / "coupé.pdf"
    path.write_bytes(whole[: int(len(whole) * kept)])
    with pytest.raises(InvalidFile, match="the PDF cannot be read: it is damaged or not a PDF"):
        inspect_file(path)


def test_a_tagged_pdf_is_marked_for_screen_readers(tmp_path):
    from pypdf.generic import BooleanObject, DictionaryObject, NameObject

    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_pdf_with_pages(1)))
    writer._root_object[NameObject("/MarkInfo")] = DictionaryObject(
        {NameObject("/Marked"): BooleanObject(True)}
    )
    writer._root_object[NameObject("/Lang")] = pypdf.generic.TextStringObject("fr-ML")
    path = tmp_path / "accessible.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    inspection = inspect_file(path)
    assert (inspection.accessibility, inspection.language) == (["screen_reader"], "fr-ML")
    untagged = tmp_path / "plain.pdf"
    untagged.write_bytes(_pdf_with_pages(1))
    assert inspect_file(untagged).accessibility == []
