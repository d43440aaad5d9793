"""ZIM archives: the openZIM test files, damaged copies, and the optional extra missing."""

import sys

import pytest

from kalan.content.inspect import InvalidFile, detect_kind, inspect_file
from kalan.content.inspect import zim as zim_module
from kalan.content.tests.corpus import corpus_files, corpus_path

pytest.importorskip("libzim", reason="libzim (the kalan[zim] extra) is not installed")


@pytest.mark.parametrize("path", corpus_files("zim", "*/*.zim"))
def test_every_corpus_zim_is_read_or_refused_as_its_notice_says(path):
    assert detect_kind(path) == "zim"
    if path.name.startswith("invalid."):
        with pytest.raises(InvalidFile, match="ZIM") as refused:
            inspect_file(path)
        assert "\n" not in str(refused.value)
        return
    inspection = inspect_file(path)
    assert inspection.kind == "zim"
    assert inspection.title
    assert inspection.options["article_count"] > 0
    assert inspection.options["integrity_checked"] is True


def test_the_small_zim(tmp_path):
    inspection = inspect_file(corpus_path("zim") / "nons" / "small.zim")
    assert (inspection.title, inspection.language, inspection.description) == (
        "Test ZIM file",
        "en",
        "",
    )
    assert inspection.entry == "main.html"  # mainPage redirects there
    assert inspection.options["article_count"] == 1
    assert inspection.options["media_count"] == 1
    assert inspection.thumbnail_ext == "png"
    assert inspection.text.startswith("Test ZIM file")
    assert len(inspection.text) > len("Test ZIM file")  # the main page's text is included


def test_the_smaller_than_header_file_is_refused_with_libzims_reason():
    path = corpus_path("zim") / "nons" / "invalid.smaller_than_header.zim"
    with pytest.raises(InvalidFile, match=r"not a readable ZIM archive \(zim-file is too small"):
        inspect_file(path)


@pytest.mark.parametrize("kept", [0.3, 0.9, 0.999])
def test_truncated_copies_are_refused(tmp_path, kept):
    whole = (corpus_path("zim") / "nons" / "small.zim").read_bytes()
    path = tmp_path / "small.zim"
    path.write_bytes(whole[: int(len(whole) * kept)])
    with pytest.raises(InvalidFile, match="ZIM"):
        inspect_file(path)


def test_a_flipped_byte_fails_the_integrity_check(tmp_path):
    data = bytearray((corpus_path("zim") / "nons" / "small.zim").read_bytes())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "small.zim"
    path.write_bytes(bytes(data))
    with pytest.raises(
        InvalidFile, match="the ZIM file is damaged: it fails libzim's integrity check"
    ):
        inspect_file(path)


def test_big_files_are_opened_without_the_full_check(monkeypatch):
    monkeypatch.setattr(zim_module, "MAX_CHECKED_SIZE", 1000)
    inspection = inspect_file(corpus_path("zim") / "nons" / "small.zim")
    assert inspection.options["integrity_checked"] is False


def test_without_the_extra_zim_files_are_refused_clearly(monkeypatch):
    monkeypatch.setitem(sys.modules, "libzim.reader", None)  # import fails as if not installed
    with pytest.raises(InvalidFile, match=r"ZIM files need the kalan\[zim\] extra"):
        inspect_file(corpus_path("zim") / "nons" / "small.zim")
