"""`kalan content build` then import, with real files: the whole path a channel takes."""

import shutil
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kalan.content import search
from kalan.content.builder import BuildFailed, build_channel
from kalan.content.demo import DEMO_CHANNEL_ID, counting_pdf, write_demo_folder
from kalan.content.importer import delete_channel, import_channel
from kalan.content.kinds import Kind
from kalan.content.manifest import ManifestError
from kalan.content.models import Channel, ContentNode, NodeFile
from kalan.content.sources import DirectorySource, find_library
from kalan.content.store import LibraryFolder, StoreError, hub_library
from kalan.content.tests.corpus import corpus_path

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "source"
    write_demo_folder(folder, with_video=False)
    return folder


def _build_and_import(source: Path, package: Path, key: Ed25519PrivateKey, **kwargs):
    built = build_channel(source, package, key=key)
    report = import_channel(DirectorySource(LibraryFolder(package)), built.channel_id, **kwargs)
    return built, report


def test_a_built_channel_imports_with_every_kind_and_its_metadata(source, tmp_path, key):
    built, report = _build_and_import(source, tmp_path / "pkg", key)
    assert built.channel_id == DEMO_CHANNEL_ID
    channel = Channel.objects.get(id=DEMO_CHANNEL_ID)
    assert channel.title == "Kalan demo library"
    assert report.resources == channel.resource_count == 6
    kinds = set(ContentNode.objects.exclude(kind=Kind.TOPIC).values_list("kind", flat=True))
    assert kinds == {"document", "epub", "audio", "html5", "scorm", "exercise"}
    pdf = ContentNode.objects.get(kind=Kind.DOCUMENT)
    assert (pdf.page_count, pdf.licence, pdf.grade_levels) == (3, "CC BY 4.0", ["P1"])
    assert pdf.subjects == ["Mathematics"]
    assert pdf.curriculum_codes == ["MATH.P1.1"]
    assert pdf.thumbnail
    assert hub_library().has(pdf.thumbnail)
    audio = ContentNode.objects.get(kind=Kind.AUDIO)
    assert audio.duration == 2
    assert "captions" in audio.accessibility
    topics = ContentNode.objects.filter(kind=Kind.TOPIC, depth=1).order_by("path")
    assert [t.title for t in topics] == ["Reading", "Listening", "Interactive", "Practice"]
    for sha in NodeFile.objects.values_list("sha256", flat=True):
        assert hub_library().has(sha)


def test_search_finds_words_inside_documents_without_their_accents(source, tmp_path, key):
    _build_and_import(source, tmp_path / "pkg", key)
    epub = ContentNode.objects.get(kind=Kind.EPUB)
    assert epub.id in search.search_node_ids("LECON eleve")
    assert epub.id in search.search_node_ids("etoiles")  # a word of the last chapter
    pdf = ContentNode.objects.get(kind=Kind.DOCUMENT)
    assert pdf.id in search.search_node_ids("nyenaje")  # ɲɛnajɛ in its description
    audio = ContentNode.objects.get(kind=Kind.AUDIO)
    assert audio.id in search.search_node_ids("хисоб чавоб")  # ҳисоб, ҷавоб
    assert audio.id in search.search_node_ids("steady tone")  # the words of its captions


def test_a_new_version_copies_only_what_changed(source, tmp_path, key):
    package = tmp_path / "pkg"
    _build_and_import(source, package, key)
    old_pdf = ContentNode.objects.get(kind=Kind.DOCUMENT).files.get(role="main").sha256
    (source / "01 Reading" / "counting.pdf").write_bytes(counting_pdf() + b"\n% revised\n")
    yaml_path = source / "kalan.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("version: 1", "version: 2"))
    built, report = _build_and_import(source, package, key)
    assert built.version == report.version == 2
    assert report.previous_version == 1
    assert report.files_copied == 1  # the PDF; its first-page thumbnail looks the same
    assert report.files_removed == 1
    assert not hub_library().has(old_pdf)
    node_ids = set(ContentNode.objects.values_list("id", flat=True))
    assert len(node_ids) == 11  # same ids: progress survives the update


def test_a_rerun_of_a_finished_import_writes_nothing(
    source, tmp_path, key, django_assert_max_num_queries
):
    package = tmp_path / "pkg"
    built, first = _build_and_import(source, package, key)
    imported_at = Channel.objects.get(id=built.channel_id).imported_at
    with django_assert_max_num_queries(3):  # the channel, its files, nothing written
        again = import_channel(DirectorySource(LibraryFolder(package)), built.channel_id)
    assert (again.files_copied, again.files_present) == (0, first.files_copied)
    assert again.resources == first.resources == 6
    assert Channel.objects.get(id=built.channel_id).imported_at == imported_at
    hub_library().remove(ContentNode.objects.get(kind=Kind.EPUB).files.get(role="main").sha256)
    repaired = import_channel(DirectorySource(LibraryFolder(package)), built.channel_id)
    assert repaired.files_copied == 1  # a file lost from the store is copied back
    assert Channel.objects.get(id=built.channel_id).imported_at > imported_at


def test_an_older_version_and_another_publisher_key_are_refused(source, tmp_path, key):
    package = tmp_path / "pkg"
    _build_and_import(source, package, key)
    other = tmp_path / "other"
    build_channel(source, other, key=Ed25519PrivateKey.generate())
    with pytest.raises(ManifestError, match="another publisher key"):
        import_channel(DirectorySource(LibraryFolder(other)), DEMO_CHANNEL_ID)
    assert Channel.objects.get().public_key != ""
    yaml_path = source / "kalan.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("version: 1", "version: 3"))
    build_channel(source, package, key=key)
    import_channel(DirectorySource(LibraryFolder(package)), DEMO_CHANNEL_ID)
    older = tmp_path / "older"
    yaml_path.write_text(yaml_path.read_text().replace("version: 3", "version: 2"))
    build_channel(source, older, key=key)
    with pytest.raises(ManifestError, match="older than the installed v3"):
        import_channel(DirectorySource(LibraryFolder(older)), DEMO_CHANNEL_ID)


def test_a_topic_can_be_imported_alone_then_another_added(source, tmp_path, key):
    package = tmp_path / "pkg"
    build_channel(source, package, key=key)
    library = DirectorySource(LibraryFolder(package))
    reading = uuid.uuid5(DEMO_CHANNEL_ID, "01 Reading")
    import_channel(library, DEMO_CHANNEL_ID, topic_ids=[reading])
    titles = set(ContentNode.objects.exclude(kind=Kind.TOPIC).values_list("title", flat=True))
    assert titles == {"Counting to ten", "La leçon de l'élève"}
    practice = uuid.uuid5(DEMO_CHANNEL_ID, "04 Practice")
    import_channel(library, DEMO_CHANNEL_ID, topic_ids=[practice])
    assert ContentNode.objects.exclude(kind=Kind.TOPIC).count() == 3
    with pytest.raises(ManifestError, match="is not in channel"):
        import_channel(library, DEMO_CHANNEL_ID, topic_ids=[uuid.uuid4()])


def test_a_damaged_file_stops_the_import_and_leaves_nothing(source, tmp_path, key):
    package = tmp_path / "pkg"
    build_channel(source, package, key=key)
    library = LibraryFolder(package)
    victim = max(library.all_files(), key=lambda sha: library.path(sha).stat().st_size)
    library.path(victim).write_bytes(b"damaged on the USB stick")
    with pytest.raises(StoreError, match="arrived damaged"):
        import_channel(DirectorySource(library), DEMO_CHANNEL_ID)
    assert not Channel.objects.exists()
    assert list(hub_library().all_files()) == []
    assert hub_library().channel_ids() == []


def test_not_enough_disk_space_is_refused_before_copying(source, tmp_path, key, monkeypatch):
    package = tmp_path / "pkg"
    build_channel(source, package, key=key)
    monkeypatch.setattr(
        "kalan.content.store.shutil.disk_usage", lambda path: shutil._ntuple_diskusage(1, 1, 1000)
    )
    with pytest.raises(StoreError, match="not enough free disk space"):
        import_channel(DirectorySource(LibraryFolder(package)), DEMO_CHANNEL_ID)
    assert list(hub_library().all_files()) == []


def test_deleting_a_channel_keeps_files_another_channel_shares(source, tmp_path, key):
    package = tmp_path / "pkg"
    _build_and_import(source, package, key)
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    yaml_path = copy / "kalan.yaml"
    other_id = uuid.uuid4()
    yaml_path.write_text(yaml_path.read_text().replace(str(DEMO_CHANNEL_ID), str(other_id)))
    _, report = _build_and_import(copy, tmp_path / "pkg2", key)
    assert report.files_copied == 0  # every file was already in the store
    before = set(hub_library().all_files())
    assert delete_channel(DEMO_CHANNEL_ID) == 0
    assert set(hub_library().all_files()) == before
    assert delete_channel(other_id) == len(before)
    assert list(hub_library().all_files()) == []
    assert not ContentNode.objects.exists()
    assert search.search_node_ids("eleve") == []


def test_a_usb_stick_holding_a_library_subfolder_is_found(source, tmp_path, key):
    stick = tmp_path / "stick"
    build_channel(source, stick / "kalan-library", key=key)
    assert find_library(stick).root == stick / "kalan-library"


def _corrupt_inputs(folder: Path) -> None:
    pdf = corpus_path("pdf")
    (folder / "bad").mkdir(parents=True)
    shutil.copy(next(pdf.glob("005-*/*.pdf")), folder / "bad" / "locked.pdf")
    (folder / "bad" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<\ngarbage")
    epub = next(corpus_path("epub").glob("*.epub")).read_bytes()
    (folder / "bad" / "cut.epub").write_bytes(epub[: len(epub) // 3])
    (folder / "02 Listening" / "greeting.fr.vtt").write_text("not a caption file\n")
    if shutil.which("ffprobe"):
        (folder / "bad" / "video.webm").write_bytes(b"\x1aE\xdf\xa3" + b"\0" * 64)
    zim = corpus_path("zim")
    shutil.copy(next(zim.rglob("invalid.smaller_than_header.zim")), folder / "bad" / "wiki.zim")


def test_every_bad_file_is_reported_and_nothing_is_built(source, tmp_path, key):
    _corrupt_inputs(source)
    package = tmp_path / "pkg"
    with pytest.raises(BuildFailed) as caught:
        build_channel(source, package, key=key)
    problems = "\n".join(caught.value.problems)
    assert "locked.pdf" in problems
    assert "encrypted" in problems
    names = ["broken.pdf", "cut.epub", "greeting.fr.vtt", "wiki.zim"]
    if shutil.which("ffprobe"):
        names.append("video.webm")
    for name in names:
        assert name in problems, problems
    assert len(caught.value.problems) == len(names) + 1, problems
    assert not package.exists() or not any(package.rglob("*"))


def test_a_resource_left_out_of_a_new_version_leaves_the_library(source, tmp_path, key):
    package = tmp_path / "pkg"
    _build_and_import(source, package, key)
    exercise = ContentNode.objects.get(kind=Kind.EXERCISE)
    exercise_file = exercise.files.get().sha256
    shutil.rmtree(source / "04 Practice")
    yaml_path = source / "kalan.yaml"
    text = yaml_path.read_text().replace("version: 1", "version: 2")
    yaml_path.write_text(text.split('  "04 Practice":')[0])
    _, report = _build_and_import(source, package, key)
    assert not ContentNode.objects.filter(id=exercise.id).exists()
    assert ContentNode.objects.exclude(kind=Kind.TOPIC).count() == 5
    assert report.files_removed == 1
    assert not hub_library().has(exercise_file)
    assert exercise.id not in search.search_node_ids("practice")


def test_exporting_a_channel_whose_store_lost_a_file_is_one_clear_error(source, tmp_path, key):
    from kalan.content.exporter import export_channel

    _build_and_import(source, tmp_path / "pkg", key)
    hub_library().remove(ContentNode.objects.get(kind=Kind.DOCUMENT).files.get(role="main").sha256)
    stick = tmp_path / "stick"
    with pytest.raises(StoreError, match="missing from the content store"):
        export_channel(DEMO_CHANNEL_ID, stick)
    assert not (stick / "channels").exists()
