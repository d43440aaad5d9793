"""What a hub serves to its peers, through HTTP, without sign-in."""

import hashlib
import json
import uuid

import pytest

from kalan.content.importer import import_channel
from kalan.content.manifest import key_fingerprint, parse_signed, public_key_text
from kalan.content.sources import DirectorySource, find_library
from kalan.content.store import hub_library
from kalan.content.tests.packages import (
    corpus_items,
    make_package,
    package_files,
    random_items,
    sha256,
    topic_id,
)
from kalan.core.stamps import instance_id
from kalan.schools import services

pytestmark = pytest.mark.django_db
BASE = "/content/library/"


@pytest.fixture
def installed(tmp_path):
    """A channel of two topics imported whole, and a second one imported for topic "A" only."""
    package = tmp_path / "package"
    first, key = make_package(package, resources=random_items(4, topics=("A", "B")))
    second, _ = make_package(
        package, resources=random_items(4, topics=("A", "B"), seed=2), title="Français"
    )
    source = DirectorySource(find_library(package))
    import_channel(source, first)
    import_channel(source, second, topic_ids=[topic_id(second, "A")])
    return package, first, second, key


def test_the_index_names_the_hub_and_describes_each_channel(client, installed, tmp_path):
    package, first, _second, key = installed
    services.create_school(name="École de Gao", code="GAO-1")
    response = client.get(f"{BASE}index.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-cache"
    body = json.loads(response.content)
    assert body["format"] == "kalan-library/1"
    assert body["instance"] == {"id": str(instance_id()), "name": "École de Gao"}
    assert [c["title"] for c in body["channels"]] == ["Français", "Sciences P3"]
    sciences = body["channels"][1]
    assert sciences == {
        "id": str(first),
        "version": 1,
        "title": "Sciences P3",
        "description": "Sciences P3, a test channel",
        "language": "fr",
        "resource_count": 4,
        "total_size": sum(package_files(package, first).values()),
        "publisher": {
            "name": "Ministère des tests",
            "fingerprint": key_fingerprint(public_key_text(key)),
        },
    }
    assert body["channels"][0]["resource_count"] == 2  # only topic A was imported


def test_the_index_costs_a_fixed_number_of_queries(client, installed, django_assert_num_queries):
    client.get(f"{BASE}index.json")  # the instance id is known from now on
    with django_assert_num_queries(2):  # school names, channels
        response = client.get(f"{BASE}index.json")
    assert len(json.loads(response.content)["channels"]) == 2


def test_an_empty_hub_still_answers_with_its_identity(client):
    body = json.loads(client.get(f"{BASE}index.json").content)
    assert body["channels"] == []
    assert body["instance"]["name"]  # the machine's name when there is no school


def test_manifest_and_signature_are_served_byte_for_byte(client, installed):
    _package, first, _, _ = installed
    raw, signature = hub_library().read_manifest(first)
    got = client.get(f"{BASE}channels/{first}.json")
    sig = client.get(f"{BASE}channels/{first}.sig")
    assert got.status_code == sig.status_code == 200
    assert got.content == raw
    assert sig.content == signature
    assert parse_signed(got.content, sig.content).id == first


def test_an_unknown_channel_is_not_found(client, installed):
    unknown = uuid.uuid4()
    for suffix in (".json", ".sig", "/files.txt"):
        assert client.get(f"{BASE}channels/{unknown}{suffix}").status_code == 404
    assert client.get(f"{BASE}channels/not-a-uuid.json").status_code == 404


def test_files_txt_lists_only_the_files_this_hub_holds(client, installed):
    package, first, second, _ = installed
    whole = client.get(f"{BASE}channels/{first}/files.txt")
    assert whole.status_code == 200
    listed = b"".join(whole.streaming_content).decode().split("\n")
    assert listed[-1] == ""  # every line ends with a newline
    assert listed[:-1] == sorted(package_files(package, first))
    part = b"".join(client.get(f"{BASE}channels/{second}/files.txt").streaming_content)
    held = set(part.decode().split())
    assert len(held) == 2
    assert held < set(package_files(package, second))


def test_a_file_missing_from_the_store_is_not_listed(client, installed):
    package, first, _, _ = installed
    gone = sorted(package_files(package, first))[0]
    hub_library().remove(gone)
    listed = b"".join(client.get(f"{BASE}channels/{first}/files.txt").streaming_content)
    assert gone not in listed.decode().split()
    assert len(listed.decode().split()) == len(package_files(package, first)) - 1


def test_a_file_streams_whole_and_by_range(client, installed):
    data = bytes(range(256)) * 40
    library = hub_library()
    sha = library.install_bytes(data).sha256
    whole = client.get(f"{BASE}files/{sha}")
    assert whole.status_code == 200
    assert whole["Content-Length"] == str(len(data))
    assert whole["Accept-Ranges"] == "bytes"
    assert b"".join(whole.streaming_content) == data
    part = client.get(f"{BASE}files/{sha}", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 100-199/{len(data)}"
    assert b"".join(part.streaming_content) == data[100:200]


def test_bad_file_names_are_not_found(client, installed):
    assert client.get(f"{BASE}files/{'0' * 64}").status_code == 404
    assert client.get(f"{BASE}files/{'A' * 64}").status_code == 404
    assert client.get(f"{BASE}files/../../kalan.sqlite3").status_code == 404


def test_nothing_but_reading_is_allowed(client, installed):
    _, first, _, _ = installed
    assert client.post(f"{BASE}index.json").status_code == 405
    assert client.post(f"{BASE}channels/{first}/files.txt").status_code == 405
    assert client.head(f"{BASE}index.json").status_code == 200


def test_a_hub_serves_the_real_corpus_files_it_imported(client, tmp_path):
    items = corpus_items()
    channel, _ = make_package(tmp_path / "pkg", resources=items)
    import_channel(DirectorySource(find_library(tmp_path / "pkg")), channel)
    for item in items:
        response = client.get(f"{BASE}files/{sha256(item.data)}")
        body = b"".join(response.streaming_content)
        assert hashlib.sha256(body).hexdigest() == sha256(item.data)
