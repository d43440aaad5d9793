"""Rules of the page builder's services that the pages rely on."""

import uuid

import pytest

from kalan.content import authoring
from kalan.content.authoring_publish import publish_draft
from kalan.content.manifest import parse_signed
from kalan.content.models import ContentNode, DraftNode
from kalan.content.store import hub_library
from kalan.content.tests.test_authoring_views import add_pdf, pdf_bytes, stored_files, world
from kalan.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db
__all__ = ["world"]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("lesson.pdf", "lesson.pdf"),
        ("C:\\Users\\awa\\lesson.pdf", "lesson.pdf"),
        ("../../etc/lesson.pdf", "lesson.pdf"),
        ("less\x00on\n.pdf", "lesson.pdf"),
        (".pdf", "upload.pdf"),
        ("week.1.exercise.json", "week.1.exercise.json"),
        ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),
    ],
)
def test_uploaded_names_keep_only_the_file_name(given, kept):
    assert authoring._safe_name(given) == kept


def test_a_failed_database_write_leaves_no_file_in_the_store(world, tmp_path, monkeypatch):
    path = tmp_path / "peace.pdf"
    path.write_bytes(pdf_bytes())

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(authoring, "_next_position", broken)
    with pytest.raises(RuntimeError):
        authoring.upload_resource(draft=world.draft, path=path, file_name="peace.pdf")
    assert stored_files() == set()
    assert path.read_bytes() == pdf_bytes()  # the upload itself is the caller's


def test_moving_past_either_end_changes_nothing(world):
    first = authoring.add_topic(draft=world.draft, title="First")
    last = authoring.add_topic(draft=world.draft, title="Last")
    assert authoring.move_node(node=first, direction="up") is False
    assert authoring.move_node(node=last, direction="down") is False
    with pytest.raises(ValidationFailed):
        authoring.move_node(node=last, direction="sideways")
    titles = [item.node.title for item in authoring.get_outline(world.draft).items]
    assert titles == ["First", "Last"]


def test_nodes_only_go_into_topics_of_their_own_draft(world):
    sheet = add_pdf(world.draft)
    foreign = authoring.add_topic(draft=world.other_draft, title="Elsewhere")
    with pytest.raises(ValidationFailed):
        authoring.move_node_into(node=sheet, topic=foreign)
    with pytest.raises(ValidationFailed):
        authoring.add_topic(draft=world.draft, title="Inside a sheet", parent=sheet)
    with pytest.raises(ValidationFailed):
        authoring.update_node(node=authoring.add_topic(draft=world.draft, title="T"), licence="x")


def test_a_resource_whose_file_left_the_store_is_reported(world):
    sheet = add_pdf(world.draft)
    hub_library().remove(sheet.file_sha256)
    problems = authoring.check_draft(world.draft)
    assert [p.node_id for p in problems if "no longer on this hub" in p.message] == [sheet.id]


def test_published_node_ids_are_stable_and_empty_topics_left_out(world):
    world.draft.licence = "CC BY 4.0"
    world.draft.save()
    week = authoring.add_topic(draft=world.draft, title="Week")
    authoring.add_topic(draft=world.draft, title="Empty")
    sheet = add_pdf(world.draft, parent=week)
    report = publish_draft(draft=world.draft)
    assert (report.version, report.resources) == (1, 1)
    manifest = parse_signed(*hub_library().read_manifest(world.draft.id))
    titles = [node["title"] for node, _parent, _path in manifest.nodes()]
    assert "Empty" not in titles
    expected = uuid.uuid5(world.draft.id, str(sheet.id))
    assert ContentNode.objects.get(id=expected).title == sheet.title
    again = publish_draft(draft=world.draft)
    assert (again.version, again.new_files) == (2, 0)
    assert ContentNode.objects.filter(id=expected).exists()
    assert DraftNode.objects.filter(draft=world.draft).count() == 3


def _qti_zip(path, files):
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for member, data in files.items():
            archive.writestr(member, data)
    return path


def test_an_uploaded_qti_package_is_kept_as_the_exercise_it_becomes(world, tmp_path):
    from kalan.content.exercises import load_exercise
    from kalan.content.tests.test_qti_build import CP, manifest, quarter_item

    files = {
        "imsmanifest.xml": manifest(CP, [("imsqti_item_xmlv2p2", "items/quarter.xml")]),
        "items/quarter.xml": quarter_item(),
    }
    path = _qti_zip(tmp_path / "quarter.zip", files)
    node = authoring.upload_resource(draft=world.draft, path=path, file_name="Quarter.zip")
    assert node.kind == "exercise"
    assert node.file_name == "Quarter.exercise.json"
    stored = hub_library().path(node.file_sha256)
    exercise = load_exercise(stored.read_bytes())
    assert [item.id for item in exercise.items] == ["quarter"]


def test_an_uploaded_qti_package_with_pictures_is_refused_storing_nothing(world, tmp_path):
    from kalan.content.inspect import InvalidFile
    from kalan.content.tests.test_qti_build import fractions_files

    path = _qti_zip(tmp_path / "fractions.zip", fractions_files())
    with pytest.raises(InvalidFile, match=r"fractions\.zip: its items show pictures"):
        authoring.upload_resource(draft=world.draft, path=path, file_name="fractions.zip")
    assert stored_files() == set()
    assert not DraftNode.objects.filter(draft=world.draft).exists()
