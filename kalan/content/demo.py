"""The demo channel of `kalan demo`: every file is made here, in code.

An HTML lesson, a PDF, an EPUB, a spoken-tone audio file, a small SCORM 1.2
course and the exercise slot are always made; a short video with captions in
English and French is added when ffmpeg is present. The folder is built with
`build_channel` and imported like any other package, so the demo exercises the
real path. The channel id is fixed: rerunning changes nothing.
"""

import io
import json
import math
import shutil
import struct
import subprocess
import tempfile
import uuid
import wave
import zipfile
from pathlib import Path

from kalan.content.builder import build_channel
from kalan.content.importer import import_channel
from kalan.content.keys import load_or_create_key
from kalan.content.models import Channel
from kalan.content.sources import DirectorySource
from kalan.content.store import LibraryFolder

DEMO_CHANNEL_ID = uuid.UUID("6b1f4f0e-7d3c-5c1a-9a57-4b616c616e21")
DEMO_VERSION = 1
TITLE = "Kalan demo library"

METADATA = f"""\
channel:
  id: {DEMO_CHANNEL_ID}
  version: {DEMO_VERSION}
  title: {TITLE}
  description: >-
    Sample lessons made by the Kalan project to try every player: reading,
    listening, an interactive lesson, a course and practice.
  language: en
  licence: CC BY 4.0
  publisher: Kalan project
resources:
  "01 Reading":
    title: Reading
  "01 Reading/counting.pdf":
    title: Counting to ten
    description: A three-page counting book. Compter jusqu'à dix. Kalan ɲɛnajɛ.
    language: en
    grade_levels: [P1]
    subjects: [Mathematics]
    curriculum_codes: [MATH.P1.1]
    author: Kalan project
    attribution: Made for the Kalan demo
    accessibility: [screen_reader]
  "01 Reading/story.epub":
    title: La leçon de l'élève
    description: Une courte histoire pour les élèves du primaire.
    language: fr
    grade_levels: [P2]
    subjects: [French]
    author: Kalan project
  "02 Listening":
    title: Listening
  "02 Listening/greeting.wav":
    title: A greeting tone
    description: A short sound to test the audio player. Салом, ҳисоб ва ҷавоб.
    language: tg
    grade_levels: [P1]
    subjects: [Music]
  "03 Interactive":
    title: Interactive
  "03 Interactive/shapes.zip":
    title: Shapes
    description: Click the shapes to hear their names.
    grade_levels: [Pre-primary]
    subjects: [Mathematics]
  "03 Interactive/course.zip":
    title: My first course
    description: A one-page SCORM 1.2 course that records your progress.
    grade_levels: [P3]
    subjects: [Life skills]
  "04 Practice":
    title: Practice
  "04 Practice/counting.exercise.json":
    title: Counting practice
    description: Count stars, put numbers in order and fill the gaps.
    grade_levels: [P1]
    subjects: [Mathematics]
"""

COUNTING_EXERCISE = {
    "title": "Counting practice",
    "language": "en",
    "mastery": {"model": "m_of_n", "m": 4, "n": 5},
    "items": [
        {
            "id": "stars",
            "type": "single_choice",
            "prompt": "<p>How many stars? ★ ★ ★</p>",
            "choices": [
                {"id": "two", "text": "2", "feedback": "<p>Count again: there is one more.</p>"},
                {"id": "three", "text": "3"},
                {"id": "four", "text": "4"},
            ],
            "correct": "three",
            "hints": ["<p>Point at each star and count.</p>"],
            "feedback": {"correct": "<p>Well done!</p>", "incorrect": "<p>Count slowly.</p>"},
        },
        {
            "id": "after-seven",
            "type": "numeric",
            "prompt": "<p>Which number comes after 7?</p>",
            "answers": [{"value": 8}],
        },
        {"id": "ten", "type": "true_false", "prompt": "<p>5 + 5 = 10</p>", "correct": True},
        {
            "id": "smallest-first",
            "type": "ordering",
            "prompt": "<p>Put the numbers in order, smallest first.</p>",
            "steps": [
                {"id": "n2", "text": "2"},
                {"id": "n5", "text": "5"},
                {"id": "n9", "text": "9"},
            ],
        },
        {
            "id": "three-in-words",
            "type": "short_text",
            "prompt": "<p>Write the number 3 in words.</p>",
            "answers": ["three"],
        },
        {
            "id": "missing",
            "type": "fill_blanks",
            "prompt": "<p>1, 2, {{a}}, 4, {{b}}</p>",
            "blanks": [
                {"id": "a", "type": "numeric", "answers": [{"value": 3}]},
                {"id": "b", "type": "numeric", "answers": [{"value": 5}]},
            ],
        },
    ],
}

VIDEO_METADATA = """\
  "05 Watching":
    title: Watching
  "05 Watching/sunrise.webm":
    title: Sunrise
    description: Six seconds of colour with a tone, captioned in English and French.
    grade_levels: [P1]
    subjects: [Science]
"""


def ensure_demo_channel() -> bool:
    """Build and import the demo channel unless it is installed; True when it was imported."""
    if Channel.objects.filter(id=DEMO_CHANNEL_ID, version__gte=DEMO_VERSION).exists():
        return False
    with tempfile.TemporaryDirectory(prefix="kalan-demo-") as workdir:
        source = Path(workdir) / "source"
        write_demo_folder(source, with_video=shutil.which("ffmpeg") is not None)
        package = Path(workdir) / "package"
        build_channel(source, package, key=load_or_create_key(), publisher="Kalan project")
        import_channel(DirectorySource(LibraryFolder(package)), DEMO_CHANNEL_ID)
    return True


def write_demo_folder(folder: Path, *, with_video: bool) -> None:
    """Write the demo channel's source folder (the input of `kalan content build`)."""
    reading, listening, interactive, practice = (
        folder / name for name in ("01 Reading", "02 Listening", "03 Interactive", "04 Practice")
    )
    for sub in (reading, listening, interactive, practice):
        sub.mkdir(parents=True, exist_ok=True)
    metadata = METADATA
    (reading / "counting.pdf").write_bytes(counting_pdf())
    (reading / "story.epub").write_bytes(story_epub())
    (listening / "greeting.wav").write_bytes(tone_wav())
    (listening / "greeting.en.vtt").write_text(CAPTIONS_EN_AUDIO, encoding="utf-8")
    (interactive / "shapes.zip").write_bytes(shapes_app())
    (interactive / "course.zip").write_bytes(scorm_course())
    (practice / "counting.exercise.json").write_text(
        json.dumps(COUNTING_EXERCISE, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    if with_video:
        watching = folder / "05 Watching"
        watching.mkdir(exist_ok=True)
        make_video(watching / "sunrise.webm")
        (watching / "sunrise.en.vtt").write_text(CAPTIONS_EN, encoding="utf-8")
        (watching / "sunrise.fr.vtt").write_text(CAPTIONS_FR, encoding="utf-8")
        metadata += VIDEO_METADATA
    (folder / "kalan.yaml").write_text(metadata, encoding="utf-8")


# ---------------------------------------------------------------- files


def counting_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format=(148, 210))  # A5, in millimetres
    pdf.set_title("Counting to ten")
    pdf.set_author("Kalan project")
    for first in (1, 4, 8):
        pdf.add_page()
        pdf.set_font("helvetica", size=28)
        pdf.cell(text="Counting to ten", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("helvetica", size=20)
        for number in range(first, min(first + 4, 11)):
            pdf.cell(text=f"{number}: " + "o " * number, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def story_epub() -> bytes:
    import warnings

    from ebooklib import epub  # type: ignore[import-untyped]

    book = epub.EpubBook()
    book.set_identifier(f"urn:uuid:{uuid.uuid5(DEMO_CHANNEL_ID, 'story')}")
    book.set_title("La leçon de l'élève")
    book.set_language("fr")
    book.add_author("Kalan project")
    chapters = []
    for number, text in enumerate(STORY, start=1):
        chapter = epub.EpubHtml(title=f"Chapitre {number}", file_name=f"c{number}.xhtml", lang="fr")
        chapter.content = f"<h1>Chapitre {number}</h1><p>{text}</p>"
        book.add_item(chapter)
        chapters.append(chapter)
    book.toc = chapters
    book.spine = ["nav", *chapters]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ebooklib warns about its own defaults
        epub.write_epub(out, book)
    return out.getvalue()


STORY = [
    "Awa arrive à l'école. Aujourd'hui, la leçon parle des nombres.",
    "Le maître écrit un, deux, trois au tableau. Les élèves comptent ensemble.",
    "À la fin de la journée, Awa compte les étoiles avec son frère.",
]


def tone_wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
            for n in range(int(seconds * rate))
        )
        sound.writeframes(frames)
    return out.getvalue()


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), text)
    return out.getvalue()


def shapes_app() -> bytes:
    return _zip({"index.html": SHAPES_HTML, "shapes.js": SHAPES_JS})


def scorm_course() -> bytes:
    return _zip({"imsmanifest.xml": SCORM_MANIFEST, "index.html": SCORM_HTML})


def make_video(path: Path) -> None:
    """Six seconds of test pattern and a tone, VP8/Vorbis in WebM (needs ffmpeg)."""
    subprocess.run(  # noqa: S603
        [  # noqa: S607
            "ffmpeg", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", "testsrc=duration=6:size=320x240:rate=15",
            "-f", "lavfi", "-i", "sine=frequency=440:duration=6",
            "-c:v", "libvpx", "-b:v", "200k", "-c:a", "libvorbis", "-shortest", str(path),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )  # fmt: skip


CAPTIONS_EN = """WEBVTT

00:00:00.000 --> 00:00:03.000
The sun rises over the school.

00:00:03.000 --> 00:00:06.000
Good morning, everyone!
"""

CAPTIONS_FR = """WEBVTT

00:00:00.000 --> 00:00:03.000
Le soleil se lève sur l'école.

00:00:03.000 --> 00:00:06.000
Bonjour à tous !
"""

CAPTIONS_EN_AUDIO = """WEBVTT

00:00:00.000 --> 00:00:02.000
[A steady tone]
"""

SHAPES_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Shapes</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;margin:1rem}button{font-size:1.5rem;margin:.5rem;
padding:1rem}#said{font-size:1.5rem;min-height:2rem}</style></head>
<body><main><h1>Shapes</h1><p>Choose a shape.</p>
<button type="button" data-name="circle">&#9679; Circle</button>
<button type="button" data-name="square">&#9632; Square</button>
<button type="button" data-name="triangle">&#9650; Triangle</button>
<p id="said" aria-live="polite"></p></main>
<script src="shapes.js"></script></body></html>
"""

SHAPES_JS = """document.querySelectorAll("button[data-name]").forEach(function (button) {
  button.addEventListener("click", function () {
    document.getElementById("said").textContent = "This is a " + button.dataset.name + ".";
  });
});
"""

SCORM_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="kalan.demo.course" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org"><title>My first course</title>
      <item identifier="item1" identifierref="res1"><title>Lesson one</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res1" type="webcontent" adlcp:scormtype="sco" href="index.html">
      <file href="index.html"/>
    </resource>
  </resources>
</manifest>
"""

SCORM_HTML = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Lesson one</title></head>
<body><main><h1>Lesson one</h1>
<p id="status" aria-live="polite">Starting...</p>
<p><label for="note">Your note</label> <input id="note"></p>
<button type="button" id="save">Save and finish</button></main>
<script>
var api = window.API;
var statusLine = document.getElementById("status");
if (!api) { statusLine.textContent = "No SCORM runtime found."; }
else {
  api.LMSInitialize("");
  var saved = api.LMSGetValue("cmi.suspend_data");
  document.getElementById("note").value = saved;
  statusLine.textContent = saved ? "Welcome back." : "Welcome.";
  api.LMSSetValue("cmi.core.lesson_status", "incomplete");
  document.getElementById("save").addEventListener("click", function () {
    api.LMSSetValue("cmi.suspend_data", document.getElementById("note").value);
    api.LMSSetValue("cmi.core.lesson_status", "completed");
    api.LMSCommit("");
    api.LMSFinish("");
    statusLine.textContent = "Saved. Lesson completed.";
  });
}
</script></body></html>
"""
