"""Importing from another hub over HTTP: the client (peers.HttpSource) against real servers."""

import hashlib
import json
import socket
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from kalan.content.importer import import_channel
from kalan.content.manifest import parse_signed
from kalan.content.models import Channel, ContentNode, NodeFile
from kalan.content.peers import HttpSource, library_url
from kalan.content.sources import SourceError, TransferInterrupted, open_source
from kalan.content.store import LibraryFolder, StoreError, hub_library
from kalan.content.tests.packages import (
    PeerServer,
    damaged_files,
    make_package,
    package_files,
    random_items,
    resource_id,
    serving,
    topic_id,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "package"
    channel_id, _ = make_package(folder, resources=random_items(6, topics=("A", "B")))
    return folder, channel_id


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text
    assert text
    return text


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # nothing listens there once the socket is closed


# ---------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("typed", "base"),
    [
        ("http://10.0.0.5:8000", "http://10.0.0.5:8000/content/library/"),
        ("http://10.0.0.5:8000/", "http://10.0.0.5:8000/content/library/"),
        (" http://hub.local/content/library/ ", "http://hub.local/content/library/"),
        ("http://hub.local/content/library/index.json", "http://hub.local/content/library/"),
        ("https://hub.local/kalan/", "https://hub.local/kalan/content/library/"),
        ("http://[fe80::1]:8000/", "http://[fe80::1]:8000/content/library/"),
    ],
)
def test_what_a_person_types_becomes_the_library_address(typed, base):
    assert library_url(typed) == base


@pytest.mark.parametrize("typed", ["ftp://hub/", "http://", "hub.local:8000", "http://hub:99999/"])
def test_an_address_that_is_not_a_hub_is_refused_in_one_line(typed):
    with pytest.raises(SourceError) as caught:
        HttpSource(typed)
    assert typed.strip() in one_line(caught.value) or "port" in str(caught.value)


def test_open_source_gives_an_http_source_for_urls():
    source = open_source("http://127.0.0.1:9/")
    assert isinstance(source, HttpSource)
    assert source.label == "http://127.0.0.1:9/"


# ---------------------------------------------------------------- importing


def test_a_channel_is_imported_from_a_peer(package):
    folder, channel_id = package
    with serving(PeerServer([folder], name="Hub de Gao")) as peer:
        source = HttpSource(peer.url)
        assert source.index().name == "Hub de Gao"
        assert source.channel_ids() == [channel_id]
        report = import_channel(source, channel_id)
    assert report.files_copied == 6
    assert report.resources == 6
    assert set(hub_library().all_files()) == set(package_files(folder, channel_id))
    assert damaged_files(hub_library().root) == []
    assert Channel.objects.get(id=channel_id).resource_count == 6
    assert hub_library().read_manifest(channel_id) == (
        (folder / f"channels/{channel_id}.json").read_bytes(),
        (folder / f"channels/{channel_id}.sig").read_bytes(),
    )
    # Only the channel's own file list was asked for, and each file once.
    files_asked = [path for path in peer.requests if "/files/" in path]
    assert len(files_asked) == len(set(files_asked)) == 6


def test_a_peer_holding_some_topics_gives_those_and_the_rest_is_skipped(package, tmp_path):
    folder, channel_id = package
    manifest = parse_signed(*LibraryFolder(folder).read_manifest(channel_id))
    topic_b = next(n for n, _, _ in manifest.nodes() if n["id"] == str(topic_id(channel_id, "B")))
    for node in topic_b["children"]:  # the peer lacks every file of topic B
        for entry in node["files"]:
            (folder / "files" / entry["sha256"][:2] / entry["sha256"]).unlink()
    with serving(PeerServer([folder])) as peer:
        report = import_channel(HttpSource(peer.url), channel_id)
    assert report.resources == 3
    assert sorted(report.skipped) == sorted(n["title"] for n in topic_b["children"])
    assert not ContentNode.objects.filter(
        id__in=[uuid.UUID(n["id"]) for n in topic_b["children"]]
    ).exists()


def test_a_selected_topic_is_imported_alone(package):
    folder, channel_id = package
    with serving(PeerServer([folder])) as peer:
        report = import_channel(
            HttpSource(peer.url), channel_id, topic_ids=[topic_id(channel_id, "A")]
        )
    assert report.resources == 3
    assert report.files_copied == 3
    assert ContentNode.objects.filter(id=resource_id(channel_id, "Lesson 1-000")).exists()
    assert not ContentNode.objects.filter(id=resource_id(channel_id, "Lesson 1-001")).exists()


# ---------------------------------------------------------------- peers that fail


def test_an_unreachable_peer_is_one_clear_line():
    port = _closed_port()
    with pytest.raises(SourceError) as caught:
        HttpSource(f"http://127.0.0.1:{port}/").channel_ids()
    assert one_line(caught.value) == f"cannot reach http://127.0.0.1:{port}/: Connection refused"


class _Fixed(BaseHTTPRequestHandler):
    status = 200
    body = b"<html><body>Welcome to my router</body></html>"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(handler: type[BaseHTTPRequestHandler]):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (200, b"<html>router</html>", "is not a Kalan hub (its library index is not understood)"),
        (200, json.dumps({"format": "other/1", "channels": []}).encode(), "is not a Kalan hub"),
        (
            200,
            json.dumps({"format": "kalan-library/1", "channels": [{"id": "x"}]}).encode(),
            "is not a Kalan hub",
        ),
        (404, b"no", "is not a Kalan hub (it has no library index)"),
        (500, b"boom", "answered 500 Internal Server Error for index.json"),
    ],
)
def test_an_answer_that_is_not_a_kalan_library_is_one_clear_line(status, body, expected):
    handler = type("Handler", (_Fixed,), {"status": status, "body": body})
    server, url = _serve(handler)
    try:
        with pytest.raises(SourceError) as caught:
            HttpSource(url).channel_ids()
    finally:
        server.shutdown()
        server.server_close()
    assert expected in one_line(caught.value)
    assert url in str(caught.value)


def test_a_channel_the_peer_does_not_hold_is_one_clear_line(package):
    folder, _ = package
    other = uuid.uuid4()
    with serving(PeerServer([folder])) as peer, pytest.raises(SourceError) as caught:
        import_channel(HttpSource(peer.url), other)
    assert one_line(caught.value) == f"{peer.url} does not hold channel {other}"
    assert not Channel.objects.exists()


def test_a_connection_cut_during_a_file_keeps_what_was_copied_and_the_rerun_resumes(tmp_path):
    folder = tmp_path / "package"
    small = random_items(2, size=50_000, seed=1)
    large = random_items(3, size=300_000, seed=2)
    channel_id, _ = make_package(folder, resources=small + large)
    small_files = {hashlib.sha256(item.data).hexdigest() for item in small}
    # Every answer stops after 100 kB: the small files arrive whole, the large ones never.
    peer = PeerServer([folder], chunk=50_000, drop_after=100_000)
    with serving(peer):
        with pytest.raises(TransferInterrupted) as caught:
            import_channel(HttpSource(peer.url), channel_id)
        assert "broke during a file" in one_line(caught.value)
        kept = set(hub_library().all_files())
        assert kept <= small_files  # only whole, verified files are kept for the rerun
        assert not any(hub_library().tmp_dir.iterdir())  # the partial copies are gone
        assert not Channel.objects.exists()
        peer.drop_after = None
        report = import_channel(HttpSource(peer.url), channel_id)
    assert (report.files_copied, report.files_present) == (5 - len(kept), len(kept))
    assert set(hub_library().all_files()) == set(package_files(folder, channel_id))


def test_a_peer_that_stops_answering_times_out_as_an_interruption(tmp_path):
    folder = tmp_path / "package"
    channel_id, _ = make_package(folder, resources=random_items(1, size=200_000))
    slow = PeerServer([folder], chunk=10_000, delay=1.0)
    with serving(slow) as peer, pytest.raises(TransferInterrupted) as caught:
        import_channel(HttpSource(peer.url, timeout=0.3), channel_id)
    assert "timed out" in one_line(caught.value)
    assert list(hub_library().all_files()) == []


def test_a_damaged_file_from_a_peer_is_refused_and_nothing_stays(package):
    folder, channel_id = package
    bad = sorted(package_files(folder, channel_id))[3]
    with serving(PeerServer([folder], damage={bad})) as peer, pytest.raises(StoreError) as caught:
        import_channel(HttpSource(peer.url), channel_id)
    assert "arrived damaged" in one_line(caught.value)
    assert list(hub_library().all_files()) == []
    assert not Channel.objects.exists()
    assert not NodeFile.objects.exists()


# ---------------------------------------------------------------- the client against Kalan itself


@pytest.mark.django_db(transaction=True)
def test_the_client_reads_what_a_kalan_hub_serves(live_server, tmp_path):
    folder = tmp_path / "package"
    channel_id, _ = make_package(folder, resources=random_items(3, topics=("A",)))
    from kalan.content.sources import DirectorySource, find_library

    import_channel(DirectorySource(find_library(folder)), channel_id)
    source = HttpSource(live_server.url)
    assert source.channel_ids() == [channel_id]
    assert source.index().channels[0].resource_count == 3
    manifest = parse_signed(*source.read_manifest(channel_id))
    assert manifest.id == channel_id
    files = package_files(folder, channel_id)
    assert source.available(set(files) | {"f" * 64}) == set(files)
    sha = sorted(files)[0]
    with source.open(sha) as stream:
        assert stream.read() == hub_library().path(sha).read_bytes()
    with pytest.raises(TransferInterrupted, match="no longer has file"):
        source.open("e" * 64)
