"""Transfers as services and tasks: running, progress, recovery, the runner, disk space."""

import shutil
import time
import uuid
from collections import namedtuple
from typing import BinaryIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kalan.content import tasks, transfers
from kalan.content.exporter import export_channel
from kalan.content.importer import SPACE_MARGIN, import_channel
from kalan.content.models import Channel, Transfer
from kalan.content.sources import DirectorySource, find_library
from kalan.content.store import LibraryFolder, StoreError, hub_library
from kalan.content.tests.packages import (
    make_package,
    package_files,
    random_items,
    topic_id,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "package"
    channel_id, key = make_package(folder, resources=random_items(6, topics=("Eau", "Air")))
    return folder, channel_id, key


def _queued(folder, channel_id, **fields):
    return Transfer.objects.create(source=str(folder), channel_ids=[str(channel_id)], **fields)


# ---------------------------------------------------------------- running


def test_a_transfer_runs_once_even_if_its_task_runs_twice(package):
    folder, channel_id, _ = package
    row = _queued(folder, channel_id)
    assert transfers.run_transfer(row.id) == Transfer.Status.DONE
    row.refresh_from_db()
    first_message = row.message
    assert "Resources: 6. Files copied: 6" in first_message
    assert transfers.run_transfer(row.id) == Transfer.Status.DONE  # nothing ran again
    row.refresh_from_db()
    assert row.message == first_message


def test_progress_is_written_a_few_times_a_second_at_most(tmp_path, monkeypatch):
    folder = tmp_path / "package"
    channel_id, _ = make_package(folder, resources=random_items(40, size=50_000))
    row = _queued(folder, channel_id)
    with CaptureQueriesContext(connection) as queries:
        transfers.run_transfer(row.id)
    progress_writes = [
        q for q in queries.captured_queries if "bytes_done" in q["sql"] and "UPDATE" in q["sql"]
    ]
    assert 1 <= len(progress_writes) <= 4  # the import takes well under 1.5 s here
    row.refresh_from_db()
    assert (row.bytes_done, row.files_done) == (row.bytes_total, row.files_total)
    assert row.files_total == 40


def test_the_summary_speaks_the_language_of_who_started_it(package):
    from kalan.schools import services

    school = services.create_school(name="École de Gao", code="GAO-1")
    head = services.create_person(
        school=school, username="head", full_name="Head", roles=["admin"], language="fr"
    )
    folder, channel_id, _ = package
    row = _queued(folder, channel_id, started_by=head)
    transfers.run_transfer(row.id)
    row.refresh_from_db()
    assert row.status == Transfer.Status.DONE
    assert row.message.startswith("Sciences P3")


def test_a_source_that_does_not_exist_fails_with_its_reason(tmp_path):
    row = _queued(tmp_path / "gone", uuid.uuid4())
    assert transfers.run_transfer(row.id) == Transfer.Status.FAILED
    row.refresh_from_db()
    assert row.message == f"{tmp_path / 'gone'} does not exist"


def test_an_unknown_topic_fails_with_its_reason(package):
    folder, channel_id, _ = package
    row = _queued(folder, channel_id, topic_ids=[str(uuid.uuid4())])
    assert transfers.run_transfer(row.id) == Transfer.Status.FAILED
    row.refresh_from_db()
    assert "is not in channel" in row.message
    assert not Channel.objects.exists()


def test_an_export_transfer_writes_the_folder(
    package, tmp_path, django_capture_on_commit_callbacks
):
    folder, channel_id, _ = package
    import_channel(DirectorySource(find_library(folder)), channel_id)
    with django_capture_on_commit_callbacks(execute=True) as queued:
        row = transfers.start_export(channel_id=channel_id, destination=str(tmp_path / "usb"))
    assert len(queued) == 1  # queued once the row is committed
    row.refresh_from_db()
    assert row.status == Transfer.Status.DONE  # the immediate backend of the tests
    assert set(LibraryFolder(tmp_path / "usb").all_files()) == set(
        package_files(folder, channel_id)
    )


def test_a_waiting_transfer_waits_for_the_one_running(package):
    folder, channel_id, _ = package
    row = _queued(folder, channel_id)
    assert not transfers.transfer_running()
    with transfers._transfer_lock(wait=True):
        assert transfers.transfer_running()
        transfers.recover_transfer(row)  # another process runs something: leave it be
        row.refresh_from_db()
        assert row.status == Transfer.Status.QUEUED
    assert transfers.run_transfer(row.id) == Transfer.Status.DONE


def test_a_running_transfer_without_its_runner_is_recorded_as_failed(package):
    folder, channel_id, _ = package
    row = _queued(folder, channel_id, status=Transfer.Status.RUNNING)
    transfers.recover_transfer(row)
    assert row.status == Transfer.Status.FAILED
    assert "Start it again" in row.message


# ---------------------------------------------------------------- the runner on the database


@pytest.mark.django_db(transaction=True)
def test_on_the_database_backend_the_runner_thread_runs_queued_transfers(
    package, settings, monkeypatch
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    folder, channel_id, _ = package
    assert tasks.uses_database_backend()
    # The test database is SQLite in memory, where two threads using one table at once
    # fail at once instead of waiting as a hub's file does: queue both, then wake the runner.
    wake = tasks.wake_runner
    monkeypatch.setattr(tasks, "wake_runner", lambda: None)
    first = transfers.start_import(
        source=str(folder), channel_id=channel_id, topic_ids=[topic_id(channel_id, "Eau")]
    )
    second = transfers.start_import(source=str(folder), channel_id=channel_id)
    assert DBTaskResult.objects.filter(status="READY").count() == 2
    wake()
    deadline = time.monotonic() + 60
    while tasks._running:  # the thread stops once the queue is empty
        assert time.monotonic() < deadline
        time.sleep(0.05)
    rows = {row.id: row for row in Transfer.objects.all()}
    assert {row.status for row in rows.values()} == {Transfer.Status.DONE}, [
        row.message for row in rows.values()
    ]
    assert rows[first.id].files_total == 3
    assert rows[second.id].files_total == 3  # the rest of the channel
    assert Channel.objects.get(id=channel_id).resource_count == 6
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_with_the_immediate_backend_no_runner_is_started(package):
    tasks.wake_runner()
    assert not tasks._running


# ---------------------------------------------------------------- disk space

Usage = namedtuple("Usage", "total used free")


def test_an_import_that_does_not_fit_is_refused_before_copying(package, monkeypatch):
    folder, channel_id, _ = package
    needed = sum(package_files(folder, channel_id).values())
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: Usage(10**9, 0, SPACE_MARGIN + needed - 1)
    )
    opened: list[str] = []

    class Counting(DirectorySource):
        def open(self, sha256: str) -> BinaryIO:
            opened.append(sha256)
            return super().open(sha256)

    source = Counting(find_library(folder))
    with pytest.raises(StoreError) as caught:
        import_channel(source, channel_id)
    assert str(caught.value).startswith("not enough free disk space: the import needs")
    assert "\n" not in str(caught.value)
    assert opened == []
    assert list(hub_library().all_files()) == []
    assert not hub_library().tmp_dir.exists() or not any(hub_library().tmp_dir.iterdir())
    assert not Channel.objects.exists()
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**9, 0, SPACE_MARGIN + needed))
    assert import_channel(source, channel_id).files_copied == 6


def test_an_export_that_does_not_fit_is_refused_before_copying(package, tmp_path, monkeypatch):
    folder, channel_id, _ = package
    import_channel(DirectorySource(find_library(folder)), channel_id)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: Usage(10**9, 0, 1000))
    with pytest.raises(StoreError, match="not enough free space in"):
        export_channel(channel_id, tmp_path / "usb")
    assert not (tmp_path / "usb" / "files").exists()
    assert not (tmp_path / "usb" / "channels").exists()


# ---------------------------------------------------------------- browsing sources


def test_browsing_a_source_compares_with_what_is_installed(tmp_path):
    folder = tmp_path / "package"
    key = Ed25519PrivateKey.generate()
    same, _ = make_package(folder, resources=random_items(2), key=key, title="A")
    older, _ = make_package(folder, resources=random_items(2, seed=3), key=key, title="B")
    foreign, _ = make_package(folder, resources=random_items(2, seed=4), title="C")
    source = DirectorySource(find_library(folder))
    for channel_id in (same, older, foreign):
        import_channel(source, channel_id)
    make_package(folder, resources=random_items(1), key=key, channel_id=same, version=2, title="A")
    Channel.objects.filter(id=older).update(version=5)
    Channel.objects.filter(id=foreign).update(public_key="b3RoZXIga2V5IG9mIDMyIGJ5dGVzIGxvbmcgISE=")
    listing = transfers.browse_source(DirectorySource(find_library(folder)))
    rows = {row.title: row for row in listing.channels}
    assert (rows["A"].version, rows["A"].installed_version, rows["A"].problem) == (2, 1, "")
    assert rows["B"].problem == "It is older than the installed version."
    assert "another publisher key" in rows["C"].problem
    assert listing.peer_name == ""


def test_the_topic_tree_sums_what_each_topic_holds(tmp_path):
    folder = tmp_path / "package"
    items = random_items(5, size=1000, topics=("Eau", "Air"))
    channel_id, _ = make_package(folder, resources=items)
    tree = transfers.browse_channel(DirectorySource(find_library(folder)), channel_id)
    assert tree.channel.title == "Sciences P3"
    assert [(t.title, t.resource_count, t.size) for t in tree.root.children] == [
        ("Eau", 3, 3000),
        ("Air", 2, 2000),
    ]
    assert tree.root.resource_count == 5


def test_usb_sticks_holding_a_library_are_found(tmp_path):
    media = tmp_path / "media"
    make_package(media / "usb0", resources=random_items(1))
    make_package(media / "pi" / "STICK" / "kalan-library", resources=random_items(1, seed=2))
    (media / "empty").mkdir()
    found = transfers.find_usb_libraries([media, tmp_path / "absent"])
    assert [(f.path, f.channel_count) for f in found] == [
        (media / "pi" / "STICK" / "kalan-library", 1),
        (media / "usb0", 1),
    ]
