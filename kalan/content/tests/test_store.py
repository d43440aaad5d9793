"""The content-addressed store: a file at its final name is always whole and correct."""

import hashlib
import io
import os

import pytest

from kalan.content.store import HASH_WINDOW, LibraryFolder, StoreError


def test_a_file_is_stored_once_under_its_sha256(tmp_path):
    library = LibraryFolder(tmp_path)
    data = b"lesson" * 1000
    sha = hashlib.sha256(data).hexdigest()
    first = library.install(io.BytesIO(data), sha256=sha, size=len(data))
    second = library.install_bytes(data)
    assert first == (sha, len(data), True)
    assert second == (sha, len(data), False)
    assert library.path(sha).read_bytes() == data
    assert list(library.all_files()) == [sha]
    assert not any(library.tmp_dir.iterdir())


@pytest.mark.parametrize("size", [0, 1, HASH_WINDOW, 2 * HASH_WINDOW + 17])
def test_a_file_copied_by_the_kernel_is_hashed_window_by_window(tmp_path, size):
    source = tmp_path / "source.bin"
    data = os.urandom(size)
    source.write_bytes(data)
    library = LibraryFolder(tmp_path / "store")
    sha = hashlib.sha256(data).hexdigest()
    with source.open("rb") as stream:  # a real file: copy_file_range, then hashed from disk
        assert library.install(stream, sha256=sha, size=size) == (sha, size, True)
    assert library.path(sha).read_bytes() == data
    damaged = tmp_path / "damaged.bin"
    damaged.write_bytes(data[:-1] + b"x" if data else b"x")
    with damaged.open("rb") as stream, pytest.raises(StoreError, match="arrived damaged"):
        library.install(stream, sha256=hashlib.sha256(b"other").hexdigest(), size=max(size, 1))


def test_a_damaged_copy_is_discarded(tmp_path):
    library = LibraryFolder(tmp_path)
    good = hashlib.sha256(b"good").hexdigest()
    with pytest.raises(StoreError, match="arrived damaged"):
        library.install(io.BytesIO(b"evil"), sha256=good, size=4)
    assert not library.has(good)
    assert list(library.all_files()) == []
    assert not any(library.tmp_dir.iterdir())


def test_a_truncated_copy_is_discarded(tmp_path):
    library = LibraryFolder(tmp_path)
    data = b"0123456789"
    sha = hashlib.sha256(data).hexdigest()
    with pytest.raises(StoreError):
        library.install(io.BytesIO(data[:5]), sha256=sha, size=10)
    assert not library.has(sha)


def test_leftovers_of_an_interrupted_copy_are_cleaned(tmp_path):
    library = LibraryFolder(tmp_path)
    library.tmp_dir.mkdir(parents=True)
    (library.tmp_dir / "abc.123.part").write_bytes(b"half")
    (library.tmp_dir / "someone-elses-file").write_bytes(b"keep me")
    assert library.clean_tmp() == 1
    assert [p.name for p in library.tmp_dir.iterdir()] == ["someone-elses-file"]


def test_manifests_are_written_and_read_back(tmp_path):
    import uuid

    library = LibraryFolder(tmp_path)
    channel = uuid.uuid4()
    library.write_manifest(channel, b"{}", b"sig\n")
    assert library.channel_ids() == [channel]
    assert library.read_manifest(channel) == (b"{}", b"sig\n")
    library.remove_manifest(channel)
    assert library.channel_ids() == []
    with pytest.raises(StoreError, match="is not in"):
        library.read_manifest(channel)


def test_a_full_disk_is_one_clear_error(tmp_path, monkeypatch):
    library = LibraryFolder(tmp_path)

    class FullDisk(io.BytesIO):
        pass

    def fail_write(self, data):
        raise OSError(28, "No space left on device")

    import builtins

    real_open = builtins.open

    def fake_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if "w" in mode and str(path).endswith(".part"):
            handle.write = fail_write.__get__(handle)
        return handle

    monkeypatch.setattr("pathlib.Path.open", lambda self, mode="r", *a, **k: fake_open(self, mode))
    with pytest.raises(StoreError, match="No space left"):
        library.install(FullDisk(b"x" * 10))
    monkeypatch.undo()
    assert list(library.all_files()) == []
