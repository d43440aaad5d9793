"""The library's admin pages, through HTTP: who gets in, browsing, importing, progress."""

import re
import uuid

import pytest
from django.urls import reverse

from kalan.accounts.models import User
from kalan.content import transfers
from kalan.content.importer import import_channel
from kalan.content.models import Channel, ContentNode, Peer, Transfer
from kalan.content.sources import DirectorySource, find_library
from kalan.content.store import LibraryFolder, hub_library
from kalan.content.tests.packages import (
    PeerServer,
    make_package,
    package_files,
    random_items,
    resource_id,
    serving,
    store_files,
    topic_id,
)
from kalan.schools import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    gao = services.create_school(name="École de Gao", code="GAO-1")
    return {
        "head": services.create_person(
            school=gao, username="head", full_name="Head", roles=["admin"]
        ),
        "teacher": services.create_person(
            school=gao, username="teacher", full_name="Teacher", roles=["teacher"]
        ),
        "root": User.objects.create_superuser("root", "a-long-root-secret", full_name="Root"),
    }


def signed_in(client, user):
    client.force_login(user, backend="kalan.accounts.backends.SchoolUsernameBackend")
    return client


@pytest.fixture
def head(client, people):
    return signed_in(client, people["head"])


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "package"
    channel_id, _key = make_package(folder, resources=random_items(4, topics=("Eau", "Air")))
    return folder, channel_id


def _install(folder, channel_id):
    return import_channel(DirectorySource(find_library(folder)), channel_id)


def _text(response) -> str:
    return str(response.content.decode())


# ---------------------------------------------------------------- access


def _urls(channel_id, transfer_id):
    return [
        ("get", reverse("transfers:home"), {}),
        ("get", reverse("transfers:browse"), {"source": "/nowhere"}),
        ("get", reverse("transfers:browse-channel", args=[channel_id]), {"source": "/nowhere"}),
        ("get", reverse("transfers:transfer", args=[transfer_id]), {}),
        ("get", reverse("transfers:export", args=[channel_id]), {}),
        ("get", reverse("transfers:delete", args=[channel_id]), {}),
        ("post", reverse("transfers:import"), {"source": "/x", "channel": str(channel_id)}),
        ("post", reverse("transfers:delete", args=[channel_id]), {}),
        ("post", reverse("transfers:peer-add"), {"url": "http://10.0.0.9:8000/"}),
        ("post", reverse("transfers:peer-discover"), {}),
    ]


def test_only_school_admins_and_superusers_get_in(client, people, package):
    folder, channel_id = package
    _install(folder, channel_id)
    row = Transfer.objects.create(source="/x", channel_ids=[str(channel_id)])
    for method, url, data in _urls(channel_id, row.id):
        anonymous = getattr(client, method)(url, data)
        assert anonymous.status_code == 302, url
        assert "/signin/" in anonymous["Location"]
    signed_in(client, people["teacher"])
    for method, url, data in _urls(channel_id, row.id):
        assert getattr(client, method)(url, data).status_code == 404, url
    assert Channel.objects.filter(id=channel_id).exists()
    assert not Peer.objects.exists()
    assert Transfer.objects.count() == 1
    for who in ("head", "root"):
        signed_in(client, people[who])
        assert client.get(reverse("transfers:home")).status_code == 200


# ---------------------------------------------------------------- the library home


def test_the_home_lists_channels_peers_and_transfers(head, package):
    folder, channel_id = package
    _install(folder, channel_id)
    Peer.objects.create(url="http://10.0.0.5:8000/", name="Hub de Mopti")
    row = Transfer.objects.create(source=str(folder), channel_ids=[str(channel_id)])
    page = _text(head.get(reverse("transfers:home")))
    assert page.count("<h1>") == 1
    assert "Sciences P3" in page
    assert reverse("transfers:export", args=[channel_id]) in page
    assert reverse("transfers:delete", args=[channel_id]) in page
    assert "Hub de Mopti" in page
    assert "?source=http%3A//10.0.0.5%3A8000/" in page
    assert reverse("transfers:transfer", args=[row.id]) in page
    assert "KALAN_DISCOVERY" in page  # discovery is off in tests: the page says so
    assert len(head.get(reverse("transfers:home")).content) < 60_000


def test_the_home_costs_the_same_queries_with_more_rows(head, tmp_path, django_assert_num_queries):
    for number in range(3):
        folder = tmp_path / f"p{number}"
        channel_id, _ = make_package(folder, resources=random_items(1, seed=number))
        _install(folder, channel_id)
        Peer.objects.create(url=f"http://10.0.0.{number}:8000/")
        Transfer.objects.create(source=str(folder), channel_ids=[str(channel_id)])
    # session, user, three role lookups, channels, peers, transfers
    with django_assert_num_queries(8):
        response = head.get(reverse("transfers:home"))
    assert _text(response).count("/export/") == 3


# ---------------------------------------------------------------- browsing


def test_browsing_a_folder_shows_its_verified_channels(head, package):
    folder, channel_id = package
    response = head.get(reverse("transfers:browse"), {"source": str(folder)})
    page = _text(response)
    assert response.status_code == 200
    assert "Sciences P3" in page
    assert "4 resources" in page
    assert "Not installed here." in page
    assert f'name="channel" value="{channel_id}"' in page
    assert reverse("transfers:browse-channel", args=[channel_id]) in page


def test_browsing_shows_why_a_channel_would_be_refused(head, package):
    folder, channel_id = package
    manifest = folder / f"channels/{channel_id}.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"Sciences", b"Sabotage"))
    page = _text(head.get(reverse("transfers:browse"), {"source": str(folder)}))
    assert "signature does not match its manifest" in page
    assert f'name="channel" value="{channel_id}"' not in page  # no import button


def test_browsing_a_folder_that_is_not_a_library_is_one_clear_problem(head, tmp_path):
    response = head.get(reverse("transfers:browse"), {"source": str(tmp_path / "nothing")})
    assert response.status_code == 400
    assert "does not exist" in _text(response)
    assert 'role="alert"' in _text(response)


def test_browsing_without_a_source_is_not_found(head):
    assert head.get(reverse("transfers:browse")).status_code == 404


def test_the_topic_tree_offers_a_checkbox_per_topic(head, tmp_path):
    folder = tmp_path / "package"
    channel_id, _ = make_package(folder, resources=random_items(6, topics=("Eau", "Air", "Feu")))
    response = head.get(
        reverse("transfers:browse-channel", args=[channel_id]), {"source": str(folder)}
    )
    page = _text(response)
    assert response.status_code == 200
    boxes = re.findall(r'<input type="checkbox" name="topic" value="([0-9a-f-]+)" id="topic-', page)
    assert sorted(boxes) == sorted(str(topic_id(channel_id, t)) for t in ("Eau", "Air", "Feu"))
    assert "<legend>Topics to import</legend>" in page
    assert '<label for="topic-' in page
    assert "2 resources" in page


def test_the_topic_tree_of_an_unknown_channel_is_one_clear_problem(head, package):
    folder, _ = package
    other = uuid.uuid4()
    response = head.get(reverse("transfers:browse-channel", args=[other]), {"source": str(folder)})
    assert response.status_code == 400
    assert f"does not hold channel {other}" in _text(response)


# ---------------------------------------------------------------- importing


def test_importing_chosen_topics_runs_the_transfer_and_shows_it_finished(
    head, package, django_capture_on_commit_callbacks
):
    folder, channel_id = package
    with django_capture_on_commit_callbacks(execute=True):
        response = head.post(
            reverse("transfers:import"),
            {
                "source": str(folder),
                "channel": str(channel_id),
                "topic": [topic_id(channel_id, "Air")],
            },
        )
    row = Transfer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("transfers:transfer", args=[row.id])
    assert row.status == Transfer.Status.DONE
    assert row.bytes_done == row.bytes_total > 0
    assert row.files_done == row.files_total == 2
    assert "Resources: 2. Files copied: 2" in row.message
    assert ContentNode.objects.filter(id=resource_id(channel_id, "Lesson 1-001")).exists()
    assert not ContentNode.objects.filter(id=resource_id(channel_id, "Lesson 1-000")).exists()
    page = _text(head.get(response["Location"]))
    assert "Finished" in page
    assert 'value="100"' in page
    assert "hx-trigger" not in page  # nothing to poll any more
    assert "htmx.min.js" not in page


def test_a_failed_import_says_why_and_offers_to_start_again(
    head, package, django_capture_on_commit_callbacks
):
    folder, channel_id = package
    victim = sorted(package_files(folder, channel_id))[0]
    LibraryFolder(folder).path(victim).write_bytes(b"not the lesson")
    with django_capture_on_commit_callbacks(execute=True):
        response = head.post(
            reverse("transfers:import"), {"source": str(folder), "channel": str(channel_id)}
        )
    row = Transfer.objects.get()
    assert row.status == Transfer.Status.FAILED
    assert f"file {victim} arrived damaged" in row.message
    assert not Channel.objects.exists()
    assert list(hub_library().all_files()) == []
    page = _text(head.get(response["Location"]))
    assert "Failed" in page
    assert "arrived damaged" in page
    assert "Start it again" in page


def test_a_failed_import_says_why_in_the_language_of_who_started_it(
    head, people, package, django_capture_on_commit_callbacks
):
    people["head"].language = "fr"
    people["head"].save(update_fields=["language"])
    folder, channel_id = package
    victim = sorted(package_files(folder, channel_id))[0]
    LibraryFolder(folder).path(victim).write_bytes(b"not the lesson")
    with django_capture_on_commit_callbacks(execute=True):
        head.post(reverse("transfers:import"), {"source": str(folder), "channel": str(channel_id)})
    message = Transfer.objects.get().message
    assert f"le fichier {victim} est arrivé abîmé" in message
    assert "SHA-256" in message


@pytest.mark.parametrize(
    "data",
    [
        {"source": "/x", "channel": "nope"},
        {"source": "/x", "channel": str(uuid.uuid4()), "topic": ["not-a-topic"]},
        {"source": "", "channel": str(uuid.uuid4())},
    ],
)
def test_a_bad_import_request_goes_back_with_a_message(head, data):
    response = head.post(reverse("transfers:import"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("transfers:home")
    assert "Choose a channel to import." in _text(response)
    assert not Transfer.objects.exists()


def test_browsing_a_peer_names_it_and_remembers_when_it_was_seen(head, package):
    folder, channel_id = package
    with serving(PeerServer([folder], name="Hub de Mopti")) as peer:
        Peer.objects.create(url=peer.url)
        page = _text(head.get(reverse("transfers:browse"), {"source": peer.url}))
        row = Peer.objects.get()
        assert row.name == "Hub de Mopti"
        assert row.last_seen_at is not None
        Peer.objects.update(name="Chez Awa")  # a name given by hand stays
        head.get(reverse("transfers:browse"), {"source": peer.url})
    assert "<h1>Channels of Hub de Mopti</h1>" in page
    assert f'name="channel" value="{channel_id}"' in page
    assert Peer.objects.get().name == "Chez Awa"


# ---------------------------------------------------------------- progress


def test_a_running_transfer_polls_every_second_and_works_without_script(head, package):
    folder, channel_id = package
    row = Transfer.objects.create(
        source=str(folder),
        channel_ids=[str(channel_id)],
        status=Transfer.Status.RUNNING,
        bytes_total=1000,
        bytes_done=420,
        files_total=10,
        files_done=4,
    )
    url = reverse("transfers:transfer", args=[row.id])
    with transfers._transfer_lock(wait=True):  # as if a runner were copying
        page = _text(head.get(url))
        fragment = _text(head.get(url, headers={"HX-Request": "true"}))
    assert '<div aria-live="polite">' in page
    assert f'hx-get="{url}" hx-trigger="every 1s"' in page
    assert '<progress id="transfer-progress" max="100" value="42">42 %</progress>' in page
    assert '<label for="transfer-progress">' in page
    assert "files: 4 of 10" in page
    assert f'<a href="{url}">Show the latest progress</a>' in page  # without JavaScript
    assert "htmx.min.js" in page
    assert fragment.lstrip().startswith('<div id="transfer-status"')
    assert "<html" not in fragment
    assert Transfer.objects.get(id=row.id).status == Transfer.Status.RUNNING


def test_a_transfer_whose_runner_died_is_shown_as_failed(head, package):
    folder, channel_id = package
    row = Transfer.objects.create(
        source=str(folder), channel_ids=[str(channel_id)], status=Transfer.Status.RUNNING
    )
    page = _text(head.get(reverse("transfers:transfer", args=[row.id])))
    row.refresh_from_db()
    assert row.status == Transfer.Status.FAILED
    assert "stopped before the end" in row.message
    assert "Start it again" in page


def test_an_unknown_transfer_is_not_found(head):
    assert head.get(reverse("transfers:transfer", args=[uuid.uuid4()])).status_code == 404


# ---------------------------------------------------------------- export and delete


def test_exporting_writes_the_channel_into_a_folder(
    head, package, tmp_path, django_capture_on_commit_callbacks
):
    folder, channel_id = package
    _install(folder, channel_id)
    stick = tmp_path / "stick"
    assert head.get(reverse("transfers:export", args=[channel_id])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = head.post(
            reverse("transfers:export", args=[channel_id]), {"destination": str(stick)}
        )
    row = Transfer.objects.get()
    assert response["Location"] == reverse("transfers:transfer", args=[row.id])
    assert (row.direction, row.status) == ("export", Transfer.Status.DONE)
    assert "Files copied: 4" in row.message
    assert store_files(stick) == set(package_files(folder, channel_id))


@pytest.mark.parametrize("where", ["relative/folder", "HOME", "HOME/content"])
def test_exporting_refuses_a_relative_folder_or_kalans_own(head, package, settings, where):
    folder, channel_id = package
    _install(folder, channel_id)
    destination = where.replace("HOME", str(settings.KALAN_HOME))
    response = head.post(
        reverse("transfers:export", args=[channel_id]), {"destination": destination}
    )
    assert response.status_code == 400
    assert 'aria-invalid="true"' in _text(response)
    assert not Transfer.objects.exists()


def test_deleting_asks_first_then_removes_the_channel_and_its_files(head, package):
    folder, channel_id = package
    _install(folder, channel_id)
    url = reverse("transfers:delete", args=[channel_id])
    assert "Delete the channel" in _text(head.get(url))
    assert Channel.objects.exists()
    response = head.post(url)
    assert response["Location"] == reverse("transfers:home")
    assert not Channel.objects.exists()
    assert list(hub_library().all_files()) == []


def test_an_unknown_channel_cannot_be_exported_or_deleted(head):
    other = uuid.uuid4()
    assert head.get(reverse("transfers:export", args=[other])).status_code == 404
    assert head.post(reverse("transfers:delete", args=[other])).status_code == 404


# ---------------------------------------------------------------- peers


def test_a_hub_is_added_by_hand_with_its_address_tidied(head):
    response = head.post(
        reverse("transfers:peer-add"), {"url": " http://10.0.0.7:8000 ", "name": "Mopti"}
    )
    assert response.status_code == 302
    peer = Peer.objects.get()
    assert (peer.url, peer.name, peer.discovered) == ("http://10.0.0.7:8000/", "Mopti", False)
    head.post(reverse("transfers:peer-add"), {"url": "http://10.0.0.7:8000/content/library/"})
    assert Peer.objects.count() == 1


def test_a_bad_hub_address_is_an_error_on_its_field(head):
    response = head.post(reverse("transfers:peer-add"), {"url": "ftp://somewhere"})
    assert response.status_code == 400
    assert 'id="id_url_error"' in _text(response)
    assert not Peer.objects.exists()


def test_a_hub_is_removed_from_the_list(head):
    peer = Peer.objects.create(url="http://10.0.0.8:8000/")
    head.post(reverse("transfers:peer-remove", args=[peer.id]))
    assert not Peer.objects.exists()


def test_looking_for_hubs_while_discovery_is_off_says_so(head, monkeypatch):
    monkeypatch.delenv("KALAN_DISCOVERY", raising=False)
    response = head.post(reverse("transfers:peer-discover"), follow=True)
    assert "KALAN_DISCOVERY=1" in _text(response)
    assert not Peer.objects.exists()
