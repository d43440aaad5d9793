"""QTI in a channel's source folder: `kalan content build` makes exercises of it, SCORM stays SCORM.

The packages are made here (no QTI corpus): a QTI 2.2 zip with its manifest at
its top, a QTI 3.0 zip with everything in one folder, the same 2.2 package
unzipped, and a loose QTI 2.2 item file with a sound next to it. The channel
is built by `build_channel`, imported by `import_channel`, and each exercise
is then practised through HTTP like any other.
"""

import io
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kalan.content import search
from kalan.content.builder import BuildFailed, build_channel
from kalan.content.demo import scorm_course, tone_wav
from kalan.content.exercises import load_exercise
from kalan.content.exercises.model import (
    Exercise,
    FillBlanksItem,
    MultipleChoiceItem,
    SingleChoiceItem,
)
from kalan.content.exercises.qti import import_qti, save_qti_import
from kalan.content.importer import import_channel
from kalan.content.inspect import InvalidFile, detect_kind, inspect_file
from kalan.content.kinds import FileRole, Kind
from kalan.content.models import ContentNode, NodeFile
from kalan.content.sources import DirectorySource
from kalan.content.store import LibraryFolder, hub_library
from kalan.content.tests.factories import png
from kalan.core.errors import KalanError
from kalan.schools.tests.factories import make_person, make_school
from tests.support import run_kalan

QTI2 = "http://www.imsglobal.org/xsd/imsqti_v2p2"
QTI3 = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
CP = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP3 = "http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1"
MATCH2 = "http://www.imsglobal.org/question/qti_v2p2/rptemplates/match_correct"
MATCH3 = "https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"
PIE = png("pie")
ICE = png("ice")
SOUND = tone_wav(0.5)

# ---------------------------------------------------------------- QTI 2.2


def manifest(namespace: str, resources: list[tuple[str, str]]) -> bytes:
    listed = "".join(
        f'<resource identifier="r{number}" type="{kind}" href="{href}"><file href="{href}"/>'
        "</resource>"
        for number, (kind, href) in enumerate(resources)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="{namespace}" identifier="m">'
        f"<organizations/><resources>{listed}</resources></manifest>"
    ).encode()


def half_item() -> bytes:
    """QTI 2.2 single choice with a picture and a sound from the package's media folder."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI2}" identifier="half" title="Half" adaptive="false"
  timeDependent="false" xml:lang="fr">
  <responseDeclaration identifier="RESPONSE" cardinality="single" baseType="identifier">
    <correctResponse><value>B</value></correctResponse></responseDeclaration>
  <itemBody>
    <p><img src="../media/pie.png" alt="Une tarte coupée en deux"/></p>
    <object data="../media/question.wav" type="audio/wav">Quelle part ?</object>
    <choiceInteraction responseIdentifier="RESPONSE" shuffle="false" maxChoices="1">
      <prompt>Quelle part de la tarte reste-t-il ?</prompt>
      <simpleChoice identifier="A">un quart</simpleChoice>
      <simpleChoice identifier="B">la moitié</simpleChoice>
    </choiceInteraction>
  </itemBody>
  <responseProcessing template="{MATCH2}"/>
</assessmentItem>""".encode()


def quarter_item() -> bytes:
    """QTI 2.2 numeric text entry."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<assessmentItem xmlns="{QTI2}" identifier="quarter" title="Quarter" adaptive="false"
  timeDependent="false" xml:lang="fr">
  <responseDeclaration identifier="R" cardinality="single" baseType="integer">
    <correctResponse><value>25</value></correctResponse></responseDeclaration>
  <itemBody><p>Un quart de 100, c'est <textEntryInteraction responseIdentifier="R"/>.</p>
  </itemBody>
  <responseProcessing template="{MATCH2}"/>
</assessmentItem>""".encode()


def fractions_files() -> dict[str, bytes]:
    return {
        "imsmanifest.xml": manifest(
            CP,
            [
                ("imsqti_test_xmlv2p2", "test.xml"),
                ("imsqti_item_xmlv2p2", "items/half.xml"),
                ("imsqti_item_xmlv2p2", "items/quarter.xml"),
                ("webcontent", "media/pie.png"),
            ],
        ),
        "test.xml": f'<assessmentTest xmlns="{QTI2}" identifier="t" title="Fractions"/>'.encode(),
        "items/half.xml": half_item(),
        "items/quarter.xml": quarter_item(),
        "media/pie.png": PIE,
        "media/question.wav": SOUND,
    }


# ---------------------------------------------------------------- QTI 3.0


def states_item() -> bytes:
    """QTI 3.0 multiple choice with a picture."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="{QTI3}" identifier="states" title="States" adaptive="false"
  time-dependent="false" xml:lang="en">
  <qti-response-declaration identifier="RESPONSE" cardinality="multiple" base-type="identifier">
    <qti-correct-response><qti-value>ice</qti-value><qti-value>steam</qti-value>
    </qti-correct-response></qti-response-declaration>
  <qti-item-body>
    <p><img src="../images/ice.png" alt="An ice cube"/></p>
    <qti-choice-interaction response-identifier="RESPONSE" max-choices="0" shuffle="false">
      <qti-prompt>Which are water?</qti-prompt>
      <qti-simple-choice identifier="ice">Ice</qti-simple-choice>
      <qti-simple-choice identifier="sand">Sand</qti-simple-choice>
      <qti-simple-choice identifier="steam">Steam</qti-simple-choice>
    </qti-choice-interaction>
  </qti-item-body>
  <qti-response-processing template="{MATCH3}"/>
</qti-assessment-item>""".encode()


def boil_item() -> bytes:
    """QTI 3.0 numeric text entry."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<qti-assessment-item xmlns="{QTI3}" identifier="boil" title="Boil" adaptive="false"
  time-dependent="false" xml:lang="en">
  <qti-response-declaration identifier="R" cardinality="single" base-type="integer">
    <qti-correct-response><qti-value>100</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body><p>Water boils at <qti-text-entry-interaction response-identifier="R"/> °C.</p>
  </qti-item-body>
  <qti-response-processing template="{MATCH3}"/>
</qti-assessment-item>""".encode()


def water_files() -> dict[str, bytes]:
    test = (
        f'<qti-assessment-test xmlns="{QTI3}" identifier="t" title="Water">'
        '<qti-test-part identifier="p" navigation-mode="linear" submission-mode="individual">'
        '<qti-assessment-section identifier="s" title="S" visible="true">'
        '<qti-assessment-item-ref identifier="i1" href="../items/states.xml"/>'
        '<qti-assessment-item-ref identifier="i2" href="../items/boil.xml"/>'
        "</qti-assessment-section></qti-test-part></qti-assessment-test>"
    )
    return {
        "imsmanifest.xml": manifest(
            CP3,
            [
                ("imsqti_test_xmlv3p0", "tests/test.xml"),
                ("imsqti_item_xmlv3p0", "items/states.xml"),
                ("imsqti_item_xmlv3p0", "items/boil.xml"),
            ],
        ),
        "tests/test.xml": test.encode(),
        "items/states.xml": states_item(),
        "items/boil.xml": boil_item(),
        "images/ice.png": ICE,
    }


def zipped(path: Path, files: dict[str, bytes], folder: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(f"{folder}{name}", data)
    return path


def unzipped(folder: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def loose_item(folder: Path) -> Path:
    """A QTI 2.2 item file with a sound in a folder next to it."""
    (folder / "sons").mkdir(parents=True)
    (folder / "sons" / "ecoute.wav").write_bytes(SOUND)
    path = folder / "ecoute.xml"
    path.write_bytes(
        half_item()
        .replace(b"../media/question.wav", b"sons/ecoute.wav")
        .replace(b'<p><img src="../media/pie.png" alt="Une tarte coup\xc3\xa9e en deux"/></p>', b"")
    )
    return path


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """QTI 2.2 and 3.0 zips, a SCORM zip, an unzipped package and a loose item."""
    folder = tmp_path / "source"
    (folder / "01 Maths").mkdir(parents=True)
    zipped(folder / "01 Maths" / "fractions.zip", fractions_files())
    (folder / "01 Maths" / "fractions.png").write_bytes(png("cover"))
    (folder / "02 Sciences").mkdir()
    zipped(folder / "02 Sciences" / "02_water.zip", water_files(), folder="water/")
    (folder / "03 Cours").mkdir()
    (folder / "03 Cours" / "course.zip").write_bytes(scorm_course())
    unzipped(folder / "04 Dossier" / "fractions", fractions_files())
    loose_item(folder / "05 Item")
    return folder


# ---------------------------------------------------------------- telling kinds apart


def test_qti_packages_and_items_are_exercises_and_scorm_stays_scorm(source: Path) -> None:
    assert detect_kind(source / "01 Maths" / "fractions.zip") == Kind.EXERCISE
    assert detect_kind(source / "02 Sciences" / "02_water.zip") == Kind.EXERCISE  # in one folder
    assert detect_kind(source / "03 Cours" / "course.zip") == Kind.SCORM
    assert detect_kind(source / "04 Dossier" / "fractions") == Kind.EXERCISE
    assert detect_kind(source / "04 Dossier") is None  # a topic
    assert detect_kind(source / "05 Item" / "ecoute.xml") == Kind.EXERCISE
    # the package's test and manifest, and items inside it, are not exercises of their own
    assert detect_kind(source / "04 Dossier" / "fractions" / "test.xml") is None
    assert detect_kind(source / "04 Dossier" / "fractions" / "imsmanifest.xml") is None


def test_a_scorm_course_carrying_qti_files_stays_a_course(tmp_path: Path) -> None:
    scorm = (
        f'<manifest xmlns="{CP}" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">'
        "<organizations/><resources>"
        '<resource identifier="a" type="webcontent" adlcp:scormtype="sco" href="index.html"/>'
        '<resource identifier="b" type="imsqti_item_xmlv2p1" href="quiz.xml"/>'
        "</resources></manifest>"
    )
    course = zipped(tmp_path / "course.zip", {"imsmanifest.xml": scorm.encode()})
    assert detect_kind(course) == Kind.SCORM
    broken = zipped(tmp_path / "broken.zip", {"imsmanifest.xml": b"<manifest"})
    assert detect_kind(broken) == Kind.SCORM  # the SCORM inspection says what is wrong


def test_only_qti_kalan_imports_makes_a_package_an_exercise(tmp_path: Path) -> None:
    cartridge = manifest(
        CP,
        [
            ("webcontent", "lesson.html"),
            ("imsqti_xmlv1p2/imscc_xmlv1p1/assessment", "quiz/assessment.xml"),
        ],
    )
    mixed = zipped(tmp_path / "cartridge.zip", {"imsmanifest.xml": cartridge})
    assert detect_kind(mixed) == Kind.SCORM  # as before QTI was read: not an exercise
    files = fractions_files()
    files["imsmanifest.xml"] = files["imsmanifest.xml"].replace(
        b"imsqti_item_xmlv2p2", b"IMSQTI_ITEM_XMLV2P2"
    )
    shouting = zipped(tmp_path / "shouting.zip", files)
    assert detect_kind(shouting) == Kind.EXERCISE
    assert len(import_qti(shouting).exercise.items) == 2  # read the same way when imported


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (f'\ufeff<?xml version="1.0"?>\n<!-- a -->\n<assessmentItem xmlns="{QTI2}">', "exercise"),
        (f'<qti:qti-assessment-item xmlns:qti="{QTI3}">', "exercise"),
        (f'<assessmentTest xmlns="{QTI2}"><assessmentItemRef href="a.xml"/>', None),
        ('<data><assessmentItem identifier="inside, not the root"/></data>', None),
        ("<courseStructure><assessmentItem/>", "cmi5"),
    ],
)  # fmt: skip
def test_an_xml_file_is_an_item_when_its_root_is_one(
    tmp_path: Path, head: str, kind: str | None
) -> None:
    path = tmp_path / "file.xml"
    path.write_text(head, encoding="utf-8")
    assert detect_kind(path) == kind


# ---------------------------------------------------------------- build, import, practise


def stored_exercise(node: ContentNode) -> Exercise:
    main = NodeFile.objects.get(node=node, role=FileRole.MAIN)
    assert main.ext == "json"
    with hub_library().open(main.sha256) as handle:
        return load_exercise(handle.read())


def stored_media(node: ContentNode) -> dict[str, bytes]:
    media = {}
    for label, sha in NodeFile.objects.filter(node=node, role=FileRole.SUPPLEMENTARY).values_list(
        "label", "sha256"
    ):
        with hub_library().open(sha) as handle:
            media[label] = handle.read()
    return media


@pytest.mark.django_db
def test_qti_packages_build_into_exercises_with_their_items_and_media(
    source: Path, tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    built = build_channel(source, tmp_path / "pkg", key=key)
    assert built.ignored == []
    import_channel(DirectorySource(LibraryFolder(tmp_path / "pkg")), built.channel_id)
    kinds = sorted(ContentNode.objects.exclude(kind=Kind.TOPIC).values_list("kind", flat=True))
    assert kinds == [Kind.EXERCISE] * 4 + [Kind.SCORM]  # the loose item's sound is no audio
    topics = ContentNode.objects.filter(kind=Kind.TOPIC, depth=1).order_by("path")
    assert [topic.title for topic in topics] == ["Maths", "Sciences", "Cours", "Dossier", "Item"]
    nodes = ContentNode.objects.filter(kind=Kind.EXERCISE).order_by("path")
    assert [node.title for node in nodes] == ["Fractions", "Water", "Fractions", "Half"]
    zipped_node, water, folder_node, loose = nodes

    fractions = stored_exercise(zipped_node)
    assert (fractions.title, fractions.language) == ("Fractions", "fr")
    assert [item.id for item in fractions.items] == ["half", "quarter"]
    half, quarter = fractions.items
    assert isinstance(half, SingleChoiceItem)
    assert half.correct == "B"
    assert [(m.src, m.alt) for m in half.media] == [
        ("media/pie.png", "Une tarte coupée en deux"),
        ("media/question.wav", "Quelle part ?"),
    ]
    assert isinstance(quarter, FillBlanksItem)
    assert stored_media(zipped_node) == {"media/pie.png": PIE, "media/question.wav": SOUND}
    assert zipped_node.options == {
        "item_count": 2,
        "media": ["media/pie.png", "media/question.wav"],
    }
    cover = NodeFile.objects.get(node=zipped_node, role=FileRole.THUMBNAIL)
    assert zipped_node.thumbnail == cover.sha256  # fractions.png, next to fractions.zip

    exercise = stored_exercise(water)
    assert (exercise.title, exercise.language) == ("Water", "en")
    assert [item.id for item in exercise.items] == ["states", "boil"]
    assert isinstance(exercise.items[0], MultipleChoiceItem)
    assert exercise.items[0].correct == frozenset({"ice", "steam"})
    assert stored_media(water) == {"images/ice.png": ICE}
    assert water.id in search.search_node_ids("steam")  # the items' words are searchable

    # The unzipped package is the same exercise, stored as the same file.
    assert stored_exercise(folder_node) == fractions
    main = NodeFile.objects.filter(role=FileRole.MAIN)
    assert main.get(node=folder_node).sha256 == main.get(node=zipped_node).sha256

    single = stored_exercise(loose)
    assert [item.id for item in single.items] == ["half"]
    assert stored_media(loose) == {"sons/ecoute.wav": SOUND}


@pytest.mark.django_db
def test_a_built_qti_exercise_is_practised_like_any_other(
    source: Path, tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    built = build_channel(source, tmp_path / "pkg", key=key)
    import_channel(DirectorySource(LibraryFolder(tmp_path / "pkg")), built.channel_id)
    node = ContentNode.objects.filter(kind=Kind.EXERCISE).order_by("path").first()
    assert node is not None
    client = Client()
    client.force_login(make_person(school=make_school()))
    page = client.get(f"/practice/{node.id}/?item=half")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Quelle part de la tarte reste-t-il ?" in html
    picture = NodeFile.objects.get(node=node, label="media/pie.png")
    assert reverse("files:file", args=[picture.sha256, "png"]) in html
    answer = client.post(f"/practice/{node.id}/", {"item": "half", "shown_at": "0", "choice": "B"})
    assert answer.status_code == 200
    assert "Right!" in answer.content.decode()


def test_converting_first_and_building_directly_store_the_same_exercise(tmp_path: Path) -> None:
    package = zipped(tmp_path / "fractions.zip", fractions_files())
    converted = tmp_path / "converted"
    save_qti_import(import_qti(package), converted, "fractions")
    inspection = inspect_file(package)
    assert inspection.conversion is not None
    assert inspection.conversion.data == (converted / "fractions.exercise.json").read_bytes()
    assert inspect_file(converted / "fractions.exercise.json").options == inspection.options


def test_a_save_that_fails_half_way_removes_what_it_wrote(tmp_path: Path) -> None:
    result = import_qti(zipped(tmp_path / "fractions.zip", fractions_files()))
    (tmp_path / "out").mkdir()
    with pytest.raises(ValueError, match="null"):  # the pictures are written, then this fails
        save_qti_import(result, tmp_path / "out" / "Maths", "bad\x00name")
    assert list((tmp_path / "out").iterdir()) == []


# ---------------------------------------------------------------- refusals


def test_a_package_kalan_cannot_convert_refuses_the_build_naming_it(
    source: Path, tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    files = water_files()
    files["items/boil.xml"] = files["items/boil.xml"].replace(
        b'<qti-text-entry-interaction response-identifier="R"/>',
        b'<qti-hotspot-interaction response-identifier="R"/>',
    )
    zipped(source / "02 Sciences" / "heat.zip", files)
    output = tmp_path / "pkg"
    with pytest.raises(BuildFailed) as refused:
        build_channel(source, output, key=key)
    assert refused.value.problems == [
        '02 Sciences/heat.zip: items/boil.xml: item "boil": <qti-hotspot-interaction> is an'
        " interaction Kalan cannot import (it takes: qti-associate-interaction,"
        " qti-choice-interaction, qti-extended-text-interaction, qti-inline-choice-interaction,"
        " qti-match-interaction, qti-order-interaction, qti-text-entry-interaction)"
    ]
    assert str(refused.value).startswith("1 file(s) refused; nothing was built: 02 Sciences/heat")
    assert not output.exists()


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        (
            {"imsmanifest.xml": manifest(CP, [("imsqti_item_xmlv2p2", "items/gone.xml")])},
            "items/gone.xml is not in the package",
        ),
        (
            {"imsmanifest.xml": manifest(CP, [("imsqti_xmlv1p2", "quiz.xml")])},
            "the package's imsmanifest.xml lists no QTI items Kalan can import (it lists"
            " imsqti_xmlv1p2; Kalan imports QTI 2.1, 2.2 and 3.0 items)",
        ),
        (
            {
                "imsmanifest.xml": manifest(CP, [("imsqti_item_xmlv2p2", "a.xml")]),
                "a.xml": b"<assessmentItem",
            },
            "a.xml: the QTI item is not well-formed XML (unclosed token",
        ),
    ],
)
def test_broken_packages_give_one_line_naming_the_file_and_the_reason(
    tmp_path: Path, key: Ed25519PrivateKey, files: dict[str, bytes], problem: str
) -> None:
    source = tmp_path / "source"
    source.mkdir()
    zipped(source / "quiz.zip", files)
    (source / "story.wav").write_bytes(SOUND)
    with pytest.raises(BuildFailed) as refused:
        build_channel(source, tmp_path / "pkg", key=key)
    [line] = refused.value.problems
    assert line.startswith(f"quiz.zip: {problem}")
    assert "\n" not in line
    assert not (tmp_path / "pkg").exists()


def test_an_unsafe_qti_zip_is_refused_like_any_zip(tmp_path: Path, key: Ed25519PrivateKey) -> None:
    source = tmp_path / "source"
    source.mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest(CP, [("imsqti_item_xmlv2p2", "a.xml")]))
        archive.writestr("../a.xml", half_item())
    (source / "quiz.zip").write_bytes(buffer.getvalue())
    with pytest.raises(BuildFailed) as refused:
        build_channel(source, tmp_path / "pkg", key=key)
    assert refused.value.problems == [
        "quiz.zip: the zip holds a path that is not allowed: ../a.xml"
    ]


def source_with_feedback_left_out(tmp_path: Path) -> Path:
    """A source folder whose QTI package has feedback that depends on rules Kalan does not run."""
    source = tmp_path / "source"
    source.mkdir()
    files = fractions_files()
    files["items/quarter.xml"] = files["items/quarter.xml"].replace(
        b"</assessmentItem>",
        b'<modalFeedback outcomeIdentifier="FEEDBACK" identifier="TIP" showHide="show">'
        b"Compte.</modalFeedback></assessmentItem>",
    )
    zipped(source / "fractions.zip", files)
    return source


def test_what_conversion_left_out_is_in_the_build_report(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    source = source_with_feedback_left_out(tmp_path)
    built = build_channel(source, tmp_path / "pkg", key=key)
    assert built.notes == [
        'fractions.zip: feedback "TIP" of item "quarter" was left out: it depends on rules Kalan'
        " does not run"
    ]


def test_a_source_folder_that_is_a_package_is_refused(
    tmp_path: Path, key: Ed25519PrivateKey
) -> None:
    package = unzipped(tmp_path / "fractions", fractions_files())
    with pytest.raises(KalanError, match="is an unzipped QTI package, not a channel's folder"):
        build_channel(package, tmp_path / "pkg", key=key)
    assert not (tmp_path / "pkg").exists()


# ---------------------------------------------------------------- any bytes

_xml_ish = st.text(
    alphabet="<>/=\"' abcdefghijklmnopqrstuvwxyzACIRTQ:_.-?&#;0123456789\n", max_size=300
)
_pieces = st.sampled_from(
    [
        "<assessmentItem>",
        "<qti-assessment-item>",
        "<itemBody>",
        "<choiceInteraction responseIdentifier='R'>",
        "<simpleChoice identifier='A'>",
        "<responseDeclaration identifier='R' cardinality='single'>",
        "<correctResponse><value>A</value></correctResponse>",
        "<img src='a.png'/>",
        "</assessmentItem>",
        "<textEntryInteraction responseIdentifier='R'/>",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    item=st.lists(st.one_of(_pieces, _xml_ish), max_size=8).map("".join),
    listed=st.sampled_from(["imsqti_item_xmlv2p2", "imsqti_item_xmlv3p0", "imsqti_test_xmlv3p0"]),
)
def test_any_qti_package_gives_an_exercise_or_a_one_line_refusal(item: str, listed: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = zipped(
            Path(folder) / "quiz.zip",
            {"imsmanifest.xml": manifest(CP, [(listed, "a.xml")]), "a.xml": item.encode()},
        )
        assert detect_kind(path) == Kind.EXERCISE
        try:
            inspection = inspect_file(path)
        except InvalidFile as error:
            refusal: InvalidFile | None = error
        else:
            refusal = None
    if refusal is not None:
        assert str(refusal)
        assert "\n" not in str(refusal)
        return
    assert inspection.kind == Kind.EXERCISE
    assert inspection.conversion is not None
    assert load_exercise(inspection.conversion.data).items


# ---------------------------------------------------------------- kalan content convert-qti


def convert(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`kalan content convert-qti ...` in a process of its own, as a person runs it."""
    return run_kalan(["content", "convert-qti", *args], home)


def test_convert_qti_writes_an_exercise_to_edit_that_builds_the_same(tmp_path: Path) -> None:
    package = zipped(tmp_path / "01_fractions.zip", fractions_files())
    out = tmp_path / "source" / "Maths"
    done = convert(tmp_path / "home", str(package), "--out", str(out))
    written = out / "01_fractions.exercise.json"
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == f"Wrote {written}: 2 items, 2 pictures and sounds\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "01_fractions.exercise.json",
        "media/pie.png",
        "media/question.wav",
    ]
    assert (out / "media" / "pie.png").read_bytes() == PIE
    inspection = inspect_file(package)
    assert inspection.conversion is not None
    assert written.read_bytes() == inspection.conversion.data


def test_convert_qti_refuses_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    files = fractions_files()
    out = tmp_path / "out"
    broken = zipped(tmp_path / "broken.zip", {**files, "items/quarter.xml": b"<assessmentItem"})
    refused = convert(home, str(broken), "--out", str(out))
    assert (refused.returncode, refused.stdout) == (2, "")
    assert refused.stderr == (
        f"kalan: error: {broken}: items/quarter.xml: the QTI item is not well-formed XML"
        " (unclosed token: line 1, column 0)\n"
    )
    assert not out.exists()
    package = zipped(tmp_path / "fractions.zip", files)
    (out / "media").mkdir(parents=True)
    (out / "media" / "question.wav").write_bytes(b"a teacher's own recording")
    refused = convert(home, str(package), "--out", str(out), "--name", "fractions")
    assert refused.returncode == 2
    assert refused.stderr == (
        f"kalan: error: {out / 'media' / 'question.wav'} already exists; nothing was written\n"
    )
    assert sorted(p.name for p in out.rglob("*")) == ["media", "question.wav"]
    assert (out / "media" / "question.wav").read_bytes() == b"a teacher's own recording"
    refused = convert(home, str(package), "--out", str(out), "--name", "../up")
    assert refused.stderr == (
        "kalan: error: --name '../up' must be a plain file name, without folders\n"
    )
    assert not (tmp_path / "up.exercise.json").exists()


def test_kalan_content_build_prints_what_a_conversion_left_out(tmp_path: Path) -> None:
    source = source_with_feedback_left_out(tmp_path)
    done = run_kalan(
        ["content", "build", str(source), "--out", str(tmp_path / "pkg")], tmp_path / "home"
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert (
        '  note: fractions.zip: feedback "TIP" of item "quarter" was left out: it depends on'
        " rules Kalan does not run\n"
    ) in done.stdout
