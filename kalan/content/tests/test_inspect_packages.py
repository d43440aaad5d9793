"""H5P and HTML5 zips, exercises, and the zip checks every package kind goes through."""

import json
import stat
import warnings
import zipfile

import pytest

from kalan.content.inspect import InvalidFile, detect_kind, inspect_file, zip_package
from kalan.content.tests.corpus import write_zip

H5P_JSON = {
    "title": "Quiz : les fractions",
    "language": "fr",
    "mainLibrary": "H5P.MultiChoice",
    "license": "CC BY",
    "authors": [{"name": "Awa Traoré", "role": "Author"}, {"role": "Editor"}],
    "embedTypes": ["div"],
    "preloadedDependencies": [
        {"machineName": "H5P.MultiChoice", "majorVersion": 1, "minorVersion": 16},
        {"machineName": "FontAwesome", "majorVersion": 4, "minorVersion": 5},
    ],
}
H5P_MEMBERS = {
    "h5p.json": json.dumps(H5P_JSON),
    "content/content.json": json.dumps({"question": "<p>1/2 + 1/4 ?</p>"}),
    "H5P.MultiChoice-1.16/library.json": "{}",
    "H5P.MultiChoice-1.16/js/multichoice.js": "",
}


def test_an_h5p_package(tmp_path):
    path = write_zip(tmp_path / "quiz.h5p", H5P_MEMBERS)
    assert detect_kind(path) == "h5p"
    inspection = inspect_file(path)
    assert (inspection.kind, inspection.title, inspection.language) == (
        "h5p",
        "Quiz : les fractions",
        "fr",
    )
    assert inspection.author == "Awa Traoré"
    assert inspection.entry == ""
    assert inspection.options == {
        "main_library": "H5P.MultiChoice",
        "library_folder": "H5P.MultiChoice-1.16",
        "license": "CC BY",
        "authors": [{"name": "Awa Traoré", "role": "Author"}],
    }


NO_LIBRARY = {
    "H5P.MultiChoice-1.16/library.json": None,
    "H5P.MultiChoice-1.16/js/multichoice.js": None,
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        pytest.param({"h5p.json": None}, "no h5p.json at its top", id="no-h5p-json"),
        pytest.param({"h5p.json": "{not json"}, "h5p.json is not valid JSON", id="bad-json"),
        pytest.param({"h5p.json": "[]"}, "h5p.json is not a JSON object", id="not-object"),
        pytest.param(
            {"h5p.json": json.dumps({**H5P_JSON, "title": " "})}, "needs a title", id="no-title"
        ),
        pytest.param(
            {"h5p.json": json.dumps({**H5P_JSON, "mainLibrary": None})},
            "and a mainLibrary",
            id="no-main",
        ),
        pytest.param({"content/content.json": None}, "no content/content.json", id="no-content"),
        pytest.param(
            {"content/content.json": "\xff"}, "content.json is not valid JSON", id="bad-content"
        ),
        pytest.param(
            NO_LIBRARY, "does not hold its main library H5P.MultiChoice-1.16", id="no-library"
        ),
    ],
)
def test_broken_h5p_packages_are_refused(tmp_path, change, reason):
    members = {**H5P_MEMBERS, **change}
    path = write_zip(tmp_path / "quiz.h5p", {k: v for k, v in members.items() if v is not None})
    with pytest.raises(InvalidFile, match=reason):
        inspect_file(path)


PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title> Le  cycle de l'eau </title>
<style>body { color: red }</style><script>var hidden = "not text";</script></head>
<body><h1>L'eau</h1><p>&Eacute;vaporation, condensation<br>et pr\xc3\xa9cipitations.</p>
<img alt="Un nuage" src="n.png"><svg><title>icon</title></svg></body></html>"""


def test_an_html5_app_with_index_at_the_top(tmp_path):
    path = write_zip(tmp_path / "eau.zip", {"index.html": PAGE, "js/app.js": b"", "n.png": b""})
    assert detect_kind(path) == "html5"
    inspection = inspect_file(path)
    assert (inspection.title, inspection.entry) == ("Le cycle de l'eau", "index.html")
    assert inspection.text == "L'eau Évaporation, condensation et précipitations. Un nuage"


def test_xhtml_pages_with_empty_titles_and_html_without_a_head_end(tmp_path):
    xhtml = b'<html xmlns="http://www.w3.org/1999/xhtml"><head><title/></head><body>Bonjour</body></html>'
    path = write_zip(tmp_path / "x.zip", {"index.html": xhtml})
    assert (inspect_file(path).title, inspect_file(path).text) == ("", "Bonjour")
    loose = b"<title>Titre</title><script>x()</script><body><p>Texte"
    path = write_zip(tmp_path / "y.zip", {"index.html": loose})
    assert (inspect_file(path).title, inspect_file(path).text) == ("Titre", "Texte")


def test_an_html5_app_in_one_folder(tmp_path):
    members = {
        "eau/index.html": PAGE,
        "eau/app.js": b"",
        "__MACOSX/eau/._index.html": b"",
        ".DS_Store": b"",
    }
    path = write_zip(tmp_path / "eau.zip", members)
    assert detect_kind(path) == "html5"
    assert inspect_file(path).entry == "eau/index.html"


def test_zips_that_are_no_resource(tmp_path):
    two_folders = write_zip(tmp_path / "a.zip", {"a/index.html": PAGE, "b/index.html": PAGE})
    assert detect_kind(two_folders) is None
    with pytest.raises(InvalidFile, match=r"no index\.html at its top"):
        inspect_file(two_folders, "html5")
    assert detect_kind(write_zip(tmp_path / "b.zip", {"notes.txt": b"x"})) is None
    not_zip = tmp_path / "c.zip"
    not_zip.write_bytes(b"this is not a zip")
    assert detect_kind(not_zip) is None
    with pytest.raises(InvalidFile, match="not a zip archive, or it is damaged"):
        inspect_file(not_zip, "html5")


def _zip_with(tmp_path, info, content=b"x"):
    path = tmp_path / "app.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("index.html", PAGE)
        archive.writestr(info, content)
    return path


@pytest.mark.parametrize(
    "name",
    ["../evil.html", "a/../../evil.html", "/etc/passwd", "C:/Windows/evil.dll", "a\\..\\evil.html"],
)
@pytest.mark.parametrize(
    ("suffix", "kind"), [(".zip", "html5"), (".h5p", "h5p"), (".zip", "scorm"), (".zip", "cmi5")]
)
def test_every_zip_kind_refuses_paths_that_escape(tmp_path, name, suffix, kind):
    path = _zip_with(tmp_path, zipfile.ZipInfo(name))
    path = path.rename(path.with_suffix(suffix))
    with pytest.raises(InvalidFile, match="path that is not allowed"):
        inspect_file(path, kind)


def test_symbolic_links_encrypted_members_and_duplicates_are_refused(tmp_path):
    link = zipfile.ZipInfo("data")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(InvalidFile, match="symbolic link: data"):
        inspect_file(_zip_with(tmp_path, link, b"/etc/passwd"), "html5")
    locked = _zip_with(tmp_path, "secret.txt")
    data = bytearray(locked.read_bytes())
    local = data.index(b"secret.txt") - 30  # the name follows the 30-byte local header
    central = data.rindex(b"secret.txt") - 46  # ... and the 46-byte central directory entry
    assert bytes(data[local : local + 4]) == b"PK\x03\x04"
    assert bytes(data[central : central + 4]) == b"PK\x01\x02"
    data[local + 6] |= 0x1  # general purpose flags, bit 0: encrypted
    data[central + 8] |= 0x1
    locked.write_bytes(bytes(data))
    with pytest.raises(InvalidFile, match="encrypted"):
        inspect_file(locked, "html5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about the duplicate
        duplicate = _zip_with(tmp_path, "index.html")
    with pytest.raises(InvalidFile, match=r"holds index\.html twice"):
        inspect_file(duplicate, "html5")


def test_zip_bombs_and_oversized_members_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(zip_package, "BOMB_MIN_SIZE", 1024 * 1024)
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", PAGE)
        archive.writestr("zeros.bin", b"\x00" * (2 * 1024 * 1024))
    with pytest.raises(
        InvalidFile, match=r"zeros\.bin in the zip unpacks to 2 MB from almost nothing"
    ):
        inspect_file(path, "html5")
    monkeypatch.setattr(zip_package, "MAX_READ", 100)
    path = write_zip(tmp_path / "big.zip", {"index.html": PAGE})
    with pytest.raises(InvalidFile, match=r"index\.html in the zip is larger than"):
        inspect_file(path, "html5")


def test_a_damaged_member_is_refused(tmp_path):
    path = write_zip(tmp_path / "app.zip", {"index.html": PAGE * 20})
    data = bytearray(path.read_bytes())
    start = data.index(b"index.html") + len("index.html")  # first local header's name
    data[start + 10 : start + 30] = b"\xff" * 20
    path.write_bytes(bytes(data))
    with pytest.raises(InvalidFile, match=r"index\.html in the zip cannot be unpacked"):
        inspect_file(path, "html5")


def test_exercises(tmp_path):
    path = tmp_path / "fractions.exercise.json"
    path.write_text(
        json.dumps(
            {
                "title": " Fractions ",
                "description": "Dix questions",
                "items": [
                    {
                        "id": "q1",
                        "type": "true_false",
                        "prompt": "<p>½ &gt; ⅓</p>",
                        "correct": True,
                    },
                    {
                        "id": "q2",
                        "type": "short_text",
                        "prompt": "<p>½ ?</p>",
                        "answers": ["un demi"],
                    },
                ],
            }
        )
    )
    assert detect_kind(path) == "exercise"
    inspection = inspect_file(path)
    assert (inspection.title, inspection.description, inspection.options) == (
        "Fractions",
        "Dix questions",
        {"item_count": 2, "media": []},
    )
    for content, reason in [
        ("{", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"items": []}', 'needs a "title"'),
        ('{"title": "x", "items": {}}', 'needs an "items" list'),
        ("[" * 100_000, "not valid JSON"),
    ]:
        path.write_text(content)
        with pytest.raises(InvalidFile, match=reason):
            inspect_file(path)
